// The run engine: drives one run of a stored program through the VM, the
// store and the transports (SPEC §4), from start or from its last durable
// point, until it completes, fails (after its compensations) or suspends.
//
// Durable points, each one Store::Commit (one transaction): run start
// (program + run row + `started` + initial state), every step attempt's end
// (`step_started` and `step_completed`/`step_failed` together, with the VM
// state after the delivery: a completion is durable before any further
// pure code runs), each checkpoint, each suspension (approval, signal,
// timer, retry backoff, blocked), each compensation attempt, and run end.
// Nothing is committed before a step is sent (its idempotency key derives
// from run id and position, which a re-execution finds again), except the
// effect values (now/uuid/random) drawn since the last durable point, when
// there are any: they may be in the step's arguments. Nothing writes in
// between, so a crash loses at most the pure computation since the last
// commit, which a resume re-executes with the same effect values and which
// leads it to the same step with the same key.
//
// The saved state is either *ready* (after a delivery: Run() continues) or
// *suspended* at a step, approval, signal or timer; the journal's last
// suspension event says which, so resuming never needs the source file.
// docs/runs.md is the user-facing description (journal vocabulary in
// events.h, the --json report shape, exit codes).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/result.h"
#include "vm/connectors/transport.h"
#include "vm/engine/clock.h"
#include "vm/interp/vm.h"
#include "vm/store/store.h"

namespace flow::engine {

// A backoff up to this long is waited in-process after being recorded
// (SPEC §4); a longer one suspends the run with reason `retry` for
// `flow worker`.
inline constexpr std::chrono::milliseconds kMaxInProcessBackoff{60'000};

struct EngineOptions {
  std::chrono::milliseconds max_in_process_backoff = kMaxInProcessBackoff;
  // Tests only: after the N-th durable point the driver commits (counted
  // from 1; 0 is the run start) it stops with an Error, as if the process
  // had died right after that commit. -1: never.
  int crash_after_commits = -1;
  // Tests only: right before the N-th durable point the driver would commit
  // (counted from 1 after the run start) it stops with an Error, writing
  // nothing, as if the process had died just before: after sending a step,
  // say. -1: never.
  int crash_before_commits = -1;
  // The lease owner id (lease.h); "" means this process's.
  std::string lease_owner;
  // SPEC §4 "Nothing hangs for ever" (interp/vm.h): the instructions one
  // stretch of pure code may execute, and the most the run's values may
  // hold; beyond either the run fails with kind `limit`.
  int64_t instruction_budget = interp::kDefaultInstructionBudget;
  int64_t memory_limit = interp::kDefaultMemoryLimit;
  // When set and true (`flow worker` on SIGINT/SIGTERM): pure code stops at
  // once and an in-process wait ends; the driver lets go of the run with an
  // Error of code kInterrupted, leaving it at its last durable point.
  const std::atomic<bool>* stop = nullptr;
  // A child run driven by its parent's driver with a `timeout` on the call
  // (docs/composition.md): at its first durable point at or after this
  // time (Unix ms) the child's driver lets go with an Error of code
  // kInterrupted, so the parent can cancel it. -1: never.
  int64_t stop_at_ms = -1;
  // Internal: the caller knows that no attempt of the run is in flight (a
  // parent that created its child just now, or whose own in-process
  // driving of it returned), so the first step is not marked `resent` and
  // a cancellation sends nothing again.
  bool nothing_in_flight = false;
  // Internal: the runs waiting on this one in this thread (its parent, the
  // parent's parent...), whose leases its heartbeat renews with its own, so
  // a long child does not let another host take over its parent.
  std::vector<std::string> ancestors;
  // Resume stress (STYLE §6, interp::VmOptions::resume_stress): the VM
  // saves, drops and reloads its state at every suspension. `flow` turns
  // it on from FLOW_RESUME_STRESS=1 (cli/), never the engine itself.
  bool resume_stress = false;
};

// Everything the engine works with, assembled in one place at the edge
// (cli/ for the `flow` binary, each test for itself) and handed to every
// entry point below: the store, the transports steps are sent over, the
// clock, and the options. Nothing below cli/ reads configuration from the
// environment; only transports read secrets there, at the moment they send.
struct Runtime {
  store::Store& store;
  const connectors::TransportRegistry& transports;
  const Clock& clock = SystemClock();
  EngineOptions options = {};
  // The built-in connector texts of this binary (stdlib/builtin_connectors.h),
  // used only for programs compiled before builtin schemas were embedded
  // (a ConnectorDesc with neither path nor text): every newer program
  // carries the schemas it was checked against.
  std::vector<std::string_view> legacy_builtin_connectors = {};
};

// How often pure code that runs long looks in the store for a
// cancellation request (one indexed read): a `flow cancel` of a run stuck
// in a loop is acted on this soon.
inline constexpr std::chrono::milliseconds kCancelPollInterval{100};
// At a cancellation, the pure code after the last durable point runs up to
// its next suspension, sending nothing, so that a completed step's
// `compensate` (registered right after its result, in a few instructions)
// is registered and undone too. Why 10 M instructions: far more than any
// compensation's arguments take, and tens of milliseconds at worst.
inline constexpr int64_t kCancelInstructionBudget = 10'000'000;
// A step that cannot be sent (blocked) is tried again by `flow worker`
// after this, doubling on each consecutive block up to kBlockedMaxBackoff;
// `flow resume` tries at once.
inline constexpr std::chrono::milliseconds kBlockedBackoff{30'000};
inline constexpr std::chrono::milliseconds kBlockedMaxBackoff{30 * 60'000};

// What a command reports about a run once the engine let go of it.
struct RunReport {
  std::string run_id;
  store::RunStatus status = store::RunStatus::Running;
  nlohmann::json result;   // completed
  nlohmann::json error;    // failed/cancelled: {kind, message, step}
  nlohmann::json waiting;  // waiting: {kind, ...} (docs/runs.md)
  nlohmann::json compensations = nlohmann::json::array();  // [{step, status}]

  // The `--json` object of SPEC §5 (error: kind and message only, as the
  // SPEC shows it; the step is in the run row and the `failed` event).
  auto ToJson() const -> nlohmann::json;
};

// The report of a run as the store has it now (no driving): for `flow run
// --id X` on an existing run, and for runs another process finished.
auto ReportFromRecord(const store::RunRecord& run) -> RunReport;
// The same, with the compensation outcomes of a failed or cancelled run
// read from its journal.
auto ReportRun(store::Store& store, const store::RunRecord& run) -> Result<RunReport>;

// Starts `workflow` of the serialised program `program_bytes` with `input`
// (a JSON object; validate it first with ValidateInput) under `run_id`
// (generated when empty) and drives it. An Error is a store or internal
// problem (exit 4); workflow failures are a report with status failed.
auto StartRun(const Runtime& runtime, const std::string& program_bytes, const std::string& workflow,
              const nlohmann::json& input, std::string run_id) -> Result<RunReport>;

// Both take the run's lease (lease.h) for the time they drive it and
// release it before returning; a run another live process holds is an
// Error "run X is owned by pid P on HOST" (code kLeaseHeld).
//
// Continues run `run_id` from its last durable point: resends a step that
// was in flight (same idempotency key), delivers a recorded approval
// decision, signal or due timer, or reports that it still waits. A
// completed, failed or cancelled run is reported as it is. An Error for an
// unknown run, a store problem, or a journal that does not match the
// program (the operation recorded at a step position differs).
auto ResumeRun(const Runtime& runtime, const std::string& run_id) -> Result<RunReport>;

// Forks run `source_id` (for `flow fork`): starts a new run `run_id`
// (generated when empty) of the same stored program, workflow and input
// from the VM state saved at the run's latest checkpoint named `checkpoint`,
// and drives it as StartRun does. Its journal opens with `started` (data
// also {"forked_from": {"run", "checkpoint"}}) followed by copies of the
// `effect` events the original journaled before that checkpoint, so the
// effect values the saved state already consumed replay identically. Steps
// after the checkpoint are new calls (positions from 1, keys "<run_id>:N").
// Compensations registered before the checkpoint are in the state: a fork
// that fails runs them. An Error for an unknown run or checkpoint (check
// them first for a usage message), an existing `run_id`, or a store problem.
auto ForkRun(const Runtime& runtime, const std::string& source_id, const std::string& checkpoint,
             std::string run_id) -> Result<RunReport>;

// Wall-clock time in Unix milliseconds (the store's time unit):
// SystemClock().NowMs(), for commands that judge times outside a run.
auto NowMs() -> int64_t;

// Records that run `run_id` is to be cancelled (for `flow cancel`): one
// `cancel_requested` event {reason, status} and the run row's
// cancel_requested_ms, in one transaction, without the lease, only while
// the run is running or waiting (a waiting run becomes `running`: it is due
// until it ends). From then on the run only goes towards `cancelled`:
// whoever drives it next (ResumeRun: this command, `flow resume`, `flow
// worker`, or the process driving it now, at its next durable point or
// sooner in a long stretch of pure code) runs the registered compensations
// newest first and ends it `cancelled` with error {kind: "cancelled",
// message: reason}. The outcome says whether it was recorded (refusal
// Status: the run already ended; UnknownRun).
// The run's unfinished children (and theirs) are requested too, with
// ChildCancelReason, so a process driving one stops it at its next durable
// point (SPEC §2.5: children first).
auto RequestCancel(store::Store& store, const std::string& run_id, const std::string& reason)
    -> Result<store::AppendOutcome>;
// "parent run <parent> was cancelled: <reason>": a child's cancellation reason.
auto ChildCancelReason(const std::string& parent_id, const std::string& reason) -> std::string;

// RequestCancel, then ResumeRun: the report of the run once this process
// let go of it (normally `cancelled`). A finished run is an Error "run 'x'
// is already <status>".
auto CancelRun(const Runtime& runtime, const std::string& run_id, const std::string& reason)
    -> Result<RunReport>;

// A fresh run id: "run_" and 16 random hex digits.
auto NewRunId() -> std::string;

}  // namespace flow::engine
