// The in-process half of the `flow lsp` diagnostics benchmark
// (docs/performance.md, "flow lsp: diagnostics after a change"): how long one
// Analysis of a document takes inside the long-running server, phase by
// phase, without the pipe and the client. diagnostics_bench.py measures the
// whole round trip through the real process.
//
//   flow_lsp_bench FILE.flow [RUNS]
//
// Runs Analyse (the full front end: parse, connectors, check)
// and DiagnosticsByUri + JSON serialisation RUNS times (default 50) after
// two warm-up runs, and prints the median and minimum of each.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/lsp/analysis.h"
#include "compiler/driver/compile.h"
#include "compiler/parse/tokens.h"
#include "compiler/source/source.h"

namespace {

auto Millis(std::chrono::steady_clock::duration d) -> double {
  return std::chrono::duration<double, std::milli>(d).count();
}

auto Median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc < 2) {
    std::fprintf(stderr, "usage: flow_lsp_bench FILE.flow [RUNS]\n");
    return 2;
  }
  int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 50;
  auto text = flow::ReadFileText(argv[1]);
  if (!text) {
    std::fprintf(stderr, "%s\n", text.error().message.c_str());
    return 2;
  }
  std::string uri = flow::lsp::PathToUri(std::filesystem::absolute(argv[1]).string());
  std::vector<double> analyse, publish, parse, check, tokens;
  size_t diagnostics = 0;
  for (int i = -2; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto a = flow::lsp::Analyse(uri, *text);
    auto analysed = std::chrono::steady_clock::now();
    auto by_uri = flow::lsp::DiagnosticsByUri(*a);
    std::string out;
    for (auto& [target, list] : by_uri) out += list.dump();
    auto done = std::chrono::steady_clock::now();
    diagnostics = by_uri[uri].size();
    if (i < 0) continue;  // warm-up: ANTLR builds its DFA cache on the first parses
    analyse.push_back(Millis(analysed - start));
    publish.push_back(Millis(done - analysed));
    // The same front end again with its phase timings.
    flow::SourceManager sources;
    flow::Diagnostics diags;
    flow::PhaseTimings t;
    flow::CheckLoaded(sources.Add(argv[1], *text), sources, diags, &t);
    parse.push_back(t.parse * 1000);
    check.push_back(t.check * 1000);
    auto scan = std::chrono::steady_clock::now();
    auto raw = flow::parse::ScanRawTokens(*text);
    tokens.push_back(Millis(std::chrono::steady_clock::now() - scan));
  }
  std::printf("%s: %d runs, %zu diagnostics\n", argv[1], runs, diagnostics);
  std::printf("analyse (parse + connectors + check): median %.2f ms, min %.2f ms\n",
              Median(analyse), *std::min_element(analyse.begin(), analyse.end()));
  std::printf("  of which parse %.2f ms, connectors + check %.2f ms, raw tokens (completion only) %.2f ms (medians)\n",
              Median(parse), Median(check), Median(tokens));
  std::printf("diagnostics to JSON: median %.3f ms\n", Median(publish));
  return 0;
}
