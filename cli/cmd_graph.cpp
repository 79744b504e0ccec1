// `flow graph FILE [--workflow W] [--format mermaid|dot]`
//
// Prints the control flow of one workflow of FILE (compiler/graph/graph.h)
// on stdout: Mermaid text (the default) or Graphviz DOT (`| dot -Tsvg`).
// The file is checked first, as `flow compile` does: a program with errors
// is not drawn (diagnostics on stderr, exit 1). Exit 2 when FILE cannot be
// read or the workflow is unknown, missing, or not chosen among several.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "compiler/diag/suggest.h"
#include "compiler/driver/compile.h"
#include "compiler/graph/graph.h"

namespace flow::cli {
namespace {

struct GraphOptions {
  std::string file;
  std::string workflow;
  std::string format = "mermaid";
};

// ast.functions index of the workflow to draw, or -1 after printing why.
auto ChooseWorkflow(const ast::Ast& ast, const GraphOptions& o) -> int {
  std::vector<std::string> names;
  int only = -1;
  for (size_t i = 0; i < ast.functions.size(); ++i) {
    if (!ast.functions[i].is_workflow) continue;
    names.push_back(ast.functions[i].name);
    only = static_cast<int>(i);
    if (ast.functions[i].name == o.workflow) return only;
  }
  if (!o.workflow.empty()) {
    Diagnostics diags;
    const Diagnostic& d = diags.Report(DiagKind::UnknownWorkflow, SourceRange{}, o.workflow,
                                       DidYouMean(o.workflow, names));
    std::fprintf(stderr, "%s: error: %s\n", o.file.c_str(), d.message.c_str());
    return -1;
  }
  if (names.size() == 1) return only;
  if (names.empty()) {
    std::fprintf(stderr, "flow: %s has no workflow to draw\n", o.file.c_str());
  } else {
    std::fprintf(stderr, "flow: %s has several workflows (%s); choose one with --workflow\n",
                 o.file.c_str(), fmt::format("{}", fmt::join(names, ", ")).c_str());
  }
  return -1;
}

auto RunGraph(const GraphOptions& o) -> int {
  SourceManager sources;
  Diagnostics diags;
  auto program = CheckFile(o.file, sources, diags);
  if (!program) {
    std::fprintf(stderr, "flow: %s\n", program.error().message.c_str());
    return kExitUsage;
  }
  std::string text = RenderText(diags, sources);
  std::fwrite(text.data(), 1, text.size(), stderr);
  if (diags.has_errors() || !*program) return kExitFailed;
  const check::CheckedProgram& checked = **program;
  int index = ChooseWorkflow(checked.ast, o);
  if (index < 0) return kExitUsage;
  std::string_view source = sources.file(checked.ast.file).text();
  graph::Graph g = graph::BuildGraph(checked, source, static_cast<size_t>(index));
  std::string out = o.format == "dot" ? graph::RenderDot(g) : graph::RenderMermaid(g);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitInternal;
}

}  // namespace

auto RegisterGraph(CLI::App& app) -> Command {
  auto o = std::make_shared<GraphOptions>();
  CLI::App* sub = app.add_subcommand(
      "graph", "Print a workflow's control flow as a Mermaid or Graphviz DOT diagram");
  sub->add_option("FILE", o->file, "The .flow file")->required();
  sub->add_option("--workflow", o->workflow, "The workflow to draw (default: the only one)");
  sub->add_option("--format", o->format, "mermaid (default) or dot (for `dot -Tsvg`)")
      ->check(CLI::IsMember({"mermaid", "dot"}));
  return Command{sub, [o] { return RunGraph(*o); }};
}

}  // namespace flow::cli
