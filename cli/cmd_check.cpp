// `flow check FILE... [--format text|json] [--werror] [--dump-ast] [--timings]`
//
// Type-checks each file (SPEC §2.6) and reports every problem at once:
// GCC-style text on stderr, or with `--format json` one JSON array holding
// the diagnostics of all files on stdout. Exit codes (SPEC §5): 0 when no
// file has errors (warnings alone are fine unless --werror), 1 when one has,
// 2 when a FILE cannot be read at all — the worst outcome over all files
// wins, and every file is still checked.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "compiler/ast/ast.h"
#include "compiler/driver/compile.h"

namespace flow::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> files;
  std::string format = "text";
  bool werror = false;
  bool dump_ast = false;
  bool timings = false;
};

// The outcome of checking one file: its diagnostics as JSON (json mode) and
// the exit code it alone would give.
struct FileOutcome {
  nlohmann::json diagnostics = nlohmann::json::array();
  int exit_code = kExitOk;
};

// Writes all of `text`; fputs would stop at a NUL byte quoted from the source.
void Write(std::FILE* stream, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stream);
}

auto CheckOne(const std::string& path, const CheckOptions& options) -> FileOutcome {
  const bool json = options.format == "json";
  SourceManager sources;
  Diagnostics diags;
  diags.set_werror(options.werror);
  PhaseTimings timings;
  auto program = CheckFile(path, sources, diags, options.timings ? &timings : nullptr);

  FileOutcome outcome;
  if (!program.ok()) {
    // The file itself could not be read: one line, exit 2. JSON mode still
    // reports it as a diagnostic (E010) without a position.
    if (!json) std::fprintf(stderr, "flow: %s\n", program.error().message.c_str());
    diags.Report(DiagKind::FileUnreadable, SourceRange{}, program.error().message);
    outcome.exit_code = kExitUsage;
  } else {
    outcome.exit_code = diags.has_errors() ? kExitFailed : kExitOk;
    if (options.dump_ast && *program) Write(stdout, ast::DumpAst((*program)->ast));
    if (!json) Write(stderr, RenderText(diags, sources));
  }
  if (json) {
    outcome.diagnostics = nlohmann::json::parse(RenderJson(diags, sources));
    // An unreadable file has no position, but a tool still wants its name.
    for (auto& item : outcome.diagnostics) {
      if (item["file"].is_null()) item["file"] = path;
    }
  }
  if (options.timings && program.ok()) {
    std::fprintf(stderr, "flow: timings: %s: parse %.6f s, check %.6f s\n", path.c_str(),
                 timings.parse, timings.check);
  }
  return outcome;
}

auto RunCheck(const CheckOptions& options) -> int {
  const bool json = options.format == "json";
  if (json && options.dump_ast) {
    std::fprintf(stderr, "flow: --dump-ast cannot be combined with --format json\n");
    return kExitUsage;
  }
  auto all = nlohmann::json::array();
  int exit_code = kExitOk;
  for (const std::string& path : options.files) {
    FileOutcome outcome = CheckOne(path, options);
    exit_code = std::max(exit_code, outcome.exit_code);
    for (auto& item : outcome.diagnostics) all.push_back(std::move(item));
  }
  if (json) {
    Write(stdout, all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  return exit_code;
}

}  // namespace

auto RegisterCheck(CLI::App& app) -> Command {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* sub = app.add_subcommand(
      "check",
      "Type-check .flow files and their connector calls; exit 0 when clean, 1 on errors, "
      "2 when a file cannot be read");
  sub->add_option("FILE", options->files, "The .flow files to check")->required();
  sub->add_option("--format", options->format,
                  "text: GCC-style diagnostics on stderr (default); json: one JSON array on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--werror", options->werror, "Treat warnings as errors");
  sub->add_flag("--dump-ast", options->dump_ast, "Print the syntax tree of each file on stdout");
  sub->add_flag("--timings", options->timings,
                "Print the seconds spent parsing and checking each file on stderr");
  return Command{sub, [options] { return RunCheck(*options); }};
}

}  // namespace flow::cli
