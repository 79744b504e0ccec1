// `flow resume RUN_ID [--json] [--db PATH]` and `flow resume --all`
//
// Continues a run from its last durable point (vm/engine/run_driver.h): a
// step in flight is resent with its idempotency key, a recorded decision,
// signal or due timer is delivered, a completed run is just reported.
// Exit codes as `flow run`; an unknown run id is bad input (2).
// `--all` makes one pass of `flow worker --once` (due_runs.h): every run
// that is `running` with a dead owner (interrupted) or `waiting` with a due
// time (timer, retry, wait timeout); it exits 0 unless one of them hit a
// store error (4); with --json it prints {"runs": [report...]}. A run a
// live process drives is left to it (with a note on stderr when that
// process took it between our look and our try).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/runtime.h"
#include "cli/due_runs.h"
#include "cli/run_report.h"
#include "cli/program_loader.h"
#include "cli/record_and_drive.h"
#include "vm/engine/run_driver.h"
#include "vm/value/convert.h"

namespace flow::cli {
namespace {

struct ResumeOptions {
  std::string id;
  std::string db;
  bool all = false;
  bool json = false;
};

auto ResumeOne(store::Store& store, const std::string& id, bool json, const engine::EngineOptions& options) -> int {
  int exit_code = kExitOk;
  if (!ReadKnownRun(store, id, exit_code)) return exit_code;
  auto report = engine::ResumeRun(MakeRuntime(store, options), id);
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  return PrintReport(*report, json);
}

auto ResumeAll(store::Store& store, bool json, const engine::EngineOptions& options) -> int {
  auto due = ListDueRuns(store, engine::NowMs());
  if (!due) {
    std::fprintf(stderr, "flow: %s\n", due.error().message.c_str());
    return kExitInternal;
  }
  int exit_code = kExitOk;
  auto reports = nlohmann::json::array();
  for (const auto& r : *due) {
    DueOutcome done = DriveDueRun(store, r.id, options);
    if (done.skipped) {
      std::fprintf(stderr, "flow: skipped: %s\n", done.error.c_str());  // its owner drives it
    } else if (!done.report) {
      std::fprintf(stderr, "flow: %s: %s\n", ShownId(r.id).c_str(), done.error.c_str());
      exit_code = kExitInternal;
    } else if (json) {
      reports.push_back(done.report->ToJson());
    } else {
      PrintReport(*done.report, false);
    }
  }
  if (json) std::printf("%s\n", value::DumpJson(nlohmann::json{{"runs", reports}}).c_str());
  return exit_code;
}

auto RunResume(const ResumeOptions& o) -> int {
  auto options = EngineOptionsFromEnvironment();
  if (!options) {
    std::fprintf(stderr, "flow: %s\n", options.error().message.c_str());
    return kExitUsage;
  }
  if (o.all == !o.id.empty()) {
    std::fprintf(stderr, "flow: resume needs exactly one of RUN_ID and --all; see 'flow --help'\n");
    return kExitUsage;
  }
  // Without a database there is no run to resume: say so without creating one.
  auto store = OpenStore(o.db, /*existing_only=*/true);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  if (!*store) {
    if (o.all) {
      if (o.json) std::printf("{\"runs\":[]}\n");
      return kExitOk;
    }
    std::fprintf(stderr, "flow: unknown run '%s' (no database at '%s')\n", o.id.c_str(), DatabasePath(o.db).c_str());
    return kExitUsage;
  }
  return o.all ? ResumeAll(**store, o.json, *options) : ResumeOne(**store, o.id, o.json, *options);
}

}  // namespace

auto RegisterResume(CLI::App& app) -> Command {
  auto o = std::make_shared<ResumeOptions>();
  CLI::App* sub = app.add_subcommand("resume", "Continue an interrupted or due run from its last durable point");
  sub->add_option("RUN_ID", o->id, "The run to resume")->check(RunIdCheck());
  sub->add_flag("--all", o->all, "Resume every interrupted or due run");
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print one JSON object on stdout");
  return Command{sub, [o] { return RunResume(*o); }};
}

}  // namespace flow::cli
