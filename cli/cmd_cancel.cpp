// `flow cancel RUN_ID [--json] [--db PATH]`
//
// Cancels a running or waiting run (SPEC §4, §5): its registered
// compensations run newest first, durably and with retries, then its status
// becomes `cancelled` (engine::CancelRun). Like approve/reject/signal, the
// command exits 0 once the cancellation is recorded, whatever the
// compensations' outcomes; those and the new status are in the --json object
// (the run report of `flow run --json`) and in `flow show`.
// An unknown run, or a run that already finished, is bad input (exit 2); a
// store error or a run another live process owns is exit 4.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/runtime.h"
#include "cli/program_loader.h"
#include "cli/record_and_drive.h"
#include "vm/engine/run_driver.h"

namespace flow::cli {
namespace {

struct CancelOptions {
  std::string id;
  std::string db;
  std::string reason = "cancelled by the operator";
  bool json = false;
};

auto RunCancel(const CancelOptions& o) -> int {
  int exit_code = kExitOk;
  auto store = OpenStoreForRun(o.db, o.id, exit_code);
  if (!store) return exit_code;
  auto run = ReadKnownRun(*store, o.id, exit_code);
  if (!run) return exit_code;
  store::RunStatus status = run->status;
  if (status != store::RunStatus::Running && status != store::RunStatus::Waiting) {
    std::fprintf(stderr, "flow: run '%s' is already %s; only a running or waiting run can be cancelled\n",
                 o.id.c_str(), store::StatusName(status));
    return kExitUsage;
  }
  auto report = engine::CancelRun(MakeRuntime(*store), o.id, o.reason);
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  PrintReport(*report, o.json);  // its exit code is 1 (cancelled): the command's is 0
  return kExitOk;
}

}  // namespace

auto RegisterCancel(CLI::App& app) -> Command {
  auto o = std::make_shared<CancelOptions>();
  CLI::App* sub = app.add_subcommand(
      "cancel", "Cancel a running or waiting run: run its compensations, status cancelled");
  sub->add_option("RUN_ID", o->id, "The run to cancel")->required()->check(RunIdCheck());
  sub->add_option("--reason", o->reason, "Recorded as the cancellation's message");
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print one JSON object on stdout");
  return Command{sub, [o] { return RunCancel(*o); }};
}

}  // namespace flow::cli
