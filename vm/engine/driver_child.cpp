// The Driver's child workflow calls (driver.h; docs/composition.md "Child
// runs"). A call of a workflow suspends the VM at a Child instruction; the
// parent's driver then
//
// 1. creates the child run -- its row (parent_id, input, status running),
//    its `started` event and initial state -- in the same transaction as
//    the parent's `child_started` event and state (DurableUpdate::
//    create_child). The child's id is "<parent>/<n>", n counting the
//    parent's child calls from 1 in the order they start; a crash before
//    that commit leaves nothing, and the re-executed parent reaches the same
//    call with the same n; a crash after it finds the child there and
//    attaches to it. So a call never starts a second child.
// 2. drives the child in this process (ResumeChildRun, its own Driver and
//    lease, same lease owner; an InProcessClaim keeps other threads of the
//    process off it) until it ends or waits;
// 3. delivers the child's end: its result converted to the callee's result
//    type (`child_completed`), or its error kind and message raised at the
//    call (`child_failed`), committed with the parent's state. When the
//    child waits (an approval inside it) the parent waits too, reason
//    `child`, with the child's waiting object inside its own, and wakes up
//    when the child's final commit makes it due (DurableUpdate::wake_parent)
//    or at the call's `timeout`, when the child is cancelled and the call
//    raises `timeout`.
#include <fmt/format.h>

#include "vm/bytecode/serialize.h"
#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/engine/lease.h"
#include "vm/engine/run_id.h"
#include "vm/value/convert.h"
#include "vm/value/time_format.h"

namespace flow::engine {

using store::RunStatus;

namespace {

auto ParseObject(const std::string& text) -> json {
  json d = json::parse(text.empty() ? "{}" : text, nullptr, false);
  return d.is_object() ? d : json::object();
}

auto Ended(RunStatus s) -> bool {
  return s == RunStatus::Completed || s == RunStatus::Failed || s == RunStatus::Cancelled;
}

}  // namespace

auto Driver::ChildWaiting(const ChildCall& call, const store::RunRecord& child) const -> json {
  json w{{"kind", "child"}, {"run", call.id}, {"workflow", call.workflow}};
  if (child.status == RunStatus::Waiting) w["child"] = ParseObject(child.waiting);
  if (call.deadline_ms >= 0) w["timeout_at"] = value::FormatTime(call.deadline_ms);
  return w;
}

auto Driver::PrepareChild(const interp::SuspendReason& reason, std::string id, const std::string& branch)
    -> ChildStart {
  const bytecode::StepDesc& d = module_.steps[reason.step];
  ChildStart start;
  start.call = ChildCall{std::move(id), d.operation, reason.step, -1};
  auto fail = [&](std::string kind, std::string message) {
    start.fail = json{{"kind", std::move(kind)}, {"message", std::move(message)}};
    return std::move(start);
  };
  // Too deep a nesting of child runs for the id rule: the call fails.
  if (auto s = CheckRunId(start.call.id); !s) return fail("limit", s.error().message);
  const int fn = module_.FindFunction(d.operation);
  FLOW_CHECK(fn >= 0, "the verifier checks that a child descriptor names a workflow");
  std::vector<SecretRef> secrets;
  json input = value::ToJson(reason.args, &secrets);
  if (!secrets.empty()) {
    return fail("config", fmt::format("a secret cannot be passed to child workflow '{}': read it there", d.operation));
  }
  interp::Vm child_vm(module_);
  if (auto s = child_vm.StartWorkflow(static_cast<uint32_t>(fn), input); !s) return fail("conversion", s.error().message);
  const int64_t now = Now();
  if (d.timeout_ms != bytecode::kNone) start.call.deadline_ms = now + d.timeout_ms;
  if (program_hash_.empty()) program_hash_ = bytecode::ModuleHash(module_);
  store::DurableUpdate::NewChild& child = start.child;
  child.run.id = start.call.id;
  child.run.program_hash = program_hash_;
  child.run.workflow = d.operation;
  child.run.status = RunStatus::Running;
  child.run.input = value::DumpJson(input);
  child.run.created_ms = child.run.updated_ms = now;
  child.run.parent_id = run_id_;
  // Ours from its creation, as StartRun's run is: this driver drives it next.
  child.run.lease_owner = options_.lease_owner;
  child.run.lease_expiry_ms = now + kLeaseDuration.count();
  json parent{{"run", run_id_}};
  if (!branch.empty()) parent["branch"] = branch;
  child.started = Event(events::kStarted, json{{"workflow", d.operation}, {"program", program_hash_},
                                               {"input", input}, {"parent", std::move(parent)}});
  child.state = child_vm.SaveState();
  return start;
}

// The `child_started` event of a call about to create its child.
auto Driver::ChildStartedData(const ChildCall& call) -> json {
  return json{{"child", call.id}, {"workflow", call.workflow}, {"step_id", call.desc},
              {"deadline_ms", call.deadline_ms < 0 ? json() : json(call.deadline_ms)}};
}

auto Driver::OnChild(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>> {
  if (cancel_requested_) return std::optional<RunReport>();  // Drive() cancels; nothing is started
  ChildStart start = PrepareChild(reason, ChildRunId(run_id_, children_ + 1), "");
  if (!start.fail.is_null()) {
    if (auto e = vm_.DeliverError(start.fail["kind"], start.fail["message"], std::nullopt); !e) return e.error();
    return std::optional<RunReport>();
  }
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  u.create_child = std::move(start.child);
  u.events.push_back(Event(events::kChildStarted, ChildStartedData(start.call)));
  u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s.error();
  ++children_;
  if (cancel_requested_) return std::optional<RunReport>();  // Drive() cancels, the new child first
  return AwaitChild(start.call, /*created=*/true);
}

auto Driver::ChildCallOf(const store::JournalEvent& started) const -> Result<ChildCall> {
  json d = ParseObject(started.data);
  ChildCall call{d.value("child", ""), d.value("workflow", ""), 0, -1};
  const int64_t desc = d.value("step_id", int64_t{-1});
  if (desc < 0 || static_cast<size_t>(desc) >= module_.steps.size() || !module_.steps[desc].IsChild() ||
      module_.steps[desc].operation != call.workflow || call.id.empty()) {
    return Error{fmt::format("run '{}': the journal's child call of '{}' does not match the program", run_id_,
                             call.workflow)};
  }
  call.desc = static_cast<uint32_t>(desc);
  if (d.contains("deadline_ms") && d["deadline_ms"].is_number_integer()) call.deadline_ms = d["deadline_ms"];
  return call;
}

auto Driver::ResumeChildCall(const store::JournalEvent& started) -> Result<std::optional<RunReport>> {
  auto call = ChildCallOf(started);
  if (!call) return call.error();
  return AwaitChild(*call, /*created=*/false);
}

// A cancelled run whose root waits at a child call that has completed, its
// end not delivered: the driver that would have delivered it died, or
// another process finished the child and the run was cancelled before
// anyone drove it on. The end is delivered first, so that the call's
// `compensate` is registered and undoes the child with the rest.
auto Driver::DeliverCompletedChildAtCancel() -> Status {
  if (!vm_.suspended() || vm_.in_branches()) return Ok{};
  auto journal = store_.Journal(run_id_);
  if (!journal) return journal.error();
  std::optional<store::JournalEvent> open;
  for (const auto& e : *journal) {
    if (!e.branch.empty()) continue;
    if (e.type == events::kChildStarted) {
      open = e;
    } else if (e.type == events::kChildCompleted || e.type == events::kChildFailed) {
      open.reset();
    }
  }
  if (!open) return Ok{};
  auto call = ChildCallOf(*open);
  if (!call) return call.error();
  auto child = store_.GetRun(call->id);
  if (!child) return child.error();
  if (!*child || (*child)->parent_id != run_id_ || (*child)->status != RunStatus::Completed) return Ok{};
  auto delivered = DeliverChildEnd(*call, **child);
  if (!delivered) return delivered.error();
  // Its `compensate` is registered right after its result.
  auto again = RunToSuspension();
  if (!again) return again.error();
  return Ok{};
}

// Drives the child once, as a command drives a run (until it ends or
// suspends), then delivers its end or suspends the parent on it: a child
// that suspends on a timer, an approval or a signal is woken by whoever
// wakes runs (the worker, `flow approve`), whose drive of the child then
// drives the parent. Each turn reads the child's row again.
auto Driver::AwaitChild(const ChildCall& call, bool created) -> Result<std::optional<RunReport>> {
  bool suspended = false;  // the parent's `waiting` on this child is committed
  bool driven = false;     // this turn drove the child already
  bool idle = created;     // nothing of the child is in flight (its last driver was ours, and returned)
  for (;;) {
    auto child = store_.GetRun(call.id);
    if (!child) return child.error();
    if (!*child || (*child)->parent_id != run_id_) {
      return Error{fmt::format("run '{}': its child run '{}' is missing", run_id_, call.id)};
    }
    const store::RunRecord& c = **child;
    if (Ended(c.status)) return DeliverChildEnd(call, c);
    const int64_t now = Now();
    if (call.deadline_ms >= 0 && now >= call.deadline_ms) return TimeOutChild(call, idle);
    const bool due = c.status == RunStatus::Running || (c.wake_at_ms >= 0 && c.wake_at_ms <= now);
    if (due && !suspended && !driven) {
      driven = true;
      EngineOptions child_options = options_;
      child_options.crash_after_commits = child_options.crash_before_commits = -1;
      // The earlier of the call's deadline and this run's own (a child with
      // a timeout calling a grandchild).
      if (call.deadline_ms >= 0 && (child_options.stop_at_ms < 0 || call.deadline_ms < child_options.stop_at_ms)) {
        child_options.stop_at_ms = call.deadline_ms;
      }
      child_options.nothing_in_flight = idle;
      child_options.ancestors.push_back(run_id_);
      auto report = ResumeChildRun(RuntimeWith(child_options), call.id);
      if (report || !IsLeaseConflict(report.error())) idle = true;  // our driver let go of it
      if (report) continue;  // read its row again
      const bool timed_out = report.error().code == ErrorCode::kInterrupted && call.deadline_ms >= 0 &&
                             Now() >= call.deadline_ms && !(options_.stop != nullptr && options_.stop->load());
      if (timed_out) continue;
      if (!IsLeaseConflict(report.error())) return report.error();
      // Another process drives the child: the parent waits for its end.
    }
    if (suspended) return std::optional<RunReport>(StillWaitingOn(call, c));
    // Waiting is committed first, then the child read again: a child that
    // ended in between found the parent still running (its wake_parent
    // changed nothing), and is seen by that read.
    auto report = Suspend({}, "child", ChildWaiting(call, c), call.deadline_ms, /*with_state=*/false);
    if (!report) return report.error();
    if (cancel_requested_) return std::optional<RunReport>();  // Drive() cancels
    suspended = true;
  }
}

auto Driver::StillWaitingOn(const ChildCall& call, const store::RunRecord& child) const -> RunReport {
  RunReport r;
  r.run_id = run_id_;
  r.status = RunStatus::Waiting;
  r.waiting = ChildWaiting(call, child);
  return r;
}

auto Driver::DeliverChildEnd(const ChildCall& call, const store::RunRecord& child) -> Result<std::optional<RunReport>> {
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  if (child.status == RunStatus::Completed) {
    json result = json::parse(child.result.empty() ? "null" : child.result, nullptr, false);
    auto v = ConvertOutput(call.desc, result);
    if (v) {
      if (auto s = vm_.Deliver(std::move(*v)); !s) return s.error();
      u.events.push_back(Event(events::kChildCompleted, json{{"child", call.id}, {"result", result}}));
      u.state = vm_.SaveState();
      if (auto s = Commit(std::move(u)); !s) return s.error();
      return std::optional<RunReport>();
    }
    json err{{"kind", "contract"}, {"message", v.error().message}, {"step", json()}};
    return FailChildCall(call, err);
  }
  json err = ParseObject(child.error);
  if (!err.contains("kind")) err["kind"] = child.status == RunStatus::Cancelled ? "cancelled" : "internal";
  return FailChildCall(call, err);
}

auto Driver::FailChildCall(const ChildCall& call, const json& err) -> Result<std::optional<RunReport>> {
  std::optional<std::string> step;
  if (err.contains("step") && err["step"].is_string()) step = err["step"].get<std::string>();
  const std::string kind = err.value("kind", "internal");
  const std::string message = err.contains("message") && err["message"].is_string() ? err["message"].get<std::string>() : "";
  if (auto s = vm_.DeliverError(kind, message, step); !s) return s.error();
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  u.events.push_back(Event(events::kChildFailed, json{{"child", call.id}, {"error", err}}));
  u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s.error();
  return std::optional<RunReport>();
}

// The call's `timeout` passed with the child unfinished: the child is
// cancelled (its children first, its compensations), then the call raises
// `timeout`.
auto Driver::TimeOutChild(const ChildCall& call, bool idle) -> Result<std::optional<RunReport>> {
  const int64_t timeout = module_.steps[call.desc].timeout_ms;
  std::string message = fmt::format("child run {} ({}) did not end within {}", call.id, call.workflow,
                                    value::FormatDuration(timeout));
  EngineOptions child_options = options_;
  child_options.crash_after_commits = child_options.crash_before_commits = -1;
  child_options.stop_at_ms = -1;
  child_options.nothing_in_flight = idle;
  auto cancelled = CancelChildRun(RuntimeWith(child_options), call.id, message);
  if (!cancelled && !IsLeaseConflict(cancelled.error())) return cancelled.error();
  // A child another process drives has its cancellation recorded: that
  // process (or the next driver) finishes it.
  return FailChildCall(call, json{{"kind", "timeout"}, {"message", message}, {"step", json()}});
}

auto Driver::CancelChildren(const std::string& reason) -> Result<bool> {
  auto children = store_.ListChildren(run_id_);
  if (!children) return children.error();
  EngineOptions child_options = options_;
  child_options.crash_after_commits = child_options.crash_before_commits = -1;
  child_options.stop_at_ms = -1;
  child_options.nothing_in_flight = false;
  bool all_ended = true;
  for (const auto& c : *children) {
    if (Ended(c.status)) continue;
    auto r = CancelChildRun(RuntimeWith(child_options), c.id, reason);
    if (!r && !IsLeaseConflict(r.error())) return r.error();
    // Another live process drives it: that process cancels it (its
    // request is recorded) and then drives this run on.
    if (!r || !Ended(r->status)) all_ended = false;
  }
  return all_ended;
}

}  // namespace flow::engine
