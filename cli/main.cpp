// The `flow` binary: parses the command line with CLI11, dispatches to the
// chosen subcommand (cli/cmd_<name>.cpp, see command.h) and maps every way
// out to the exit codes of SPEC §5: a usage error is 2, an exception that
// escapes a command is an internal error (4) reported in one line.
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/program_loader.h"
#include "vm/base/version.h"
#include "vm/store/open_store.h"

namespace flow::cli {
namespace {

// Every subcommand, in the order `flow --help` lists them. A new command adds
// its cmd_<name>.cpp, declares its Register function in command.h and one
// line here.
using RegisterFn = auto (*)(CLI::App&) -> Command;
constexpr RegisterFn kCommands[] = {
    RegisterApprove,
    RegisterCancel,
    RegisterCheck,
    RegisterCompile,
    RegisterDisasm,
    RegisterFmt,
    RegisterFork,
    RegisterGraph,
    RegisterInbox,
    RegisterLsp,
    RegisterRun,
    RegisterResume,
    RegisterReject,
    RegisterRuns,
    RegisterShow,
    RegisterSignal,
    RegisterWorker,
};

// A command that opens the database (it has --db): the --db / FLOW_DB
// text must name a store flow has (a path or sqlite:PATH). Checked here,
// once, before the command runs: another scheme is a usage error (exit 2).
auto CheckDatabaseUrl(const CLI::App& command) -> std::optional<int> {
  const CLI::Option* db = command.get_option_no_throw("--db");
  if (db == nullptr) return std::nullopt;
  std::string option = db->count() > 0 ? db->as<std::string>() : "";
  auto location = store::ParseStoreUrl(DatabasePath(option));
  if (location) return std::nullopt;
  std::fprintf(stderr, "flow: %s\n", location.error().message.c_str());
  return kExitUsage;
}

auto Main(int argc, char** argv) -> int {
  CLI::App app{"flow: a typed workflow language with a durable runtime", "flow"};
  app.set_version_flag("--version", FlowVersion(), "Print the version of flow and exit");
  app.require_subcommand(1);
  app.fallthrough(false);
  std::vector<Command> commands;
  for (RegisterFn add : kCommands) commands.push_back(add(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0 in CLI11.
    if (e.get_exit_code() == 0) return app.exit(e);
    // A usage error: one line (SPEC §5), then where to read more.
    std::fprintf(stderr, "flow: %s; see 'flow --help'\n", e.what());
    return kExitUsage;
  }
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    if (auto refused = CheckDatabaseUrl(*command.app)) return *refused;
    return command.run();
  }
  return kExitUsage;  // unreachable: require_subcommand(1) enforces a choice
}

}  // namespace
}  // namespace flow::cli

auto main(int argc, char** argv) -> int {
  try {
    return flow::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flow: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "flow: internal error: unknown exception\n");
  }
  return flow::cli::kExitInternal;
}
