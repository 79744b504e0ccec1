// Child workflow calls inside branch fibers (driver.h; docs/composition.md,
// "Child runs" and "Child calls in branches as built").
//
// A branch fiber at a child call is taken by DriveBranches like one at a
// step. Its child run's id is "<run>/<branch>/<n>", n counting that
// branch's child calls from 1 (the `child_started` events of the branch in
// the journal, so a re-execution after a crash finds the same n). The
// child is created as a root call's is -- its row and the parent's
// `child_started` (tagged with the branch) with the parent's state, in one
// transaction -- or, when the journal already has the call's
// `child_started` without its end, attached to: a call never starts a
// second child.
//
// Each child is then driven on a thread of the branch pool (attempt_pool.h)
// with a store connection of its own (Store::Connect) and the process's
// lease owner id, until it ends or suspends, while the engine thread goes
// on with the other branches. Its turn's end is posted to the pool's queue;
// the engine thread reads the child's row and delivers its end to the
// branch (`child_completed` / `child_failed` with the branch, committed
// with the state: its own durable point; the fiber's `compensate` is
// registered before the next end is taken, so in completion order). A
// child that waits (an approval inside it) leaves its branch waiting; when
// nothing else can go on, the run waits with reason `child`, and the
// child's final commit (wake_parent) makes it due again.
//
// A branch that stops (another branch of its group failed) has its child
// cancelled: one being driven has its cancellation recorded (its driver
// stops at its next durable point and compensates), a waiting one is
// cancelled on a thread. A call's `timeout` cancels its child as on the
// root, then raises `timeout` in the branch.
#include <fmt/format.h>

#include <algorithm>

#include "vm/engine/attempt_pool.h"
#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/engine/lease.h"
#include "vm/value/time_format.h"

namespace flow::engine {

using store::RunStatus;


namespace {

// Why 1 s: a child waiting inside a branch may be finished by another
// process (`flow approve r1/1.2/1`) while this driver still drives other
// branches; its wake_parent cannot reach a running parent, so the driver
// reads the row of each waiting child this often (one indexed read).
constexpr int64_t kChildPollMs = 1000;

// "<run>/<branch>/<n>": the n-th child call of branch `branch` (from 1).
auto BranchChildRunId(const std::string& run, const std::string& branch, int64_t n) -> std::string {
  return fmt::format("{}/{}/{}", run, branch, n);
}

auto ParseObject(const std::string& text) -> json {
  json d = json::parse(text.empty() ? "{}" : text, nullptr, false);
  return d.is_object() ? d : json::object();
}

auto Ended(RunStatus s) -> bool {
  return s == RunStatus::Completed || s == RunStatus::Failed || s == RunStatus::Cancelled;
}

}  // namespace

void Driver::IndexBranchChildren() {
  if (branch_children_indexed_) return;
  branch_children_indexed_ = true;
  std::map<std::string, std::string> open;  // branch -> child id
  for (const auto& e : journal_) {
    if (e.branch.empty()) continue;
    if (e.type == events::kChildStarted) {
      ++branch_child_calls_[e.branch];
      branch_child_open_[e.branch] = ParseObject(e.data);
    } else if (e.type == events::kChildCompleted || e.type == events::kChildFailed) {
      auto it = branch_child_open_.find(e.branch);
      if (it != branch_child_open_.end() && it->second.value("child", "") == ParseObject(e.data).value("child", "")) {
        branch_child_open_.erase(it);
      }
    }
  }
}

auto Driver::DeliverCompletedBranchChildrenAtCancel() -> Status {
  if (!vm_.in_branches()) return Ok{};
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  std::map<std::string, store::JournalEvent> open;  // branch -> its child_started without an end
  for (const auto& e : *journal) {
    if (e.branch.empty()) continue;
    if (e.type == events::kChildStarted) {
      open[e.branch] = e;
    } else if (e.type == events::kChildCompleted || e.type == events::kChildFailed) {
      open.erase(e.branch);
    }
  }
  for (const auto& s : vm_.BranchesInFlight()) {
    if (s.reason.kind != interp::SuspendKind::Child) continue;
    auto started = open.find(s.branch);
    if (started == open.end()) continue;
    auto call = ChildCallOf(started->second);
    if (!call) return call.error();
    auto child = store_.GetRun(call->id);
    if (!child) return child.error();
    if (!*child || (*child)->parent_id != run_id_ || (*child)->status != RunStatus::Completed) continue;
    BranchChild kid;
    kid.branch = s.branch;
    kid.call = *call;
    if (auto d = DeliverBranchChildEnd(kid, **child); !d) return d;
    // Its `compensate` is registered right after its result; nothing is sent.
    interp::Outcome o = vm_.Run(kCancelInstructionBudget);
    if (o.status == interp::RunStatus::Interrupted) return Interrupted();
  }
  return Ok{};
}

auto Driver::ChildTurns(const BranchChildren& kids) -> size_t {
  size_t n = 0;
  for (const auto& [branch, kid] : kids) n += kid.turn ? 1 : 0;
  return n;
}

auto Driver::StartBranchChild(const interp::BranchSuspension& s, AttemptPool& pool, BranchChildren& kids) -> Status {
  IndexBranchChildren();
  BranchChild kid;
  kid.branch = s.branch;
  kid.order = ++branch_child_order_;
  if (auto open = branch_child_open_.find(s.branch); open != branch_child_open_.end()) {
    // Created before (this run's previous driver): attached to.
    const json& d = open->second;
    kid.call = ChildCall{d.value("child", ""), d.value("workflow", ""), s.reason.step, -1};
    const int64_t desc = d.value("step_id", int64_t{-1});
    if (desc != static_cast<int64_t>(s.reason.step) || kid.call.id.empty() ||
        module_.steps[s.reason.step].operation != kid.call.workflow) {
      return Error{fmt::format("run '{}': the journal's child call of '{}' in branch {} does not match the program",
                               run_id_, kid.call.workflow, s.branch)};
    }
    if (d.contains("deadline_ms") && d["deadline_ms"].is_number_integer()) kid.call.deadline_ms = d["deadline_ms"];
    auto row = store_.GetRun(kid.call.id);
    if (!row) return row.error();
    if (!*row || (*row)->parent_id != run_id_) {
      return Error{fmt::format("run '{}': its child run '{}' is missing", run_id_, kid.call.id)};
    }
    kid.last = **row;
    auto& k = kids[s.branch] = std::move(kid);
    const bool due = k.last.status == RunStatus::Running || (k.last.wake_at_ms >= 0 && k.last.wake_at_ms <= Now());
    if (Ended(k.last.status) || !due || cancel_requested_) {
      k.waiting = !Ended(k.last.status);
      if (Ended(k.last.status)) {
        k.turn = true;  // delivered by its turn
        pool.Post(Posted{s.branch, {}, Now(), true, std::nullopt});
      }
      return Ok{};
    }
    return DriveBranchChild(pool, k, std::nullopt);
  }
  if (cancel_requested_) return Ok{};  // nothing is started: Drive() cancels
  const int64_t n = branch_child_calls_[s.branch] + 1;
  ChildStart start = PrepareChild(s.reason, BranchChildRunId(run_id_, s.branch, n), s.branch);
  kid.call = start.call;
  if (!start.fail.is_null()) {
    kid.fail = std::move(start.fail);
    kid.turn = true;
    kids[s.branch] = std::move(kid);
    pool.Post(Posted{s.branch, {}, Now(), true, std::nullopt});
    return Ok{};
  }
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  u.create_child = std::move(start.child);
  u.events.push_back(BranchEvent(events::kChildStarted, ChildStartedData(kid.call), s.branch, -1, 0));
  u.state = vm_.SaveState();
  if (auto st = Commit(std::move(u)); !st) return st;
  branch_child_calls_[s.branch] = n;
  branch_child_open_[s.branch] = ChildStartedData(kid.call);
  kid.idle = true;
  auto& k = kids[s.branch] = std::move(kid);
  if (cancel_requested_) {  // Drive() cancels, the new child first
    k.waiting = true;
    return Ok{};
  }
  return DriveBranchChild(pool, k, std::nullopt);
}

// One turn of the child on a thread of `pool`: driven once (ResumeChildRun,
// as AwaitChild does on the root), or cancelled with `cancel_reason`.
auto Driver::DriveBranchChild(AttemptPool& pool, BranchChild& kid, std::optional<std::string> cancel_reason) -> Status {
  auto connection = store_.Connect();
  if (!connection) return connection.error();
  EngineOptions child_options = options_;
  child_options.crash_after_commits = child_options.crash_before_commits = -1;
  child_options.nothing_in_flight = kid.idle;
  child_options.ancestors.push_back(run_id_);
  child_options.stop_at_ms = -1;
  if (!cancel_reason && kid.call.deadline_ms >= 0 &&
      (options_.stop_at_ms < 0 || kid.call.deadline_ms < options_.stop_at_ms)) {
    child_options.stop_at_ms = kid.call.deadline_ms;
  } else if (!cancel_reason) {
    child_options.stop_at_ms = options_.stop_at_ms;
  }
  kid.turn = true;
  kid.waiting = false;
  pool.Run([store = std::shared_ptr<store::Store>(std::move(*connection)), &transports = transports_,
            &clock = clock_, legacy = legacy_builtins_, child_options = std::move(child_options),
            id = kid.call.id, branch = kid.branch, reason = std::move(cancel_reason)]() {
    Runtime runtime{*store, transports, clock, child_options};
    runtime.legacy_builtin_connectors = legacy;
    auto r = reason ? CancelChildRun(runtime, id, *reason) : ResumeChildRun(runtime, id);
    Posted p{branch, {}, clock.NowMs(), true, std::nullopt};
    if (!r) p.child_error = r.error();
    return p;
  });
  return Ok{};
}

auto Driver::OnBranchChildTurn(const Posted& p, AttemptPool& pool, BranchChildren& kids) -> Result<bool> {
  auto it = kids.find(p.branch);
  if (it == kids.end()) return Error{fmt::format("internal error: a child turn for branch {} not in flight", p.branch)};
  BranchChild& kid = it->second;
  kid.turn = false;
  if (!kid.fail.is_null()) {
    Status s = vm_.DeliverErrorTo(kid.branch, kid.fail["kind"], kid.fail["message"], std::nullopt);
    kids.erase(it);
    if (!s) return s.error();
    return true;
  }
  const bool stopping = options_.stop != nullptr && options_.stop->load();
  if (p.child_error) {
    const Error& e = *p.child_error;
    if (IsLeaseConflict(e)) {
      kid.waiting = true;  // another process drives it: its end makes this run due
      return false;
    }
    if (e.code != ErrorCode::kInterrupted) return e;
    // Interrupted: this process stops (the child waits for the next
    // driver), or the call's deadline passed (cancelled below).
    kid.idle = true;
    if (stopping) {
      kid.waiting = true;
      return false;
    }
  } else {
    kid.idle = true;  // our driver let go of it
  }
  auto row = store_.GetRun(kid.call.id);
  if (!row) return row.error();
  if (!*row || (*row)->parent_id != run_id_) {
    return Error{fmt::format("run '{}': its child run '{}' is missing", run_id_, kid.call.id)};
  }
  kid.last = **row;
  if (Ended(kid.last.status)) {
    BranchChild done = std::move(kid);
    kids.erase(it);
    Status s = Ok{};
    if (done.timed_out) {
      const int64_t timeout = module_.steps[done.call.desc].timeout_ms;
      s = FailBranchChildCall(done, json{{"kind", "timeout"},
                                         {"message", fmt::format("child run {} ({}) did not end within {}", done.call.id,
                                                                 done.call.workflow, value::FormatDuration(timeout))},
                                         {"step", json()}});
    } else {
      s = DeliverBranchChildEnd(done, done.last);
    }
    if (!s) return s.error();
    return true;
  }
  if (kid.cancel_sent && kid.last.status == RunStatus::Running && !kid.cancel_turn) {
    // Its cancellation was recorded while this turn drove it, after its
    // driver's last look (it let go as waiting, and the request made it
    // running again): one more turn cancels it.
    kid.cancel_turn = true;
    if (auto s = DriveBranchChild(pool, kid, std::nullopt); !s) return s.error();
    return false;
  }
  kid.waiting = true;  // it suspended: its branch waits on it (TendBranchChildren cancels it when due)
  kid.polled_ms = Now();
  return false;
}

auto Driver::TendBranchChildren(AttemptPool& pool, BranchChildren& kids) -> Status {
  const bool stopping = options_.stop != nullptr && options_.stop->load();
  for (auto& [branch, kid] : kids) {
    if (!kid.fail.is_null() || kid.cancel_sent) continue;
    std::optional<std::string> reason;
    if (vm_.BranchStopping(branch)) {
      reason = fmt::format("branch {} of run {} stopped: another branch failed", branch, run_id_);
    } else if (kid.call.deadline_ms >= 0 && Now() >= kid.call.deadline_ms) {
      const int64_t timeout = module_.steps[kid.call.desc].timeout_ms;
      reason = fmt::format("child run {} ({}) did not end within {}", kid.call.id, kid.call.workflow,
                           value::FormatDuration(timeout));
      kid.timed_out = true;
    }
    if (!reason) {
      if (kid.waiting && !kid.turn && Now() - kid.polled_ms >= kChildPollMs) {
        kid.polled_ms = Now();
        auto row = store_.GetRun(kid.call.id);
        if (!row) return row.error();
        if (*row && Ended((*row)->status)) {  // finished by another process
          kid.turn = true;
          kid.waiting = false;
          pool.Post(Posted{branch, {}, Now(), true, std::nullopt});
        }
      }
      continue;
    }
    if (kid.turn) {
      // Being driven: its driver sees the request at its next durable
      // point, cancels it, and its turn ends.
      auto recorded = RequestCancel(store_, kid.call.id, *reason);
      if (!recorded) return recorded.error();
      kid.cancel_sent = true;
      continue;
    }
    if (stopping) continue;  // the next driver of this run cancels it
    kid.cancel_sent = true;
    if (auto s = DriveBranchChild(pool, kid, reason); !s) return s;
  }
  return Ok{};
}

auto Driver::DeliverBranchChildEnd(const BranchChild& kid, const store::RunRecord& child) -> Status {
  if (child.status == RunStatus::Completed) {
    json result = json::parse(child.result.empty() ? "null" : child.result, nullptr, false);
    auto v = ConvertOutput(kid.call.desc, result);
    if (v) {
      if (auto s = vm_.DeliverTo(kid.branch, std::move(*v)); !s) return s;
      store::DurableUpdate u = NotWaiting(RunStatus::Running);
      u.events.push_back(
          BranchEvent(events::kChildCompleted, json{{"child", kid.call.id}, {"result", result}}, kid.branch, -1, 0));
      u.state = vm_.SaveState();
      if (auto s = Commit(std::move(u)); !s) return s;
      branch_child_open_.erase(kid.branch);
      return Ok{};
    }
    return FailBranchChildCall(kid, json{{"kind", "contract"}, {"message", v.error().message}, {"step", json()}});
  }
  json err = ParseObject(child.error);
  if (!err.contains("kind")) err["kind"] = child.status == RunStatus::Cancelled ? "cancelled" : "internal";
  return FailBranchChildCall(kid, err);
}

auto Driver::FailBranchChildCall(const BranchChild& kid, const json& err) -> Status {
  std::optional<std::string> step;
  if (err.contains("step") && err["step"].is_string()) step = err["step"].get<std::string>();
  const std::string kind = err.value("kind", "internal");
  const std::string message =
      err.contains("message") && err["message"].is_string() ? err["message"].get<std::string>() : "";
  if (auto s = vm_.DeliverErrorTo(kid.branch, kind, message, step); !s) return s;
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  u.events.push_back(BranchEvent(events::kChildFailed, json{{"child", kid.call.id}, {"error", err}}, kid.branch, -1, 0));
  u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s;
  branch_child_open_.erase(kid.branch);
  return Ok{};
}

// The waiting object: the oldest waiting child's, as on the root (plus its
// branch), and the others in `also`, oldest first; the run wakes at the
// earliest of their calls' deadlines.
auto Driver::WaitingBranchChildren(const BranchChildren& kids) const -> std::pair<std::vector<json>, int64_t> {
  std::vector<const BranchChild*> waiting;
  for (const auto& [branch, kid] : kids) {
    if (kid.waiting && !kid.turn) waiting.push_back(&kid);
  }
  std::sort(waiting.begin(), waiting.end(), [](const BranchChild* a, const BranchChild* b) { return a->order < b->order; });
  std::vector<json> objects;
  int64_t wake_at = -1;
  for (const BranchChild* kid : waiting) {
    if (kid->call.deadline_ms >= 0 && (wake_at < 0 || kid->call.deadline_ms < wake_at)) wake_at = kid->call.deadline_ms;
    json w = ChildWaiting(kid->call, kid->last);
    w["branch"] = kid->branch;
    objects.push_back(std::move(w));
  }
  return {std::move(objects), wake_at};
}

auto Driver::PostEndedBranchChildren(AttemptPool& pool, BranchChildren& kids) -> Result<bool> {
  bool posted = false;
  for (auto& [branch, kid] : kids) {
    if (!kid.waiting || kid.turn) continue;
    auto row = store_.GetRun(kid.call.id);
    if (!row) return row.error();
    if (*row && Ended((*row)->status)) {
      kid.turn = true;
      kid.waiting = false;
      pool.Post(Posted{branch, {}, Now(), true, std::nullopt});
      posted = true;
    }
  }
  return posted;
}

auto Driver::SuspendOnBranchChildren(AttemptPool& pool, BranchChildren& kids) -> Result<std::optional<RunReport>> {
  auto [waiting, wake_at] = WaitingBranchChildren(kids);
  if (waiting.empty()) return std::optional<RunReport>();
  json object = std::move(waiting.front());
  if (waiting.size() > 1) object["also"] = json(std::vector<json>(waiting.begin() + 1, waiting.end()));
  auto report = Suspend({}, "child", std::move(object), wake_at);
  if (!report) return report.error();
  if (cancel_requested_) return std::optional<RunReport>();  // Drive() cancels
  // Read again after the commit: a child that ended in between found this
  // run still running (its wake_parent changed nothing).
  auto posted = PostEndedBranchChildren(pool, kids);
  if (!posted) return posted.error();
  if (*posted) return std::optional<RunReport>();
  return std::optional<RunReport>(std::move(*report));
}

}  // namespace flow::engine
