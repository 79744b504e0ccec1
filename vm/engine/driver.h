// The Driver: the engine's private workhorse behind run_driver.h. One Driver
// holds one run's Vm (with its EffectLog host), the parsed connectors of the
// program, and the run's step counter, and turns every VM suspension into
// durable points (Store::Commit) and transport attempts (PerformAttempt).
//
// driver.cpp holds the main loop and the waits (approval, signal, timer,
// checkpoint); driver_steps.cpp the step attempts, retries and blocked
// steps; driver_cancel.cpp compensations and cancellation. Not a public
// interface: commands use run_driver.h.
// Everything it works with comes from the Runtime it is built with.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/result.h"
#include "vm/bytecode/module.h"
#include "vm/connectors/connector_file.h"
#include "vm/connectors/retry_policy.h"
#include "vm/connectors/step_call.h"
#include "vm/engine/run_driver.h"
#include "vm/interp/effect_log.h"
#include "vm/interp/vm.h"
#include "vm/store/store.h"

namespace flow::engine {

using nlohmann::json;

class Driver;
class AttemptPool;  // attempt_pool.h
struct Posted;

// Why 64: the transport attempts of one run's branches in flight at once
// (docs/composition.md, "Concurrency in the engine"). Each holds a thread
// and an exec process or HTTP connection; 64 keeps one run of a `parallel
// for` over thousands of items from exhausting the machine's processes or
// a service's connections, and is 8 times the default `limit`. Further
// steps wait their turn in fiber order.
inline constexpr size_t kMaxStepsInFlight = 64;

// The VM's host for a driven run: replays and journals effects
// (EffectLog) and tells the VM to stop in long pure code when the worker
// is stopping or the run's cancellation was requested (Driver::ShouldStop).
class DriverHost : public interp::EffectLog {
 public:
  DriverHost(std::vector<json> effects, Driver& driver) : EffectLog(std::move(effects)), driver_(driver) {}
  auto ShouldStop() -> bool override;
  auto NowMs() const -> int64_t override;  // the Runtime's clock

 private:
  Driver& driver_;
};

class Driver {
 public:
  Driver(const Runtime& runtime, const bytecode::Module& module, std::string run_id, std::vector<json> effects,
         std::vector<store::JournalEvent> journal);

  auto vm() -> interp::Vm& { return vm_; }
  // After LoadState of run `run` (the row as read under the lease): notes
  // what the journal says about the run's previous driver (did it die
  // while it may have been sending a step? was a cancellation requested?).
  void Loaded(const store::RunRecord& run);
  // Whether the run's cancellation was requested (journal or commits).
  auto cancel_requested() const -> bool { return cancel_requested_; }
  // EngineOptions::nothing_in_flight, after Loaded().
  void NothingInFlight() { maybe_in_flight_ = false; }
  // Cancels the loaded run: the step (or branch steps) a dead driver may
  // have had in flight, when it has a `compensate` (driver_cancel.cpp), then its
  // compensations, then status cancelled.
  auto Cancel() -> Result<RunReport>;
  // For DriverHost: whether pure code should stop now.
  auto ShouldStop() -> bool;
  // Wall-clock time from the runtime's clock (also DriverHost's now()).
  auto Now() const -> int64_t { return clock_.NowMs(); }

  // Runs the VM until it completes, fails (then compensates) or suspends.
  auto Drive() -> Result<RunReport>;
  // After LoadState of a suspended state: finishes what the run was
  // suspended on. A report when the run still waits; nullopt when the
  // VM has its delivery and Drive() may continue.
  auto ResumeSuspended(const store::RunRecord& run) -> Result<std::optional<RunReport>>;
  // After LoadState: when the state is suspended at a step whose
  // `step_completed` is already journaled (its commit carried no state),
  // delivers the journaled result, as the original run did.
  auto CatchUp() -> Status;

 private:
  struct LoadedConnector {
    connectors::ConnectorFile file;
    std::string dir;
  };
  // How a step's attempts ended.
  struct StepEnd {
    bool ok = false;
    bool blocked = false;  // could not be sent (the machine): `message` says why
    int attempt = 1;       // the last attempt made
    json output;
    std::string kind, message;
    std::optional<store::JournalEvent> started;  // its step_started, committed with its end
    std::optional<RunReport> waiting;  // a long retry backoff suspended the run
    bool cancelled = false;            // a cancellation was requested while retrying
  };
  struct StepCall {
    int64_t pos = 0;
    uint32_t desc = 0;
    json args;  // secrets written as "***"
    bool compensation = false;
    std::string key;  // the idempotency key of every attempt
    // Where `args` holds a secret and the variable to read there when
    // sending; journaled with the step (names only) so a resend has them.
    std::vector<SecretRef> secrets;
  };

  auto Commit(store::DurableUpdate u) -> Status;
  // Commits the effect values drawn since the last durable point, if any
  // (before a step is sent: they may be in its arguments).
  auto CommitEffects() -> Status;
  // Renews the lease when kLeaseRenewInterval has passed since the last time.
  auto Heartbeat() -> Status;
  auto Event(std::string_view type, json data, int64_t step = -1, int64_t attempt = 0) -> store::JournalEvent;
  auto StepName(uint32_t desc) const -> std::string;
  auto Connector(const std::string& name) -> Result<const LoadedConnector*>;
  // This driver's Runtime with `options`: what its child runs are driven with.
  auto RuntimeWith(EngineOptions options) const -> Runtime {
    Runtime runtime{store_, transports_, clock_, std::move(options)};
    runtime.legacy_builtin_connectors = legacy_builtins_;
    return runtime;
  }
  // One attempt of `call`; `resent`: sent again after a crash (StepAttempt::resent).
  auto Attempt(const StepCall& call, int attempt, bool resent) -> connectors::StepOutcome;
  // A step's response as the VM value of the operation's output type.
  auto ConvertOutput(uint32_t desc, const json& output) const -> Result<interp::Value>;

  // driver_steps.cpp
  auto StepData(const StepCall& call) const -> json;
  auto RunStep(const StepCall& call, int first_attempt, bool resent) -> Result<StepEnd>;
  // The retry bookkeeping of RunStep: records the failed attempt and its
  // backoff, then waits it here (true: send the next attempt now) or
  // suspends the run (end.waiting); false also when a cancellation ended
  // the retries (end.cancelled) or the failure is to stay final.
  auto ScheduleRetry(const StepCall& call, StepEnd& end, const connectors::StepOutcome& out) -> Result<bool>;
  auto FinishStep(const StepCall& call, StepEnd end) -> Result<std::optional<RunReport>>;
  // Suspends the run with reason `blocked` at a step that could not be sent.
  auto Block(const StepCall& call, const StepEnd& end) -> Result<RunReport>;
  auto BlockedDelay(int64_t pos, std::string_view type, std::string_view branch = "") const
      -> std::chrono::milliseconds;
  auto OnStep(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>>;
  auto CallFromJournal(const store::JournalEvent& e, bool compensation) -> Result<StepCall>;
  // "<run id>:<pos>": a forward step's idempotency key.
  auto StepKey(int64_t pos) const -> std::string;
  // The step a suspended state waits at (journal's last suspension `last`:
  // step_started of an old journal, non-final step_failed, step_blocked)
  // and the attempt to send next.
  auto PendingStep(const store::JournalEvent& last) -> Result<std::pair<StepCall, int>>;
  // The loaded journal's pending step, when this Driver has committed
  // nothing yet (so the journal still describes the state) and the state
  // waits at a step some attempt of which failed retryably: its effect
  // may have been made. For ResendInFlightAtCancel.
  auto UnsettledInJournal() -> Result<std::optional<std::pair<StepCall, int>>>;
  auto ResumeStep(const store::JournalEvent& last, const store::RunRecord& run)
      -> Result<std::optional<RunReport>>;
  // Sleeps until `at_ms`, renewing the lease; ends early (false) when a
  // cancellation is requested meanwhile. An Error of code kInterrupted
  // when the worker stops.
  auto WaitUntil(int64_t at_ms, bool cancellable) -> Result<bool>;

  // driver_cancel.cpp
  auto Compensate(const interp::WorkflowError& error, store::RunStatus final_status = store::RunStatus::Failed)
      -> Result<RunReport>;
  // How one compensation ended: "completed" or "failed", or it could not
  // be sent and the run now waits (reason blocked).
  struct CompensationEnd {
    std::string status;
    std::optional<RunReport> waiting;
  };
  // The k-th compensation to run (k from 1), resuming what the journal
  // has of it.
  auto CompensateOne(int64_t k, const interp::Compensation& c) -> Result<CompensationEnd>;
  // At a cancellation: sends again the step whose outcome is unknown, when
  // that step has a `compensate`, so that one that took effect is undone
  // too (docs/runs.md, "Cancel"): the step a dead driver may have had in
  // flight, or one whose retries the cancellation ended. `next`: the step
  // the VM reached after the last durable point, if it did.
  auto ResendInFlightAtCancel(const std::optional<interp::SuspendReason>& next) -> Status;
  // Runs the pure code up to its next suspension, sending nothing
  // (kCancelInstructionBudget); the step it stops at, if any.
  auto RunToSuspension() -> Result<std::optional<interp::SuspendReason>>;
  auto CancelReason() -> std::string;
  auto Interrupted() const -> Error;

  // driver_child.cpp
  struct ChildCall {
    std::string id;        // the child run's id
    std::string workflow;  // the callee
    uint32_t desc = 0;     // its child descriptor
    int64_t deadline_ms = -1;  // the call's `timeout`, -1 without
  };
  // What starting the child of a call comes to: the child run to create,
  // or (`fail` {kind, message} set) the error the call raises at once,
  // creating nothing (too deep a nesting, a secret argument, an input the
  // callee refuses). `branch`: the calling fiber, "" for the root.
  struct ChildStart {
    ChildCall call;
    store::DurableUpdate::NewChild child;
    json fail;
  };
  auto PrepareChild(const interp::SuspendReason& reason, std::string id, const std::string& branch) -> ChildStart;
  // The data of the `child_started` event of `call`.
  static auto ChildStartedData(const ChildCall& call) -> json;
  // A Child suspension: creates the child run with `child_started`, then AwaitChild.
  auto OnChild(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>>;
  // A loaded state suspended at a child call (`started`: its child_started).
  auto ResumeChildCall(const store::JournalEvent& started) -> Result<std::optional<RunReport>>;
  // The call a `child_started` event records, checked against the program.
  auto ChildCallOf(const store::JournalEvent& started) const -> Result<ChildCall>;
  // At a cancellation: a root child call whose child completed without its
  // end delivered gets it now, so that the call's `compensate` runs.
  auto DeliverCompletedChildAtCancel() -> Status;
  // The same for the branch fibers at a child call (driver_branch_children.cpp).
  auto DeliverCompletedBranchChildrenAtCancel() -> Status;
  // `created`: the child was created by this driver just now.
  auto AwaitChild(const ChildCall& call, bool created) -> Result<std::optional<RunReport>>;
  auto DeliverChildEnd(const ChildCall& call, const store::RunRecord& child) -> Result<std::optional<RunReport>>;
  auto FailChildCall(const ChildCall& call, const json& err) -> Result<std::optional<RunReport>>;
  // `idle`: EngineOptions::nothing_in_flight for the child.
  auto TimeOutChild(const ChildCall& call, bool idle) -> Result<std::optional<RunReport>>;
  // The parent's waiting object while `child` (as read) runs or waits.
  auto ChildWaiting(const ChildCall& call, const store::RunRecord& child) const -> json;
  auto StillWaitingOn(const ChildCall& call, const store::RunRecord& child) const -> RunReport;
  // Cancels every unfinished child run (each its own children first), for
  // Cancel(); false when one did not end here (another live process drives
  // it, or it waits: a compensation blocked).
  auto CancelChildren(const std::string& reason) -> Result<bool>;

  // driver_branches.cpp: the steps of branch fibers, several in flight.
  struct BranchFlight;
  // After Run() returned Branches: sends every branch step on a thread of
  // its own (at most kMaxStepsInFlight at once), delivers and commits each
  // end as it arrives and runs the VM after it, until the VM leaves the
  // branches (`o` then holds its outcome for Drive) or, with nothing in
  // flight, cannot go on (cancel, stop: `o` stays Branches). A report when
  // the run waits (a blocked step, a long retry backoff).
  auto DriveBranches(interp::Outcome& o) -> Result<std::optional<RunReport>>;
  // The attempt of branch step `s` to send next and when, from the journal
  // as loaded (a resumed run) or from scratch.
  auto BranchCall(const interp::BranchSuspension& s) -> Result<BranchFlight>;
  auto BranchEvent(std::string_view type, json data, const std::string& branch, int64_t step, int64_t attempt)
      -> store::JournalEvent;
  // A branch step's end: delivered to its fiber, then committed with
  // `started` (when not journaled already) and the state after it (its
  // own durable point).
  auto FinishBranchStep(const BranchFlight& f, std::optional<store::JournalEvent> started,
                        const connectors::StepOutcome& out) -> Status;
  // The transport attempt of `f`; an Error when its connector or
  // operation cannot be had (the attempt fails with kind config).
  auto BranchAttempt(const BranchFlight& f) -> Result<connectors::StepAttempt>;
  // At a cancellation with branches alive: sends again, once each and all
  // at once, the branch steps whose outcome is unknown and that have a
  // `compensate` (docs/runs.md, "Cancel"), delivering each end to its
  // fiber (its `compensate` registered, in completion order).
  auto ResendBranchesAtCancel() -> Status;
  // Whether the step branch `s` waits at may have taken effect without
  // its outcome being journaled (`journal`: the run's journal now;
  // `after_crash`: the run's previous driver died with steps possibly in
  // flight), and if so the attempt to send.
  auto UnsettledBranchStep(const interp::BranchSuspension& s, const std::vector<store::JournalEvent>& journal,
                           bool after_crash) -> Result<std::optional<BranchFlight>>;

  // driver_branch_children.cpp: child workflow calls of branch fibers,
  // each child driven on a thread of `pool` (docs/composition.md, "Child
  // calls in branches as built"). `kids`: the branches waiting on a child.
  struct BranchChild {
    std::string branch;
    ChildCall call;
    int64_t order = 0;      // creation order (the oldest waiting child is the run's waiting object)
    json fail;              // the call fails at once with this {kind, message}: no child
    bool idle = false;      // nothing of the child is in flight (created here, or our driver let go of it)
    bool turn = false;      // a turn is posted or a thread of the pool drives (or cancels) it now
    bool waiting = false;   // it waits, or another process drives it
    bool cancel_sent = false;  // its cancellation is recorded (its branch stops, or its timeout passed)
    bool timed_out = false;    // the call's timeout passed: the call raises `timeout` once it ended
    store::RunRecord last;     // its row as last read (the waiting object)
    int64_t polled_ms = 0;     // when a waiting child's row was last read
    bool cancel_turn = false;  // driven once more after its cancellation was recorded mid-turn
  };
  using BranchChildren = std::map<std::string, BranchChild>;
  // A branch fiber at a child call (taken by DriveBranches): attaches to the
  // call's child when the journal has it, else creates it (one commit with
  // `child_started`), then drives it on a thread of `pool`.
  auto StartBranchChild(const interp::BranchSuspension& s, AttemptPool& pool, BranchChildren& kids) -> Status;
  // A child's turn ended (posted `p`): delivers its end to its branch
  // (true: the VM has a delivery and should run), or notes that it waits,
  // or cancels it (its call's timeout passed).
  auto OnBranchChildTurn(const Posted& p, AttemptPool& pool, BranchChildren& kids) -> Result<bool>;
  // Once per round of DriveBranches: cancels the children of branches that
  // stop (a failed group) and of calls whose timeout passed, and looks
  // whether a waiting child was finished by another process.
  auto TendBranchChildren(AttemptPool& pool, BranchChildren& kids) -> Status;
  // How many children have a turn in flight (counted with the steps
  // against kMaxStepsInFlight).
  static auto ChildTurns(const BranchChildren& kids) -> size_t;
  // With nothing in flight: suspends the run on the waiting children
  // (reason `child`), then reads them again; nullopt when one ended
  // meanwhile (its turn is posted: DriveBranches goes on).
  auto SuspendOnBranchChildren(AttemptPool& pool, BranchChildren& kids) -> Result<std::optional<RunReport>>;
  // The waiting children, oldest first, as waiting objects naming their
  // branch, and the earliest of their calls' deadlines (-1: none).
  auto WaitingBranchChildren(const BranchChildren& kids) const -> std::pair<std::vector<json>, int64_t>;
  // After the run was suspended: posts a turn for each waiting child that
  // ended meanwhile (its end found the run still running). True if any.
  auto PostEndedBranchChildren(AttemptPool& pool, BranchChildren& kids) -> Result<bool>;
  auto DriveBranchChild(AttemptPool& pool, BranchChild& kid, std::optional<std::string> cancel_reason) -> Status;
  auto DeliverBranchChildEnd(const BranchChild& kid, const store::RunRecord& child) -> Status;
  auto FailBranchChildCall(const BranchChild& kid, const json& err) -> Status;
  // The index of the loaded journal's branch child calls (lazily, once).
  void IndexBranchChildren();

  // driver_branch_waits.cpp: approvals, signal waits and sleeps of branch
  // fibers (docs/composition.md, "Waits inside branches as built").
  struct BranchWaitAt {
    interp::BranchSuspension wait;
    // Its request, if journaled: a copy, as the caller's journal grows
    // while waits are delivered (a pointer into it would dangle).
    std::optional<store::JournalEvent> request;
  };
  auto MatchBranchWaits(const std::vector<store::JournalEvent>& journal) const -> std::vector<BranchWaitAt>;
  auto JournalBranchWaits(std::vector<store::JournalEvent>& journal) -> Status;
  auto AnswerBranchWait(const BranchWaitAt& w, const std::vector<store::JournalEvent>& journal)
      -> Result<std::optional<store::JournalEvent>>;
  // With the VM at Branches: journals the waits its fibers reached (with
  // the state) and delivers each that can end now (a decision, a signal, a
  // due sleep or timeout), each its own durable point. True when it
  // delivered one (the VM has a ready fiber).
  // Reads the journal only when `force`d, when the waits changed since the
  // last look, or kCancelPollInterval after it (a long `parallel for` does
  // not read it at every completion).
  auto SettleBranchWaits(bool force = false) -> Result<bool>;
  // Nothing in flight and every live fiber waits: the run is `waiting`
  // (the oldest wait's reason and object, the other waits and then
  // `children`, the waiting child runs' objects, under "also"; the earliest
  // deadline, `children_wake` counted). nullopt when a record that arrived
  // meanwhile was delivered at once (the VM has a ready fiber).
  auto SuspendAtBranchWaits(std::vector<json> children = {}, int64_t children_wake = -1)
      -> Result<std::optional<RunReport>>;
  // After the VM left its branches: `branch_stopped` for the waits whose
  // fibers were discarded.
  auto NoteStoppedBranchWaits() -> Status;

  // driver.cpp
  // The index in journal_ of the last event that suspended the run (a
  // step's start or non-final failure, an approval, a signal wait, a timer).
  auto LastSuspension() const -> std::optional<size_t>;
  auto OnSuspend(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>>;
  // A run's end: completed, unless its cancellation was requested.
  auto Finish(interp::Outcome o) -> Result<RunReport>;
  // Commits `recorded` with the run row `waiting` (reason, details, wake-up
  // time) and, `with_state`, the VM state; the report of the waiting run.
  auto Suspend(std::vector<store::JournalEvent> recorded, const std::string& reason, json waiting, int64_t wake_at,
               bool with_state = true) -> Result<RunReport>;
  auto Complete(const interp::Value& result) -> Result<RunReport>;
  auto ResumeApproval(const store::RunRecord& run, size_t requested) -> Result<std::optional<RunReport>>;
  auto ResumeSignal(const store::RunRecord& run, size_t awaited) -> Result<std::optional<RunReport>>;
  auto DeliverSignal(const store::JournalEvent& signal, const std::string& event) -> Status;
  auto DeliverBufferedSignal(const std::string& event, RunReport waiting) -> Result<std::optional<RunReport>>;
  auto ResumeTimer(const store::RunRecord& run) -> Result<std::optional<RunReport>>;
  auto Continue(std::string_view event, json data) -> Status;

  store::Store& store_;
  const connectors::TransportRegistry& transports_;
  const Clock& clock_;
  std::vector<std::string_view> legacy_builtins_;  // Runtime::legacy_builtin_connectors
  const bytecode::Module& module_;
  std::string run_id_;
  std::vector<store::JournalEvent> journal_;  // as loaded (resume lookups only)
  EngineOptions options_;
  DriverHost log_;
  interp::Vm vm_;
  int64_t steps_ = 0;  // step positions used so far
  int64_t children_ = 0;  // child runs started so far (child_started events)
  std::string parent_id_;  // the run's parent, "" for a top-level run (Loaded)
  std::string program_hash_;  // computed at the first child call
  // This Driver's last status write left the run row plain `running`
  // (Commit); false until then, as a loaded row may be waiting.
  bool row_plain_running_ = false;
  // The run's previous driver died while it may have been sending the
  // step the VM reaches next (Loaded); cleared by the first commit.
  bool maybe_in_flight_ = false;
  // A forward step whose last attempt failed retryably, while the VM waits
  // at it: its effect may have been made (a response lost after it, a
  // timeout), so a cancellation sends it once more (ResendInFlightAtCancel).
  // The call and the attempt to send next; set when ScheduleRetry records
  // the failure, cleared when the step's end is delivered.
  std::optional<std::pair<StepCall, int>> unsettled_;
  bool cancel_requested_ = false;  // a cancel_requested event exists
  bool cancelling_ = false;        // Cancel() is running: pure code is not stopped for it
  // Loaded with branch fibers suspended at steps: the first ones taken may
  // have been in flight (sent again, `resent`).
  bool branches_loaded_ = false;
  // A wait of a branch was journaled (by this Driver or before it).
  bool branch_waits_seen_ = false;
  // The waits (branch, position) the VM had after SettleBranchWaits last
  // read the journal, and when (steady clock); `looked_`: it did once.
  std::set<std::pair<std::string, int64_t>> parked_;
  bool looked_ = false;
  std::chrono::steady_clock::time_point looked_at_{};
  std::chrono::steady_clock::time_point polled_{};  // last store read for a cancellation (ShouldStop)
  int commits_ = 0;    // durable points committed by this Driver
  int64_t renewed_ms_ = 0;  // when the lease was last taken or renewed
  std::map<std::string, LoadedConnector> connectors_;
  // Branch child calls (driver_branch_children.cpp): per branch, the
  // child_started events so far (the loaded journal's and this Driver's),
  // and the data of its last one when that child's end is not journaled.
  bool branch_children_indexed_ = false;
  std::map<std::string, int64_t> branch_child_calls_;
  std::map<std::string, json> branch_child_open_;
  int64_t branch_child_order_ = 0;  // creation order of BranchChild entries
};

// Drives child run `run_id` for its parent's driver (driver_child.cpp): as
// ResumeRun, but it never goes on to drive the child's parent when the
// child ends (the caller is that parent), and holds an InProcessClaim.
auto ResumeChildRun(const Runtime& runtime, const std::string& run_id) -> Result<RunReport>;
// RequestCancel, then ResumeChildRun. A child that already ended is Ok (its report).
auto CancelChildRun(const Runtime& runtime, const std::string& run_id, const std::string& reason)
    -> Result<RunReport>;

// A report as "stop driving" for the Driver's suspension paths.
auto StopDriving(Result<RunReport> r) -> Result<std::optional<RunReport>>;

// Whether `type` is a journal event the engine writes (not `flow approve`,
// `flow signal` or `flow cancel`, which append without the lease).
auto WrittenByTheEngine(std::string_view type) -> bool;

// The oldest `signal_received` of `event` in `journal` that no `resumed`
// event consumed yet, or nullptr: what a `wait "event"` gets (docs/runs.md,
// signals are buffered and consumed once). A `resumed` after a signal names
// the consumed event by its seq; one written before seqs were recorded
// consumed, by the rule of its time, the oldest unconsumed signal of the
// event awaited before it.
auto UnconsumedSignal(const std::vector<store::JournalEvent>& journal, const std::string& event)
    -> const store::JournalEvent*;

// A run-row update to `status` that clears the waiting fields (reason,
// waiting object, wake-up time): every durable point that is not a
// suspension starts from it.
auto NotWaiting(store::RunStatus status) -> store::DurableUpdate;

// A step's retry policy from its clauses; compensations default to
// CompensationDefaultPolicy.
auto PolicyOf(const bytecode::StepDesc& d, bool compensation) -> connectors::RetryPolicy;

}  // namespace flow::engine
