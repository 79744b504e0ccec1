// Declarations, statements, blocks and step clauses. Expressions, strings and
// types are in ast_builder_expr.cpp.
#include "compiler/parse/ast_builder.h"

#include "compiler/parse/limits.h"

namespace flow::parse {

using antlr4::Token;

auto AstBuilder::IsMissing(Token* token) -> bool {
  return token == nullptr || token->getTokenIndex() == INVALID_INDEX ||
         token->getStartIndex() == INVALID_INDEX;
}

// What ctx->getToken(type, 0) != nullptr tells, with dynamic_cast only on
// terminal children (TerminalNodeImpl and ErrorNodeImpl, the only terminal
// node classes, reach ParseTree through a virtual base).
auto AstBuilder::HasToken(antlr4::ParserRuleContext* ctx, size_t type) -> bool {
  for (auto* child : ctx->children) {
    const std::type_info& t = typeid(*child);
    if (t != typeid(antlr4::tree::TerminalNodeImpl) && t != typeid(antlr4::tree::ErrorNodeImpl)) {
      continue;
    }
    auto* terminal = dynamic_cast<antlr4::tree::TerminalNode*>(child);
    if (terminal != nullptr && terminal->getSymbol()->getType() == type) return true;
  }
  return false;
}

auto AstBuilder::LeadingToken(antlr4::ParserRuleContext* ctx, size_t type) const -> Token* {
  if (!has_tree_) return ctx->getStart();
  antlr4::tree::TerminalNode* node = ctx->getToken(type, 0);
  return node == nullptr ? nullptr : node->getSymbol();
}

auto AstBuilder::Range(antlr4::ParserRuleContext* ctx) const -> SourceRange {
  if (ctx == nullptr) return reporter_.TokenRange(nullptr);
  SourceRange begin = reporter_.TokenRange(ctx->getStart());
  Token* stop = ctx->getStop();
  if (stop == nullptr || IsMissing(stop) || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) {
    return SourceRange{begin.file, begin.begin, begin.begin};
  }
  SourceRange end = reporter_.TokenRange(stop);
  return SourceRange{begin.file, begin.begin, std::max(begin.begin, end.end)};
}

auto AstBuilder::Range(antlr4::tree::TerminalNode* node) const -> SourceRange {
  return reporter_.TokenRange(node == nullptr ? nullptr : node->getSymbol());
}

auto AstBuilder::ErrorExpr(SourceRange range) -> ast::ExprId {
  return ast_.AddExpr(ast::Expr{range, ast::ErrorExpr{}});
}

auto AstBuilder::ErrorType(SourceRange range) -> ast::TypeExprId {
  return ast_.AddType(ast::TypeExpr{range, ast::ErrorTypeExpr{}});
}

auto AstBuilder::Enter(int levels, SourceRange range) -> bool {
  if (depth_ + levels <= kMaxAstDepth) return true;
  if (!depth_reported_) {
    depth_reported_ = true;
    reporter_.diags().Report(DiagKind::NestingTooDeep, range, kMaxAstDepth);
  }
  return false;
}

void AstBuilder::ReportDuplicate(const char* clause, SourceRange range) {
  reporter_.diags().Report(DiagKind::DuplicateClause, range, clause);
}

auto AstBuilder::PlainText(const ast::StringLit& lit) -> std::string {
  std::string out;
  for (const auto& part : lit.parts) {
    if (!part.expr.valid()) out += part.text;
  }
  return out;
}

void AstBuilder::BuildFile(P::FileContext* file) {
  if (file == nullptr) return;
  for (auto* decl : file->decls) BuildDecl(decl);
}

void AstBuilder::BuildDecl(P::DeclContext* ctx) {
  SourceRange range = Range(ctx);
  if (auto* c = Is<P::ConnectorDeclContext>(ctx)) {
    if (IsMissing(c->name) || c->path == nullptr) return;
    ast::StringLit path = BuildString(c->path);
    ast_.connectors.push_back(ast::ConnectorDecl{range, c->name->getText(), Range(c->name),
                                                 PlainText(path), Range(c->path)});
  } else if (auto* t = Is<P::TypeDeclContext>(ctx)) {
    if (IsMissing(t->name)) return;
    ast_.type_decls.push_back(
        ast::TypeDecl{range, t->name->getText(), Range(t->name), BuildType(t->value)});
  } else if (auto* f = Is<P::FunctionDeclContext>(ctx)) {
    if (IsMissing(f->name) || IsMissing(f->kind)) return;
    ast::FunctionDecl fn;
    fn.range = range;
    fn.is_workflow = f->kind->getType() == P::WORKFLOW;
    fn.name = f->name->getText();
    fn.name_range = Range(f->name);
    if (auto* params = f->ps) {
      for (auto* p : params->items) {
        if (IsMissing(p->name)) continue;
        fn.params.push_back(ast::Param{p->name->getText(), Range(p->name), BuildType(p->ty)});
      }
    }
    if (f->result != nullptr) fn.result = BuildType(f->result);
    fn.body = BuildBlock(f->body);
    ast_.functions.push_back(std::move(fn));
  }
}

auto AstBuilder::BuildBlock(P::BlockContext* ctx) -> ast::Block {
  ast::Block block;
  block.range = Range(ctx);
  if (ctx == nullptr) return block;
  if (!Enter(1, block.range)) return block;
  DepthScope scope(depth_, 1);
  block.stmts.reserve(ctx->stmts.size());
  for (auto* stmt : ctx->stmts) block.stmts.push_back(BuildStmt(stmt));
  return block;
}

auto AstBuilder::BuildStmt(P::StmtContext* ctx) -> ast::StmtId {
  SourceRange range = Range(ctx);
  if (!Enter(1, range)) return ast_.AddStmt(ast::Stmt{range, ast::ErrorStmt{}});
  DepthScope scope(depth_, 1);
  return BuildStmtNode(ctx, range);
}

auto AstBuilder::BuildStmtNode(P::StmtContext* ctx, SourceRange range) -> ast::StmtId {
  auto add = [&](auto node) { return ast_.AddStmt(ast::Stmt{range, std::move(node)}); };
  if (auto* s = Is<P::ExprStmtContext>(ctx)) {
    ast::ExprId target = BuildExpr(s->target);
    ast::StepClauses clauses = BuildClauses(s->cls);
    if (s->eq != nullptr && !IsMissing(s->eq)) {
      if (auto op = reporter_.TakeCompoundOperator(s->eq->getStartIndex())) {
        return add(BuildCompoundAssign(*op, s->eq, target, BuildExpr(s->value), std::move(clauses)));
      }
    }
    if (s->value != nullptr || HasToken(s, P::ASSIGN)) {
      return add(ast::AssignStmt{target, BuildExpr(s->value), std::move(clauses)});
    }
    return add(ast::ExprStmt{target, std::move(clauses)});
  }
  if (auto* s = Is<P::LetStmtContext>(ctx)) {
    if (IsMissing(s->name) || IsMissing(s->kind)) return add(ast::ErrorStmt{});
    ast::LetStmt let;
    let.is_var = s->kind->getType() == P::VAR;
    let.name = s->name->getText();
    let.name_range = Range(s->name);
    if (s->ty != nullptr) let.type = BuildType(s->ty);
    let.init = BuildExpr(s->init);
    let.clauses = BuildClauses(s->cls);
    return add(std::move(let));
  }
  if (auto* s = Is<P::IfStmtContext>(ctx)) return BuildIf(s, range);
  if (auto* s = Is<P::ForStmtContext>(ctx)) {
    if (IsMissing(s->name)) return add(ast::ErrorStmt{});
    ast::ExprId iterable = BuildExpr(s->iter);
    return add(ast::ForStmt{s->name->getText(), Range(s->name), iterable, BuildBlock(s->body)});
  }
  if (auto* s = Is<P::WhileStmtContext>(ctx)) {
    ast::ExprId cond = BuildExpr(s->cond);
    return add(ast::WhileStmt{cond, BuildBlock(s->body)});
  }
  if (auto* s = Is<P::ReturnStmtContext>(ctx)) {
    ast::ReturnStmt ret;
    if (s->value != nullptr) ret.value = BuildExpr(s->value);
    ret.clauses = BuildClauses(s->cls);
    return add(std::move(ret));
  }
  if (auto* s = Is<P::FailStmtContext>(ctx)) return add(ast::FailStmt{BuildExpr(s->value)});
  if (auto* s = Is<P::TryStmtContext>(ctx)) {
    if (IsMissing(s->name)) return add(ast::ErrorStmt{});
    ast::Block body = BuildBlock(s->body);
    return add(ast::TryStmt{std::move(body), s->name->getText(), Range(s->name),
                            BuildBlock(s->handler)});
  }
  if (auto* s = Is<P::CheckpointStmtContext>(ctx)) {
    return add(ast::CheckpointStmt{BuildExpr(s->value)});
  }
  if (auto* s = Is<P::SleepStmtContext>(ctx)) return add(ast::SleepStmt{BuildExpr(s->value)});
  if (auto* s = Is<P::ParallelStmtContext>(ctx)) {
    return add(ast::ParallelStmt{BuildBlock(s->body)});
  }
  if (Is<P::BreakStmtContext>(ctx)) return add(ast::BreakStmt{});
  if (Is<P::ContinueStmtContext>(ctx)) return add(ast::ContinueStmt{});
  return add(ast::ErrorStmt{});
}

// `if a {} else if b {} else {}` becomes IfStmt(a, else: { IfStmt(b, else: {}) }),
// built from the innermost link outwards so a long chain needs no recursion.
auto AstBuilder::BuildIf(P::IfStmtContext* ctx, SourceRange range) -> ast::StmtId {
  size_t links = std::min(ctx->conds.size(), ctx->blocks.size());
  if (links == 0) return ast_.AddStmt(ast::Stmt{range, ast::ErrorStmt{}});
  if (!Enter(static_cast<int>(links), range)) return ast_.AddStmt(ast::Stmt{range, ast::ErrorStmt{}});
  DepthScope scope(depth_, static_cast<int>(links));
  std::optional<ast::Block> else_block;
  if (ctx->elseBlock != nullptr) else_block = BuildBlock(ctx->elseBlock);
  ast::StmtId result;
  for (size_t i = links; i-- > 0;) {
    ast::IfStmt node{BuildExpr(ctx->conds[i]), BuildBlock(ctx->blocks[i]), std::move(else_block)};
    SourceRange link_range = i == 0 ? range : Range(ctx->conds[i]);
    if (i > 0) {
      // The link spans from its `if` to the end of the whole statement.
      Token* if_token = nullptr;
      if (has_tree_) {
        if (auto* if_node = ctx->IF(i)) if_token = if_node->getSymbol();
      } else if (i - 1 < ctx->elifs.size()) {
        if_token = ctx->elifs[i - 1];
      }
      if (if_token != nullptr) link_range.begin = Range(if_token).begin;
      link_range.end = range.end;
    }
    result = ast_.AddStmt(ast::Stmt{link_range, std::move(node)});
    if (i > 0) else_block = ast::Block{link_range, {result}};
  }
  return result;
}

auto AstBuilder::BuildRetry(P::RetryClauseContext* ctx) -> ast::RetryClause {
  ast::RetryClause retry;
  retry.range = Range(ctx);
  retry.attempts = ctx->attempts ? BuildPostfix(ctx->attempts) : ErrorExpr(retry.range);
  if (ctx->backoff != nullptr) retry.backoff = BuildPostfix(ctx->backoff);
  if (ctx->max != nullptr) retry.max = BuildPostfix(ctx->max);
  for (auto* str : ctx->ons) {
    retry.on.push_back(PlainText(BuildString(str)));
    retry.on_ranges.push_back(Range(str));
  }
  return retry;
}

// `x += e` is reported (E072) and read as `x = x + e`, so the rest of the
// statement is checked as the user meant it.
auto AstBuilder::BuildCompoundAssign(SyntaxReporter::CompoundOperator op, Token* eq, ast::ExprId target,
                                     ast::ExprId value, ast::StepClauses clauses) -> ast::AssignStmt {
  static constexpr std::pair<size_t, ast::BinaryOp> kOps[] = {
      {P::PLUS, ast::BinaryOp::Add}, {P::MINUS, ast::BinaryOp::Sub}, {P::STAR, ast::BinaryOp::Mul},
      {P::SLASH, ast::BinaryOp::Div}, {P::PERCENT, ast::BinaryOp::Mod}};
  ast::BinaryOp binary = ast::BinaryOp::Add;
  for (auto [type, b] : kOps) {
    if (op.type == type) binary = b;
  }
  SourceRange op_range = reporter_.Range(op.start, op.start + 1);
  SourceRange both = reporter_.Range(op.start, eq->getStopIndex() + 1);
  reporter_.diags().Report(DiagKind::CompoundAssignment, both, ast::BinaryOpSpelling(binary),
                           SourceText(ast_.expr(target).range), SourceText(ast_.expr(value).range));
  // The target read again, as a node of its own (one parent per node).
  ast::ExprId lhs = ast_.AddExpr(ast_.expr(target));
  SourceRange whole{op_range.file, ast_.expr(target).range.begin, ast_.expr(value).range.end};
  ast::ExprId sum = ast_.AddExpr(ast::Expr{whole, ast::BinaryExpr{binary, lhs, value, op_range}});
  return ast::AssignStmt{target, sum, std::move(clauses)};
}

auto AstBuilder::SourceText(SourceRange range) const -> std::string {
  std::string_view text = reporter_.file().text();
  if (range.end <= range.begin || range.end > text.size()) return "";
  return std::string(text.substr(range.begin, range.end - range.begin));
}

// `retry 3 timeout 2s on "timeout"`: E074 names the order that works, and
// the misplaced part joins the retry clause.
void AstBuilder::MergeStrayRetryPart(antlr4::ParserRuleContext* stray, ast::StepClauses& out,
                                     std::optional<ast::RetryClause>& retry,
                                     const std::vector<SourceRange>& others) {
  SourceRange range = Range(stray);
  if (!retry) {
    reporter_.diags().Report(DiagKind::RetryOptionOutOfPlace, range, SourceText(range),
                             "retry 3 " + SourceText(range));
    return;
  }
  ast::RetryClause& r = *retry;
  if (auto* b = Is<P::StrayBackoffClauseContext>(stray)) {
    if (r.backoff.valid()) return ReportDuplicate("backoff", range);
    r.backoff = BuildPostfix(b->backoff);
    if (b->max != nullptr) r.max = BuildPostfix(b->max);
  } else if (auto* o = Is<P::StrayOnClauseContext>(stray)) {
    if (!r.on.empty()) return ReportDuplicate("on", range);
    for (auto* str : o->ons) {
      r.on.push_back(PlainText(BuildString(str)));
      r.on_ranges.push_back(Range(str));
    }
  }
  std::string fixed = RetryText(r);
  for (SourceRange other : others) fixed += " " + SourceText(other);
  reporter_.diags().Report(DiagKind::RetryOptionOutOfPlace, range, SourceText(range), fixed);
  (void)out;
}

// The retry clause as it is written correctly: `retry N backoff D max D on "k", ...`.
auto AstBuilder::RetryText(const ast::RetryClause& r) const -> std::string {
  std::string text = "retry " + SourceText(ast_.expr(r.attempts).range);
  if (r.backoff.valid()) text += " backoff " + SourceText(ast_.expr(r.backoff).range);
  if (r.max.valid()) text += " max " + SourceText(ast_.expr(r.max).range);
  for (size_t i = 0; i < r.on_ranges.size(); ++i) text += (i == 0 ? " on " : ", ") + SourceText(r.on_ranges[i]);
  return text;
}

// Clauses before `compensate` belong to the step, those after it to the
// compensation step. Each may appear once per step (E009).
auto AstBuilder::BuildClauses(P::ClausesContext* ctx) -> ast::StepClauses {
  ast::StepClauses out;
  if (ctx == nullptr) return out;
  ast::CompensateClause* comp = nullptr;
  std::vector<SourceRange> others;  // the clauses that are not retry, for E074's fix
  for (auto* clause : ctx->items) {
    if (!Is<P::RetryClauseContext>(clause) && !Is<P::StrayBackoffClauseContext>(clause) &&
        !Is<P::StrayOnClauseContext>(clause)) {
      others.push_back(Range(clause));
    }
  }
  for (auto* clause : ctx->items) {
    SourceRange range = Range(clause);
    auto& retry = comp ? comp->retry : out.retry;
    auto& timeout = comp ? comp->timeout : out.timeout;
    if (Is<P::StrayBackoffClauseContext>(clause) || Is<P::StrayOnClauseContext>(clause)) {
      MergeStrayRetryPart(clause, out, retry, others);
    } else if (auto* r = Is<P::RetryClauseContext>(clause)) {
      if (retry) ReportDuplicate("retry", Range(LeadingToken(r, P::RETRY)));
      else retry = BuildRetry(r);
    } else if (auto* t = Is<P::TimeoutClauseContext>(clause)) {
      if (timeout) {
        ReportDuplicate("timeout", Range(LeadingToken(t, P::TIMEOUT)));
      } else {
        ast::ExprId d = t->value ? BuildPostfix(t->value) : ErrorExpr(range);
        timeout = ast::TimeoutClause{range, d};
      }
    } else if (auto* c = Is<P::CompensateClauseContext>(clause)) {
      if (out.compensate) {
        ReportDuplicate("compensate", Range(LeadingToken(c, P::COMPENSATE)));
        continue;
      }
      ast::ExprId step = c->step ? BuildPostfix(c->step) : ErrorExpr(range);
      out.compensate = ast::CompensateClause{range, step, std::nullopt, std::nullopt};
      comp = &*out.compensate;
    }
    if (comp != nullptr) comp->range.end = std::max(comp->range.end, range.end);
  }
  return out;
}

}  // namespace flow::parse
