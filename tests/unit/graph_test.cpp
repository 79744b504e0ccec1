// `flow graph` (compiler/graph): the control-flow picture of a workflow,
// node by node and edge by edge, for every construct; the renderers'
// notations, including parallel blocks, `parallel for`, child workflow
// calls and `break`/`continue` (which `flow check` accepts; `flow run` does
// not run the first two yet: E056).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/driver/compile.h"
#include "compiler/graph/graph.h"

namespace flow {
namespace {

using graph::EdgeKind;
using graph::NodeKind;

constexpr const char* kConnector = R"({
  "connector": "billing", "transport": { "kind": "http", "base_url": "http://127.0.0.1:9" },
  "operations": {
    "charge": { "http": { "method": "POST", "path": "/c" },
      "input": { "type": "object", "required": ["n"], "properties": { "n": { "type": "integer" } } },
      "output": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } },
      "effect": "irreversible", "idempotent": true, "requires_approval": true },
    "refund": { "http": { "method": "POST", "path": "/r" },
      "input": { "type": "object", "properties": { "id": { "type": "string" } } }, "idempotent": true }
  } })";

// The graph of workflow `name` in `source` (billing.json beside it).
auto GraphOf(const std::string& source, const std::string& name) -> graph::Graph {
  std::string dir = ::testing::TempDir() + "/flow_graph_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir + "/billing.json") << kConnector;
  }
  SourceManager sources;
  FileId id = sources.Add(dir + "/g.flow", source);
  Diagnostics diags;
  auto program = CheckLoaded(id, sources, diags);
  size_t index = 0;
  for (size_t i = 0; i < program->ast.functions.size(); ++i) {
    if (program->ast.functions[i].name == name) index = i;
  }
  return graph::BuildGraph(*program, source, index);
}

auto Find(const graph::Graph& g, NodeKind kind, const std::string& title_part = "") -> int {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].kind == kind && g.nodes[i].title.find(title_part) != std::string::npos) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

auto HasEdge(const graph::Graph& g, int from, int to, EdgeKind kind, const std::string& label = "")
    -> bool {
  return std::any_of(g.edges.begin(), g.edges.end(), [&](const graph::Edge& e) {
    return e.from == from && e.to == to && e.kind == kind && e.label == label;
  });
}

TEST(Graph, StepsClausesCompensationsAndSuspensions) {
  graph::Graph g = GraphOf(R"(connector billing = "billing.json"
workflow pay(n: int) {
  let x = n * 2
  let review = approve "ok ${n}?" from "finance" timeout 2d
  let c = billing.charge(n: x)
    retry 3 backoff 1s
    timeout 30s
    compensate billing.refund(id: c.id)
  checkpoint "charged"
  sleep 1h
  let reply = wait "reply" timeout 1d
})",
                           "pay");
  int start = Find(g, NodeKind::Start, "workflow pay(n)");
  int approve = Find(g, NodeKind::Approve, "review = approve");
  int step = Find(g, NodeKind::Step, "c = billing.charge");
  int undo = Find(g, NodeKind::Compensation, "undo: billing.refund");
  int checkpoint = Find(g, NodeKind::Checkpoint, "checkpoint \"charged\"");
  int sleep = Find(g, NodeKind::Sleep, "sleep 1h");
  int wait = Find(g, NodeKind::Wait, "reply = wait \"reply\"");
  int end = Find(g, NodeKind::End);
  ASSERT_TRUE(start >= 0 && approve >= 0 && step >= 0 && undo >= 0 && checkpoint >= 0 &&
              sleep >= 0 && wait >= 0 && end >= 0);
  // `let x = n * 2` is pure: no node between the start and the approval.
  EXPECT_TRUE(HasEdge(g, start, approve, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, approve, step, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, step, undo, EdgeKind::Compensate, "compensate"));
  EXPECT_TRUE(HasEdge(g, step, checkpoint, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, checkpoint, sleep, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, sleep, wait, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, wait, end, EdgeKind::Flow));
  EXPECT_EQ(g.nodes.size(), 8u);
  const auto& d = g.nodes[step].details;
  EXPECT_NE(std::find(d.begin(), d.end(), "retry 3 backoff 1s"), d.end());
  EXPECT_NE(std::find(d.begin(), d.end(), "timeout 30s"), d.end());
  EXPECT_NE(std::find(d.begin(), d.end(), "irreversible"), d.end());
  EXPECT_NE(std::find(d.begin(), d.end(), "requires approval"), d.end());
  EXPECT_EQ(g.nodes[approve].details, (std::vector<std::string>{"from \"finance\"", "timeout 2d"}));
  EXPECT_EQ(g.nodes[step].line, 5u);
}

TEST(Graph, BranchesLoopsTryAndFail) {
  graph::Graph g = GraphOf(R"(connector billing = "billing.json"
workflow w(xs: [int], flag: bool) -> int {
  if flag {
    log.info(message: "on")
  }
  if len(xs) > 100 {
    let pure = 1
  }
  for x in xs {
    billing.refund(id: "a")
  }
  try {
    billing.refund(id: "b")
  } catch err {
    fail "gave up: ${err.message}"
  }
  return 1
})",
                           "w");
  int branch = Find(g, NodeKind::Decision, "if flag");
  int log = Find(g, NodeKind::Step, "log.info");
  int loop = Find(g, NodeKind::Loop, "for x in xs");
  int in_loop = Find(g, NodeKind::Step, "billing.refund");
  int attempt = Find(g, NodeKind::Try);
  int handler = Find(g, NodeKind::Catch, "catch err");
  int fail = Find(g, NodeKind::Fail, "fail \"gave up");
  int end = Find(g, NodeKind::End);
  ASSERT_TRUE(branch >= 0 && log >= 0 && loop >= 0 && in_loop >= 0 && attempt >= 0 && handler >= 0 &&
              fail >= 0 && end >= 0);
  // An `if` with nothing durable inside draws no diamond.
  EXPECT_EQ(Find(g, NodeKind::Decision, "len(xs)"), -1);
  EXPECT_TRUE(HasEdge(g, branch, log, EdgeKind::Flow, "yes"));
  EXPECT_TRUE(HasEdge(g, branch, loop, EdgeKind::Flow, "no"));
  EXPECT_TRUE(HasEdge(g, log, loop, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, loop, in_loop, EdgeKind::Flow, "each"));
  EXPECT_TRUE(HasEdge(g, in_loop, loop, EdgeKind::Back));
  EXPECT_TRUE(HasEdge(g, loop, attempt, EdgeKind::Flow, "done"));
  EXPECT_TRUE(HasEdge(g, attempt, handler, EdgeKind::Error, "error"));
  EXPECT_TRUE(HasEdge(g, handler, fail, EdgeKind::Flow));
  // The failure ends its path: no edge out of it; the try body's step goes on to the end.
  EXPECT_FALSE(std::any_of(g.edges.begin(), g.edges.end(), [&](const auto& e) { return e.from == fail; }));
  int try_step = -1;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].title == "billing.refund" && static_cast<int>(i) != in_loop) try_step = static_cast<int>(i);
  }
  ASSERT_GE(try_step, 0);
  EXPECT_TRUE(HasEdge(g, try_step, end, EdgeKind::Flow));
}

TEST(Graph, ParallelBlocksAndChildWorkflowCallsAreDrawn) {
  graph::Graph g = GraphOf(R"(connector billing = "billing.json"
workflow child(n: int) -> int {
  billing.refund(id: "c")
  return n
}
workflow parent() {
  parallel {
    billing.refund(id: "a")
    log.info(message: "b")
  }
  let k = child(n: 1)
})",
                           "parent");
  int fork = Find(g, NodeKind::Fork);
  int join = Find(g, NodeKind::Join);
  int a = Find(g, NodeKind::Step, "billing.refund");
  int b = Find(g, NodeKind::Step, "log.info");
  int call = Find(g, NodeKind::ChildCall, "k = child child");
  ASSERT_TRUE(fork >= 0 && join >= 0 && a >= 0 && b >= 0) << graph::RenderMermaid(g);
  EXPECT_TRUE(HasEdge(g, fork, a, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, fork, b, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, a, join, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, b, join, EdgeKind::Flow));
  ASSERT_GE(call, 0) << graph::RenderMermaid(g);
  EXPECT_TRUE(HasEdge(g, join, call, EdgeKind::Flow));
}

TEST(Graph, ParallelForBreakAndContinueAreDrawn) {
  graph::Graph g = GraphOf(R"(connector billing = "billing.json"
workflow w(xs: [int]) {
  for x in xs {
    if x > 9 {
      break
    }
    if x < 0 {
      continue
    }
    billing.refund(id: "a")
  }
  let ys = parallel for x in xs limit 4 {
    if x == 0 {
      continue
    }
    billing.charge(n: x).id
  }
  log.info(message: "done")
})",
                           "w");
  int loop = Find(g, NodeKind::Loop, "for x in xs");
  int big = Find(g, NodeKind::Decision, "if x > 9");
  int negative = Find(g, NodeKind::Decision, "if x < 0");
  int fork = Find(g, NodeKind::Fork, "parallel for x in xs limit 4");
  int zero = Find(g, NodeKind::Decision, "if x == 0");
  int charge = Find(g, NodeKind::Step, "billing.charge");
  int join = Find(g, NodeKind::Join, "all items done");
  int done = Find(g, NodeKind::Step, "log.info");
  ASSERT_TRUE(loop >= 0 && big >= 0 && negative >= 0 && fork >= 0 && zero >= 0 && charge >= 0 &&
              join >= 0 && done >= 0)
      << graph::RenderMermaid(g);
  // `break` leaves the loop for what follows it; `continue` goes back to its head.
  EXPECT_TRUE(HasEdge(g, big, fork, EdgeKind::Flow, "yes")) << graph::RenderMermaid(g);
  EXPECT_TRUE(HasEdge(g, loop, fork, EdgeKind::Flow, "done"));
  EXPECT_TRUE(HasEdge(g, negative, loop, EdgeKind::Back, "yes"));
  // An item's `continue` ends the item: straight to the join.
  EXPECT_TRUE(HasEdge(g, fork, zero, EdgeKind::Flow, "each"));
  EXPECT_TRUE(HasEdge(g, zero, join, EdgeKind::Flow, "yes"));
  EXPECT_TRUE(HasEdge(g, zero, charge, EdgeKind::Flow, "no"));
  EXPECT_TRUE(HasEdge(g, charge, join, EdgeKind::Flow));
  EXPECT_TRUE(HasEdge(g, join, done, EdgeKind::Flow));
}

TEST(Graph, QuotedSourceIsCutAtTheLimit) {
  // A condition longer than kMaxQuotedChars (48): cut, with "..." after it.
  graph::Graph g = GraphOf(R"(workflow w(a: int) {
  if a > 1000000 and a < 2000000 and a != 1500000 and a != 1600000 {
    sleep 1h
  }
})",
                           "w");
  int decision = Find(g, NodeKind::Decision);
  ASSERT_GE(decision, 0);
  // "if " + the first 48 characters of the condition + "...".
  EXPECT_EQ(g.nodes[decision].title, "if a > 1000000 and a < 2000000 and a != 1500000 and...");
}

TEST(Graph, RenderersDrawCompensationsDistinctlyAndEscapeLabels) {
  graph::Graph g;
  g.workflow = "w";
  g.nodes = {{NodeKind::Start, "workflow w()", {}, 0},
             {NodeKind::Step, "say \"hi\" <b> & #1", {"retry 3"}, 2},
             {NodeKind::Compensation, "undo: x.y", {}, 2},
             {NodeKind::End, "end", {}, 0}};
  g.edges = {{0, 1, EdgeKind::Flow, ""}, {1, 2, EdgeKind::Compensate, "compensate"},
             {1, 3, EdgeKind::Flow, ""}};
  std::string mermaid = graph::RenderMermaid(g);
  EXPECT_NE(mermaid.find("n1[\"say #quot;hi#quot; #lt;b#gt; #amp; #35;1<br/>retry 3\"]"), std::string::npos)
      << mermaid;
  EXPECT_NE(mermaid.find("n1 -.->|\"compensate\"| n2"), std::string::npos) << mermaid;
  EXPECT_NE(mermaid.find("linkStyle 1 stroke:#c0392b"), std::string::npos) << mermaid;
  EXPECT_NE(mermaid.find("n0 --> n1"), std::string::npos) << mermaid;
  std::string dot = graph::RenderDot(g);
  EXPECT_NE(dot.find("label=\"say \\\"hi\\\" <b> & #1\\nretry 3\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("n1 -> n2 [style=dashed, color=\"#c0392b\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("{ rank=same; n1; n2; }"), std::string::npos) << dot;
}

}  // namespace
}  // namespace flow
