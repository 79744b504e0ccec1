// The shape every `flow` subcommand has: one cmd_<name>.cpp per subcommand,
// each exporting a Register function that adds its CLI11 subcommand and
// options to the top-level app and returns the Run closure main calls when
// that subcommand was chosen. main.cpp lists the Register functions in one
// table (kCommands) and knows nothing else about any command.
//
// Exit codes are the contract of SPEC §5; the constants below name them so no
// command writes a bare number.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace flow::cli {

constexpr int kExitOk = 0;        // success, completed, or nothing wrong found
constexpr int kExitFailed = 1;    // workflow failed, or check found errors
constexpr int kExitUsage = 2;     // usage error, invalid input, compile error in run
constexpr int kExitWaiting = 3;   // the run is suspended
constexpr int kExitInternal = 4;  // store or internal error

struct Command {
  CLI::App* app = nullptr;     // the registered subcommand
  std::function<int()> run;    // called after parsing when `app` was chosen
};

// The check every RUN_ID argument and --id option carries
// (`->check(RunIdCheck())`): an id outside the rule of vm/engine/run_id.h
// fails parsing with that rule's one-line reason, which main turns into
// exit 2 before the command runs.
auto RunIdCheck() -> CLI::Validator;
// The check of an id chosen for a new run (`--id` of run and fork):
// CheckNewRunId, which also refuses `/` (child runs' ids).
auto NewRunIdCheck() -> CLI::Validator;

// Adds `flow approve`, `flow reject` (cmd_approve.cpp), `flow signal`, `flow inbox`.
auto RegisterApprove(CLI::App& app) -> Command;
auto RegisterReject(CLI::App& app) -> Command;
auto RegisterSignal(CLI::App& app) -> Command;
auto RegisterInbox(CLI::App& app) -> Command;
// Adds `flow check` to `app`.
auto RegisterCancel(CLI::App& app) -> Command;
auto RegisterCheck(CLI::App& app) -> Command;
// Adds `flow compile`, `flow disasm`, `flow run`, `flow resume`.
auto RegisterCompile(CLI::App& app) -> Command;
auto RegisterDisasm(CLI::App& app) -> Command;
auto RegisterRun(CLI::App& app) -> Command;
auto RegisterResume(CLI::App& app) -> Command;
// Adds `flow fork` (cmd_fork.cpp) and `flow worker` (cmd_worker.cpp).
auto RegisterFork(CLI::App& app) -> Command;
auto RegisterWorker(CLI::App& app) -> Command;
// Adds `flow fmt` (cmd_fmt.cpp), `flow graph` (cmd_graph.cpp) and `flow lsp`
// (cmd_lsp.cpp): the editor tools of docs/editors.md.
auto RegisterFmt(CLI::App& app) -> Command;
auto RegisterGraph(CLI::App& app) -> Command;
auto RegisterLsp(CLI::App& app) -> Command;
// Adds `flow runs` to `app`.
auto RegisterRuns(CLI::App& app) -> Command;
// Adds `flow show` to `app`.
auto RegisterShow(CLI::App& app) -> Command;

}  // namespace flow::cli
