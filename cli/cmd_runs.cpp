// `flow runs [--status S] [--json] [--db PATH]`
//
// Lists the runs of the database, newest first (SPEC §5). Human text is a
// table on stdout (a report: `flow runs | grep waiting` works); with --json exactly one object on stdout:
//   {"runs": [{"run", "workflow", "parent", "status", "waiting", "created", "updated"}]}
// ("parent": the run a child run was started by, docs/composition.md; null
// for a top-level run).
// A missing database lists nothing and creates nothing. Exit codes: 0 listed
// (even when empty), 2 an unknown --status, 4 a database that is not flow's,
// is newer, or cannot be read (the file is left untouched).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "cli/run_report.h"

namespace flow::cli {
namespace {

constexpr const char* kValidStatuses = "running waiting completed failed cancelled";

struct RunsOptions {
  std::string status;
  bool json = false;
  std::string db;
};

// One table row per run; columns padded to their widest cell.
void PrintTable(const std::vector<store::RunRecord>& runs) {
  if (runs.empty()) {
    std::fputs("no runs\n", stdout);
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"RUN", "WORKFLOW", "STATUS", "WAITING", "CREATED", "UPDATED", "PARENT"}};
  for (const store::RunRecord& run : runs) {
    rows.push_back({ShownId(run.id), run.workflow, store::StatusName(run.status),
                    run.status == store::RunStatus::Waiting ? run.waiting_reason : "-", FormatMs(run.created_ms),
                    FormatMs(run.updated_ms), run.parent_id.empty() ? "-" : ShownId(run.parent_id)});
  }
  PrintColumns(rows);
}

auto RunRuns(const RunsOptions& options) -> int {
  std::optional<store::RunStatus> filter;
  if (!options.status.empty()) {
    filter = store::ParseStatus(options.status);
    if (!filter) {
      std::fprintf(stderr, "flow: unknown status '%s'; expected one of: %s\n", options.status.c_str(),
                   kValidStatuses);
      return kExitUsage;
    }
  }
  auto store = OpenStoreForReading(options.db);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  std::vector<store::RunRecord> runs;
  if (*store) {
    auto listed = (*store)->ListRuns(filter);
    if (!listed) {
      std::fprintf(stderr, "flow: cannot list runs in '%s': %s\n", DatabasePath(options.db).c_str(), listed.error().message.c_str());
      return kExitInternal;
    }
    runs = std::move(*listed);
  }
  if (options.json) {
    Json list = Json::array();
    for (const store::RunRecord& run : runs) list.push_back(RunSummaryJson(run));
    PrintJsonLine({{"runs", list}});
  } else {
    PrintTable(runs);
  }
  return kExitOk;
}

}  // namespace

auto RegisterRuns(CLI::App& app) -> Command {
  auto options = std::make_shared<RunsOptions>();
  CLI::App* sub = app.add_subcommand("runs", "List runs, newest first");
  sub->add_option("--status", options->status,
                  fmt::format("Only runs with this status ({})", kValidStatuses));
  sub->add_flag("--json", options->json, "Print one JSON object on stdout");
  AddDbOption(*sub, options->db);
  return Command{sub, [options] { return RunRuns(*options); }};
}

}  // namespace flow::cli
