// `flow run FILE [--workflow NAME] [--input JSON | --input @file.json]
//            [--id RUN_ID] [--json] [--db PATH]`
//
// Compiles FILE, validates the input against the workflow's parameters,
// then starts the run and drives it in-process (vm/engine/run_driver.h)
// until it completes (exit 0), fails (1) or suspends (3). Everything that
// can be wrong with the command itself -- a compile error, an unknown
// workflow, input that does not fit -- is found before the database is
// opened, so it writes nothing (exit 2). Store problems are exit 4.
// `--id X` makes starting idempotent: an existing run X of the same program
// is reported as it is; one of another program is exit 2.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "vm/bytecode/serialize.h"
#include "vm/engine/input_check.h"
#include "vm/engine/run_driver.h"

namespace flow::cli {
namespace {

struct RunOptions {
  std::string file;
  std::string workflow;
  std::string input = "{}";
  std::string id;
  std::string db;
  bool json = false;
};

auto RunRun(const RunOptions& o) -> int {
  auto options = EngineOptionsFromEnvironment();
  if (!options) {
    std::fprintf(stderr, "flow: %s\n", options.error().message.c_str());
    return kExitUsage;
  }
  int exit_code = kExitUsage;
  auto program = LoadProgram(o.file, exit_code);
  if (!program) return exit_code;
  int fn = PickWorkflow(program->module, o.file, o.workflow);
  if (fn < 0) return kExitUsage;
  auto input = ReadInput(o.input);
  if (!input) {
    std::fprintf(stderr, "flow: invalid input: %s\n", input.error().message.c_str());
    return kExitUsage;
  }
  if (auto s = engine::ValidateInput(program->module, static_cast<uint32_t>(fn), *input); !s) {
    std::fprintf(stderr, "flow: invalid input: %s\n", s.error().message.c_str());
    return kExitUsage;
  }
  auto store = OpenStore(o.db);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  if (!o.id.empty()) {
    auto existing = (*store)->GetRun(o.id);
    if (!existing) {
      std::fprintf(stderr, "flow: %s\n", existing.error().message.c_str());
      return kExitInternal;
    }
    if (*existing) {
      if ((*existing)->program_hash != bytecode::ModuleHash(program->module)) {
        std::fprintf(stderr, "flow: run '%s' already exists with a different program\n", o.id.c_str());
        return kExitUsage;
      }
      if ((*existing)->workflow != program->module.functions[fn].name) {
        std::fprintf(stderr, "flow: run '%s' already exists for workflow '%s'\n", o.id.c_str(),
                     (*existing)->workflow.c_str());
        return kExitUsage;
      }
      auto report = engine::ReportRun(**store, **existing);
      if (!report) {
        std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
        return kExitInternal;
      }
      return PrintReport(*report, o.json);
    }
  }
  const std::string& name = program->module.functions[fn].name;
  auto report = engine::StartRun(**store, program->bytes, name, *input, o.id, *options);
  if (!report && !o.id.empty() && report.error().message == "run '" + o.id + "' already exists") {
    // Another `flow run --id` created it between our look and our start.
    auto existing = (*store)->GetRun(o.id);
    if (existing && *existing) report = engine::ReportRun(**store, **existing);
  }
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  return PrintReport(*report, o.json);
}

}  // namespace

auto RegisterRun(CLI::App& app) -> Command {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand(
      "run", "Compile a .flow file and run a workflow durably; exit 0 completed, 1 failed, 2 bad input, "
             "3 waiting, 4 store error");
  sub->add_option("FILE", o->file, "The .flow (or .flowc) file")->required();
  sub->add_option("--workflow", o->workflow, "The workflow to run (default: the only one)");
  sub->add_option("--input", o->input, "The input: a JSON object of the parameters, or @file.json");
  sub->add_option("--id", o->id, "The run id; an existing run with this id is reported, not restarted");
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print one JSON object describing the run on stdout");
  return Command{sub, [o] { return RunRun(*o); }};
}

}  // namespace flow::cli
