// Statements, blocks, step clauses, returns and flow-sensitive narrowing.
#include <algorithm>
#include <array>

#include "compiler/check/checker.h"
#include "vm/connectors/error_kinds.h"
#include "compiler/diag/suggest.h"

namespace flow::check {
namespace {

using types::Kind;

// The error kinds a `retry ... on "kind"` clause may name: the retryable rows
// of the transports' table (vm/connectors/error_kinds.h), the single source of
// the names the VM raises.
auto RetryableKindNames() -> const std::vector<std::string>& {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& info : connectors::kErrorKinds) {
      if (info.retryable) out.emplace_back(info.name);
    }
    return out;
  }();
  return names;
}

// The range of a statement's leading keyword, for messages about the keyword.
auto Keyword(SourceRange stmt, std::string_view word) -> SourceRange {
  SourceRange r = stmt;
  r.end = std::min(r.end, r.begin + static_cast<uint32_t>(word.size()));
  return r;
}

// `var` types drop literal types: `var plan = "free"` may later hold "pro".
auto Widen(types::TypeTable& tt, TypeId t) -> TypeId {
  const types::Type& type = tt.get(t);
  switch (type.kind) {
    case Kind::Literal: return tt.string();
    case Kind::List: return tt.List(Widen(tt, type.element));
    case Kind::Optional: return tt.Optional(Widen(tt, type.element));
    case Kind::Record: {
      std::vector<types::Field> fields = type.fields;
      for (auto& f : fields) f.type = Widen(tt, f.type);
      return tt.Record(std::move(fields));
    }
    default: return t;
  }
}

// Whether a type says nothing about its values: `null`, `[]`, `[[]]`...
auto Uninformative(const types::TypeTable& tt, TypeId t) -> bool {
  const types::Type& type = tt.get(t);
  switch (type.kind) {
    case Kind::Never: case Kind::Null: return true;
    case Kind::List: return Uninformative(tt, type.element);
    default: return false;
  }
}

}  // namespace

auto Checker::CheckBlock(const ast::Block& block, const std::vector<Fact>* facts) -> bool {
  PushScope();
  if (facts) PushFacts(*facts);
  bool falls = CheckStmts(block);
  PopScope();
  return falls;
}

auto Checker::CheckStmts(const ast::Block& block) -> bool {
  bool reachable = true;
  bool warned = false;
  for (ast::StmtId s : block.stmts) {
    if (!reachable && !warned) {
      diags_.Report(DiagKind::UnreachableCode, ast().stmt(s).range);
      warned = true;  // once per block
    }
    if (!CheckStmt(s)) reachable = false;
  }
  return reachable;
}

auto Checker::CheckStmt(ast::StmtId id) -> bool {
  const ast::Stmt& stmt = ast().stmt(id);
  return std::visit(
      [&](const auto& n) -> bool {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, ast::LetStmt>) {
          CheckLet(id, n);
        } else if constexpr (std::is_same_v<N, ast::AssignStmt>) {
          CheckAssign(n);
        } else if constexpr (std::is_same_v<N, ast::ExprStmt>) {
          // A `parallel for` statement drops its value: its body need not
          // end in an expression.
          const auto* pf = std::get_if<ast::ParallelForExpr>(&ast().expr(n.expr).node);
          if (pf != nullptr) out_.expr_types[n.expr.index] = CheckParallelFor(n.expr, *pf, false);
          else CheckExpr(n.expr);
          CheckClauses(n.clauses, n.expr);
          CheckCompensate(n.clauses, n.expr);
        } else if constexpr (std::is_same_v<N, ast::IfStmt>) {
          return CheckIf(n);
        } else if constexpr (std::is_same_v<N, ast::ForStmt>) {
          CheckFor(id, n);
        } else if constexpr (std::is_same_v<N, ast::WhileStmt>) {
          CheckWhile(n);
        } else if constexpr (std::is_same_v<N, ast::ReturnStmt>) {
          CheckReturn(id, n);
          return false;
        } else if constexpr (std::is_same_v<N, ast::FailStmt>) {
          ExpectScalar(n.message, types().string());
          return false;
        } else if constexpr (std::is_same_v<N, ast::TryStmt>) {
          return CheckTry(id, n);
        } else if constexpr (std::is_same_v<N, ast::CheckpointStmt>) {
          ReportEffect("'checkpoint'", Keyword(stmt.range, "checkpoint"));
          CheckCheckpointPlacement(Keyword(stmt.range, "checkpoint"));
          ExpectScalar(n.label, types().string());
        } else if constexpr (std::is_same_v<N, ast::SleepStmt>) {
          ReportEffect("'sleep'", Keyword(stmt.range, "sleep"));
          ExpectScalar(n.duration, types().duration());
        } else if constexpr (std::is_same_v<N, ast::ParallelStmt>) {
          return CheckParallel(id, n);
        } else if constexpr (std::is_same_v<N, ast::BreakStmt>) {
          CheckJump(stmt.range, true);
          return false;
        } else if constexpr (std::is_same_v<N, ast::ContinueStmt>) {
          CheckJump(stmt.range, false);
          return false;
        }
        if constexpr (std::is_same_v<N, ast::ErrorStmt>) saw_syntax_error_ = true;
        return true;  // ErrorStmt and the statements that always complete
      },
      stmt.node);
}

void Checker::ExpectScalar(ast::ExprId id, TypeId expected) {
  TypeId t = CheckExpr(id);
  ExpectType(id, t, expected);
}

void Checker::CheckLet(ast::StmtId id, const ast::LetStmt& let) {
  TypeId declared = let.type.valid() ? ResolveType(let.type) : TypeId{};
  TypeId t = CheckExpr(let.init);
  CheckClauses(let.clauses, let.init);  // before the name exists
  TypeId type = t;
  if (declared.valid()) {
    ExpectType(let.init, t, declared);
    type = declared;
  } else if (let.is_var) {
    if (Uninformative(types(), t)) {
      diags_.Report(DiagKind::CannotInferType, let.name_range, let.name);
      type = types().error();
    } else {
      type = Widen(types(), t);
    }
  }
  int32_t slot =
      Declare(let.name, let.name_range, type, let.is_var ? LocalKind::Var : LocalKind::Let);
  out_.stmt_slots[id.index] = slot;
  NarrowAfterStore(slot, type, t);
  // Inside `compensate`, the bound name is the step's result (SPEC §2.5).
  CheckCompensate(let.clauses, let.init);
}

void Checker::CheckAssign(const ast::AssignStmt& assign) {
  TypeId value = CheckExpr(assign.value);
  CheckClauses(assign.clauses, assign.value);
  const ast::Expr& target = ast().expr(assign.target);
  if (auto* name = std::get_if<ast::NameRef>(&target.node)) {
    int32_t slot = LookupLocal(name->name);
    if (slot >= 0) {
      out_.names[assign.target.index] = {NameKind::Local, slot};
      const LocalInfo& local = fn_info().locals[slot];
      out_.expr_types[assign.target.index] = local.type;
      if (local.kind != LocalKind::Var) {
        diags_.Report(DiagKind::AssignToImmutable, target.range, name->name);
      } else {
        LogAccess(slot, target.range, LocalAccess::Kind::Assign);
        CheckParallelForAssign(slot, target.range);
        ExpectType(assign.value, value, local.type);
        KillFacts(slot);
        NarrowAfterStore(slot, local.type, value);
      }
    } else if (function_by_name_.count(name->name) || connector_by_name_.count(name->name)) {
      diags_.Report(DiagKind::InvalidAssignTarget, target.range);
    } else if (unknown_names_.insert(name->name).second) {
      Suggestion s = Suggest(name->name, VisibleNames());
      s.AttachTo(diags_.Report(DiagKind::UnknownName, target.range, name->name, s.suffix()),
                 target.range);
    }
  } else {
    TypeId t = CheckExpr(assign.target);  // its own errors first
    if (!IsError(t)) diags_.Report(DiagKind::InvalidAssignTarget, target.range);
  }
  CheckCompensate(assign.clauses, assign.value);
}

void Checker::CheckCondition(ast::ExprId cond) {
  TypeId t = CheckExpr(cond);
  ExpectType(cond, t, types().bool_());
}

auto Checker::CheckIf(const ast::IfStmt& s) -> bool {
  CheckCondition(s.cond);
  std::vector<Fact> when_true, when_false;
  CondFacts(s.cond, true, when_true);
  CondFacts(s.cond, false, when_false);
  size_t log0 = assigned_log_.size();
  bool then_falls = CheckBlock(s.then_block, &when_true);
  size_t log1 = assigned_log_.size();
  bool else_falls = s.else_block ? CheckBlock(*s.else_block, &when_false) : true;
  size_t log2 = assigned_log_.size();
  // Only one branch continues past the if: what its condition proved holds
  // for the rest of the block, unless that branch assigned the variable.
  if (!then_falls) PushFactsUnless(when_false, log1, log2);
  if (s.else_block && !else_falls) PushFactsUnless(when_true, log0, log1);
  return then_falls || else_falls;
}

auto Checker::ElementType(ast::ExprId iterable) -> TypeId {
  TypeId it = CheckExpr(iterable);
  auto& tt = types();
  if (IsError(it) || RejectOptional(iterable, it)) return tt.error();  // already reported
  if (tt.kind(it) == Kind::List) return tt.get(it).element;
  diags_.Report(DiagKind::NotIterable, ast().expr(iterable).range, tt.Display(it));
  return tt.error();
}

void Checker::CheckFor(ast::StmtId id, const ast::ForStmt& s) {
  TypeId element = ElementType(s.iterable);
  KillAssignedIn(s.body);
  PushScope();
  out_.stmt_slots[id.index] = Declare(s.var, s.var_range, element, LocalKind::ForVar);
  jump_scopes_.push_back(JumpScope{JumpScope::Kind::Loop});
  CheckBlock(s.body);
  jump_scopes_.pop_back();
  PopScope();
}

void Checker::CheckWhile(const ast::WhileStmt& s) {
  // The condition and body see the state of every iteration, so what the
  // body assigns is not narrowed on entry.
  KillAssignedIn(s.body);
  CheckCondition(s.cond);
  std::vector<Fact> when_true, when_false;
  CondFacts(s.cond, true, when_true);
  CondFacts(s.cond, false, when_false);
  jump_scopes_.push_back(JumpScope{JumpScope::Kind::Loop});
  CheckBlock(s.body, &when_true);
  bool has_break = jump_scopes_.back().has_break;
  jump_scopes_.pop_back();
  // Without a `break` the loop ends only when its condition is false.
  if (!has_break) PushFacts(when_false);
}

void Checker::CheckReturn(ast::StmtId id, const ast::ReturnStmt& r) {
  CheckReturnLeavesNoBranch(Keyword(ast().stmt(id).range, "return"));
  TypeId result = out_.functions[current_fn_].result;
  std::string label = CurrentFunctionLabel();
  if (!r.value.valid()) {
    if (result.valid() && !IsError(result)) {
      diags_.Report(DiagKind::ReturnType, ast().stmt(id).range, label, types().Display(result),
                    "nothing");
    }
    return;
  }
  TypeId t = CheckExpr(r.value);
  CheckClauses(r.clauses, r.value);
  CheckCompensate(r.clauses, r.value);
  if (!result.valid()) {
    diags_.Report(DiagKind::ReturnValueInVoid, ast().expr(r.value).range, label);
  } else if (Fits(r.value, t, result) == Fit::Mismatch) {
    diags_.Report(DiagKind::ReturnType, ast().expr(r.value).range, label, types().Display(result),
                  types().Display(t));
  }
}

auto Checker::CheckTry(ast::StmtId id, const ast::TryStmt& t) -> bool {
  bool body_falls = CheckBlock(t.body);
  PushScope();
  out_.stmt_slots[id.index] =
      Declare(t.err_name, t.err_range, error_record_type_, LocalKind::CatchVar);
  bool handler_falls = CheckBlock(t.handler);
  PopScope();
  return body_falls || handler_falls;
}

// ------------------------------------------------------------------ clauses

auto Checker::IsStepExpr(ast::ExprId id) const -> bool {
  return id.valid() && std::holds_alternative<ast::CallExpr>(ast().expr(id).node) &&
         out_.calls[id.index].kind == CallKind::Step;
}

auto Checker::IsChildCallExpr(ast::ExprId id) const -> bool {
  return id.valid() && std::holds_alternative<ast::CallExpr>(ast().expr(id).node) &&
         out_.calls[id.index].kind == CallKind::Workflow;
}

// A child workflow call takes `timeout` (for the whole child run) and
// `compensate`, but not `retry` (SPEC §2.5).
void Checker::CheckClauses(const ast::StepClauses& clauses, ast::ExprId expr) {
  bool child = IsChildCallExpr(expr);
  bool quiet = IsStepExpr(expr) || child || !expr.valid() || IsError(out_.expr_types[expr.index]);
  if (clauses.retry) {
    if (child) {
      int32_t callee = out_.calls[expr.index].function;
      SourceRange kw = clauses.retry->range;
      kw.end = std::min(kw.end, kw.begin + static_cast<uint32_t>(sizeof("retry") - 1));
      diags_.Report(DiagKind::RetryOnChildCall, kw, ast().functions[callee].name);
    } else if (!quiet) {
      diags_.Report(DiagKind::ClauseWithoutStep, clauses.retry->range, "retry");
    }
    CheckRetry(*clauses.retry);
  }
  if (clauses.timeout) {
    if (!quiet) diags_.Report(DiagKind::ClauseWithoutStep, clauses.timeout->range, "timeout");
    ExpectScalar(clauses.timeout->duration, types().duration());
  }
}

void Checker::CheckCompensate(const ast::StepClauses& clauses, ast::ExprId expr) {
  if (!clauses.compensate) return;
  const ast::CompensateClause& c = *clauses.compensate;
  bool quiet = IsStepExpr(expr) || IsChildCallExpr(expr) || !expr.valid() ||
               IsError(out_.expr_types[expr.index]);
  if (!quiet) diags_.Report(DiagKind::ClauseWithoutStep, c.range, "compensate");
  TypeId t = CheckExpr(c.step);
  // Without a step to compensate, E046 already said what is wrong.
  if (quiet && !IsStepExpr(c.step) && !IsError(t)) {
    diags_.Report(DiagKind::CompensateNotStep, ast().expr(c.step).range);
  }
  if (c.retry) CheckRetry(*c.retry);
  if (c.timeout) ExpectScalar(c.timeout->duration, types().duration());
}

void Checker::CheckRetry(const ast::RetryClause& r) {
  ExpectScalar(r.attempts, types().int_());
  if (r.backoff.valid()) ExpectScalar(r.backoff, types().duration());
  if (r.max.valid()) ExpectScalar(r.max, types().duration());
  for (size_t i = 0; i < r.on.size(); ++i) {
    if (connectors::IsRetryableKind(r.on[i])) continue;
    SourceRange where = i < r.on_ranges.size() ? r.on_ranges[i] : r.range;
    Suggestion s = Suggest(r.on[i], RetryableKindNames());
    s.AttachTo(diags_.Report(DiagKind::UnknownErrorKind, where, r.on[i], s.suffix()), where,
               /*quoted=*/true);
  }
}

// ------------------------------------------------------------------ narrowing

void Checker::CondFacts(ast::ExprId cond, bool when_true, std::vector<Fact>& out) {
  if (!cond.valid()) return;
  const auto& node = ast().expr(cond).node;
  if (auto* u = std::get_if<ast::UnaryExpr>(&node)) {
    if (u->op == ast::UnaryOp::Not) CondFacts(u->operand, !when_true, out);
    return;
  }
  auto* b = std::get_if<ast::BinaryExpr>(&node);
  if (!b) return;
  switch (b->op) {
    case ast::BinaryOp::And:
      if (when_true) {
        CondFacts(b->lhs, true, out);
        CondFacts(b->rhs, true, out);
      }
      return;
    case ast::BinaryOp::Or:
      if (!when_true) {
        CondFacts(b->lhs, false, out);
        CondFacts(b->rhs, false, out);
      }
      return;
    case ast::BinaryOp::Eq:
    case ast::BinaryOp::Ne: {
      bool non_null = (b->op == ast::BinaryOp::Ne) == when_true;
      if (!non_null) return;
      auto is_null = [&](ast::ExprId e) {
        return std::holds_alternative<ast::NullLit>(ast().expr(e).node);
      };
      ast::ExprId side = is_null(b->rhs) ? b->lhs : is_null(b->lhs) ? b->rhs : ast::ExprId{};
      if (!side.valid()) return;
      TypeId t = out_.expr_types[side.index];
      if (!t.valid() || !types().is_optional(t)) return;
      Fact fact;
      if (!PathOf(side, fact)) return;
      fact.type = types().StripOptional(t);
      out.push_back(std::move(fact));
      return;
    }
    default:
      return;
  }
}

auto Checker::PathOf(ast::ExprId id, Fact& fact) const -> bool {
  const auto& node = ast().expr(id).node;
  if (std::holds_alternative<ast::NameRef>(node)) {
    const NameTarget& target = out_.names[id.index];
    if (target.kind != NameKind::Local) return false;
    fact.slot = target.index;
    fact.path.clear();
    return true;
  }
  if (auto* m = std::get_if<ast::MemberExpr>(&node)) {
    if (!PathOf(m->object, fact)) return false;
    fact.path.push_back(m->name);
    return true;
  }
  return false;
}

auto Checker::NarrowedType(ast::ExprId id, TypeId declared) const -> TypeId {
  if (facts_.empty() || !types().is_optional(declared)) return declared;
  Fact probe;
  if (!PathOf(id, probe) || fact_count_.find(probe.slot) == fact_count_.end()) return declared;
  for (size_t i = facts_.size(); i-- > 0;) {
    const Fact& f = facts_[i];
    if (f.slot == probe.slot && f.path == probe.path) return f.type.valid() ? f.type : declared;
  }
  return declared;
}

void Checker::PushFacts(const std::vector<Fact>& facts) {
  for (const Fact& f : facts) {
    facts_.push_back(f);
    ++fact_count_[f.slot];
  }
}

void Checker::PushFactsUnless(const std::vector<Fact>& facts, size_t log_from, size_t log_to) {
  for (const Fact& f : facts) {
    bool assigned = false;
    for (size_t i = log_from; i < log_to && !assigned; ++i) assigned = assigned_log_[i] == f.slot;
    if (!assigned) PushFacts({f});
  }
}

void Checker::NarrowAfterStore(int32_t slot, TypeId declared, TypeId stored) {
  auto& tt = types();
  if (!tt.is_optional(declared) || !stored.valid()) return;
  Kind k = tt.kind(stored);
  if (k == Kind::Optional || k == Kind::Null || k == Kind::Error || k == Kind::Json) return;
  PushFacts({Fact{slot, {}, tt.StripOptional(declared)}});
}

void Checker::KillFacts(int32_t slot) {
  assigned_log_.push_back(slot);
  if (fact_count_.find(slot) == fact_count_.end()) return;
  // Dead, not removed: a fact of an enclosing block must stay dead after
  // this block ends.
  for (Fact& f : facts_) {
    if (f.slot == slot) f.type = TypeId{};
  }
}

void Checker::KillAssignedIn(const ast::Block& block) {
  // Linear in the loop body; loops nest at most the parser's nesting limit
  // deep, so the whole pass stays linear in the program.
  for (ast::StmtId s : block.stmts) {
    std::visit(
        [&](const auto& n) {
          using N = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<N, ast::AssignStmt>) {
            if (auto* name = std::get_if<ast::NameRef>(&ast().expr(n.target).node)) {
              int32_t slot = LookupLocal(name->name);
              if (slot >= 0) KillFacts(slot);
            }
          } else if constexpr (std::is_same_v<N, ast::IfStmt>) {
            KillAssignedIn(n.then_block);
            if (n.else_block) KillAssignedIn(*n.else_block);
          } else if constexpr (std::is_same_v<N, ast::ForStmt> || std::is_same_v<N, ast::WhileStmt> ||
                               std::is_same_v<N, ast::ParallelStmt>) {
            KillAssignedIn(n.body);
          } else if constexpr (std::is_same_v<N, ast::TryStmt>) {
            KillAssignedIn(n.body);
            KillAssignedIn(n.handler);
          }
        },
        ast().stmt(s).node);
  }
}

}  // namespace flow::check
