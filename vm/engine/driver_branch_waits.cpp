// Approvals, signal waits and sleeps inside parallel branches (driver.h;
// docs/composition.md, "Waits inside branches as built").
//
// A branch fiber that reaches `approve`, `wait` or `sleep` parks in the VM
// (Vm::BranchWaits) while the other fibers go on. The engine journals each
// wait once, with the branch and step = the wait's position in its fiber
// (steps and waits of a fiber count together, so (branch, step) names it
// across crashes), in the transaction that also saves the state: a state
// whose fiber waits is never durable without its request. Then, whenever
// the VM has no ready fiber, it delivers every wait that can end now, each
// delivery its own durable point (the answering event + the state):
//   - an approval: the `approval_decided` naming the request's seq as its
//     "request" (`flow approve` picks the oldest open request);
//   - a signal wait: the oldest unconsumed signal of its event, waits
//     served in the order they began (their requests' seqs);
//   - a sleep whose time has come; a timeout that has passed.
// Each answer names its request ("request": seq), so a crash between the
// decision and its delivery delivers it once, and a signal is consumed once
// (the `resumed` event names the signal's seq, as on the root fiber).
// When nothing is in flight and every live fiber waits, the run is
// `waiting`: the reason and object of the oldest wait, with its branch, the
// others listed under "also", `wake_at_ms` the earliest deadline. A wait
// whose fiber was discarded (another branch of its block failed) is
// journaled as `branch_stopped`, so `flow approve` no longer offers it.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "vm/engine/branch_waits.h"
#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/value/convert.h"
#include "vm/value/shape.h"
#include "vm/value/time_format.h"

namespace flow::engine {

using interp::SuspendKind;
using store::RunStatus;

namespace {

auto Data(const store::JournalEvent& e) -> json {
  json d = json::parse(e.data, nullptr, false);
  return d.is_object() ? d : json::object();
}

// The `request` an event names, or -1.
auto RequestOf(const json& d) -> int64_t {
  return d.contains("request") && d["request"].is_number_integer() ? d["request"].get<int64_t>() : -1;
}

auto RequestType(SuspendKind k) -> std::string_view {
  if (k == SuspendKind::Approval) return events::kApprovalRequested;
  if (k == SuspendKind::Signal) return events::kSignalAwaited;
  return events::kTimerStarted;
}

auto IsBranchRequest(const store::JournalEvent& e) -> bool {
  return !e.branch.empty() && (e.type == events::kApprovalRequested || e.type == events::kSignalAwaited ||
                               e.type == events::kTimerStarted);
}

// The deadline a request records: a sleep's end, a timeout as a time, or -1.
auto DeadlineOf(const store::JournalEvent& e) -> int64_t {
  json d = Data(e);
  const char* key = e.type == events::kTimerStarted ? "wake_at_ms" : "deadline_ms";
  return d.contains(key) && d[key].is_number_integer() ? d[key].get<int64_t>() : -1;
}

// The waiting object of one wait, as the root's, with its branch.
auto WaitObject(const store::JournalEvent& e) -> json {
  json d = Data(e);
  const int64_t deadline = DeadlineOf(e);
  json w;
  if (e.type == events::kApprovalRequested) {
    w = json{{"kind", "approval"}, {"prompt", d.value("prompt", "")}};
    if (d.contains("from") && d["from"].is_string()) w["from"] = d["from"];
    if (deadline >= 0) w["timeout_at"] = value::FormatTime(deadline);
  } else if (e.type == events::kSignalAwaited) {
    w = json{{"kind", "signal"}, {"event", d.value("event", "")}};
    if (deadline >= 0) w["timeout_at"] = value::FormatTime(deadline);
  } else {
    w = json{{"kind", "timer"}, {"wake_at", value::FormatTime(deadline)}};
  }
  w["branch"] = e.branch;
  return w;
}

auto ReasonOf(const store::JournalEvent& e) -> std::string {
  if (e.type == events::kApprovalRequested) return "approval";
  if (e.type == events::kSignalAwaited) return "signal";
  return "timer";
}

}  // namespace

auto OpenBranchApprovals(const std::vector<store::JournalEvent>& journal) -> std::vector<OpenBranchApproval> {
  std::set<int64_t> answered;
  for (const auto& e : journal) {
    if (int64_t r = RequestOf(Data(e)); r >= 0) answered.insert(r);
  }
  std::vector<OpenBranchApproval> out;
  for (const auto& e : journal) {
    if (e.type != events::kApprovalRequested || e.branch.empty() || answered.count(e.seq) != 0) continue;
    json d = Data(e);
    OpenBranchApproval a;
    a.seq = e.seq;
    a.branch = e.branch;
    a.prompt = d.value("prompt", "");
    if (d.contains("from") && d["from"].is_string()) a.from = d["from"].get<std::string>();
    a.since_ms = e.at_ms;
    a.deadline_ms = DeadlineOf(e);
    out.push_back(std::move(a));
  }
  return out;
}

auto OpenBranchApprovals(store::Store& store, const std::string& run_id) -> Result<std::vector<OpenBranchApproval>> {
  // Decisions, timeouts and stops close an approval; `resumed` only ever
  // follows its decision.
  std::vector<store::JournalEvent> events;
  for (std::string_view prefix : {std::string_view("approval_"), events::kWaitTimedOut, events::kBranchStopped}) {
    store::JournalQuery q;
    q.type_prefix = std::string(prefix);
    auto s = store.ScanJournal(run_id, q, [&](const store::JournalEvent& e) {
      events.push_back(e);
      return true;
    });
    if (!s) return s.error();
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const store::JournalEvent& a, const store::JournalEvent& b) { return a.seq < b.seq; });
  return OpenBranchApprovals(events);
}

// Each current wait with its request in `journal` (none: not journaled
// yet), oldest request first, unjournaled ones last in fiber order.
auto Driver::MatchBranchWaits(const std::vector<store::JournalEvent>& journal) const -> std::vector<BranchWaitAt> {
  std::map<std::tuple<std::string, std::string, int64_t>, const store::JournalEvent*> requests;
  for (const auto& e : journal) {
    if (IsBranchRequest(e)) requests[{e.type, e.branch, e.step}] = &e;
  }
  std::vector<BranchWaitAt> out;
  for (auto& w : vm_.BranchWaits()) {
    auto it = requests.find({std::string(RequestType(w.reason.kind)), w.branch, w.step});
    std::optional<store::JournalEvent> request;
    if (it != requests.end()) request = *it->second;
    out.push_back(BranchWaitAt{std::move(w), std::move(request)});
  }
  std::stable_sort(out.begin(), out.end(), [](const BranchWaitAt& a, const BranchWaitAt& b) {
    const int64_t sa = a.request ? a.request->seq : INT64_MAX, sb = b.request ? b.request->seq : INT64_MAX;
    return sa < sb;
  });
  return out;
}

// Journals the waits not journaled yet and `branch_stopped` for journaled
// ones whose fiber is gone, with the state; `journal` is read again after.
auto Driver::JournalBranchWaits(std::vector<store::JournalEvent>& journal) -> Status {
  const int64_t now = Now();
  auto opt_ms = [](int64_t ms) { return ms < 0 ? json() : json(ms); };
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  std::set<std::pair<std::string, int64_t>> waiting;
  for (const auto& w : MatchBranchWaits(journal)) {
    waiting.insert({w.wait.branch, w.wait.step});
    if (w.request) continue;
    const interp::SuspendReason& r = w.wait.reason;
    const int64_t deadline = r.timeout_ms < 0 ? -1 : now + r.timeout_ms;
    json data;
    if (r.kind == SuspendKind::Approval) {
      data = json{{"prompt", r.text}, {"from", r.from ? json(*r.from) : json()}, {"timeout_ms", opt_ms(r.timeout_ms)},
                  {"deadline_ms", opt_ms(deadline)}};
    } else if (r.kind == SuspendKind::Signal) {
      data = json{{"event", r.text}, {"timeout_ms", opt_ms(r.timeout_ms)}, {"deadline_ms", opt_ms(deadline)}};
    } else {
      data = json{{"duration_ms", r.duration_ms}, {"wake_at_ms", now + std::max<int64_t>(r.duration_ms, 0)}};
    }
    u.events.push_back(BranchEvent(RequestType(r.kind), std::move(data), w.wait.branch, w.wait.step, 0));
  }
  std::set<int64_t> ended;  // requests the engine answered
  for (const auto& e : journal) {
    if (!WrittenByTheEngine(e.type)) continue;
    if (int64_t r = RequestOf(Data(e)); r >= 0) ended.insert(r);
  }
  for (const auto& e : journal) {
    if (!IsBranchRequest(e) || ended.count(e.seq) != 0 || waiting.count({e.branch, e.step}) != 0) continue;
    u.events.push_back(BranchEvent(events::kBranchStopped, json{{"request", e.seq}}, e.branch, e.step, 0));
  }
  if (u.events.empty()) return Ok{};
  branch_waits_seen_ = true;
  // New waits are durable with the state that waits on them; a stop alone
  // needs none (the VM may have left its branches, even ended).
  if (!waiting.empty()) u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s;
  auto fresh = store_.Journal(run_id_);
  if (!fresh) return fresh.error();
  journal = std::move(*fresh);
  return Ok{};
}

// Delivers wait `w` if something ends it now; the event that records it.
auto Driver::AnswerBranchWait(const BranchWaitAt& w, const std::vector<store::JournalEvent>& journal)
    -> Result<std::optional<store::JournalEvent>> {
  using Answer = std::optional<store::JournalEvent>;
  const store::JournalEvent& req = *w.request;
  const std::string& branch = w.wait.branch;
  const int64_t now = Now(), deadline = DeadlineOf(req);
  auto event = [&](std::string_view type, json data) {
    data["request"] = req.seq;
    return Answer(BranchEvent(type, std::move(data), branch, w.wait.step, 0));
  };
  switch (w.wait.reason.kind) {
    case SuspendKind::Approval:
      for (const auto& e : journal) {
        if (e.type != events::kApprovalDecided || RequestOf(Data(e)) != req.seq) continue;
        json d = Data(e);
        std::string by = d.value("by", ""), comment = d.value("comment", "");
        if (!d.value("approved", false)) {
          std::string msg = fmt::format("rejected by {}", by.empty() ? "someone" : by);
          if (!comment.empty()) msg += ": " + comment;
          if (auto s = vm_.DeliverErrorTo(branch, "rejected", msg, std::nullopt); !s) return s.error();
        } else {
          int64_t at = value::ParseTime(d.value("at", "")).value_or(e.at_ms);
          auto shape = value::Symbols::Global().ShapeOfTexts({"at", "by", "comment"});
          auto rec = interp::Value::Record(shape, {interp::Value::Time(at), interp::Value::String(by),
                                                   interp::Value::String(comment)});
          if (auto s = vm_.DeliverTo(branch, std::move(rec)); !s) return s.error();
        }
        return event(events::kRunResumed, json{{"after", "approval"}, {"seq", e.seq}});
      }
      if (deadline >= 0 && now >= deadline) {
        if (auto s = vm_.DeliverErrorTo(branch, "timeout", "approval timed out", std::nullopt); !s) return s.error();
        return event(events::kWaitTimedOut, json{{"what", "approval"}});
      }
      return Answer();
    case SuspendKind::Signal: {
      const std::string& name = w.wait.reason.text;
      if (const store::JournalEvent* signal = UnconsumedSignal(journal, name)) {
        json d = Data(*signal);
        json payload = d.contains("payload") ? d["payload"] : json();
        if (auto s = vm_.DeliverTo(branch, interp::Value::Json(std::move(payload))); !s) return s.error();
        return event(events::kRunResumed, json{{"after", "signal"}, {"event", name}, {"seq", signal->seq}});
      }
      if (deadline >= 0 && now >= deadline) {
        std::string msg = fmt::format("no signal '{}' arrived in time", name);
        if (auto s = vm_.DeliverErrorTo(branch, "timeout", msg, std::nullopt); !s) return s.error();
        return event(events::kWaitTimedOut, json{{"what", "signal"}});
      }
      return Answer();
    }
    case SuspendKind::Timer:
      if (now < deadline) return Answer();
      if (auto s = vm_.DeliverTo(branch, interp::Value()); !s) return s.error();
      return event(events::kTimerFired, json::object());
    default:
      return Error{"internal error: a branch waits on something that is not a wait"};
  }
}

namespace {

auto ParkedIn(const interp::Vm& vm) -> std::set<std::pair<std::string, int64_t>> {
  std::set<std::pair<std::string, int64_t>> out;
  for (const auto& w : vm.BranchWaits()) out.insert({w.branch, w.step});
  return out;
}

}  // namespace

auto Driver::SettleBranchWaits(bool force) -> Result<bool> {
  const auto now = std::chrono::steady_clock::now();
  // The first look of a Driver whose journal holds branch waits: one may
  // belong to a fiber discarded before a crash, not yet marked stopped.
  const bool first = !looked_ && branch_waits_seen_;
  if (!force && !first) {
    auto current = ParkedIn(vm_);
    if (current.empty() && parked_.empty()) return false;
    if (current == parked_ && now - looked_at_ < kCancelPollInterval) return false;
  }
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  if (auto s = JournalBranchWaits(*journal); !s) return s.error();
  bool delivered = false;
  for (const auto& w : MatchBranchWaits(*journal)) {
    if (!w.request) return Error{fmt::format("run '{}': branch {} waits without its request", run_id_, w.wait.branch)};
    auto answer = AnswerBranchWait(w, *journal);
    if (!answer) return answer.error();
    if (!*answer) continue;
    store::DurableUpdate u = NotWaiting(RunStatus::Running);
    u.events.push_back(**answer);
    u.state = vm_.SaveState();
    if (auto s = Commit(std::move(u)); !s) return s.error();
    // Later waits of this pass see the signal consumed.
    journal->push_back(std::move(**answer));
    journal->back().seq = journal->size() > 1 ? journal->at(journal->size() - 2).seq + 1 : 1;
    delivered = true;
  }
  parked_ = ParkedIn(vm_);
  looked_ = true;
  looked_at_ = now;
  return delivered;
}

auto Driver::SuspendAtBranchWaits(std::vector<json> children, int64_t children_wake)
    -> Result<std::optional<RunReport>> {
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  auto waits = MatchBranchWaits(*journal);
  if (waits.empty() || !waits.front().request) {
    return Error{fmt::format("run '{}': its branches wait without their requests", run_id_)};
  }
  json waiting = WaitObject(*waits.front().request);
  json also = json::array();
  int64_t wake = children_wake;
  for (const auto& w : waits) {
    if (!w.request) continue;
    if (&w != &waits.front()) also.push_back(WaitObject(*w.request));
    const int64_t d = DeadlineOf(*w.request);
    if (d >= 0 && (wake < 0 || d < wake)) wake = d;
  }
  for (json& child : children) also.push_back(std::move(child));
  if (!also.empty()) waiting["also"] = std::move(also);
  auto report = Suspend({}, ReasonOf(*waits.front().request), std::move(waiting), wake);
  if (!report) return report.error();
  // `flow approve` and `flow signal` append without the lease: one that
  // appended before this commit found the run running and left it to us.
  auto woke = SettleBranchWaits(/*force=*/true);
  if (!woke) return woke.error();
  if (*woke) return std::optional<RunReport>();
  return std::optional<RunReport>(std::move(*report));
}

auto Driver::NoteStoppedBranchWaits() -> Status {
  if (parked_.empty() && (looked_ || !branch_waits_seen_)) return Ok{};
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  if (auto s = JournalBranchWaits(*journal); !s) return s;
  parked_ = ParkedIn(vm_);
  looked_ = true;
  return Ok{};
}

}  // namespace flow::engine
