// The Driver's compensations and cancellation (driver.h; docs/runs.md,
// "Compensation" and "Cancel").
//
// Compensations run newest registration first, each a durable step with
// its own clauses or `retry 5 backoff 1s max 1m`, each attempt recorded
// before it is sent (`compensation_started`) and after. The k-th
// compensation to run (k from 1) is journaled at step position
// <last step position> + k and sends the idempotency key
// "<run id>:undo:<k>": its own namespace, so that no key of a
// compensation is ever the key of a step, whatever the run did before or
// after (a key recorded by an older flow in `compensation_started` is
// reused as it is).
//
// A cancellation is recorded first (RequestCancel: a `cancel_requested`
// event and the run row's cancel_requested_ms, without the lease); whoever
// drives the run then cancels it: the pure code after the last durable
// point runs to its next suspension without sending anything (so the
// `compensate` of a step that just completed is registered), the step a
// dead driver may have had in flight is sent again when it has a
// `compensate` (its outcome decides whether there is something to undo;
// inside a `parallel` block, each such branch step: driver_branches.cpp),
// then the compensations run and the run ends `cancelled`. Each of these is
// durable on its own, so a crash anywhere leaves a run that the next driver
// cancels the same way: the remaining compensations each once, in order.
#include <fmt/format.h>

#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/value/convert.h"

namespace flow::engine {

using store::RunStatus;

namespace {

auto ParseData(const store::JournalEvent& e) -> json {
  json d = json::parse(e.data, nullptr, false);
  return d.is_object() ? d : json::object();
}

constexpr const char* kDefaultCancelReason = "cancelled by the operator";

}  // namespace

auto Driver::CompensateOne(int64_t k, const interp::Compensation& c) -> Result<CompensationEnd> {
  const int64_t pos = steps_ + k;
  StepCall call{pos, c.step, json(), true, fmt::format("{}:undo:{}", run_id_, k), {}};
  call.args = value::ToJson(c.args, &call.secrets);
  int first = 1;
  bool resent = false;
  for (const auto& e : journal_) {
    if (e.step != pos || !e.branch.empty()) continue;
    if (e.type == events::kCompensationStarted) {
      auto recorded = CallFromJournal(e, true);
      if (!recorded) return recorded.error();
      if (recorded->desc != c.step) {
        return Error{fmt::format("run '{}': compensation {} does not match the program", run_id_, pos)};
      }
      if (!recorded->key.empty()) call.key = recorded->key;
      first = static_cast<int>(e.attempt);
      resent = true;
    } else if (e.type == events::kCompensationBlocked) {
      first = static_cast<int>(e.attempt);
      resent = false;  // it was not sent
    } else if (e.type == events::kCompensationCompleted) {
      return CompensationEnd{"completed", std::nullopt};
    } else if (e.type == events::kCompensationFailed) {
      if (ParseData(e).value("final", true)) return CompensationEnd{"failed", std::nullopt};
      first = static_cast<int>(e.attempt) + 1;
      resent = false;
    }
  }
  auto end = RunStep(call, first, resent);
  if (!end) return end.error();
  if (end->blocked) {
    auto waiting = Block(call, *end);
    if (!waiting) return waiting.error();
    return CompensationEnd{"blocked", std::move(*waiting)};
  }
  const std::string name = StepName(c.step);
  store::DurableUpdate u;
  if (end->ok) {
    u.events.push_back(Event(events::kCompensationCompleted, json{{"operation", name}, {"result", end->output}},
                             pos, end->attempt));
  } else {
    u.events.push_back(Event(events::kCompensationFailed,
                             json{{"operation", name}, {"kind", end->kind}, {"message", end->message}, {"final", true}},
                             pos, end->attempt));
  }
  if (auto s = Commit(std::move(u)); !s) return s.error();
  return CompensationEnd{end->ok ? "completed" : "failed", std::nullopt};
}

auto Driver::Compensate(const interp::WorkflowError& error, RunStatus final_status) -> Result<RunReport> {
  const auto comps = vm_.compensations();  // a copy: oldest first
  json list = json::array();
  int64_t k = 0;
  for (auto it = comps.rbegin(); it != comps.rend(); ++it) {
    auto end = CompensateOne(++k, *it);
    if (!end) return end.error();
    if (end->waiting) return std::move(*end->waiting);  // blocked: the run waits
    list.push_back(json{{"step", StepName(it->step)}, {"status", end->status}});
  }
  // A cancellation requested before the end wins over the failure.
  json err{{"kind", error.kind}, {"message", error.message}, {"step", error.step ? json(*error.step) : json()}};
  // Where the error was raised (SPEC §2.4); absent for a cancellation.
  if (std::string at = bytecode::FormatPosition(module_.source_name, error.pos); !at.empty()) err["at"] = at;
  for (;;) {
    if (cancel_requested_ && final_status == RunStatus::Failed) {
      final_status = RunStatus::Cancelled;
      err = json{{"kind", "cancelled"}, {"message", CancelReason()}, {"step", json()}};
    }
    store::DurableUpdate u = NotWaiting(final_status);
    u.error = value::DumpJson(err);
    u.unless_cancel_requested = final_status == RunStatus::Failed;
    const auto type = final_status == RunStatus::Cancelled ? events::kCancelled : events::kFailed;
    u.events.push_back(Event(type, json{{"error", err}, {"compensations", list}}));
    if (auto s = Commit(std::move(u)); !s) return s.error();
    if (final_status == RunStatus::Cancelled || !cancel_requested_) break;  // written
  }
  RunReport r;
  r.run_id = run_id_;
  r.status = final_status;
  r.error = std::move(err);
  r.compensations = std::move(list);
  return r;
}

auto Driver::CancelReason() -> std::string {
  auto journal = store_.Journal(run_id_);
  if (!journal) return kDefaultCancelReason;
  for (const auto& e : *journal) {
    if (e.type != events::kCancelRequested) continue;
    std::string reason = ParseData(e).value("reason", "");
    return reason.empty() ? kDefaultCancelReason : reason;
  }
  return kDefaultCancelReason;
}

auto Driver::RunToSuspension() -> Result<std::optional<interp::SuspendReason>> {
  if (!vm_.ready()) return std::optional<interp::SuspendReason>();
  interp::Outcome o = vm_.Run(kCancelInstructionBudget);
  if (o.status == interp::RunStatus::Interrupted) return Interrupted();
  if (o.status != interp::RunStatus::Suspended || o.suspend.kind != interp::SuspendKind::Step) {
    return std::optional<interp::SuspendReason>();
  }
  return std::optional<interp::SuspendReason>(std::move(o.suspend));
}

auto Driver::ResendInFlightAtCancel(const std::optional<interp::SuspendReason>& next) -> Status {
  StepCall call;
  int attempt = 1;
  if (next) {
    // New effect values on the way to `next` were never journaled, so the
    // dead driver never got as far as sending it (CommitEffects).
    if (!maybe_in_flight_ || log_.HasNew()) return Ok{};
    call = StepCall{steps_ + 1, next->step, json(), false, StepKey(steps_ + 1), {}};
    call.args = value::ToJson(next->args, &call.secrets);
  } else if (!vm_.suspended()) {
    return Ok{};
  } else if (unsettled_) {
    // This driver's step whose retries the cancellation ended.
    std::tie(call, attempt) = *unsettled_;
  } else {
    // Loaded suspended at a step: a retry whose failed attempts may have
    // taken effect, an old journal's step in flight, a retry whose next
    // attempt may have gone out, a blocked step.
    auto unsettled = UnsettledInJournal();
    if (!unsettled) return unsettled.error();
    if (*unsettled) {
      std::tie(call, attempt) = std::move(**unsettled);
    } else {
      auto last = LastSuspension();
      if (!maybe_in_flight_ || !last) return Ok{};  // cleared by the first commit: journal_ is current
      const std::string& t = journal_[*last].type;
      if (t != events::kStepStarted && t != events::kStepFailed && t != events::kStepBlocked) return Ok{};
      auto pending = PendingStep(journal_[*last]);
      if (!pending) return pending.error();
      std::tie(call, attempt) = std::move(*pending);
    }
  }
  maybe_in_flight_ = false;
  // Without a `compensate` the outcome changes nothing: there is nothing to undo.
  if (module_.steps[call.desc].compensate_step == bytecode::kNone) return Ok{};
  if (next) ++steps_;
  auto end = RunStep(call, attempt, /*resent=*/true);
  if (!end) return end.error();
  if (end->blocked || end->waiting) return Ok{};  // not sent now: nothing is known to undo
  auto finished = FinishStep(call, std::move(*end));
  if (!finished) return finished.error();
  // Its `compensate` is registered right after its result.
  auto again = RunToSuspension();
  if (!again) return again.error();
  return Ok{};
}

auto Driver::Cancel() -> Result<RunReport> {
  cancelling_ = true;
  auto next = RunToSuspension();
  if (!next) return next.error();
  if (vm_.in_branches()) {
    // The root waits at a join: the steps in flight are the branches'.
    if (auto s = ResendBranchesAtCancel(); !s) return s.error();  // driver_branches.cpp
    if (auto s = DeliverCompletedBranchChildrenAtCancel(); !s) return s.error();
  } else {
    if (auto s = ResendInFlightAtCancel(*next); !s) return s.error();
    if (auto s = DeliverCompletedChildAtCancel(); !s) return s.error();  // driver_child.cpp
  }
  // Children first (SPEC §2.5), each with its own compensations.
  auto children = CancelChildren(ChildCancelReason(run_id_, CancelReason()));
  if (!children) return children.error();
  if (!*children) {
    // A child is still being cancelled elsewhere: this run's compensations
    // wait for it (its driver, or the worker, drives this run on).
    auto run = store_.GetRun(run_id_);
    if (!run) return run.error();
    if (!*run) return Error{fmt::format("no run '{}'", run_id_)};
    return ReportFromRecord(**run);
  }
  interp::WorkflowError error{"cancelled", CancelReason(), std::nullopt, "", {}};
  return Compensate(error, RunStatus::Cancelled);
}

}  // namespace flow::engine
