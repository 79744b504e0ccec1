// What `run`, `resume`, `fork`, `compile` and `disasm` share: turning a
// FILE into a verified, serialised Module (compiling a .flow, or reading a
// .flowc), choosing the workflow, reading --input, opening the store, and
// printing a run report with its exit code (SPEC §5).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vm/bytecode/module.h"
#include "vm/engine/run_driver.h"
#include "vm/store/store.h"

namespace flow::cli {

struct LoadedProgram {
  bytecode::Module module;
  std::string bytes;   // SerializeModule(module)
  std::string source;  // the .flow text ("" for a .flowc)
};

// Compiles FILE (.flow; diagnostics to stderr, warnings included) or reads
// it (.flowc). nullopt after printing the reason: `exit_code` is 2 for an
// unreadable file or a compile error (`compile_error_exit` for the latter).
auto LoadProgram(const std::string& path, int& exit_code, int compile_error_exit = 2)
    -> std::optional<LoadedProgram>;

// The workflow to run: `name`, or the only one. -1 after printing the
// reason (unknown name with a did-you-mean, none, or several).
auto PickWorkflow(const bytecode::Module& module, const std::string& path, const std::string& name) -> int;

// The --input option of `run` and `fork`: a JSON object as text, or
// @file.json to read it from a file (at most 16 MiB). An Error with the
// reason for unreadable, oversized, malformed or non-object input.
auto ReadInput(const std::string& option) -> Result<nlohmann::json>;

// The engine's options for every command that drives a run, from the
// environment (docs/cli.md, "Limits"): FLOW_MAX_INSTRUCTIONS, the
// instruction budget of one stretch of pure code, and FLOW_MAX_MEMORY_MB,
// the memory cap of a run's values, each a positive integer when set (an
// Error naming the variable for any other value, exit 2); and
// FLOW_RESUME_STRESS=1, resume stress (STYLE §6: the golden tests run
// every tests/run file both ways).
auto EngineOptionsFromEnvironment() -> Result<engine::EngineOptions>;

// The database: --db, else $FLOW_DB, else ./flow.db; a file path or a URL
// (sqlite:PATH, vm/store/open_store.h; main.cpp refuses any other scheme
// before a command runs).
auto DatabasePath(const std::string& option) -> std::string;
// Opens it with store::OpenStore. With `existing_only`, a database that
// does not exist yet is not created: the result is nullptr.
auto OpenStore(const std::string& option, bool existing_only = false) -> Result<std::unique_ptr<store::Store>>;

// The exit code of a run in this state: 0 completed, 1 failed/cancelled,
// 3 waiting or still running elsewhere.
auto ExitCodeFor(store::RunStatus status) -> int;

// Prints the report on stdout (`json`: one object; else a human line, and
// one more per compensation) and returns ExitCodeFor its status.
auto PrintReport(const engine::RunReport& report, bool json) -> int;

}  // namespace flow::cli
