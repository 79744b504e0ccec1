// The control-flow graph of one workflow, for the policy checks of SPEC §2.6.
//
// Blocks hold only the events policy cares about, in evaluation order:
// `approve` (statement or expression) and steps. Edges follow the
// statements: if/else branches and join, loop headers with a back edge and
// an exit edge (a loop may run zero times), short-circuit `and`/`or`/`??`
// (the right side may not run), return and fail to the exit (fail inside a
// try to its handler), and `try`: the block before the try has an edge to
// the handler, because the body may fail before its first event completes
// (an approve that is rejected raises an error the handler catches). That
// edge is exact, not only conservative: every later failure point has seen
// at least as many approvals. `break` goes to its loop's exit, `continue` to
// its header.
//
// Concurrency: the branches of `parallel` fork from the block before it, so
// each starts with only what was approved before the block (an approve in
// one branch covers nothing in another), and meet in a join block marked
// `join_any`: the block ends only when every branch has completed, so an
// approve that one branch passes on all its paths covers the code after the
// block (the join's value is the OR of its predecessors, not the AND). A
// `parallel for` is a loop: its body starts with what was approved before it
// (the back edge can only take away), which is exactly one item's view.
//
// "Approved" is a must-analysis over this graph: a point is approved when
// every path from the entry to it passes an Approve event, i.e. the set of
// approve nodes dominates it. One bit per block, values only fall from true
// to false, so the worklist terminates after O(edges) visits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/checked_program.h"

namespace flow::check {

struct CfgEvent {
  enum class Kind : uint8_t { Approve, Step };
  Kind kind;
  ast::ExprId expr;  // the ApproveExpr or the step's CallExpr
  // Steps only: the statement's `retry` clause when the step is the
  // statement's expression (or a compensation's own retry), else null.
  const ast::RetryClause* retry = nullptr;
  bool has_compensate = false;  // the statement registers a compensation
  bool compensation = false;    // this step is the compensation itself
};

struct CfgBlock {
  std::vector<CfgEvent> events;
  std::vector<int32_t> succs;
  std::vector<int32_t> preds;
  bool join_any = false;  // the end of a `parallel`: approved when any branch approved
};

struct Cfg {
  std::vector<CfgBlock> blocks;
  static constexpr int32_t kEntry = 0;
  static constexpr int32_t kExit = 1;  // where return and uncaught fail go
};

// Builds the CFG of ast.functions[function] from the checked program (which
// says which calls are steps).
auto BuildCfg(const CheckedProgram& program, int32_t function) -> Cfg;

// For every block: does every path from the entry to the block's start pass
// an Approve event? Blocks unreachable from the entry say true (nothing
// reaches them, so nothing there is unapproved).
auto ApprovedOnEntry(const Cfg& cfg) -> std::vector<bool>;

// The step events (their CallExpr ids) that some path reaches without
// passing an approve, in block order.
auto UnapprovedSteps(const Cfg& cfg) -> std::vector<ast::ExprId>;

// A readable listing: "b0 -> b2 b3: approve#12 step#40" per block.
auto DumpCfg(const Cfg& cfg) -> std::string;

}  // namespace flow::check
