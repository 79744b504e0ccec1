// RenderMermaid and RenderDot (graph.h): the same Graph, two notations. The
// shapes follow one legend in both (docs/editors.md, "flow graph"): steps
// are boxes, compensations dashed red boxes on a dashed red edge, approvals
// hexagons, waits and sleeps parallelograms, checkpoints cylinders,
// decisions diamonds, child workflow calls double boxes.
#include <fmt/format.h>

#include "compiler/graph/graph.h"

namespace flow::graph {

namespace {

// ------------------------------------------------------------------ Mermaid

// Text inside a Mermaid "..." label: quotes and the characters Mermaid reads
// as markup become its #entity; codes.
auto MermaidText(std::string_view text) -> std::string {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case '#': out += "#35;"; break;
      case '<': out += "#lt;"; break;
      case '>': out += "#gt;"; break;
      case '&': out += "#amp;"; break;
      default: out += c;
    }
  }
  return out;
}

auto MermaidLabel(const Node& n) -> std::string {
  std::string label = MermaidText(n.title);
  for (const auto& d : n.details) label += "<br/>" + MermaidText(d);
  return "\"" + label + "\"";
}

// The node's shape: Mermaid wraps the label in these brackets.
auto MermaidShape(NodeKind kind) -> std::pair<const char*, const char*> {
  switch (kind) {
    case NodeKind::Start: return {"([", "])"};
    case NodeKind::End: return {"((", "))"};
    case NodeKind::Step: return {"[", "]"};
    case NodeKind::Compensation: return {"[", "]"};
    case NodeKind::Approve: return {"{{", "}}"};
    case NodeKind::Wait: return {"[/", "/]"};
    case NodeKind::Sleep: return {"[/", "/]"};
    case NodeKind::Checkpoint: return {"[(", ")]"};
    case NodeKind::Fail: return {"([", "])"};
    case NodeKind::Decision: return {"{", "}"};
    case NodeKind::Loop: return {"[\\", "/]"};
    case NodeKind::Try: return {"(", ")"};
    case NodeKind::Catch: return {"(", ")"};
    case NodeKind::Fork: return {"[", "]"};
    case NodeKind::Join: return {"[", "]"};
    case NodeKind::ChildCall: return {"[[", "]]"};
  }
  return {"[", "]"};
}

// The class that colours a kind (classDef lines at the end), or "".
auto MermaidClass(NodeKind kind) -> const char* {
  switch (kind) {
    case NodeKind::Start: case NodeKind::End: return "terminal";
    case NodeKind::Step: case NodeKind::ChildCall: return "step";
    case NodeKind::Compensation: return "compensation";
    case NodeKind::Approve: case NodeKind::Wait: case NodeKind::Sleep: return "suspend";
    case NodeKind::Checkpoint: return "checkpoint";
    case NodeKind::Fail: return "failure";
    case NodeKind::Fork: case NodeKind::Join: return "parallel";
    case NodeKind::Decision: case NodeKind::Loop: case NodeKind::Try: case NodeKind::Catch:
      return "control";
  }
  return "control";
}

// ------------------------------------------------------------------ DOT

auto DotText(std::string_view text) -> std::string {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

auto DotLabel(const Node& n) -> std::string {
  std::string label = DotText(n.title);
  for (const auto& d : n.details) label += "\\n" + DotText(d);
  return "\"" + label + "\"";
}

auto DotAttributes(NodeKind kind) -> const char* {
  switch (kind) {
    case NodeKind::Start: return R"(shape=box, style="rounded,filled,bold", fillcolor="#e3f2fd")";
    case NodeKind::End: return R"(shape=doublecircle, fillcolor="#e3f2fd", fixedsize=false)";
    case NodeKind::Step: return R"(shape=box, style="rounded,filled", fillcolor="#ffffff")";
    case NodeKind::Compensation:
      return R"(shape=box, style="rounded,dashed,filled", fillcolor="#fdecea", color="#c0392b")";
    case NodeKind::Approve: return R"(shape=hexagon, fillcolor="#fff3cd")";
    case NodeKind::Wait: return R"(shape=parallelogram, fillcolor="#fff3cd")";
    case NodeKind::Sleep: return R"(shape=parallelogram, fillcolor="#fff3cd")";
    case NodeKind::Checkpoint: return R"(shape=cylinder, fillcolor="#e8f5e9")";
    case NodeKind::Fail: return R"(shape=octagon, fillcolor="#f8d7da", color="#c0392b")";
    case NodeKind::Decision: return R"(shape=diamond, fillcolor="#f5f5f5")";
    case NodeKind::Loop: return R"(shape=trapezium, fillcolor="#f5f5f5")";
    case NodeKind::Try: return R"(shape=box, style="rounded,dotted,filled", fillcolor="#f5f5f5")";
    case NodeKind::Catch: return R"(shape=box, style="rounded,dotted,filled", fillcolor="#f5f5f5")";
    case NodeKind::Fork: return R"(shape=box, fillcolor="#455a64", fontcolor="#ffffff")";
    case NodeKind::Join: return R"(shape=box, fillcolor="#455a64", fontcolor="#ffffff")";
    case NodeKind::ChildCall: return R"(shape=box, peripheries=2, fillcolor="#ffffff")";
  }
  return "";
}

auto DotEdgeAttributes(const Edge& e) -> std::string {
  std::string attrs;
  switch (e.kind) {
    case EdgeKind::Flow: break;
    case EdgeKind::Back: attrs = R"(style=solid, color="#607d8b")"; break;
    case EdgeKind::Error: attrs = R"(style=dashed, color="#e67e22", fontcolor="#e67e22")"; break;
    case EdgeKind::Compensate:
      attrs = R"(style=dashed, color="#c0392b", fontcolor="#c0392b", arrowhead=empty)";
      break;
  }
  if (!e.label.empty()) {
    attrs += (attrs.empty() ? "" : ", ") + std::string("label=\"") + DotText(e.label) + "\"";
  }
  return attrs.empty() ? "" : " [" + attrs + "]";
}

}  // namespace

auto RenderMermaid(const Graph& g) -> std::string {
  std::string out = "flowchart TD\n";
  out += fmt::format("  %% workflow {}\n", g.workflow);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    auto [open, close] = MermaidShape(g.nodes[i].kind);
    out += fmt::format("  n{}{}{}{}\n", i, open, MermaidLabel(g.nodes[i]), close);
  }
  std::vector<size_t> compensate_links;
  for (size_t i = 0; i < g.edges.size(); ++i) {
    const Edge& e = g.edges[i];
    std::string label = e.label.empty() ? "" : "|\"" + MermaidText(e.label) + "\"|";
    switch (e.kind) {
      case EdgeKind::Flow: case EdgeKind::Back:
        out += fmt::format("  n{} -->{} n{}\n", e.from, label, e.to);
        break;
      case EdgeKind::Error:
        out += fmt::format("  n{} -.->{} n{}\n", e.from, label, e.to);
        break;
      case EdgeKind::Compensate:
        out += fmt::format("  n{} -.->{} n{}\n", e.from, label, e.to);
        compensate_links.push_back(i);
        break;
    }
  }
  out += "  classDef terminal fill:#e3f2fd,stroke:#1565c0\n";
  out += "  classDef step fill:#ffffff,stroke:#37474f\n";
  out += "  classDef compensation fill:#fdecea,stroke:#c0392b,stroke-dasharray:4 3\n";
  out += "  classDef suspend fill:#fff3cd,stroke:#b7950b\n";
  out += "  classDef checkpoint fill:#e8f5e9,stroke:#2e7d32\n";
  out += "  classDef failure fill:#f8d7da,stroke:#c0392b\n";
  out += "  classDef parallel fill:#455a64,stroke:#263238,color:#ffffff\n";
  out += "  classDef control fill:#f5f5f5,stroke:#757575\n";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    out += fmt::format("  class n{} {}\n", i, MermaidClass(g.nodes[i].kind));
  }
  for (size_t link : compensate_links) {
    out += fmt::format("  linkStyle {} stroke:#c0392b,color:#c0392b\n", link);
  }
  return out;
}

auto RenderDot(const Graph& g) -> std::string {
  std::string out = fmt::format("digraph \"{}\" {{\n", DotText(g.workflow));
  out += "  graph [rankdir=TB, fontname=\"Helvetica\", nodesep=0.4, ranksep=0.4];\n";
  out += "  node [fontname=\"Helvetica\", fontsize=11, style=filled, margin=\"0.15,0.06\"];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=10, color=\"#37474f\"];\n";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    out += fmt::format("  n{} [label={}, {}];\n", i, DotLabel(g.nodes[i]),
                       DotAttributes(g.nodes[i].kind));
  }
  for (const Edge& e : g.edges) {
    out += fmt::format("  n{} -> n{}{};\n", e.from, e.to, DotEdgeAttributes(e));
    // A compensation sits beside its step, not below the whole flow.
    if (e.kind == EdgeKind::Compensate) {
      out += fmt::format("  {{ rank=same; n{}; n{}; }}\n", e.from, e.to);
    }
  }
  out += "}\n";
  return out;
}

}  // namespace flow::graph
