// `flow cancel RUN_ID [--reason TEXT] [--json] [--db PATH]`
//
// Cancels a running or waiting run (SPEC §4, §5). First the cancellation
// is recorded (engine::RequestCancel: a `cancel_requested` event and the
// run row's marker, one transaction, without the lease), so that nothing
// can un-cancel the run afterwards: whoever drives it next -- this command
// right away, or, if it is killed, `flow resume`, `flow worker` or another
// `flow cancel` -- runs the remaining compensations newest first and ends
// it `cancelled`. A run that another live process drives is left to that
// process, which stops at its next durable point (or sooner in a long
// stretch of pure code) and compensates; this command waits up to
// kHandOffWait for that, never longer. Like approve/reject/signal, it exits
// 0 once the cancellation is recorded, whatever the compensations' outcomes;
// those and the new status are in the --json object (the run report of
// `flow run --json`) and in `flow show`. An unknown run, or a run that
// already finished, is bad input (exit 2); a store error is exit 4.
#include <cstdio>
#include <memory>

#include "cli/command.h"
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
  auto out = engine::RequestCancel(*store, o.id, o.reason);
  if (auto exit = AppendFailureExit(out, o.id)) return *exit;
  if (out->refusal != store::AppendRefusal::None) {
    std::fprintf(stderr, "flow: run '%s' is already %s; only a running or waiting run can be cancelled\n",
                 o.id.c_str(), store::StatusName(out->run->status));
    return kExitUsage;
  }
  std::fprintf(stderr, "run %s: cancellation recorded\n", o.id.c_str());
  return DriveRecordedRun(*store, o.id, "cancellation", o.json, /*wait_for_running=*/true);
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
