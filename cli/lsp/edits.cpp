// The features that hand the editor new text or a picture (analysis.h):
// quick fixes, formatting, the workflow graph.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/lsp/analysis.h"
#include "cli/lsp/locate.h"
#include "compiler/format/format.h"
#include "compiler/graph/graph.h"

namespace flow::lsp {

using nlohmann::json;

auto CodeActions(const Analysis& a, uint32_t begin, uint32_t end) -> json {
  json out = json::array();
  for (const Diagnostic& d : a.diags.Sorted()) {
    if (d.range.file != a.doc || d.fixes.empty()) continue;
    if (d.range.end < begin || d.range.begin > end) continue;
    for (const DiagFix& fix : d.fixes) {
      json edit = {{"range", RangeJson(ToLspRange(a, fix.range))}, {"newText", fix.replacement}};
      json diagnostic = {{"range", RangeJson(ToLspRange(a, d.range))},
                         {"severity", d.severity == Severity::Error ? 1 : 2},
                         {"code", std::string(GetDiagKindInfo(d.kind).code)},
                         {"source", "flow"},
                         {"message", d.message}};
      out.push_back({{"title", fmt::format("Change to '{}'", fix.replacement)},
                     {"kind", "quickfix"},
                     {"isPreferred", d.fixes.size() == 1},
                     {"diagnostics", json::array({diagnostic})},
                     {"edit", {{"changes", {{a.uri, json::array({edit})}}}}}});
    }
  }
  return out;
}

auto Formatting(const Analysis& a, std::string& why) -> json {
  Diagnostics diags;
  Result<std::string> formatted = format::Format(a.sources.file(a.doc), a.doc, diags);
  if (!formatted) {
    why = formatted.error().message;
    return nullptr;
  }
  if (*formatted == a.text()) return json::array();
  Range whole{Position{0, 0}, a.lines.At(static_cast<uint32_t>(a.text().size()))};
  return json::array({{{"range", RangeJson(whole)}, {"newText", *formatted}}});
}

auto WorkflowGraph(const Analysis& a, uint32_t offset, const std::string& format, std::string& why)
    -> json {
  if (a.diags.has_errors()) {
    why = "the program has errors; fix them to see its graph";
    return nullptr;
  }
  const auto& fns = a.ast().functions;
  int chosen = FunctionAt(a, offset);
  if (chosen < 0 || !fns[chosen].is_workflow) {
    chosen = -1;
    int workflows = 0;
    for (size_t i = 0; i < fns.size(); ++i) {
      if (fns[i].is_workflow && workflows++ == 0) chosen = static_cast<int>(i);
    }
    if (workflows != 1) {
      why = workflows == 0 ? "this file has no workflow"
                           : "this file has several workflows; put the cursor inside one";
      return nullptr;
    }
  }
  graph::Graph g = graph::BuildGraph(*a.program, a.text(), static_cast<size_t>(chosen));
  std::string text = format == "mermaid" ? graph::RenderMermaid(g) : graph::RenderDot(g);
  return json{{"workflow", g.workflow}, {"format", format == "mermaid" ? "mermaid" : "dot"},
              {"text", text}};
}

}  // namespace flow::lsp
