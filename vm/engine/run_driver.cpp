// StartRun / ResumeRun (run_driver.h): load the program, set up a Driver
// (driver.h) from the store, and let it drive.
#include "vm/engine/run_driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <random>

#include "vm/bytecode/serialize.h"
#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/engine/lease.h"
#include "vm/engine/run_id.h"
#include "vm/value/convert.h"

namespace flow::engine {

namespace {

auto ParseOr(const std::string& text, json fallback) -> json {
  if (text.empty()) return fallback;
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

// The effect records of a journal, in seq order of the effects.
auto RecordedEffects(const std::vector<store::JournalEvent>& journal) -> std::vector<json> {
  std::vector<json> out;
  for (const auto& e : journal) {
    if (e.type == events::kEffect) out.push_back(ParseOr(e.data, json::object()));
  }
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a.value("seq", int64_t{0}) < b.value("seq", int64_t{0});
  });
  return out;
}

// Releases the run's lease when the command lets go of the run, however
// it returns. A failed release only delays others until the lease expires.
class LeaseGuard {
 public:
  LeaseGuard(store::Store& store, std::string id, std::string owner)
      : store_(store), id_(std::move(id)), owner_(std::move(owner)) {}
  ~LeaseGuard() { (void)store_.ReleaseLease(id_, owner_); }
  LeaseGuard(const LeaseGuard&) = delete;
  auto operator=(const LeaseGuard&) -> LeaseGuard& = delete;

 private:
  store::Store& store_;
  std::string id_, owner_;
};

// The runtime with its lease owner filled in ("" means this process's).
auto WithLeaseOwner(const Runtime& runtime) -> Runtime {
  Runtime out = runtime;
  if (out.options.lease_owner.empty()) out.options.lease_owner = ThisLeaseOwner();
  return out;
}

}  // namespace

auto RunReport::ToJson() const -> json {
  json j{{"run", run_id}, {"status", store::StatusName(status)}};
  switch (status) {
    case store::RunStatus::Completed: j["result"] = result; break;
    case store::RunStatus::Waiting: j["waiting"] = waiting; break;
    case store::RunStatus::Failed:
    case store::RunStatus::Cancelled:
      j["error"] = json{{"kind", error.value("kind", "")}, {"message", error.value("message", "")}};
      if (error.contains("at")) j["error"]["at"] = error["at"];
      j["compensations"] = compensations;
      break;
    case store::RunStatus::Running: break;
  }
  return j;
}

auto ReportFromRecord(const store::RunRecord& run) -> RunReport {
  RunReport r;
  r.run_id = run.id;
  r.status = run.status;
  r.result = ParseOr(run.result, json());
  r.error = ParseOr(run.error, json::object());
  if (!r.error.is_object()) r.error = json::object();
  r.waiting = ParseOr(run.waiting, json::object());
  return r;
}

auto ReportRun(store::Store& store, const store::RunRecord& run) -> Result<RunReport> {
  RunReport r = ReportFromRecord(run);
  if (run.status != store::RunStatus::Failed && run.status != store::RunStatus::Cancelled) return r;
  auto journal = store.Journal(run.id);
  if (!journal) return journal.error();
  for (const auto& e : *journal) {
    if (e.type != events::kFailed && e.type != "cancelled") continue;
    json d = ParseOr(e.data, json::object());
    if (d.contains("compensations") && d["compensations"].is_array()) r.compensations = d["compensations"];
  }
  return r;
}

auto NewRunId() -> std::string {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(NowMs()));
  return fmt::format("run_{:016x}", gen());
}

auto StartRun(const Runtime& base, const std::string& program_bytes, const std::string& workflow,
              const json& input, std::string run_id) -> Result<RunReport> {
  const Runtime runtime = WithLeaseOwner(base);
  store::Store& store = runtime.store;
  const EngineOptions& options = runtime.options;
  auto module = bytecode::DeserializeModule(program_bytes);
  if (!module) return module.error();
  int fn = module->FindFunction(workflow);
  if (fn < 0 || module->functions[fn].kind != bytecode::FunctionKind::Workflow) {
    return Error{fmt::format("the program has no workflow '{}'", workflow)};
  }
  if (run_id.empty()) run_id = NewRunId();
  if (auto s = CheckNewRunId(run_id); !s) return s.error();
  const std::string hash = bytecode::ModuleHash(*module);
  Driver driver(runtime, *module, run_id, {}, {});
  if (auto s = driver.vm().StartWorkflow(static_cast<uint32_t>(fn), input); !s) return s.error();
  // The program row first: storing it again is a no-op, and a program with
  // no run is harmless; the run, its `started` event and its initial state
  // are one transaction.
  if (auto s = store.PutProgram(hash, program_bytes); !s) return s.error();
  store::RunRecord rec;
  rec.id = run_id;
  rec.program_hash = hash;
  rec.workflow = workflow;
  rec.status = store::RunStatus::Running;
  rec.input = value::DumpJson(input);
  rec.created_ms = rec.updated_ms = runtime.clock.NowMs();
  rec.lease_owner = options.lease_owner;
  rec.lease_expiry_ms = rec.created_ms + kLeaseDuration.count();
  store::JournalEvent started;
  started.type = std::string(events::kStarted);
  started.data = value::DumpJson(json{{"workflow", workflow}, {"program", hash}, {"input", input}});
  started.at_ms = rec.created_ms;
  if (auto s = store.CreateRun(rec, started, driver.vm().SaveState()); !s) return s.error();
  LeaseGuard lease(store, run_id, options.lease_owner);
  if (options.crash_after_commits == 0) return Error{"simulated crash after a durable point"};
  return driver.Drive();
}

namespace {

auto IsFinished(store::RunStatus s) -> bool {
  return s == store::RunStatus::Completed || s == store::RunStatus::Failed || s == store::RunStatus::Cancelled;
}

// What the store holds of a run, loaded into a Driver.
struct LoadedRun {
  std::unique_ptr<bytecode::Module> module;  // heap: the Driver and its Vm point at it
  std::unique_ptr<Driver> driver;
};

auto LoadRun(const Runtime& runtime, const store::RunRecord& rec) -> Result<LoadedRun> {
  store::Store& store = runtime.store;
  const std::string& run_id = rec.id;
  auto bytes = store.GetProgram(rec.program_hash);
  if (!bytes) return bytes.error();
  auto module = bytecode::DeserializeModule(*bytes);
  if (!module) return Error{fmt::format("run '{}': stored program: {}", run_id, module.error().message)};
  auto journal = store.Journal(run_id);
  if (!journal) return journal.error();
  auto state = store.LoadState(run_id);
  if (!state) return state.error();
  if (!*state) return Error{fmt::format("run '{}' has no saved state", run_id)};
  LoadedRun loaded{std::make_unique<bytecode::Module>(std::move(*module)), nullptr};
  std::vector<json> effects = RecordedEffects(*journal);
  loaded.driver = std::make_unique<Driver>(runtime, *loaded.module, run_id, std::move(effects), std::move(*journal));
  if (auto s = loaded.driver->vm().LoadState(**state); !s) {
    return Error{fmt::format("run '{}': saved state: {}", run_id, s.error().message)};
  }
  if (auto s = loaded.driver->CatchUp(); !s) return s.error();
  loaded.driver->Loaded(rec);
  return loaded;
}

// The rest of ResumeRun, with the lease held and `rec` read under it.
auto ResumeLeased(const Runtime& runtime, const store::RunRecord& rec) -> Result<RunReport> {
  auto loaded = LoadRun(runtime, rec);
  if (!loaded) return loaded.error();
  Driver& driver = *loaded->driver;
  if (runtime.options.nothing_in_flight) driver.NothingInFlight();
  // A requested cancellation is finished before anything else: nothing is
  // delivered, nothing sent forward.
  if (driver.cancel_requested()) return driver.Cancel();
  if (driver.vm().suspended()) {
    auto waiting = driver.ResumeSuspended(rec);
    if (!waiting) return waiting.error();
    if (*waiting) return std::move(**waiting);
  }
  return driver.Drive();
}

// ResumeRun; `parent_id`, when not null, receives the run's parent id.
auto ResumeOne(const Runtime& base, const std::string& run_id, std::string* parent_id) -> Result<RunReport> {
  const Runtime runtime = WithLeaseOwner(base);
  store::Store& store = runtime.store;
  const EngineOptions& options = runtime.options;
  // Also ids read back from the database (the worker's): a row written by
  // an older flow is not driven with an id that would reach a header.
  if (auto s = CheckRunId(run_id); !s) return s.error();
  auto run = store.GetRun(run_id);
  if (!run) return run.error();
  if (!*run) return Error{fmt::format("no run '{}'", run_id), ErrorCode::kNotFound};
  if (parent_id != nullptr) *parent_id = (*run)->parent_id;
  if (IsFinished((*run)->status)) return ReportRun(store, **run);
  InProcessClaim claim(run_id);
  if (!claim.held()) return claim.Conflict();
  if (auto s = AcquireLease(store, run_id, options.lease_owner, runtime.clock.NowMs()); !s) return s.error();
  LeaseGuard lease(store, run_id, options.lease_owner);
  // Read again under the lease: the previous owner may have moved it on.
  run = store.GetRun(run_id);
  if (!run) return run.error();
  if (!*run) return Error{fmt::format("no run '{}'", run_id), ErrorCode::kNotFound};
  if (IsFinished((*run)->status)) return ReportRun(store, **run);
  return ResumeLeased(runtime, **run);
}

}  // namespace

auto ResumeRun(const Runtime& runtime, const std::string& run_id) -> Result<RunReport> {
  std::string parent;
  auto report = ResumeOne(runtime, run_id, &parent);
  // A child run that ended here (`flow approve` of an approval inside it,
  // the worker): its parent waits on it, so it is driven next, when no one
  // else drives it (then that driver, or the worker, delivers the end).
  if (report && !parent.empty() && IsFinished(report->status)) {
    Runtime parent_runtime = runtime;
    parent_runtime.options.crash_after_commits = parent_runtime.options.crash_before_commits = -1;
    (void)ResumeRun(parent_runtime, parent);
  }
  return report;
}

auto ResumeChildRun(const Runtime& runtime, const std::string& run_id) -> Result<RunReport> {
  return ResumeOne(runtime, run_id, nullptr);
}

auto CancelChildRun(const Runtime& runtime, const std::string& run_id, const std::string& reason)
    -> Result<RunReport> {
  auto run = runtime.store.GetRun(run_id);
  if (!run) return run.error();
  if (!*run || (*run)->cancel_requested_ms < 0) {  // else requested already, with its parent's (RequestCancel)
    auto recorded = RequestCancel(runtime.store, run_id, reason);
    if (!recorded) return recorded.error();
  }
  return ResumeChildRun(runtime, run_id);
}

namespace {

// The fork's journal head: `started` with its origin, then the original's
// effect records journaled before the checkpoint's commit (that commit
// journals the checkpoint event last, at `checkpoint_seq`).
auto ForkJournalHead(const store::RunRecord& source, const std::vector<store::JournalEvent>& journal,
                     const std::string& checkpoint, int64_t checkpoint_seq, int64_t now)
    -> std::vector<store::JournalEvent> {
  store::JournalEvent started;
  started.type = std::string(events::kStarted);
  started.data = value::DumpJson(json{{"workflow", source.workflow},
                                      {"program", source.program_hash},
                                      {"input", ParseOr(source.input, json::object())},
                                      {"forked_from", json{{"run", source.id}, {"checkpoint", checkpoint}}}});
  started.at_ms = now;
  std::vector<store::JournalEvent> head{started};
  for (const auto& e : journal) {
    if (e.seq >= checkpoint_seq || e.type != events::kEffect) continue;
    store::JournalEvent copy = e;
    copy.seq = 0;
    copy.at_ms = now;
    head.push_back(std::move(copy));
  }
  return head;
}

}  // namespace

auto ForkRun(const Runtime& base, const std::string& source_id, const std::string& checkpoint,
             std::string run_id) -> Result<RunReport> {
  const Runtime runtime = WithLeaseOwner(base);
  store::Store& store = runtime.store;
  const EngineOptions& options = runtime.options;
  auto source = store.GetRun(source_id);
  if (!source) return source.error();
  if (!*source) return Error{fmt::format("no run '{}'", source_id), ErrorCode::kNotFound};
  auto checkpoints = store.Checkpoints(source_id);
  if (!checkpoints) return checkpoints.error();
  int64_t checkpoint_seq = -1;  // the latest checkpoint of that name
  for (const auto& c : *checkpoints) {
    if (c.name == checkpoint) checkpoint_seq = c.journal_seq;
  }
  auto state = store.CheckpointState(source_id, checkpoint);
  if (!state) return state.error();
  if (checkpoint_seq < 0 || !*state) {
    return Error{fmt::format("run '{}' has no checkpoint '{}'", source_id, checkpoint), ErrorCode::kNotFound};
  }
  auto journal = store.Journal(source_id);
  if (!journal) return journal.error();
  if (run_id.empty()) run_id = NewRunId();
  if (auto s = CheckNewRunId(run_id); !s) return s.error();
  store::RunRecord rec;
  rec.id = run_id;
  rec.program_hash = (*source)->program_hash;
  rec.workflow = (*source)->workflow;
  rec.status = store::RunStatus::Running;
  rec.input = (*source)->input;
  rec.created_ms = rec.updated_ms = runtime.clock.NowMs();
  rec.lease_owner = options.lease_owner;
  rec.lease_expiry_ms = rec.created_ms + kLeaseDuration.count();
  auto head = ForkJournalHead(**source, *journal, checkpoint, checkpoint_seq, rec.created_ms);
  if (auto s = store.CreateRunWithEvents(rec, head, **state); !s) return s.error();
  // The new run is ours (CreateRun took its lease): drive it from the
  // checkpoint's ready state as a resume would; ResumeRun renews the lease
  // and releases it when it lets go.
  LeaseGuard lease(store, run_id, options.lease_owner);
  return ResumeRun(runtime, run_id);
}

auto RequestCancel(store::Store& store, const std::string& run_id, const std::string& reason)
    -> Result<store::AppendOutcome> {
  if (auto s = CheckRunId(run_id); !s) return s.error();
  auto run = store.GetRun(run_id);
  if (!run) return run.error();
  // The status before the request: a waiting run had nothing in flight
  // (Driver::Loaded). Read again, and checked, in the append's transaction.
  std::string before = *run ? store::StatusName((*run)->status) : "";
  store::JournalEvent e;
  e.type = std::string(events::kCancelRequested);
  e.data = value::DumpJson(json{{"reason", reason}, {"status", before}});
  e.at_ms = NowMs();
  store::AppendCondition condition;
  condition.statuses = {store::RunStatus::Running, store::RunStatus::Waiting};
  store::AppendRowChange change;
  change.request_cancel = true;
  change.now_ms = e.at_ms;
  auto out = store.AppendEventIf(run_id, e, condition, change);
  if (!out || out->refusal != store::AppendRefusal::None) return out;
  // Its unfinished children at once too (each its own children first), so
  // that a live process driving one stops it at its next durable point
  // instead of carrying it forward. The parent's driver requests them again
  // (CancelChildren) if this process dies before they are all recorded.
  auto children = store.ListChildren(run_id);
  if (!children) return children.error();
  for (const auto& c : *children) {
    if (IsFinished(c.status) || c.cancel_requested_ms >= 0) continue;
    auto child = RequestCancel(store, c.id, ChildCancelReason(run_id, reason));
    if (!child) return child.error();
  }
  return out;
}

auto ChildCancelReason(const std::string& parent_id, const std::string& reason) -> std::string {
  return fmt::format("parent run {} was cancelled: {}", parent_id, reason);
}

auto CancelRun(const Runtime& runtime, const std::string& run_id, const std::string& reason) -> Result<RunReport> {
  auto recorded = RequestCancel(runtime.store, run_id, reason);
  if (!recorded) return recorded.error();
  if (recorded->refusal == store::AppendRefusal::UnknownRun) return Error{fmt::format("no run '{}'", run_id), ErrorCode::kNotFound};
  if (recorded->refusal != store::AppendRefusal::None) {
    return Error{fmt::format("run '{}' is already {}", run_id, store::StatusName(recorded->run->status))};
  }
  return ResumeRun(runtime, run_id);
}

}  // namespace flow::engine
