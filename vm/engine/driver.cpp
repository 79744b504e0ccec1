// The Driver's main loop and its waits: approval, signal, timer, checkpoint,
// completion (driver.h). Steps and compensations are in driver_steps.cpp.
#include "vm/engine/driver.h"

#include <fmt/format.h>

#include <chrono>
#include <limits>
#include <set>

#include "vm/engine/events.h"
#include "vm/engine/lease.h"
#include "vm/value/convert.h"
#include "vm/value/shape.h"
#include "vm/value/time_format.h"

namespace flow::engine {

using interp::SuspendKind;
using store::RunStatus;

auto NowMs() -> int64_t { return SystemClock().NowMs(); }

Driver::Driver(const Runtime& runtime, const bytecode::Module& module, std::string run_id,
               std::vector<json> effects, std::vector<store::JournalEvent> journal)
    : store_(runtime.store),
      transports_(runtime.transports),
      clock_(runtime.clock),
      legacy_builtins_(runtime.legacy_builtin_connectors),
      module_(module),
      run_id_(std::move(run_id)),
      journal_(std::move(journal)),
      options_(runtime.options),
      log_(std::move(effects), *this),
      vm_(module, interp::VmOptions{.host = &log_,
                                    .resume_stress = runtime.options.resume_stress,
                                    .instruction_budget = runtime.options.instruction_budget,
                                    .memory_limit = runtime.options.memory_limit}),
      renewed_ms_(clock_.NowMs()) {
  if (options_.lease_owner.empty()) options_.lease_owner = ThisLeaseOwner();
  for (const auto& e : journal_) {
    if (!e.branch.empty()) {  // a branch's steps have their own positions
      if (e.type == events::kApprovalRequested || e.type == events::kSignalAwaited || e.type == events::kTimerStarted) {
        branch_waits_seen_ = true;
      }
      continue;
    }
    if (e.type == events::kStepStarted || e.type == events::kStepCompleted || e.type == events::kStepFailed ||
        e.type == events::kStepBlocked) {
      steps_ = std::max(steps_, e.step);
    }
    if (e.type == events::kCancelRequested) cancel_requested_ = true;
    if (e.type == events::kChildStarted) ++children_;
  }
}

auto WrittenByTheEngine(std::string_view type) -> bool {
  return type != events::kApprovalDecided && type != events::kSignalReceived && type != events::kCancelRequested;
}

// The previous driver may have been sending a step when it died when the
// run is `running` (it was not let go of as waiting) and the last event
// the engine wrote does not leave the run waiting on something only a new
// record can end (an approval, a signal, a timer) -- a retry backoff or a
// blocked step is resent without a new record. An engine event after a
// cancellation request means its writer knew of the request (every commit
// tells it) and sent nothing more.
void Driver::Loaded(const store::RunRecord& run) {
  parent_id_ = run.parent_id;
  branches_loaded_ = vm_.in_branches();
  bool running = run.status == RunStatus::Running;
  const store::JournalEvent* last = nullptr;  // the last event the engine wrote
  bool requested = false, known = false;      // a cancellation request; an engine event after it
  for (const auto& e : journal_) {
    if (e.type == events::kCancelRequested) {
      // The first request says how the run was: one let go as waiting
      // became running only because of the request.
      json d = json::parse(e.data, nullptr, false);
      if (!requested && d.is_object() && d.value("status", "") == "waiting") running = false;
      requested = true;
      continue;
    }
    if (!WrittenByTheEngine(e.type)) continue;
    last = &e;
    known = requested;
  }
  if (!running || known || last == nullptr) return;
  const std::string& t = last->type;
  // A branch's wait leaves the other branches' steps possibly in flight.
  maybe_in_flight_ = !last->branch.empty() || (t != events::kApprovalRequested && t != events::kSignalAwaited &&
                                                t != events::kTimerStarted && t != events::kChildStarted);
}

auto Driver::Event(std::string_view type, json data, int64_t step, int64_t attempt) -> store::JournalEvent {
  store::JournalEvent e;
  e.type = std::string(type);
  e.step = step;
  e.attempt = attempt;
  e.data = value::DumpJson(data);
  e.at_ms = Now();
  return e;
}

auto Driver::Heartbeat() -> Status {
  const int64_t now = Now();
  if (now - renewed_ms_ < kLeaseRenewInterval.count()) return Ok{};
  auto holder = store_.TakeLease(run_id_, options_.lease_owner, now, now + kLeaseDuration.count(), "");
  if (!holder) return holder.error();
  if (*holder != options_.lease_owner) return Error{fmt::format("run {} lost its lease to {}", run_id_, *holder)};
  for (const std::string& id : options_.ancestors) {  // they wait on this run in this thread
    auto held = store_.TakeLease(id, options_.lease_owner, now, now + kLeaseDuration.count(), "");
    if (!held) return held.error();
  }
  renewed_ms_ = now;
  return Ok{};
}

auto NotWaiting(RunStatus status) -> store::DurableUpdate {
  store::DurableUpdate u;
  u.status = status;
  u.waiting_reason = "";
  u.waiting = "";
  u.wake_at_ms = -1;
  return u;
}

// Whether the update sets the run row to plain `running`: no waiting
// reason, no waiting object, no wake-up time (NotWaiting(Running)).
static auto SetsPlainRunning(const store::DurableUpdate& u) -> bool {
  return u.status == RunStatus::Running && u.waiting_reason == "" && u.waiting == "" && u.wake_at_ms == -1;
}

auto Driver::Commit(store::DurableUpdate u) -> Status {
  if (commits_ + 1 == options_.crash_before_commits) return Error{"simulated crash before a durable point"};
  if (auto s = Heartbeat(); !s) return s;
  // Every step attempt asks for plain `running`; when this Driver already
  // wrote that, there is nothing to assign (the store then skips reading
  // the row to compare, see SqliteStore::UpdateRun).
  const bool plain = SetsPlainRunning(u);
  if (plain && row_plain_running_) {
    u.status.reset();
    u.waiting_reason.reset();
    u.waiting.reset();
    u.wake_at_ms.reset();
  }
  u.run_id = run_id_;
  u.now_ms = Now();
  // A child's end makes its waiting parent due (docs/composition.md).
  if (u.status && *u.status != RunStatus::Running && *u.status != RunStatus::Waiting) u.wake_parent = parent_id_;
  std::vector<store::JournalEvent> all;
  for (json& record : log_.TakeNew()) {
    std::string branch = record.value("branch", "");
    all.push_back(Event(events::kEffect, std::move(record)));
    all.back().branch = std::move(branch);
  }
  for (auto& e : u.events) all.push_back(std::move(e));
  u.events = std::move(all);
  const bool sets_status = u.status.has_value();
  auto out = store_.Commit(u);
  if (!out) return out.error();
  if (out->cancel_requested) cancel_requested_ = true;
  if (out->refused) return Ok{};  // nothing written: the caller sees cancel_requested()
  if (sets_status) row_plain_running_ = plain && !out->cancel_requested;
  maybe_in_flight_ = false;
  if (++commits_ == options_.crash_after_commits) return Error{"simulated crash after a durable point"};
  return Ok{};
}

auto Driver::CommitEffects() -> Status {
  if (!log_.HasNew()) return Ok{};
  return Commit(store::DurableUpdate{});
}

auto Driver::Interrupted() const -> Error {
  return Error{fmt::format("run '{}' was let go at its last durable point: this process is stopping", run_id_),
               ErrorCode::kInterrupted};
}

auto DriverHost::ShouldStop() -> bool { return driver_.ShouldStop(); }

auto DriverHost::NowMs() const -> int64_t { return driver_.Now(); }

auto Driver::ShouldStop() -> bool {
  if (options_.stop != nullptr && options_.stop->load()) return true;
  if (options_.stop_at_ms >= 0 && !cancelling_ && Now() >= options_.stop_at_ms) return true;
  if (cancelling_) return false;
  if (cancel_requested_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now - polled_ < kCancelPollInterval) return false;
  polled_ = now;
  auto run = store_.GetRun(run_id_);
  if (run && *run && (*run)->cancel_requested_ms >= 0) cancel_requested_ = true;
  return cancel_requested_;
}

auto Driver::StepName(uint32_t desc) const -> std::string {
  const auto& d = module_.steps[desc];
  return d.connector + "." + d.operation;
}

// After every durable point the driver looks at cancel_requested(), which
// the commit just read in its transaction: a requested cancellation stops
// the run there, before anything more is sent.
auto Driver::Drive() -> Result<RunReport> {
  for (;;) {
    if (cancel_requested_) return Cancel();
    // A child whose parent's call timed out: let go, the parent cancels it.
    if (options_.stop_at_ms >= 0 && Now() >= options_.stop_at_ms) return Interrupted();
    interp::Outcome o = vm_.Run();
    if (o.status == interp::RunStatus::Branches) {
      auto waiting = DriveBranches(o);  // driver_branches.cpp
      if (!waiting) return waiting.error();
      if (*waiting) return std::move(**waiting);
      if (o.status == interp::RunStatus::Branches) {
        if (cancel_requested_) continue;
        return Interrupted();  // this process is stopping
      }
    }
    switch (o.status) {
      case interp::RunStatus::Completed:
      case interp::RunStatus::Failed:
        return Finish(std::move(o));
      case interp::RunStatus::Interrupted:
        if (cancel_requested_) continue;
        return Interrupted();
      case interp::RunStatus::Suspended:
        break;
      case interp::RunStatus::Branches:
      case interp::RunStatus::Yield:
        return Error{"internal error: the VM left its branches in an unexpected way"};
    }
    auto waiting = OnSuspend(o.suspend);
    if (!waiting) return waiting.error();
    if (cancel_requested_) continue;
    if (*waiting) return std::move(**waiting);
  }
}

auto Driver::Finish(interp::Outcome o) -> Result<RunReport> {
  if (o.status == interp::RunStatus::Failed) return Compensate(o.error);
  auto done = Complete(o.result);
  if (done && cancel_requested_) return Cancel();  // refused: the run ends cancelled
  return done;
}

auto Driver::Complete(const interp::Value& result) -> Result<RunReport> {
  json value = value::ToJson(result);
  store::DurableUpdate u = NotWaiting(RunStatus::Completed);
  u.result = value::DumpJson(value);
  u.events.push_back(Event(events::kCompleted, json{{"result", value}}));
  u.unless_cancel_requested = true;
  if (auto s = Commit(std::move(u)); !s) return s.error();
  RunReport r;
  r.run_id = run_id_;
  r.status = RunStatus::Completed;
  r.result = std::move(value);
  return r;
}

// A durable point that keeps the run going: the event plus the ready state.
auto Driver::Continue(std::string_view event, json data) -> Status {
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  u.events.push_back(Event(event, std::move(data)));
  u.state = vm_.SaveState();
  return Commit(std::move(u));
}

auto Driver::Suspend(std::vector<store::JournalEvent> recorded, const std::string& reason, json waiting,
                     int64_t wake_at, bool with_state) -> Result<RunReport> {
  store::DurableUpdate u;
  u.status = RunStatus::Waiting;
  u.waiting_reason = reason;
  u.waiting = value::DumpJson(waiting);
  u.wake_at_ms = wake_at;
  u.events = std::move(recorded);
  if (with_state) u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s.error();
  RunReport r;
  r.run_id = run_id_;
  r.status = RunStatus::Waiting;
  r.waiting = std::move(waiting);
  return r;
}

auto StopDriving(Result<RunReport> r) -> Result<std::optional<RunReport>> {
  if (!r) return r.error();
  return std::optional<RunReport>(std::move(*r));
}

auto Driver::OnSuspend(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>> {
  const int64_t now = Now();
  auto opt_ms = [](int64_t ms) { return ms < 0 ? json() : json(ms); };
  switch (reason.kind) {
    case SuspendKind::Step:
      return OnStep(reason);
    case SuspendKind::Child:
      return OnChild(reason);
    case SuspendKind::Checkpoint: {
      if (auto s = vm_.Deliver(interp::Value()); !s) return s.error();
      store::DurableUpdate u;
      u.status = RunStatus::Running;
      u.events.push_back(Event(events::kCheckpoint, json{{"name", reason.text}}));
      u.state = vm_.SaveState();
      u.checkpoint = reason.text;
      if (auto s = Commit(std::move(u)); !s) return s.error();
      return std::optional<RunReport>();
    }
    case SuspendKind::Approval: {
      json from = reason.from ? json(*reason.from) : json();
      int64_t wake = reason.timeout_ms < 0 ? -1 : now + reason.timeout_ms;
      json waiting{{"kind", "approval"}, {"prompt", reason.text}};
      if (reason.from) waiting["from"] = *reason.from;
      if (wake >= 0) waiting["timeout_at"] = value::FormatTime(wake);
      return StopDriving(Suspend({Event(events::kApprovalRequested, json{{"prompt", reason.text}, {"from", from},
                                                                        {"timeout_ms", opt_ms(reason.timeout_ms)}})},
                                 "approval", waiting, wake));
    }
    case SuspendKind::Signal: {
      int64_t wake = reason.timeout_ms < 0 ? -1 : now + reason.timeout_ms;
      json waiting{{"kind", "signal"}, {"event", reason.text}};
      if (wake >= 0) waiting["timeout_at"] = value::FormatTime(wake);
      auto report = Suspend(
          {Event(events::kSignalAwaited, json{{"event", reason.text}, {"timeout_ms", opt_ms(reason.timeout_ms)}})},
          "signal", waiting, wake);
      if (!report) return report.error();
      return DeliverBufferedSignal(reason.text, std::move(*report));
    }
    case SuspendKind::Timer: {
      int64_t wake = now + std::max<int64_t>(reason.duration_ms, 0);
      return StopDriving(Suspend({Event(events::kTimerStarted, json{{"duration_ms", reason.duration_ms}, {"wake_at_ms", wake}})},
                                 "timer", json{{"kind", "timer"}, {"wake_at", value::FormatTime(wake)}}, wake));
    }
  }
  return Error{"internal error: unknown suspension kind"};
}

// The loaded state is suspended: the journal's last suspension event says on what.
auto Driver::LastSuspension() const -> std::optional<size_t> {
  for (size_t i = journal_.size(); i-- > 0;) {
    if (!journal_[i].branch.empty()) continue;  // the root's suspensions only
    const std::string& t = journal_[i].type;
    if (t == events::kStepStarted || t == events::kStepFailed || t == events::kStepBlocked ||
        t == events::kApprovalRequested || t == events::kSignalAwaited || t == events::kTimerStarted ||
        t == events::kChildStarted) {
      return i;
    }
  }
  return std::nullopt;
}

auto Driver::ResumeSuspended(const store::RunRecord& run) -> Result<std::optional<RunReport>> {
  auto i = LastSuspension();
  if (!i) return Error{fmt::format("run '{}' has a suspended state but no suspension in its journal", run_id_)};
  const auto& e = journal_[*i];
  if (e.type == events::kApprovalRequested) return ResumeApproval(run, *i);
  if (e.type == events::kSignalAwaited) return ResumeSignal(run, *i);
  if (e.type == events::kTimerStarted) return ResumeTimer(run);
  if (e.type == events::kChildStarted) return ResumeChildCall(e);
  return ResumeStep(e, run);  // step_started (an old journal's in-flight step), step_failed or step_blocked
}

// A report of the run as it still waits (nothing written).
static auto StillWaiting(const store::RunRecord& run) -> RunReport {
  RunReport r;
  r.run_id = run.id;
  r.status = RunStatus::Waiting;
  r.waiting = json::parse(run.waiting.empty() ? "{}" : run.waiting, nullptr, false);
  return r;
}

auto Driver::ResumeApproval(const store::RunRecord& run, size_t requested) -> Result<std::optional<RunReport>> {
  for (size_t i = requested + 1; i < journal_.size(); ++i) {
    const auto& e = journal_[i];
    if (e.type != events::kApprovalDecided) continue;
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) return Error{fmt::format("run '{}': malformed approval_decided event", run_id_)};
    std::string by = d.value("by", ""), comment = d.value("comment", "");
    if (!d.value("approved", false)) {
      std::string msg = fmt::format("rejected by {}", by.empty() ? "someone" : by);
      if (!comment.empty()) msg += ": " + comment;
      if (auto s = vm_.DeliverError("rejected", msg, std::nullopt); !s) return s.error();
    } else {
      int64_t at = value::ParseTime(d.value("at", "")).value_or(e.at_ms);
      auto shape = value::Symbols::Global().ShapeOfTexts({"at", "by", "comment"});
      auto rec = interp::Value::Record(shape, {interp::Value::Time(at), interp::Value::String(by),
                                               interp::Value::String(comment)});
      if (auto s = vm_.Deliver(std::move(rec)); !s) return s.error();
    }
    if (auto s = Continue(events::kRunResumed, json{{"after", "approval"}, {"seq", e.seq}}); !s) return s.error();
    return std::optional<RunReport>();
  }
  if (run.wake_at_ms >= 0 && Now() >= run.wake_at_ms) {
    if (auto s = vm_.DeliverError("timeout", "approval timed out", std::nullopt); !s) return s.error();
    if (auto s = Continue(events::kWaitTimedOut, json{{"what", "approval"}}); !s) return s.error();
    return std::optional<RunReport>();
  }
  return std::optional<RunReport>(StillWaiting(run));
}

auto UnconsumedSignal(const std::vector<store::JournalEvent>& journal, const std::string& event)
    -> const store::JournalEvent* {
  auto data = [](const store::JournalEvent& e) {
    json d = json::parse(e.data, nullptr, false);
    return d.is_object() ? d : json::object();
  };
  auto oldest = [&](const std::string& name, int64_t before, const std::set<int64_t>& consumed) {
    for (const auto& e : journal) {
      if (e.seq >= before) break;
      if (e.type == events::kSignalReceived && !consumed.count(e.seq) && data(e).value("event", "") == name) return &e;
    }
    return static_cast<const store::JournalEvent*>(nullptr);
  };
  std::set<int64_t> consumed;
  std::string awaited;
  for (const auto& e : journal) {
    if (e.type == events::kSignalAwaited) awaited = data(e).value("event", "");
    if (e.type != events::kRunResumed) continue;
    json d = data(e);
    if (d.value("after", "") != "signal") continue;
    if (d.contains("seq") && d["seq"].is_number_integer()) {
      consumed.insert(d["seq"].get<int64_t>());
    } else if (const auto* legacy = oldest(awaited, e.seq, consumed)) {
      consumed.insert(legacy->seq);
    }
  }
  return oldest(event, std::numeric_limits<int64_t>::max(), consumed);
}

// Delivers the payload of `signal` (a signal_received of `event`) to the
// suspended VM and records its consumption in the `resumed` event.
auto Driver::DeliverSignal(const store::JournalEvent& signal, const std::string& event) -> Status {
  json d = json::parse(signal.data, nullptr, false);
  json payload = d.is_object() && d.contains("payload") ? d["payload"] : json();
  if (auto s = vm_.Deliver(interp::Value::Json(std::move(payload))); !s) return s;
  return Continue(events::kRunResumed, json{{"after", "signal"}, {"event", event}, {"seq", signal.seq}});
}

// Right after suspending on `wait event`: a signal recorded before the
// wait (or while it was being committed) is delivered at once, so a
// signal sent early is never lost. Re-read after the commit: `flow signal`
// appends without the lease, and one that appends after this read finds
// the run waiting and drives it itself (cli/record_and_drive.h).
auto Driver::DeliverBufferedSignal(const std::string& event, RunReport waiting) -> Result<std::optional<RunReport>> {
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  const store::JournalEvent* signal = UnconsumedSignal(*journal, event);
  if (signal == nullptr) return std::optional<RunReport>(std::move(waiting));
  if (auto s = DeliverSignal(*signal, event); !s) return s.error();
  return std::optional<RunReport>();
}

auto Driver::ResumeSignal(const store::RunRecord& run, size_t awaited) -> Result<std::optional<RunReport>> {
  json want = json::parse(journal_[awaited].data, nullptr, false);
  std::string event = want.is_object() ? want.value("event", "") : "";
  if (const store::JournalEvent* signal = UnconsumedSignal(journal_, event)) {
    if (auto s = DeliverSignal(*signal, event); !s) return s.error();
    return std::optional<RunReport>();
  }
  if (run.wake_at_ms >= 0 && Now() >= run.wake_at_ms) {
    std::string msg = fmt::format("no signal '{}' arrived in time", event);
    if (auto s = vm_.DeliverError("timeout", msg, std::nullopt); !s) return s.error();
    if (auto s = Continue(events::kWaitTimedOut, json{{"what", "signal"}}); !s) return s.error();
    return std::optional<RunReport>();
  }
  return std::optional<RunReport>(StillWaiting(run));
}

auto Driver::ResumeTimer(const store::RunRecord& run) -> Result<std::optional<RunReport>> {
  if (run.wake_at_ms >= 0 && Now() < run.wake_at_ms) return std::optional<RunReport>(StillWaiting(run));
  if (auto s = vm_.Deliver(interp::Value()); !s) return s.error();
  if (auto s = Continue(events::kTimerFired, json::object()); !s) return s.error();
  return std::optional<RunReport>();
}

}  // namespace flow::engine
