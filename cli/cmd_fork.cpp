// `flow fork RUN_ID --from CHECKPOINT [--input JSON] [--id NEW_ID] [--json] [--db PATH]`
//
// Starts a new run of RUN_ID's stored program from the VM state saved at its
// checkpoint CHECKPOINT (engine::ForkRun, run_driver.h), and drives it like
// `flow run`: same report, same exit codes. The new run's journal opens with
// `started` naming its origin ({"forked_from": {"run", "checkpoint"}}).
//
// --input: the checkpoint's state already holds the workflow's parameters
// (and everything computed from them), so a fork cannot take other input.
// The option is accepted as a statement of the input expected: equal (as
// JSON) to the original run's input, it is fine; different, it is bad input
// (exit 2) with the reason, rather than silently ignored (docs/cli.md).
//
// Exit 2 for an unknown run, an unknown checkpoint (naming the run's
// checkpoints), a different --input, or an --id taken by another run; a
// second `fork --id X` of the same run and checkpoint reports run X.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/runtime.h"
#include "cli/program_loader.h"
#include "compiler/diag/suggest.h"
#include "vm/engine/run_driver.h"
#include "vm/value/convert.h"

namespace flow::cli {
namespace {

struct ForkOptions {
  std::string run;
  std::string from;
  std::string input;
  std::string id;
  std::string db;
  bool json = false;
};

// "run 'r' has no checkpoint 'x'; did you mean 'y'? (its checkpoints: 'a', 'y')"
auto NoCheckpoint(const std::string& run, const std::string& name, const std::vector<store::Checkpoint>& all)
    -> std::string {
  std::vector<std::string> names;
  for (const auto& c : all) {
    if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
  }
  std::string msg = fmt::format("run '{}' has no checkpoint '{}'", run, name);
  if (names.empty()) return msg + " (it has no checkpoints)";
  msg += DidYouMean(name, names);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
  return msg + " (its checkpoints: " + list + ")";
}

// The usage checks that need the store: nullopt when the fork may start,
// else the exit code after printing the reason.
auto CheckSource(store::Store& store, const ForkOptions& o) -> std::optional<int> {
  auto source = store.GetRun(o.run);
  if (!source) {
    std::fprintf(stderr, "flow: %s\n", source.error().message.c_str());
    return kExitInternal;
  }
  if (!*source) {
    std::fprintf(stderr, "flow: unknown run '%s'\n", o.run.c_str());
    return kExitUsage;
  }
  auto checkpoints = store.Checkpoints(o.run);
  if (!checkpoints) {
    std::fprintf(stderr, "flow: %s\n", checkpoints.error().message.c_str());
    return kExitInternal;
  }
  bool found = std::any_of(checkpoints->begin(), checkpoints->end(), [&](const auto& c) { return c.name == o.from; });
  if (!found) {
    std::fprintf(stderr, "flow: %s\n", NoCheckpoint(o.run, o.from, *checkpoints).c_str());
    return kExitUsage;
  }
  if (o.input.empty()) return std::nullopt;
  auto input = ReadInput(o.input);
  if (!input) {
    std::fprintf(stderr, "flow: invalid input: %s\n", input.error().message.c_str());
    return kExitUsage;
  }
  auto original = nlohmann::json::parse((*source)->input, nullptr, false);
  if (*input != original) {
    std::fprintf(stderr,
                 "flow: invalid input: a fork continues from the state of checkpoint '%s', which already holds "
                 "the input of run '%s' (%s); start a new run with 'flow run' for other input\n",
                 o.from.c_str(), o.run.c_str(), (*source)->input.c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

// `--id X` of an existing run: reported when it is this same fork, else exit 2.
auto ReportExisting(store::Store& store, const store::RunRecord& existing, const ForkOptions& o) -> int {
  auto journal = store.Journal(existing.id);
  if (!journal) {
    std::fprintf(stderr, "flow: %s\n", journal.error().message.c_str());
    return kExitInternal;
  }
  nlohmann::json origin;
  if (!journal->empty()) {
    auto started = nlohmann::json::parse(journal->front().data, nullptr, false);
    if (started.is_object()) origin = started.value("forked_from", nlohmann::json());
  }
  if (origin != nlohmann::json{{"run", o.run}, {"checkpoint", o.from}}) {
    std::fprintf(stderr, "flow: run '%s' already exists and is not a fork of run '%s' at checkpoint '%s'\n",
                 o.id.c_str(), o.run.c_str(), o.from.c_str());
    return kExitUsage;
  }
  auto report = engine::ReportRun(store, existing);
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  return PrintReport(*report, o.json);
}

auto RunFork(const ForkOptions& o) -> int {
  auto options = EngineOptionsFromEnvironment();
  if (!options) {
    std::fprintf(stderr, "flow: %s\n", options.error().message.c_str());
    return kExitUsage;
  }
  // Without a database there is no run to fork: say so without creating one.
  auto store = OpenStore(o.db, /*existing_only=*/true);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  if (!*store) {
    std::fprintf(stderr, "flow: unknown run '%s' (no database at '%s')\n", o.run.c_str(), DatabasePath(o.db).c_str());
    return kExitUsage;
  }
  if (auto exit_code = CheckSource(**store, o)) return *exit_code;
  if (!o.id.empty()) {
    auto existing = (*store)->GetRun(o.id);
    if (!existing) {
      std::fprintf(stderr, "flow: %s\n", existing.error().message.c_str());
      return kExitInternal;
    }
    if (*existing) return ReportExisting(**store, **existing, o);
  }
  auto report = engine::ForkRun(MakeRuntime(**store, *options), o.run, o.from, o.id);
  if (!report && !o.id.empty() && report.error().code == ErrorCode::kAlreadyExists) {
    // Another `flow fork --id` created it between our look and our start.
    auto existing = (*store)->GetRun(o.id);
    if (existing && *existing) return ReportExisting(**store, **existing, o);
  }
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  return PrintReport(*report, o.json);
}

}  // namespace

auto RegisterFork(CLI::App& app) -> Command {
  auto o = std::make_shared<ForkOptions>();
  CLI::App* sub = app.add_subcommand(
      "fork", "Start a new run from the state a checkpoint of another run saved; exit codes as 'flow run'");
  sub->add_option("RUN_ID", o->run, "The run to fork")->required()->check(RunIdCheck());
  sub->add_option("--from", o->from, "The checkpoint to start from (the run's latest of that name)")->required();
  sub->add_option("--input", o->input,
                  "The original run's input (JSON or @file.json): a fork cannot take other input");
  sub->add_option("--id", o->id, "The new run's id; an existing fork with this id is reported, not restarted")->check(NewRunIdCheck());
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print one JSON object describing the new run on stdout");
  return Command{sub, [o] { return RunFork(*o); }};
}

}  // namespace flow::cli
