// The Driver: the engine's private workhorse behind run_driver.h. One Driver
// holds one run's Vm (with its EffectLog host), the parsed connectors of the
// program, and the run's step counter, and turns every VM suspension into
// durable points (Store::Commit) and transport attempts (PerformAttempt).
//
// driver.cpp holds the main loop and the waits (approval, signal, timer,
// checkpoint); driver_steps.cpp the step attempts, retries and
// compensations. Not a public interface: commands use run_driver.h.
// Everything it works with comes from the Runtime it is built with.
#pragma once

#include <map>
#include <memory>
#include <optional>
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

class Driver {
 public:
  Driver(const Runtime& runtime, const bytecode::Module& module, std::string run_id, std::vector<json> effects,
         std::vector<store::JournalEvent> journal);

  auto vm() -> interp::Vm& { return vm_; }
  // Cancels the loaded run: its compensations, then status cancelled.
  auto Cancel(const std::string& reason) -> Result<RunReport>;

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
    int attempt = 1;  // the last attempt made
    json output;
    std::string kind, message;
    std::optional<RunReport> waiting;  // a long retry backoff suspended the run
  };
  struct StepCall {
    int64_t pos = 0;
    uint32_t desc = 0;
    json args;  // secrets written as "***"
    bool compensation = false;
    // Where `args` holds a secret and the variable to read there when
    // sending; journaled with the step (names only) so a resend has them.
    std::vector<SecretRef> secrets;
  };

  auto Commit(store::DurableUpdate u) -> Status;
  // Renews the lease when kLeaseRenewInterval has passed since the last time.
  auto Heartbeat() -> Status;
  auto Event(std::string_view type, json data, int64_t step = -1, int64_t attempt = 0) -> store::JournalEvent;
  auto StepName(uint32_t desc) const -> std::string;
  auto Connector(const std::string& name) -> Result<const LoadedConnector*>;
  // Wall-clock time from the runtime's clock.
  auto Now() const -> int64_t { return clock_.NowMs(); }
  // One attempt of `call`; `resent`: sent again after a crash (StepAttempt::resent).
  auto Attempt(const StepCall& call, int attempt, bool resent) -> connectors::StepOutcome;
  // A step's response as the VM value of the operation's output type.
  auto ConvertOutput(uint32_t desc, const json& output) const -> Result<interp::Value>;

  // driver_steps.cpp
  auto RunStep(const StepCall& call, int first_attempt, bool resent) -> Result<StepEnd>;
  auto FinishStep(const StepCall& call, StepEnd end) -> Result<std::optional<RunReport>>;
  auto OnStep(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>>;
  auto CallFromJournal(const store::JournalEvent& e, bool compensation) -> Result<StepCall>;
  auto ResumeStep(const store::JournalEvent& last, const store::RunRecord& run)
      -> Result<std::optional<RunReport>>;
  auto Compensate(const interp::WorkflowError& error, store::RunStatus final_status = store::RunStatus::Failed)
      -> Result<RunReport>;
  auto CompensateOne(int64_t pos, const interp::Compensation& c) -> Result<std::string>;
  auto WaitUntil(int64_t at_ms) -> Status;

  // driver.cpp
  // The index in journal_ of the last event that suspended the run (a
  // step's start or non-final failure, an approval, a signal wait, a timer).
  auto LastSuspension() const -> std::optional<size_t>;
  auto OnSuspend(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>>;
  auto Suspend(std::string_view event, json data, const std::string& reason, json waiting, int64_t wake_at,
               int64_t step = -1, int64_t attempt = 0) -> Result<RunReport>;
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
  interp::EffectLog log_;
  interp::Vm vm_;
  int64_t steps_ = 0;  // step positions used so far
  // This Driver's last status write left the run row plain `running`
  // (Commit); false until then, as a loaded row may be waiting.
  bool row_plain_running_ = false;
  // Step completions not yet committed: they ride on the next Commit
  // (driver_steps.cpp, file comment).
  std::vector<store::JournalEvent> pending_;
  int commits_ = 0;    // durable points committed by this Driver
  int64_t renewed_ms_ = 0;  // when the lease was last taken or renewed
  std::map<std::string, LoadedConnector> connectors_;
};

// The oldest `signal_received` of `event` in `journal` that no `resumed`
// event consumed yet, or nullptr: what a `wait "event"` gets (docs/runs.md,
// signals are buffered and consumed once). A `resumed` after a signal names
// the consumed event by its seq; one written before seqs were recorded
// consumed, by the rule of its time, the oldest unconsumed signal of the
// event awaited before it.
auto UnconsumedSignal(const std::vector<store::JournalEvent>& journal, const std::string& event)
    -> const store::JournalEvent*;

// A step's retry policy from its clauses; compensations default to
// CompensationDefaultPolicy.
auto PolicyOf(const bytecode::StepDesc& d, bool compensation) -> connectors::RetryPolicy;

}  // namespace flow::engine
