// The run-id check of the command line (command.h RunIdCheck): every
// RUN_ID argument and --id option goes through engine::CheckRunId before a
// command runs, so an id outside the rule of docs/security.md is a usage
// error (exit 2, one line) and never reaches the database, a header or a
// terminal unescaped.
#include "cli/command.h"
#include "vm/engine/run_id.h"

namespace flow::cli {

auto RunIdCheck() -> CLI::Validator {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        auto ok = engine::CheckRunId(id);
        return ok ? std::string() : ok.error().message;
      },
      "RUN_ID", "run id");
}

auto NewRunIdCheck() -> CLI::Validator {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        auto ok = engine::CheckNewRunId(id);
        return ok ? std::string() : ok.error().message;
      },
      "RUN_ID", "run id");
}

}  // namespace flow::cli
