// `flow run FILE [--workflow NAME] [--input JSON | --input @file.json]
//            [--id RUN_ID] [--json] [--db PATH]`
//
// Compiles FILE, validates the input against the workflow's parameters,
// then starts the run and drives it in-process (vm/engine/run_driver.h)
// until it completes (exit 0), fails (1) or suspends (3). Everything that
// can be wrong with the command itself -- a compile error, an unknown
// workflow, input that does not fit -- is found before the database is
// opened, so it writes nothing (exit 2). Store problems are exit 4.
// `--id X` makes starting idempotent: an existing run X of the same
// program, workflow and input is reported as it is (its exit code); one of
// another program, workflow or input is exit 2, naming the difference, and
// nothing is printed about it or written.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/runtime.h"
#include "cli/program_loader.h"
#include "vm/bytecode/serialize.h"
#include "vm/engine/input_check.h"
#include "vm/engine/run_driver.h"
#include "vm/schema/json_schema.h"
#include "vm/value/convert.h"

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

// A value as a message shows it: compact JSON, cut after kShownValueChars.
constexpr size_t kShownValueChars = 60;
auto Shown(const nlohmann::json& j) -> std::string {
  std::string text = value::DumpJson(j);
  return text.size() <= kShownValueChars ? text : text.substr(0, kShownValueChars) + "...";
}

// The first place where `stored` (the existing run's input) and `given`
// differ, as "$.amount is 5, not 7" (what the run has, then what was
// given), or "" when they are equal JSON.
auto FirstDifference(const nlohmann::json& stored, const nlohmann::json& given, const std::string& path)
    -> std::string {
  if (stored == given) return "";
  if (stored.is_object() && given.is_object()) {
    for (const auto& [key, value] : stored.items()) {
      const std::string sub = jsonschema::JsonPathMember(path, key);
      if (!given.contains(key)) return fmt::format("{} is {}, not absent", sub, Shown(value));
      if (auto d = FirstDifference(value, given[key], sub); !d.empty()) return d;
    }
    for (const auto& [key, value] : given.items()) {
      if (!stored.contains(key)) {
        return fmt::format("{} is absent, not {}", jsonschema::JsonPathMember(path, key), Shown(value));
      }
    }
  }
  if (stored.is_array() && given.is_array()) {
    if (stored.size() != given.size()) {
      return fmt::format("{} has {} element{}, not {}", path, stored.size(), stored.size() == 1 ? "" : "s",
                         given.size());
    }
    for (size_t i = 0; i < stored.size(); ++i) {
      if (auto d = FirstDifference(stored[i], given[i], fmt::format("{}[{}]", path, i)); !d.empty()) return d;
    }
  }
  return fmt::format("{} is {}, not {}", path, Shown(stored), Shown(given));
}

// Why run `existing` is not the run `flow run --id` asked for: another
// program, workflow or input (one line, the difference named), or "" when
// it is that run.
auto Mismatch(const store::RunRecord& existing, const LoadedProgram& program, const std::string& workflow,
              const nlohmann::json& input) -> std::string {
  const std::string& id = existing.id;
  if (existing.workflow != workflow) {
    return fmt::format("run '{}' exists for workflow '{}', not '{}'", id, existing.workflow, workflow);
  }
  const std::string hash = bytecode::ModuleHash(program.module);
  if (existing.program_hash != hash) {
    return fmt::format(
        "run '{}' exists with a different program (it runs program {}, this file compiles to {}); "
        "choose another --id",
        id, existing.program_hash.substr(0, 12), hash.substr(0, 12));
  }
  auto stored = nlohmann::json::parse(existing.input, nullptr, false);
  if (auto d = FirstDifference(stored, input, "$"); !d.empty()) {
    return fmt::format("run '{}' exists with a different input: {}", id, d);
  }
  return "";
}

// `flow run --id X` of an existing run X: its report, or exit 2 when it is
// not the run asked for.
auto ReportExisting(store::Store& store, const store::RunRecord& existing, const LoadedProgram& program,
                    const std::string& workflow, const nlohmann::json& input, bool json) -> int {
  if (auto why = Mismatch(existing, program, workflow, input); !why.empty()) {
    std::fprintf(stderr, "flow: %s\n", why.c_str());
    return kExitUsage;
  }
  auto report = engine::ReportRun(store, existing);
  if (!report) {
    std::fprintf(stderr, "flow: %s\n", report.error().message.c_str());
    return kExitInternal;
  }
  return PrintReport(*report, json);
}

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
  const std::string& name = program->module.functions[fn].name;
  if (!o.id.empty()) {
    auto existing = (*store)->GetRun(o.id);
    if (!existing) {
      std::fprintf(stderr, "flow: %s\n", existing.error().message.c_str());
      return kExitInternal;
    }
    if (*existing) return ReportExisting(**store, **existing, *program, name, *input, o.json);
  }
  auto report = engine::StartRun(MakeRuntime(**store, *options), program->bytes, name, *input, o.id);
  if (!report && !o.id.empty() && report.error().code == ErrorCode::kAlreadyExists) {
    // Another `flow run --id` created it between our look and our start.
    auto existing = (*store)->GetRun(o.id);
    if (existing && *existing) return ReportExisting(**store, **existing, *program, name, *input, o.json);
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
  sub->add_option("--id", o->id, "The run id; an existing run with this id is reported, not restarted")->check(NewRunIdCheck());
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "Print one JSON object describing the run on stdout");
  return Command{sub, [o] { return RunRun(*o); }};
}

}  // namespace flow::cli
