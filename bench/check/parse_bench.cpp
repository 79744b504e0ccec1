// flow_parse_bench: times ParseFile on .flow files (bench/check/run.sh).
//
//   flow_parse_bench [--dump] [--repeat N] FILE...
//
// Prints, per file, lines, seconds of the best of N parses and lines/s to
// stdout; --dump prints the AST and the diagnostics instead (a debugging aid
// until `flow check --dump-ast` exists).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/parse/parse.h"
#include "compiler/source/source.h"

int main(int argc, char** argv) {
  bool dump = false;
  int repeat = 3;
  flow::SourceManager sources;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dump") == 0) {
      dump = true;
      continue;
    }
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
      continue;
    }
    auto id = sources.Load(argv[i]);
    if (!id.ok()) {
      std::fprintf(stderr, "%s\n", id.error().message.c_str());
      return 2;
    }
    const auto& file = sources.file(*id);
    double best = 1e9;
    for (int r = 0; r < (dump ? 1 : repeat); ++r) {
      flow::Diagnostics diags;
      auto start = std::chrono::steady_clock::now();
      flow::ast::Ast ast = flow::parse::ParseFile(file, *id, diags);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = std::min(best, secs);
      if (dump) {
        std::fputs(flow::ast::DumpAst(ast, file).c_str(), stdout);
        std::fputs(flow::RenderText(diags, sources).c_str(), stderr);
      }
      if (diags.has_errors()) status = 1;
      if (r == 0 && !dump && diags.has_errors()) {
        std::fprintf(stderr, "%s: %d errors\n", argv[i], diags.error_count());
      }
    }
    if (!dump) {
      const char* mode = flow::parse::LastParseMode() == flow::parse::ParseMode::Ll ? "LL" : "SLL";
      std::printf("%s: %u lines, parse %.4f s, %.0f lines/s (%s)\n", argv[i], file.line_count(),
                  best, file.line_count() / best, mode);
    }
  }
  return status;
}
