// flow_parse_bench: times the front end on .flow files (bench/check/run.sh).
//
//   flow_parse_bench [--repeat N] FILE...     best of N parses, lines/s
//   flow_parse_bench --split [--repeat N] FILE
//       best of N parses, best of N whole front ends (driver CheckFile:
//       parse, connector loading, check) and check = front end - parse
//   flow_parse_bench --check FILE
//       one CheckFile, like `flow check` (diagnostics on stderr, exit 1 on
//       errors): what hyperfine times until the CLI exists
//   flow_parse_bench --dump FILE              the AST and the diagnostics
//
// The times are wall-clock seconds inside the process (no startup, no exit).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/driver/compile.h"
#include "compiler/parse/parse.h"
#include "compiler/source/source.h"

namespace {

enum class Mode { Parse, Split, Check, Dump };

auto Now() -> std::chrono::steady_clock::time_point { return std::chrono::steady_clock::now(); }

auto Seconds(std::chrono::steady_clock::time_point since) -> double {
  return std::chrono::duration<double>(Now() - since).count();
}

// Best of `repeat` ParseFile calls; reports the first run's errors.
auto TimeParse(const flow::SourceFile& file, flow::FileId id, int repeat, bool& errors) -> double {
  double best = 1e9;
  for (int r = 0; r < repeat; ++r) {
    flow::Diagnostics diags;
    auto start = Now();
    flow::ast::Ast ast = flow::parse::ParseFile(file, id, diags);
    best = std::min(best, Seconds(start));
    if (r == 0 && diags.has_errors()) {
      std::fprintf(stderr, "%s: %d parse errors\n", file.path().c_str(), diags.error_count());
      errors = true;
    }
  }
  return best;
}

// Best of `repeat` CheckFile calls; prints the first run's diagnostics.
auto TimeCheck(const std::string& path, int repeat, bool print, bool& errors) -> double {
  double best = 1e9;
  for (int r = 0; r < repeat; ++r) {
    flow::SourceManager sources;
    flow::Diagnostics diags;
    auto start = Now();
    auto program = flow::CheckFile(path, sources, diags);
    best = std::min(best, Seconds(start));
    if (!program.ok()) {
      std::fprintf(stderr, "%s\n", program.error().message.c_str());
      std::exit(2);
    }
    if (r > 0) continue;
    if (print) std::fputs(flow::RenderText(diags, sources).c_str(), stderr);
    if (diags.error_count() + diags.warning_count() > 0) {
      std::fprintf(stderr, "%s: %d errors, %d warnings\n", path.c_str(), diags.error_count(),
                   diags.warning_count());
    }
    errors = errors || diags.has_errors();
  }
  return best;
}

auto RunFile(Mode mode, const std::string& path, int repeat) -> int {
  flow::SourceManager sources;
  auto id = sources.Load(path);
  if (!id.ok()) {
    std::fprintf(stderr, "%s\n", id.error().message.c_str());
    return 2;
  }
  const flow::SourceFile& file = sources.file(*id);
  unsigned lines = file.line_count();
  bool errors = false;
  switch (mode) {
    case Mode::Dump: {
      flow::Diagnostics diags;
      flow::ast::Ast ast = flow::parse::ParseFile(file, *id, diags);
      std::fputs(flow::ast::DumpAst(ast, file).c_str(), stdout);
      std::fputs(flow::RenderText(diags, sources).c_str(), stderr);
      return diags.has_errors() ? 1 : 0;
    }
    case Mode::Check:
      TimeCheck(path, 1, true, errors);
      return errors ? 1 : 0;
    case Mode::Parse: {
      double parse = TimeParse(file, *id, repeat, errors);
      const char* how = flow::parse::LastParseMode() == flow::parse::ParseMode::Ll ? "LL" : "SLL";
      std::printf("%s: %u lines, parse %.4f s, %.0f lines/s (%s)\n", path.c_str(), lines, parse,
                  lines / parse, how);
      return errors ? 1 : 0;
    }
    case Mode::Split: {
      double parse = TimeParse(file, *id, repeat, errors);
      double total = TimeCheck(path, repeat, false, errors);
      std::printf("lines %u\nparse_s %.4f\ncheck_s %.4f\ntotal_s %.4f\nlines_per_s %.0f\n", lines,
                  parse, std::max(0.0, total - parse), total, lines / total);
      return errors ? 1 : 0;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Mode mode = Mode::Parse;
  int repeat = 3;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dump") == 0) mode = Mode::Dump;
    else if (std::strcmp(argv[i], "--split") == 0) mode = Mode::Split;
    else if (std::strcmp(argv[i], "--check") == 0) mode = Mode::Check;
    else if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else files.emplace_back(argv[i]);
  }
  int status = 0;
  for (const std::string& path : files) status = std::max(status, RunFile(mode, path, repeat));
  return status;
}
