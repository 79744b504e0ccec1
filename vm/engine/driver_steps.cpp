// The Driver's steps (driver.h): attempts with their durable end, retries
// with backoff, blocked steps, and resending after a crash.
//
// A step at position N (counted from 1 per run, in the order steps start)
// sends every attempt with the idempotency key "<run id>:<N>". Nothing is
// committed before an attempt is sent: the key derives from run id and
// position, and a process that crashed before the attempt's end was
// durable leaves the state at the previous durable point, whose
// re-execution reaches step N again (same position, same arguments: effect
// values drawn on the way were committed before the send, CommitEffects)
// and sends it again with the same key. The attempt's end is one commit:
// `step_started` (at_ms: when it was sent) with `step_completed` or a final
// `step_failed` and the VM state after the delivery, so a completion is
// durable before any further pure code runs and is never sent again. A
// retryable failure commits `step_started` and a non-final `step_failed`
// with the state suspended at the step before its backoff is waited, so a
// crash during the backoff or the next attempt continues with that next
// attempt (same key). One commit per step, as before this rule, only moved
// from before the send to after it.
//
// Compensations (driver_cancel.cpp) are rare and keep a commit before each
// send (`compensation_started`): `flow show` sees one in flight.
#include <fmt/format.h>

#include <random>

#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/engine/lease.h"
#include "vm/value/convert.h"
#include "vm/value/time_format.h"

namespace flow::engine {

using store::RunStatus;
namespace conn = connectors;

auto PolicyOf(const bytecode::StepDesc& d, bool compensation) -> conn::RetryPolicy {
  if (d.retry_attempts == bytecode::kNone) {
    return compensation ? conn::CompensationDefaultPolicy() : conn::NoRetryPolicy();
  }
  conn::RetryPolicy p;
  p.attempts = static_cast<int>(std::max<int64_t>(1, d.retry_attempts));
  if (d.backoff_ms != bytecode::kNone) p.backoff = std::chrono::milliseconds(d.backoff_ms);
  if (d.backoff_max_ms != bytecode::kNone) p.max = std::chrono::milliseconds(d.backoff_max_ms);
  p.on = d.retry_on;
  return p;
}

namespace {

auto Uniform01() -> double {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

auto ParseData(const store::JournalEvent& e) -> json {
  json d = json::parse(e.data, nullptr, false);
  return d.is_object() ? d : json::object();
}

}  // namespace

auto Driver::Connector(const std::string& name) -> Result<const LoadedConnector*> {
  if (auto it = connectors_.find(name); it != connectors_.end()) return &it->second;
  for (const auto& c : module_.connectors) {
    if (c.name != name) continue;
    LoadedConnector loaded;
    if (c.text.empty() && c.path.empty()) {
      // A program compiled before builtin schemas were embedded: this
      // binary's (module.h, ConnectorDesc).
      for (std::string_view text : legacy_builtins_) {
        auto file = conn::ParseConnectorFile(text);
        if (file && file->name == name) loaded.file = std::move(*file);
      }
      if (loaded.file.name != name) return Error{fmt::format("no built-in connector '{}'", name)};
    } else {
      auto file = conn::ParseConnectorFile(c.text);
      if (!file) return Error{fmt::format("connector '{}' ({}): {}", name, c.path, file.error().message)};
      loaded.file = std::move(*file);
      auto slash = c.path.rfind('/');
      loaded.dir = slash == std::string::npos ? "" : c.path.substr(0, slash == 0 ? 1 : slash);
    }
    return &connectors_.emplace(name, std::move(loaded)).first->second;
  }
  return Error{fmt::format("the program does not embed connector '{}'", name)};
}

auto Driver::Attempt(const StepCall& call, int attempt, bool resent) -> conn::StepOutcome {
  (void)attempt;
  const auto& d = module_.steps[call.desc];
  auto c = Connector(d.connector);
  if (!c) return conn::FailOutcome(conn::kKindConfig, c.error().message);
  const conn::Operation* op = (*c)->file.FindOperation(d.operation);
  if (op == nullptr) {
    return conn::FailOutcome(conn::kKindConfig, fmt::format("connector '{}' has no operation '{}'", d.connector, d.operation));
  }
  conn::StepAttempt a;
  a.connector = &(*c)->file;
  a.op = op;
  a.connector_dir = (*c)->dir;
  a.args = call.args;
  a.secrets = call.secrets;
  a.idempotency_key = call.key;
  a.run_id = run_id_;
  a.resent = resent;
  std::optional<std::chrono::milliseconds> clause;
  if (d.timeout_ms != bytecode::kNone) clause = std::chrono::milliseconds(d.timeout_ms);
  a.timeout = conn::AttemptTimeout(clause, *op);
  return conn::PerformAttempt(transports_, a);
}

auto Driver::WaitUntil(int64_t at_ms, bool cancellable) -> Result<bool> {
  for (;;) {
    if (auto s = Heartbeat(); !s) return s.error();
    if (options_.stop != nullptr && options_.stop->load()) return Interrupted();
    if (cancellable && !cancelling_) {
      auto run = store_.GetRun(run_id_);
      if (!run) return run.error();
      if (*run && (*run)->cancel_requested_ms >= 0) cancel_requested_ = true;
      if (cancel_requested_) return false;
    }
    int64_t left = at_ms - Now();
    if (left <= 0) return true;
    clock_.SleepFor(std::chrono::milliseconds(std::min(left, kCancelPollInterval.count())));
  }
}

auto Driver::StepData(const StepCall& call) const -> json {
  json data{{"operation", StepName(call.desc)}, {"step_id", call.desc}, {"args", call.args}, {"key", call.key}};
  if (!call.secrets.empty()) {  // where "***" stands in args, and which variable: never a value
    json refs = json::array();
    for (const SecretRef& ref : call.secrets) refs.push_back(json{{"at", ref.pointer}, {"env", ref.env}});
    data["secrets"] = std::move(refs);
  }
  return data;
}

// Attempts from `first_attempt` until success, a final failure, a block,
// or a backoff too long to wait here (then the run is suspended with reason
// retry); see the file comment for what each commits.
auto Driver::RunStep(const StepCall& call, int first_attempt, bool resent) -> Result<StepEnd> {
  const auto policy = PolicyOf(module_.steps[call.desc], call.compensation);
  for (int attempt = first_attempt;; ++attempt) {
    json data = StepData(call);
    if (resent && attempt == first_attempt) data["resent"] = true;
    StepEnd end;
    end.attempt = attempt;
    auto started = Event(call.compensation ? events::kCompensationStarted : events::kStepStarted, std::move(data),
                         call.pos, attempt);
    if (call.compensation) {
      store::DurableUpdate u = NotWaiting(RunStatus::Running);
      u.events.push_back(std::move(started));
      if (auto s = Commit(std::move(u)); !s) return s.error();
    } else {
      end.started = std::move(started);
    }
    conn::StepOutcome out = Attempt(call, attempt, resent && attempt == first_attempt);
    if (out.blocked()) {
      end.blocked = true;
      end.message = std::move(out.message);
      end.started.reset();  // nothing was sent
      return end;
    }
    if (out.ok()) {
      end.ok = true;
      end.output = std::move(out.output);
      return end;
    }
    end.kind = out.error_kind;
    end.message = out.message;
    if (!conn::ShouldRetry(policy, attempt, out)) return end;
    auto again = ScheduleRetry(call, end, out);
    if (!again) return again.error();
    if (!*again) return end;
  }
}

auto Driver::ScheduleRetry(const StepCall& call, StepEnd& end, const conn::StepOutcome& out) -> Result<bool> {
  const auto policy = PolicyOf(module_.steps[call.desc], call.compensation);
  const std::string name = StepName(call.desc);
  auto delay = conn::BackoffDelay(policy, end.attempt, Uniform01(), out.retry_after);
  const bool long_wait = !call.compensation && delay > options_.max_in_process_backoff;
  // A resend at a cancellation (ResendInFlightAtCancel) does not wait for
  // long: its failure is final.
  if (long_wait && cancelling_) return false;
  int64_t retry_at = Now() + delay.count();
  json fail{{"operation", name}, {"kind", out.error_kind}, {"message", out.message}, {"final", false},
            {"retry_in_ms", delay.count()}, {"retry_at_ms", retry_at}};
  auto failed = Event(call.compensation ? events::kCompensationFailed : events::kStepFailed, std::move(fail),
                      call.pos, end.attempt);
  // From here the attempt's effect may have been made, until the step ends.
  if (!call.compensation) unsettled_.emplace(call, end.attempt + 1);
  std::vector<store::JournalEvent> recorded;
  if (end.started) recorded.push_back(std::move(*end.started));
  end.started.reset();
  recorded.push_back(std::move(failed));
  if (long_wait) {
    json waiting{{"kind", "retry"}, {"step", name}, {"attempt", end.attempt + 1},
                 {"wake_at", value::FormatTime(retry_at)}};
    auto report = Suspend(std::move(recorded), "retry", std::move(waiting), retry_at);
    if (!report) return report.error();
    end.waiting = std::move(*report);
    return false;
  }
  store::DurableUpdate f = NotWaiting(RunStatus::Running);
  f.events = std::move(recorded);
  if (!call.compensation) f.state = vm_.SaveState();
  if (auto s = Commit(std::move(f)); !s) return s.error();
  // Recorded first (SPEC §4), then waited; a cancellation requested
  // meanwhile ends a step's retries (not a compensation's, nor those of a
  // resend at the cancellation itself).
  const bool cancellable = !call.compensation && !cancelling_;
  auto waited = WaitUntil(std::min(retry_at, Now() + options_.max_in_process_backoff.count()), cancellable);
  if (!waited) return waited.error();
  end.cancelled = cancellable && (!*waited || cancel_requested_);
  return !end.cancelled;
}

auto Driver::ConvertOutput(uint32_t desc, const json& output) const -> Result<interp::Value> {
  const auto& d = module_.steps[desc];
  if (d.output_type == bytecode::kNone) return interp::Value::Json(output);
  return value::FromJson(output, module_, static_cast<uint32_t>(d.output_type));
}

// Delivers a step's end to the VM and commits it with the state after it:
// one transaction holding step_started, step_completed (or the final
// step_failed) and the state.
auto Driver::FinishStep(const StepCall& call, StepEnd end) -> Result<std::optional<RunReport>> {
  if (end.waiting) return std::optional<RunReport>(std::move(*end.waiting));
  if (end.blocked) return StopDriving(Block(call, end));
  if (end.cancelled) return std::optional<RunReport>();  // Drive() cancels; the VM waits at the step
  unsettled_.reset();  // its end is delivered below
  const std::string name = StepName(call.desc);
  store::DurableUpdate u = NotWaiting(RunStatus::Running);
  if (end.started) u.events.push_back(std::move(*end.started));
  if (end.ok) {
    auto v = ConvertOutput(call.desc, end.output);
    if (v) {
      if (auto s = vm_.Deliver(std::move(*v)); !s) return s.error();
      u.events.push_back(Event(events::kStepCompleted, json{{"operation", name}, {"result", end.output}},
                               call.pos, end.attempt));
      u.state = vm_.SaveState();
      if (auto s = Commit(std::move(u)); !s) return s.error();
      return std::optional<RunReport>();
    }
    end.kind = conn::kKindContract;
    end.message = v.error().message;
  }
  if (auto s = vm_.DeliverError(end.kind, end.message, name); !s) return s.error();
  u.events.push_back(Event(events::kStepFailed,
                           json{{"operation", name}, {"kind", end.kind}, {"message", end.message}, {"final", true}},
                           call.pos, end.attempt));
  u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s.error();
  return std::optional<RunReport>();
}

// 30 s, 1 m, 2 m, ... (kBlockedBackoff, doubling per earlier consecutive
// block of this position of `branch` ("" the root), at most
// kBlockedMaxBackoff).
auto Driver::BlockedDelay(int64_t pos, std::string_view type, std::string_view branch) const
    -> std::chrono::milliseconds {
  int earlier = 0;
  for (const auto& e : journal_) {
    if (e.step != pos || e.branch != branch) continue;
    if (e.type == type) ++earlier;
    else if (e.type != events::kCompensationStarted) earlier = 0;
  }
  auto delay = kBlockedBackoff;
  for (int k = 0; k < earlier && delay < kBlockedMaxBackoff; ++k) delay *= 2;
  return std::min(delay, kBlockedMaxBackoff);
}

// SPEC §4 "Blocked, not failed": nothing was sent, nothing is compensated;
// the run waits with reason `blocked` until `flow resume` (at once) or the
// worker (after BlockedDelay) tries the same attempt again. A forward step
// keeps the VM state suspended at it; a compensation has no state of its
// own (the run's compensation phase is derived again on resume).
auto Driver::Block(const StepCall& call, const StepEnd& end) -> Result<RunReport> {
  const auto type = call.compensation ? events::kCompensationBlocked : events::kStepBlocked;
  const int64_t at = Now() + BlockedDelay(call.pos, type).count();
  json data = StepData(call);
  data["message"] = end.message;
  data["retry_at_ms"] = at;
  json waiting{{"kind", "blocked"}, {"step", StepName(call.desc)}, {"message", end.message},
               {"wake_at", value::FormatTime(at)}};
  std::vector<store::JournalEvent> recorded{Event(type, std::move(data), call.pos, end.attempt)};
  return Suspend(std::move(recorded), "blocked", std::move(waiting), at, /*with_state=*/!call.compensation);
}

auto Driver::OnStep(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>> {
  // The arguments may hold effect values drawn since the last durable
  // point: durable before the send, so that a resend carries the same.
  if (auto s = CommitEffects(); !s) return s.error();
  if (cancel_requested_) return std::optional<RunReport>();  // Drive() cancels; nothing is sent
  StepCall call{++steps_, reason.step, json(), false, StepKey(steps_), {}};
  call.args = value::ToJson(reason.args, &call.secrets);
  const bool resent = maybe_in_flight_;
  maybe_in_flight_ = false;
  auto end = RunStep(call, 1, resent);
  if (!end) return end.error();
  return FinishStep(call, std::move(*end));
}

auto Driver::StepKey(int64_t pos) const -> std::string { return fmt::format("{}:{}", run_id_, pos); }

// Checks that the journal's record of a step names the program's operation.
auto Driver::CallFromJournal(const store::JournalEvent& e, bool compensation) -> Result<StepCall> {
  json d = ParseData(e);
  auto id = d.value("step_id", int64_t{-1});
  std::string recorded = d.value("operation", "");
  if (id < 0 || static_cast<size_t>(id) >= module_.steps.size() || StepName(static_cast<uint32_t>(id)) != recorded) {
    return Error{fmt::format("run '{}': the journal records '{}' at step {}, which does not match the program",
                             run_id_, recorded, e.step)};
  }
  std::string key = d.value("key", compensation ? std::string() : StepKey(e.step));
  StepCall call{e.step, static_cast<uint32_t>(id), d.contains("args") ? d["args"] : json(), compensation, key, {}};
  if (auto it = d.find("secrets"); it != d.end() && it->is_array()) {
    for (const json& ref : *it) {
      if (!ref.is_object() || !ref.value("at", json()).is_string() || !ref.value("env", json()).is_string()) {
        return Error{fmt::format("run '{}': malformed secret reference at step {}", run_id_, e.step)};
      }
      call.secrets.push_back(SecretRef{ref["at"].get<std::string>(), ref["env"].get<std::string>()});
    }
  }
  return call;
}

auto Driver::CatchUp() -> Status {
  if (!vm_.suspended()) return Ok{};
  auto last = LastSuspension();
  if (!last || journal_[*last].type != events::kStepStarted) return Ok{};
  const store::JournalEvent* started = &journal_[*last];
  for (const auto* e = started + 1; e != journal_.data() + journal_.size(); ++e) {
    if (e->type != events::kStepCompleted || e->step != started->step || !e->branch.empty()) continue;
    auto call = CallFromJournal(*started, false);
    if (!call) return call.error();
    json d = ParseData(*e);
    auto v = ConvertOutput(call->desc, d.contains("result") ? d["result"] : json());
    if (!v) return Error{fmt::format("run '{}': the journaled result of step {}: {}", run_id_, e->step, v.error().message)};
    return vm_.Deliver(std::move(*v));
  }
  return Ok{};
}

// The step a suspended state waits at, from the journal's last suspension
// `last`: its call, and the attempt to send next.
auto Driver::PendingStep(const store::JournalEvent& last) -> Result<std::pair<StepCall, int>> {
  const store::JournalEvent* record = &last;
  if (last.type == events::kStepFailed) {
    record = nullptr;
    for (const auto& e : journal_) {
      if (e.type == events::kStepStarted && e.step == last.step && e.branch.empty()) record = &e;
    }
    if (record == nullptr) return Error{fmt::format("run '{}': step {} has no step_started event", run_id_, last.step)};
    if (ParseData(last).value("final", true)) {
      return Error{fmt::format("run '{}': a failed step left the state suspended", run_id_)};
    }
  }
  auto call = CallFromJournal(*record, false);
  if (!call) return call.error();
  const int attempt = static_cast<int>(last.attempt) + (last.type == events::kStepFailed ? 1 : 0);
  return std::make_pair(std::move(*call), attempt);
}

auto Driver::UnsettledInJournal() -> Result<std::optional<std::pair<StepCall, int>>> {
  using Pending = std::optional<std::pair<StepCall, int>>;
  if (commits_ > 0 || !vm_.suspended()) return Pending();
  auto last = LastSuspension();
  if (!last) return Pending();
  const store::JournalEvent& e = journal_[*last];
  if (e.type != events::kStepFailed && e.type != events::kStepBlocked) return Pending();
  // A blocked attempt was not sent; an earlier one of the same step may have been.
  bool failed = false;
  for (size_t i = 0; i <= *last && !failed; ++i) {
    failed = journal_[i].type == events::kStepFailed && journal_[i].step == e.step;
  }
  if (!failed) return Pending();
  auto pending = PendingStep(e);
  if (!pending) return pending.error();
  return Pending(std::move(*pending));
}

// The state was saved suspended at a step: an old journal's attempt in
// flight, a retry, or a blocked attempt. Sends it (same key).
auto Driver::ResumeStep(const store::JournalEvent& last, const store::RunRecord& run)
    -> Result<std::optional<RunReport>> {
  auto pending = PendingStep(last);
  if (!pending) return pending.error();
  auto& [call, attempt] = *pending;
  if (last.type == events::kStepFailed) {
    int64_t retry_at = ParseData(last).value("retry_at_ms", int64_t{0});
    if (retry_at - Now() > options_.max_in_process_backoff.count()) {
      return std::optional<RunReport>(ReportFromRecord(run));
    }
    auto waited = WaitUntil(retry_at, true);
    if (!waited) return waited.error();
    if (!*waited) return std::optional<RunReport>();  // cancelled meanwhile: Drive() cancels
  }
  const bool resent = last.type == events::kStepStarted || maybe_in_flight_;
  maybe_in_flight_ = false;
  auto end = RunStep(call, attempt, resent);
  if (!end) return end.error();
  return FinishStep(call, std::move(*end));
}

}  // namespace flow::engine
