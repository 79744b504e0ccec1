// See due_runs.h.
#include "cli/due_runs.h"
#include "cli/runtime.h"

#include "vm/engine/lease.h"

namespace flow::cli {

auto ListDueRuns(store::Store& store, int64_t now_ms) -> Result<std::vector<store::RunRecord>> {
  auto runs = store.ListDue(now_ms);
  if (!runs) return runs.error();
  const std::string owner = engine::ThisLeaseOwner();
  std::vector<store::RunRecord> due;
  for (auto& r : *runs) {
    if (engine::LeaseTakeable(r, owner, now_ms)) due.push_back(std::move(r));
  }
  return due;
}

auto DriveDueRun(store::Store& store, const std::string& id, const engine::EngineOptions& options) -> DueOutcome {
  DueOutcome out;
  out.run = id;
  auto report = engine::ResumeRun(MakeRuntime(store, options), id);
  if (report) {
    out.report = std::move(*report);
  } else if (engine::IsLeaseConflict(report.error()) || report.error().code == ErrorCode::kInterrupted) {
    out.skipped = true;
    out.error = report.error().message;
  } else {
    out.error = report.error().message;
  }
  return out;
}

}  // namespace flow::cli
