// What `flow resume --all` and `flow worker` share: finding the runs that
// are due (SPEC §4 "Who drives a run") and driving one of them.
//
// A run is due when it is `waiting` and its wake_at_ms has passed (a timer,
// a long retry backoff, an approval or signal wait whose timeout passed), or
// when it is `running` and this process could take its lease (its owner's
// pid is gone on this host, or its lease expired on another). Runs a live
// process drives are left out without writing anything, so polling them
// costs one read. Driving is engine::ResumeRun, which takes the lease in a
// transaction: two processes never drive the same run, whatever they saw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vm/base/result.h"
#include "vm/engine/run_driver.h"
#include "vm/store/store.h"

namespace flow::cli {

// The runs due at `now_ms` that this process may take, running runs first,
// then soonest due first (Store::ListDue filtered by engine::LeaseTakeable).
auto ListDueRuns(store::Store& store, int64_t now_ms) -> Result<std::vector<store::RunRecord>>;

// How driving one due run went: exactly one of `report` (driven until it
// let go: completed, failed, or waiting again), `skipped` (another live
// process took the lease first: its owner drives it) or `error` (a store
// or internal problem, or a journal that does not match the program).
struct DueOutcome {
  std::string run;
  std::optional<engine::RunReport> report;
  bool skipped = false;
  std::string error;
};

// Drives run `id` with engine::ResumeRun on `store`. A run let go because
// the process is stopping (options.stop) is `skipped`.
auto DriveDueRun(store::Store& store, const std::string& id, const engine::EngineOptions& options) -> DueOutcome;

}  // namespace flow::cli
