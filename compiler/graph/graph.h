// `flow graph`: a workflow's control flow as a picture (docs/editors.md).
//
// Two halves, as for diagnostics: BuildGraph turns one checked workflow into
// a Graph -- nodes for what an operator cares about (steps, approvals,
// waits, sleeps, checkpoints, failures, child workflow calls) and for the
// control flow between them (branches, loops, try/catch, parallel blocks),
// edges between them, and a compensation node hanging off every step that
// has one -- and the renderers (RenderMermaid, RenderDot) only draw a Graph.
// Pure code (arithmetic, `let x = f(y)`, an `if` with no step in it) draws
// nothing: the picture is of the durable behaviour, not of every statement.
//
// Adding a construct: a new statement or expression kind fails to compile
// in build.cpp (every AST variant is visited without a catch-all); give it a
// NodeKind here if it needs a shape, and both renderers a line for that kind
// (their switches have no default either).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compiler/check/checked_program.h"

namespace flow::graph {

enum class NodeKind {
  Start,         // the workflow and its parameters
  End,           // it returns
  Step,          // a connector call, with its clauses
  Compensation,  // the step a compensate clause registers
  Approve,
  Wait,
  Sleep,
  Checkpoint,
  Fail,          // `fail "..."`: the run fails here
  Decision,      // if
  Loop,          // for, while
  Try,           // try: its body, and an error edge to the catch
  Catch,
  Fork,          // parallel: one edge per branch
  Join,          // the end of a parallel block
  ChildCall,     // a call of another workflow: a child run
};

enum class EdgeKind {
  Flow,        // control goes on (label: "yes", "no", "each", "done"...)
  Back,        // a loop's body back to its head
  Error,       // from a try to its catch
  Compensate,  // from a step to its compensation (not control flow)
};

struct Node {
  NodeKind kind;
  std::string title;                 // "billing.charge", "approve \"Charge...\""
  std::vector<std::string> details;  // "retry 5 backoff 2s max 1m", "timeout 30s"
  uint32_t line = 0;                 // 1-based source line, 0 for start/end
};

struct Edge {
  int from;
  int to;
  EdgeKind kind = EdgeKind::Flow;
  std::string label;
};

struct Graph {
  std::string workflow;
  std::vector<Node> nodes;  // an edge names them by index
  std::vector<Edge> edges;
};

// The graph of ast.functions[function] (a workflow) of `program`.
// `source` is the file's text, for quoting conditions ("if amount > 0").
// Works on a program with errors too (unresolved calls draw as pure code),
// but callers normally refuse such a program first.
auto BuildGraph(const check::CheckedProgram& program, std::string_view source, size_t function)
    -> Graph;

// Mermaid `flowchart TD` text (GitHub and VS Code's Markdown render it).
auto RenderMermaid(const Graph& graph) -> std::string;
// Graphviz DOT text (`dot -Tsvg`).
auto RenderDot(const Graph& graph) -> std::string;

}  // namespace flow::graph
