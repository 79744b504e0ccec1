// See record_and_drive.h.
#include "cli/record_and_drive.h"
#include "cli/runtime.h"

#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "vm/engine/lease.h"
#include "vm/engine/run_driver.h"

namespace flow::cli {

auto OpenStoreForRun(const std::string& db, const std::string& id, int& exit_code) -> std::unique_ptr<store::Store> {
  auto store = OpenStore(db, /*existing_only=*/true);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    exit_code = kExitInternal;
    return nullptr;
  }
  if (!*store) {
    std::fprintf(stderr, "flow: unknown run '%s' (no database at '%s')\n", id.c_str(), DatabasePath(db).c_str());
    exit_code = kExitUsage;
  }
  return std::move(*store);
}

auto ReadKnownRun(store::Store& store, const std::string& id, int& exit_code) -> std::optional<store::RunRecord> {
  auto run = store.GetRun(id);
  if (!run) {
    std::fprintf(stderr, "flow: %s\n", run.error().message.c_str());
    exit_code = kExitInternal;
    return std::nullopt;
  }
  if (!*run) {
    std::fprintf(stderr, "flow: unknown run '%s'\n", id.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return std::move(**run);
}

auto AppendFailureExit(const Result<store::AppendOutcome>& out, const std::string& id) -> std::optional<int> {
  if (!out) {
    std::fprintf(stderr, "flow: %s\n", out.error().message.c_str());
    return kExitInternal;
  }
  if (out->refusal == store::AppendRefusal::UnknownRun) {
    std::fprintf(stderr, "flow: unknown run '%s'\n", id.c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

namespace {

// The run as the store has it, reported (another process drives it).
auto PrintCurrent(store::Store& store, const store::RunRecord& run, bool json) -> int {
  auto report = engine::ReportRun(store, run);
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  PrintReport(*report, json);
  return kExitOk;
}

}  // namespace

auto DriveRecordedRun(store::Store& store, const std::string& id, const char* what, bool json,
                      bool wait_for_running) -> int {
  auto options = EngineOptionsFromEnvironment();
  if (!options) {
    std::fprintf(stderr, "flow: the %s is recorded, but: %s\n", what, options.error().message.c_str());
    return kExitUsage;
  }
  const auto deadline = std::chrono::steady_clock::now() + (wait_for_running ? kCancelHandOffWait : kHandOffWait);
  for (;;) {
    auto report = engine::ResumeRun(MakeRuntime(store, *options), id);
    if (report) {
      PrintReport(*report, json);
      return kExitOk;
    }
    if (!engine::IsLeaseConflict(report.error())) {
      std::fprintf(stderr, "flow: the %s is recorded, but driving run '%s' failed: %s\n", what, id.c_str(),
                   report.error().message.c_str());
      return kExitInternal;
    }
    auto run = store.GetRun(id);
    if (!run || !*run) {
      std::fprintf(stderr, "flow: %s\n", run ? "the run disappeared" : run.error().message.c_str());
      return kExitInternal;
    }
    const bool finished = (*run)->status != store::RunStatus::Waiting && (*run)->status != store::RunStatus::Running;
    const bool wait = (*run)->status == store::RunStatus::Waiting || (wait_for_running && !finished);
    if (wait && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(kHandOffPoll);
      continue;
    }
    std::fprintf(stderr, "flow: note: %s; the %s is recorded and reaches the run through it or 'flow resume %s'\n",
                 report.error().message.c_str(), what, id.c_str());
    return PrintCurrent(store, **run, json);
  }
}

}  // namespace flow::cli
