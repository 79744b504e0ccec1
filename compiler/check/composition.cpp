// Composition (SPEC §2.4, §2.5): `break`/`continue`, `parallel` blocks and
// their data-race rule, `parallel for` (statement and expression), and the
// workflow call graph (a workflow may not call itself). The rules and their
// reasons are in docs/checker.md ("Composition") and docs/composition.md.
#include <algorithm>
#include <unordered_map>

#include "compiler/check/checker.h"

namespace flow::check {
namespace {

using types::Kind;

auto Prefix(SourceRange range, std::string_view word) -> SourceRange {
  range.end = std::min(range.end, range.begin + static_cast<uint32_t>(word.size()));
  return range;
}

// The last statement of a `parallel for` body when it is an expression
// statement (whose value is the item's value), else null.
auto ValueStmt(const ast::Ast& ast, const ast::Block& body) -> const ast::ExprStmt* {
  if (body.stmts.empty()) return nullptr;
  return std::get_if<ast::ExprStmt>(&ast.stmt(body.stmts.back()).node);
}

}  // namespace

// ------------------------------------------------------------------ jumps

void Checker::CheckJump(SourceRange range, bool is_break) {
  const char* word = is_break ? "break" : "continue";
  for (size_t i = jump_scopes_.size(); i-- > 0;) {
    JumpScope& scope = jump_scopes_[i];
    switch (scope.kind) {
      case JumpScope::Kind::Loop:
        if (is_break) scope.has_break = true;
        return;
      case JumpScope::Kind::ParallelFor:
        // `continue` ends this item's branch; `break` has no "rest of the
        // loop" to skip: the other items are already running.
        if (is_break) diags_.Report(DiagKind::BreakInParallelFor, range);
        return;
      case JumpScope::Kind::Branch:
        diags_.Report(DiagKind::JumpOutOfBranch, range, word);
        return;
    }
  }
  diags_.Report(DiagKind::JumpOutsideLoop, range, word);
}

auto Checker::InsideParallel() const -> bool {
  return std::any_of(jump_scopes_.begin(), jump_scopes_.end(),
                     [](const JumpScope& s) { return s.kind != JumpScope::Kind::Loop; });
}

void Checker::CheckReturnLeavesNoBranch(SourceRange range) {
  if (InsideParallel()) diags_.Report(DiagKind::JumpOutOfBranch, range, "return");
}

void Checker::CheckCheckpointPlacement(SourceRange keyword) {
  if (InsideParallel() && ast().functions[current_fn_].is_workflow) {
    diags_.Report(DiagKind::CheckpointInBranch, keyword);
  }
}

// ------------------------------------------------------------------ parallel

void Checker::LogAccess(int32_t slot, SourceRange range, LocalAccess::Kind kind) {
  if (parallel_depth_ > 0) accesses_.push_back(LocalAccess{slot, range, kind});
}

// Each top-level statement is a branch, checked in the enclosing scope (a
// `let` in a branch is visible after the block). Narrowing facts a branch
// establishes are hidden from the branches after it (they run at the same
// time, not after it) and hold again after the block, which ends only when
// every branch has completed.
auto Checker::CheckParallel(ast::StmtId id, const ast::ParallelStmt& p) -> bool {
  ReportEffect("'parallel'", Prefix(ast().stmt(id).range, "parallel"));
  size_t log_start = accesses_.size();
  size_t fact_mark = facts_.size();
  std::vector<Fact> established;
  std::vector<std::pair<size_t, size_t>> spans;
  bool all_complete = true;
  ++parallel_depth_;
  open_parallels_.push_back(OpenParallel{&p, 0});
  for (ast::StmtId branch : p.body.stmts) {
    size_t from = accesses_.size();
    jump_scopes_.push_back(JumpScope{JumpScope::Kind::Branch});
    all_complete = CheckStmt(branch) && all_complete;
    jump_scopes_.pop_back();
    spans.emplace_back(from, accesses_.size());
    while (facts_.size() > fact_mark) {
      if (--fact_count_[facts_.back().slot] == 0) fact_count_.erase(facts_.back().slot);
      established.push_back(std::move(facts_.back()));
      facts_.pop_back();
    }
    ++open_parallels_.back().branch;
  }
  open_parallels_.pop_back();
  --parallel_depth_;
  ReportRaces(spans);
  PushFacts(established);
  // An enclosing block's race check still needs these accesses.
  if (parallel_depth_ == 0) accesses_.resize(log_start);
  return all_complete;
}

// SPEC §2.5: "No branch may assign, or read, a variable that another branch
// of the same block binds or assigns". One diagnostic per variable, at the
// first such use, with a note at the write it conflicts with.
void Checker::ReportRaces(const std::vector<std::pair<size_t, size_t>>& spans) {
  struct Write {
    size_t branch;
    const LocalAccess* access;
  };
  std::unordered_map<int32_t, Write> writes;  // slot -> its first writer
  for (size_t b = 0; b < spans.size(); ++b) {
    for (size_t i = spans[b].first; i < spans[b].second; ++i) {
      const LocalAccess& a = accesses_[i];
      if (a.kind != LocalAccess::Kind::Read) writes.emplace(a.slot, Write{b, &a});
    }
  }
  std::unordered_map<int32_t, bool> reported;
  for (size_t b = 0; b < spans.size(); ++b) {
    for (size_t i = spans[b].first; i < spans[b].second; ++i) {
      const LocalAccess& a = accesses_[i];
      if (a.kind == LocalAccess::Kind::Bind) continue;
      auto w = writes.find(a.slot);
      if (w == writes.end() || w->second.branch == b || reported[a.slot]) continue;
      reported[a.slot] = true;
      const std::string& name = fn_info().locals[a.slot].name;
      Diagnostic& d =
          diags_.Report(DiagKind::ParallelRace, a.range, name, w->second.branch + 1, b + 1);
      bool bound = w->second.access->kind == LocalAccess::Kind::Bind;
      d.notes.push_back({w->second.access->range,
                         "branch " + std::to_string(w->second.branch + 1) +
                             (bound ? " binds '" : " assigns '") + name + "' here"});
    }
  }
}

auto Checker::ReportLaterBranchBind(std::string_view name, SourceRange use) -> bool {
  for (size_t i = open_parallels_.size(); i-- > 0;) {
    const OpenParallel& open = open_parallels_[i];
    const auto& branches = open.block->body.stmts;
    for (size_t b = open.branch + 1; b < branches.size(); ++b) {
      const auto* let = std::get_if<ast::LetStmt>(&ast().stmt(branches[b]).node);
      if (let == nullptr || let->name != name) continue;
      Diagnostic& d = diags_.Report(DiagKind::ParallelRace, use, name, b + 1, open.branch + 1);
      d.notes.push_back({let->name_range, "branch " + std::to_string(b + 1) + " binds '" +
                                              std::string(name) + "' here"});
      return true;
    }
  }
  return false;
}

void Checker::CheckParallelForAssign(int32_t slot, SourceRange range) {
  if (parallel_for_first_slot_.empty() || slot >= parallel_for_first_slot_.back()) return;
  diags_.Report(DiagKind::ParallelForAssignsOuter, range, fn_info().locals[slot].name);
}

void Checker::CheckParallelLimit(ast::ExprId limit) {
  if (!limit.valid()) return;
  TypeId t = CheckExpr(limit);
  ExpectType(limit, t, types().int_());
  // A literal is checked here; any other expression at run time.
  if (const auto* lit = std::get_if<ast::IntLit>(&ast().expr(limit).node); lit && lit->value < 1) {
    diags_.Report(DiagKind::ParallelLimit, ast().expr(limit).range, lit->value);
  }
}

auto Checker::CheckParallelFor(ast::ExprId id, const ast::ParallelForExpr& p, bool as_value)
    -> TypeId {
  ReportEffect("'parallel for'", Prefix(ast().expr(id).range, "parallel"));
  TypeId element = ElementType(p.iterable);
  CheckParallelLimit(p.limit);
  PushScope();
  int32_t slot = Declare(p.var, p.var_range, element, LocalKind::ForVar);
  out_.expr_slots[id.index] = slot;
  parallel_for_first_slot_.push_back(slot);
  jump_scopes_.push_back(JumpScope{JumpScope::Kind::ParallelFor});
  CheckBlock(p.body);
  jump_scopes_.pop_back();
  parallel_for_first_slot_.pop_back();
  PopScope();

  const ast::ExprStmt* last = ValueStmt(ast(), p.body);
  // A nested `parallel for` as the value must itself have one.
  const auto* nested =
      last != nullptr ? std::get_if<ast::ParallelForExpr>(&ast().expr(last->expr).node) : nullptr;
  bool has_value = last != nullptr && (nested == nullptr || ValueStmt(ast(), nested->body));
  // A body the parser could not build (no `{ }`) was reported already.
  bool body_missing = p.body.range.end < p.body.range.begin + 2;
  if (!has_value) {
    if (!as_value || body_missing) return body_missing ? types().error() : types().null();
    SourceRange where = p.body.range;
    if (!p.body.stmts.empty()) where = ast().stmt(p.body.stmts.back()).range;
    else if (where.end > where.begin) where.begin = where.end - 1;
    if (nested != nullptr) where = Prefix(ast().expr(last->expr).range, "parallel");
    diags_.Report(DiagKind::ParallelForNoValue, where);
    return types().error();
  }
  TypeId item = out_.expr_types[last->expr.index];
  if (!item.valid()) item = types().error();
  return types().List(item);
}

// ------------------------------------------------------------------ call graph

// Depth-first over the workflow call graph; a call that reaches a workflow
// still on the path closes a cycle and is reported there, once.
void Checker::CheckWorkflowRecursion() {
  size_t n = ast().functions.size();
  std::vector<std::vector<const ChildCall*>> calls(n);
  for (const ChildCall& c : child_calls_) calls[c.caller].push_back(&c);
  enum : uint8_t { kNew, kOnPath, kDone };
  std::vector<uint8_t> state(n, kNew);
  std::vector<int32_t> path;
  struct Frame {
    int32_t fn;
    size_t next;
  };
  for (size_t root = 0; root < n; ++root) {
    if (state[root] != kNew || calls[root].empty()) continue;
    std::vector<Frame> stack{{static_cast<int32_t>(root), 0}};
    state[root] = kOnPath;
    path.assign(1, static_cast<int32_t>(root));
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next == calls[top.fn].size()) {
        state[top.fn] = kDone;
        path.pop_back();
        stack.pop_back();
        continue;
      }
      const ChildCall* call = calls[top.fn][top.next++];
      if (state[call->callee] == kOnPath) {
        auto start = std::find(path.begin(), path.end(), call->callee);
        std::string cycle;
        for (auto it = start; it != path.end(); ++it) cycle += "'" + ast().functions[*it].name + "' -> ";
        cycle += "'" + ast().functions[call->callee].name + "'";
        diags_.Report(DiagKind::RecursiveWorkflow, call->range, ast().functions[call->callee].name,
                      cycle);
      } else if (state[call->callee] == kNew) {
        state[call->callee] = kOnPath;
        path.push_back(call->callee);
        stack.push_back(Frame{call->callee, 0});
      }
    }
  }
}

}  // namespace flow::check
