// The Driver's steps (driver.h): attempts with their durable start and end,
// retries with backoff, resending an in-flight step on resume, and the
// compensations of a failed run.
//
// A step at position N (counted from 1 per run, in the order steps start)
// sends every attempt with the idempotency key "<run id>:<N>". Each attempt
// is preceded by a committed `step_started` carrying the VM state suspended
// at the step, so a crash after it resends the same attempt with the same
// key. A final `step_failed` commits the state after the delivery at once.
//
// A `step_completed` is not a commit of its own: it is held in `pending_`
// and written by the next durable point, whatever that is (the next step's
// `step_started`, a checkpoint, a wait, the run's end, a compensation), in
// the same transaction. Nothing external happens in between, only pure
// code, so one commit per step keeps the promise of SPEC §4: no step is
// sent before every earlier completion is durable, and a crash before the
// commit loses only pure computation and resends step N with its key.
// When that next durable point carries no VM state (a compensation), the
// saved state still stands at step N while the journal has N's result:
// CatchUp() delivers the journaled result on load instead of resending.
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
  a.idempotency_key = fmt::format("{}:{}", run_id_, call.pos);
  a.run_id = run_id_;
  a.resent = resent;
  std::optional<std::chrono::milliseconds> clause;
  if (d.timeout_ms != bytecode::kNone) clause = std::chrono::milliseconds(d.timeout_ms);
  a.timeout = conn::AttemptTimeout(clause, *op);
  return conn::PerformAttempt(transports_, a);
}

// Sleeps until `at_ms`, renewing the lease on the way.
auto Driver::WaitUntil(int64_t at_ms) -> Status {
  for (;;) {
    if (auto s = Heartbeat(); !s) return s;
    int64_t left = at_ms - Now();
    if (left <= 0) return Ok{};
    clock_.SleepFor(std::chrono::milliseconds(std::min(left, kLeaseRenewInterval.count())));
  }
}

// Attempts from `first_attempt` until success, a final failure, or a
// backoff too long to wait here (then the run is suspended with reason retry).
auto Driver::RunStep(const StepCall& call, int first_attempt, bool resent) -> Result<StepEnd> {
  const auto policy = PolicyOf(module_.steps[call.desc], call.compensation);
  const std::string name = StepName(call.desc);
  const auto started = call.compensation ? events::kCompensationStarted : events::kStepStarted;
  const auto failed = call.compensation ? events::kCompensationFailed : events::kStepFailed;
  for (int attempt = first_attempt;; ++attempt) {
    json data{{"operation", name}, {"step_id", call.desc}, {"args", call.args},
              {"key", fmt::format("{}:{}", run_id_, call.pos)}};
    if (!call.secrets.empty()) {  // where "***" stands in args, and which variable: never a value
      json refs = json::array();
      for (const SecretRef& ref : call.secrets) refs.push_back(json{{"at", ref.pointer}, {"env", ref.env}});
      data["secrets"] = std::move(refs);
    }
    if (resent && attempt == first_attempt) data["resent"] = true;
    store::DurableUpdate u;
    u.status = RunStatus::Running;
    u.waiting_reason = "";
    u.waiting = "";
    u.wake_at_ms = -1;
    u.events.push_back(Event(started, std::move(data), call.pos, attempt));
    if (!call.compensation) u.state = vm_.SaveState();
    if (auto s = Commit(std::move(u)); !s) return s.error();

    conn::StepOutcome out = Attempt(call, attempt, resent && attempt == first_attempt);
    StepEnd end;
    end.attempt = attempt;
    if (out.ok()) {
      end.ok = true;
      end.output = std::move(out.output);
      return end;
    }
    end.kind = out.error_kind;
    end.message = out.message;
    if (!conn::ShouldRetry(policy, attempt, out)) return end;

    auto delay = conn::BackoffDelay(policy, attempt, Uniform01(), out.retry_after);
    int64_t retry_at = Now() + delay.count();
    json fail{{"operation", name}, {"kind", out.error_kind}, {"message", out.message}, {"final", false},
              {"retry_in_ms", delay.count()}, {"retry_at_ms", retry_at}};
    if (!call.compensation && delay > options_.max_in_process_backoff) {
      json waiting{{"kind", "retry"}, {"step", name}, {"attempt", attempt + 1},
                   {"wake_at", value::FormatTime(retry_at)}};
      auto report = Suspend(failed, std::move(fail), "retry", std::move(waiting), retry_at, call.pos, attempt);
      if (!report) return report.error();
      end.waiting = std::move(*report);
      return end;
    }
    store::DurableUpdate f;
    f.events.push_back(Event(failed, std::move(fail), call.pos, attempt));
    if (!call.compensation) f.state = vm_.SaveState();
    if (auto s = Commit(std::move(f)); !s) return s.error();
    if (auto s = WaitUntil(std::min(retry_at, Now() + options_.max_in_process_backoff.count())); !s) {
      return s.error();
    }
  }
}

auto Driver::ConvertOutput(uint32_t desc, const json& output) const -> Result<interp::Value> {
  const auto& d = module_.steps[desc];
  if (d.output_type == bytecode::kNone) return interp::Value::Json(output);
  return value::FromJson(output, module_, static_cast<uint32_t>(d.output_type));
}

// Delivers a step's end to the VM; a failure is committed with the state
// after it, a completion waits in pending_ for the next durable point.
auto Driver::FinishStep(const StepCall& call, StepEnd end) -> Result<std::optional<RunReport>> {
  if (end.waiting) return std::optional<RunReport>(std::move(*end.waiting));
  const std::string name = StepName(call.desc);
  if (end.ok) {
    auto v = ConvertOutput(call.desc, end.output);
    if (v) {
      if (auto s = vm_.Deliver(std::move(*v)); !s) return s.error();
      // Rides on the next durable point (see the file comment).
      pending_.push_back(Event(events::kStepCompleted, json{{"operation", name}, {"result", end.output}},
                               call.pos, end.attempt));
      return std::optional<RunReport>();
    }
    end.kind = conn::kKindContract;
    end.message = v.error().message;
  }
  if (auto s = vm_.DeliverError(end.kind, end.message, name); !s) return s.error();
  store::DurableUpdate u;
  u.events.push_back(Event(events::kStepFailed,
                           json{{"operation", name}, {"kind", end.kind}, {"message", end.message}, {"final", true}},
                           call.pos, end.attempt));
  u.state = vm_.SaveState();
  if (auto s = Commit(std::move(u)); !s) return s.error();
  return std::optional<RunReport>();
}

auto Driver::OnStep(const interp::SuspendReason& reason) -> Result<std::optional<RunReport>> {
  StepCall call{++steps_, reason.step, json(), false, {}};
  call.args = value::ToJson(reason.args, &call.secrets);
  auto end = RunStep(call, 1, false);
  if (!end) return end.error();
  return FinishStep(call, std::move(*end));
}

// Checks that the journal's record of a step names the program's operation.
auto Driver::CallFromJournal(const store::JournalEvent& e, bool compensation) -> Result<StepCall> {
  json d = ParseData(e);
  auto id = d.value("step_id", int64_t{-1});
  std::string recorded = d.value("operation", "");
  if (id < 0 || static_cast<size_t>(id) >= module_.steps.size() || StepName(static_cast<uint32_t>(id)) != recorded) {
    return Error{fmt::format("run '{}': the journal records '{}' at step {}, which does not match the program",
                             run_id_, recorded, e.step)};
  }
  StepCall call{e.step, static_cast<uint32_t>(id), d.contains("args") ? d["args"] : json(), compensation, {}};
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
    if (e->type != events::kStepCompleted || e->step != started->step) continue;
    auto call = CallFromJournal(*started, false);
    if (!call) return call.error();
    json d = ParseData(*e);
    auto v = ConvertOutput(call->desc, d.contains("result") ? d["result"] : json());
    if (!v) return Error{fmt::format("run '{}': the journaled result of step {}: {}", run_id_, e->step, v.error().message)};
    return vm_.Deliver(std::move(*v));
  }
  return Ok{};
}

// The state was saved suspended at a step: resend it, or go on retrying.
auto Driver::ResumeStep(const store::JournalEvent& last, const store::RunRecord& run)
    -> Result<std::optional<RunReport>> {
  const store::JournalEvent* started = nullptr;
  for (const auto& e : journal_) {
    if (e.type == events::kStepStarted && e.step == last.step) started = &e;
  }
  if (started == nullptr) return Error{fmt::format("run '{}': step {} has no step_started event", run_id_, last.step)};
  auto call = CallFromJournal(*started, false);
  if (!call) return call.error();
  Result<StepEnd> end = Error{""};
  if (last.type == events::kStepStarted) {
    end = RunStep(*call, static_cast<int>(last.attempt), true);
  } else {
    json d = ParseData(last);
    if (d.value("final", true)) return Error{fmt::format("run '{}': a failed step left the state suspended", run_id_)};
    int64_t retry_at = d.value("retry_at_ms", int64_t{0});
    if (retry_at - Now() > options_.max_in_process_backoff.count()) {
      RunReport r = ReportFromRecord(run);
      return std::optional<RunReport>(std::move(r));
    }
    if (auto s = WaitUntil(retry_at); !s) return s.error();
    end = RunStep(*call, static_cast<int>(last.attempt) + 1, false);
  }
  if (!end) return end.error();
  return FinishStep(*call, std::move(*end));
}

// One compensation at position `pos`, resuming what the journal has of it.
auto Driver::CompensateOne(int64_t pos, const interp::Compensation& c) -> Result<std::string> {
  StepCall call{pos, c.step, json(), true, {}};
  call.args = value::ToJson(c.args, &call.secrets);
  int first = 1;
  bool resent = false;
  for (const auto& e : journal_) {
    if (e.step != pos) continue;
    if (e.type != events::kCompensationStarted && e.type != events::kCompensationCompleted &&
        e.type != events::kCompensationFailed) {
      continue;
    }
    if (e.type == events::kCompensationStarted) {
      auto recorded = CallFromJournal(e, true);
      if (!recorded) return recorded.error();
      if (recorded->desc != c.step) return Error{fmt::format("run '{}': compensation {} does not match the program", run_id_, pos)};
      first = static_cast<int>(e.attempt);
      resent = true;
    }
    if (e.type == events::kCompensationCompleted) return std::string("completed");
    if (e.type == events::kCompensationFailed) {
      if (ParseData(e).value("final", true)) return std::string("failed");
      first = static_cast<int>(e.attempt) + 1;
      resent = false;
    }
  }
  auto end = RunStep(call, first, resent);
  if (!end) return end.error();
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
  return std::string(end->ok ? "completed" : "failed");
}

auto Driver::Cancel(const std::string& reason) -> Result<RunReport> {
  // A state loaded ready, not suspended (a step's journaled result just
  // delivered by CatchUp, or a checkpoint's), may stand before the
  // `compensate` of a step that completed: run the pure code up to the next
  // suspension first, which sends nothing, so that every compensation the
  // run would have registered is undone. A crashed run whose last step
  // completed must not keep that step's effect because it was cancelled.
  if (!vm_.suspended()) (void)vm_.Run();
  interp::WorkflowError error{"cancelled", reason, std::nullopt, "", {}};
  return Compensate(error, RunStatus::Cancelled);
}

auto Driver::Compensate(const interp::WorkflowError& error, RunStatus final_status) -> Result<RunReport> {
  const auto comps = vm_.compensations();  // a copy: oldest first
  json list = json::array();
  int64_t pos = steps_;
  for (auto it = comps.rbegin(); it != comps.rend(); ++it) {
    auto status = CompensateOne(++pos, *it);
    if (!status) return status.error();
    list.push_back(json{{"step", StepName(it->step)}, {"status", *status}});
  }
  json err{{"kind", error.kind}, {"message", error.message}, {"step", error.step ? json(*error.step) : json()}};
  // Where the error was raised (SPEC §2.4); absent for a cancellation.
  if (std::string at = bytecode::FormatPosition(module_.source_name, error.pos); !at.empty()) err["at"] = at;
  store::DurableUpdate u;
  u.status = final_status;
  u.waiting_reason = "";
  u.waiting = "";
  u.wake_at_ms = -1;
  u.error = value::DumpJson(err);
  const auto type = final_status == RunStatus::Cancelled ? events::kCancelled : events::kFailed;
  u.events.push_back(Event(type, json{{"error", err}, {"compensations", list}}));
  if (auto s = Commit(std::move(u)); !s) return s.error();
  RunReport r;
  r.run_id = run_id_;
  r.status = final_status;
  r.error = std::move(err);
  r.compensations = std::move(list);
  return r;
}

}  // namespace flow::engine
