// `flow lsp`
//
// Serves the Language Server Protocol on stdin/stdout until the client says
// `exit` or closes stdin (cli/lsp/server.h; docs/editors.md lists what it
// answers). The VS Code extension in editors/vscode starts it. Nothing else
// may write to stdout meanwhile: it carries the protocol. Exit 0 after
// `shutdown` then `exit`, 1 when the client stopped without `shutdown`.
#include <csignal>
#include <memory>

#include "cli/command.h"
#include "cli/lsp/server.h"

namespace flow::cli {

auto RegisterLsp(CLI::App& app) -> Command {
  CLI::App* sub = app.add_subcommand(
      "lsp", "Run the Language Server on stdin/stdout (the VS Code extension starts it)");
  return Command{sub, [] {
                   // A client that goes away mid-write must not kill us with
                   // SIGPIPE: the write fails and the server stops cleanly.
                   std::signal(SIGPIPE, SIG_IGN);
                   lsp::Server server(0, 1);
                   return server.Run();
                 }};
}

}  // namespace flow::cli
