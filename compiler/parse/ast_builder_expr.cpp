// Expressions, string literals and type expressions. Statements and
// declarations are in ast_builder.cpp.
// GCC 12 reports a false -Wmaybe-uninitialized when TypeExpr variants are moved
// into the Ast (the string and vector alternatives are never read unset).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <limits>
#include <vector>

#include "compiler/parse/ast_builder.h"
#include "compiler/parse/limits.h"
#include "compiler/parse/literals.h"

namespace flow::parse {

using antlr4::Token;

namespace {

using P = grammar::Flow;

auto BinaryOpOf(size_t token_type) -> ast::BinaryOp {
  switch (token_type) {
    case P::PLUS: return ast::BinaryOp::Add;
    case P::MINUS: return ast::BinaryOp::Sub;
    case P::STAR: return ast::BinaryOp::Mul;
    case P::SLASH: return ast::BinaryOp::Div;
    case P::PERCENT: return ast::BinaryOp::Mod;
    case P::EQ: return ast::BinaryOp::Eq;
    case P::NE: return ast::BinaryOp::Ne;
    case P::LT: return ast::BinaryOp::Lt;
    case P::LE: return ast::BinaryOp::Le;
    case P::GT: return ast::BinaryOp::Gt;
    case P::GE: return ast::BinaryOp::Ge;
    case P::AND: return ast::BinaryOp::And;
    case P::OR: return ast::BinaryOp::Or;
    default: return ast::BinaryOp::Coalesce;
  }
}

// One link of a left-recursive expression chain: `left op right` or
// `left as T`. Returns false for any other kind of node.
struct Link {
  P::ExprContext* left = nullptr;
  P::ExprContext* right = nullptr;  // null for a cast
  P::TypeContext* type = nullptr;   // set for a cast
  Token* op = nullptr;
};

auto AsLink(P::ExprContext* ctx, Link& link) -> bool {
  if (auto* c = Is<P::AdditiveContext>(ctx)) link = {c->left, c->right, nullptr, c->op};
  else if (auto* c = Is<P::MultiplicativeContext>(ctx)) link = {c->left, c->right, nullptr, c->op};
  else if (auto* c = Is<P::ComparisonContext>(ctx)) link = {c->left, c->right, nullptr, c->op};
  else if (auto* c = Is<P::AndContext>(ctx)) link = {c->left, c->right, nullptr, c->op};
  else if (auto* c = Is<P::OrContext>(ctx)) link = {c->left, c->right, nullptr, c->op};
  else if (auto* c = Is<P::CoalesceContext>(ctx)) link = {c->left, c->right, nullptr, c->op};
  else if (auto* c = Is<P::CastContext>(ctx)) link = {c->left, nullptr, c->ty, c->op};
  else return false;
  return link.op != nullptr;
}

// The literal a negation applies to, when it is directly an INT or FLOAT
// token (so `-9223372036854775808` folds into one literal).
auto NegatedLiteral(P::ExprContext* operand) -> P::PrimaryContext* {
  auto* postfix = Is<P::PostfixContext>(operand);
  if (postfix == nullptr) return nullptr;
  auto* primary = Is<P::PrimaryExprContext>(postfix->inner);
  if (primary == nullptr || primary->inner == nullptr) return nullptr;
  auto* lit = primary->inner;
  if (Is<P::IntLitContext>(lit) || Is<P::FloatLitContext>(lit)) return lit;
  return nullptr;
}

}  // namespace

auto AstBuilder::BuildExpr(P::ExprContext* ctx) -> ast::ExprId {
  if (ctx == nullptr || ctx->getStart() == nullptr) return ErrorExpr(Range(ctx));
  if (auto* p = Is<P::PostfixContext>(ctx)) {
    return p->inner ? BuildPostfix(p->inner) : ErrorExpr(Range(ctx));
  }
  if (auto* n = Is<P::NegateContext>(ctx)) return BuildUnary(ctx, n->op, n->operand);
  if (auto* n = Is<P::NotContext>(ctx)) return BuildUnary(ctx, n->op, n->operand);
  return BuildBinaryChain(ctx);
}

auto AstBuilder::BuildUnary(P::ExprContext* ctx, Token* op, P::ExprContext* operand)
    -> ast::ExprId {
  SourceRange range = Range(ctx);
  if (op == nullptr || operand == nullptr) return ErrorExpr(range);
  if (op->getType() == P::MINUS) {
    if (auto* lit = NegatedLiteral(operand)) {
      if (auto* i = Is<P::IntLitContext>(lit)) return BuildIntLiteral(i->getStart(), true, range);
      double value = std::strtod(lit->getStart()->getText().c_str(), nullptr);
      return ast_.AddExpr(ast::Expr{range, ast::FloatLit{-value}});
    }
  }
  if (!Enter(1, range)) return ErrorExpr(range);
  DepthScope scope(depth_, 1);
  ast::ExprId inner = BuildExpr(operand);
  ast::UnaryOp kind = op->getType() == P::MINUS ? ast::UnaryOp::Neg : ast::UnaryOp::Not;
  return ast_.AddExpr(ast::Expr{range, ast::UnaryExpr{kind, inner, Range(op)}});
}

// `a + b * c - d`: walk down the left spine with a loop, then build from the
// innermost link outwards.
auto AstBuilder::BuildBinaryChain(P::ExprContext* ctx) -> ast::ExprId {
  std::vector<std::pair<P::ExprContext*, Link>> spine;
  P::ExprContext* cur = ctx;
  Link link;
  while (cur != nullptr && AsLink(cur, link)) {
    spine.emplace_back(cur, link);
    if (spine.size() > static_cast<size_t>(kMaxAstDepth)) break;
    cur = link.left;
  }
  SourceRange range = Range(ctx);
  if (spine.empty()) return ErrorExpr(range);
  int levels = static_cast<int>(spine.size());
  if (!Enter(levels, range)) return ErrorExpr(range);
  DepthScope scope(depth_, levels);
  ast::ExprId acc = BuildExpr(cur);
  for (size_t i = spine.size(); i-- > 0;) {
    auto [node, l] = spine[i];
    SourceRange node_range = Range(node);
    if (l.right == nullptr) {
      ast::TypeExprId type = l.type ? BuildType(l.type) : ErrorType(node_range);
      acc = ast_.AddExpr(ast::Expr{node_range, ast::CastExpr{acc, type}});
    } else {
      ast::ExprId rhs = BuildExpr(l.right);
      acc = ast_.AddExpr(ast::Expr{
          node_range, ast::BinaryExpr{BinaryOpOf(l.op->getType()), acc, rhs, Range(l.op)}});
    }
  }
  return acc;
}

auto AstBuilder::BuildPostfix(P::PostfixExprContext* ctx) -> ast::ExprId {
  // Walk down `a.b[c](d)` to `a`, then build outwards.
  std::vector<P::PostfixExprContext*> spine;
  P::PostfixExprContext* cur = ctx;
  while (cur != nullptr && Is<P::PrimaryExprContext>(cur) == nullptr) {
    spine.push_back(cur);
    if (spine.size() > static_cast<size_t>(kMaxAstDepth)) break;
    P::PostfixExprContext* next = nullptr;
    if (auto* c = Is<P::CallContext>(cur)) next = c->object;
    else if (auto* m = Is<P::MemberContext>(cur)) next = m->object;
    else if (auto* x = Is<P::IndexContext>(cur)) next = x->object;
    cur = next;
  }
  SourceRange range = Range(ctx);
  int levels = static_cast<int>(spine.size()) + 1;
  if (!Enter(levels, range)) return ErrorExpr(range);
  DepthScope scope(depth_, levels);
  auto* base = Is<P::PrimaryExprContext>(cur);
  ast::ExprId acc = base != nullptr ? BuildPrimary(base->inner) : ErrorExpr(Range(cur));
  for (size_t i = spine.size(); i-- > 0;) {
    P::PostfixExprContext* node = spine[i];
    SourceRange node_range = Range(node);
    if (auto* m = Is<P::MemberContext>(node)) {
      if (IsMissing(m->name)) {
        acc = ErrorExpr(node_range);
        continue;
      }
      acc = ast_.AddExpr(ast::Expr{node_range, ast::MemberExpr{acc, m->name->getText(), Range(m->name)}});
    } else if (auto* x = Is<P::IndexContext>(node)) {
      acc = ast_.AddExpr(ast::Expr{node_range, ast::IndexExpr{acc, BuildExpr(x->idx)}});
    } else if (auto* c = Is<P::CallContext>(node)) {
      Token* lparen = c->lp;
      Token* rparen = c->rp;
      if (has_tree_) {
        auto* l = c->LPAREN();
        auto* r = c->RPAREN();
        lparen = l == nullptr ? nullptr : l->getSymbol();
        rparen = r == nullptr ? nullptr : r->getSymbol();
      }
      ast::CallExpr call{acc, {}, Range(lparen)};
      if (rparen != nullptr && !IsMissing(rparen)) call.args_range.end = Range(rparen).end;
      if (auto* args = c->arglist) {
        call.args.reserve(args->items.size());
        for (auto* arg : args->items) {
          ast::Arg a;
          if (arg->name != nullptr && !IsMissing(arg->name)) {
            a.name = arg->name->getText();
            a.name_range = Range(arg->name);
          }
          a.value = BuildExpr(arg->value);
          call.args.push_back(std::move(a));
        }
      }
      acc = ast_.AddExpr(ast::Expr{node_range, std::move(call)});
    } else {
      acc = ErrorExpr(node_range);
    }
  }
  return acc;
}

auto AstBuilder::BuildIntLiteral(Token* digits, bool negative, SourceRange range) -> ast::ExprId {
  std::string text = digits->getText();
  auto value = ParseIntLiteral(text, negative);
  if (!value) {
    reporter_.diags().Report(DiagKind::IntegerLiteralTooLarge, range,
                             negative ? "-" + text : text);
    return ErrorExpr(range);
  }
  return ast_.AddExpr(ast::Expr{range, ast::IntLit{*value}});
}

auto AstBuilder::BuildPrimary(P::PrimaryContext* ctx) -> ast::ExprId {
  SourceRange range = Range(ctx);
  if (ctx == nullptr || IsMissing(ctx->getStart())) return ErrorExpr(range);
  auto add = [&](auto node) { return ast_.AddExpr(ast::Expr{range, std::move(node)}); };
  if (auto* n = Is<P::NameContext>(ctx)) return add(ast::NameRef{n->getStart()->getText()});
  if (auto* s = Is<P::StringLitContext>(ctx)) return add(BuildString(s->str));
  if (auto* i = Is<P::IntLitContext>(ctx)) return BuildIntLiteral(i->getStart(), false, range);
  if (Is<P::BoolLitContext>(ctx)) return add(ast::BoolLit{ctx->getStart()->getType() == P::TRUE_LIT});
  if (Is<P::NullLitContext>(ctx)) return add(ast::NullLit{});
  if (Is<P::FloatLitContext>(ctx)) {
    return add(ast::FloatLit{std::strtod(ctx->getStart()->getText().c_str(), nullptr)});
  }
  if (Is<P::DurationLitContext>(ctx)) {
    std::string text = ctx->getStart()->getText();
    auto millis = ParseDurationMillis(text);
    if (!millis) {
      reporter_.diags().Report(DiagKind::IntegerLiteralTooLarge, range, text);
      return ErrorExpr(range);
    }
    return add(ast::DurationLit{*millis});
  }
  if (auto* p = Is<P::ParenContext>(ctx)) return BuildExpr(p->inner);
  if (auto* l = Is<P::ListLitContext>(ctx)) {
    ast::ListLit list;
    for (auto* e : l->items) list.items.push_back(BuildExpr(e));
    return add(std::move(list));
  }
  if (auto* r = Is<P::RecordLitContext>(ctx)) {
    ast::RecordLit record;
    for (auto* field : r->fields) {
      auto key = FieldKey(field->name, field->key);
      if (!key) continue;
      record.fields.push_back(ast::RecordFieldInit{key->first, key->second, BuildExpr(field->value)});
    }
    return add(std::move(record));
  }
  if (auto* a = Is<P::ApproveContext>(ctx)) return BuildApprove(a, range);
  if (auto* w = Is<P::WaitContext>(ctx)) return BuildWait(w, range);
  if (auto* p = Is<P::ParallelForContext>(ctx)) {
    if (IsMissing(p->name)) return ErrorExpr(range);
    ast::ParallelForExpr node;
    node.var = p->name->getText();
    node.var_range = Range(p->name);
    node.iterable = BuildExpr(p->iter);
    if (p->limit != nullptr) node.limit = BuildExpr(p->limit);
    node.body = BuildBlock(p->body);
    return add(std::move(node));
  }
  return ErrorExpr(range);
}

auto AstBuilder::FieldKey(Token* name, P::StringContext* key)
    -> std::optional<std::pair<std::string, SourceRange>> {
  if (key != nullptr) {
    ast::StringLit text = BuildString(key);
    if (!text.is_plain()) {
      // The field stays (its literal text as the name), so its value is
      // still checked and nothing else reports its absence.
      reporter_.diags().Report(DiagKind::InterpolatedFieldName, Range(key));
    }
    return std::make_pair(PlainText(text), Range(key));
  }
  if (IsMissing(name)) return std::nullopt;
  return std::make_pair(name->getText(), Range(name));
}

auto AstBuilder::BuildApprove(P::ApproveContext* ctx, SourceRange range) -> ast::ExprId {
  ast::ApproveExpr approve;
  approve.prompt = ctx->prompt ? BuildPostfix(ctx->prompt) : ErrorExpr(range);
  for (auto* clause : ctx->aclauses) {
    if (auto* f = Is<P::ApproveFromContext>(clause)) {
      if (approve.from.valid()) ReportDuplicate("from", Range(LeadingToken(f, P::FROM)));
      else approve.from = f->value ? BuildPostfix(f->value) : ErrorExpr(Range(f));
    } else if (auto* t = Is<P::ApproveTimeoutContext>(clause)) {
      if (approve.timeout.valid()) ReportDuplicate("timeout", Range(LeadingToken(t, P::TIMEOUT)));
      else approve.timeout = t->value ? BuildPostfix(t->value) : ErrorExpr(Range(t));
    }
  }
  return ast_.AddExpr(ast::Expr{range, approve});
}

auto AstBuilder::BuildWait(P::WaitContext* ctx, SourceRange range) -> ast::ExprId {
  ast::WaitExpr wait;
  wait.event = ctx->event ? BuildPostfix(ctx->event) : ErrorExpr(range);
  for (auto* clause : ctx->wclauses) {
    if (auto* t = Is<P::WaitTimeoutContext>(clause)) {
      if (wait.timeout.valid()) ReportDuplicate("timeout", Range(LeadingToken(t, P::TIMEOUT)));
      else wait.timeout = t->value ? BuildPostfix(t->value) : ErrorExpr(Range(t));
    } else if (auto* a = Is<P::WaitAsContext>(clause)) {
      if (wait.type.valid()) ReportDuplicate("as", Range(LeadingToken(a, P::AS)));
      else wait.type = BuildType(a->ty);
    }
  }
  return ast_.AddExpr(ast::Expr{range, wait});
}

// Adjacent text and escapes merge into one part; an interpolation is a part
// of its own. An empty string has no parts.
auto AstBuilder::BuildString(P::StringContext* ctx) -> ast::StringLit {
  ast::StringLit lit;
  if (ctx == nullptr) return lit;
  auto append_text = [&](std::string_view text) {
    if (lit.parts.empty() || lit.parts.back().expr.valid()) lit.parts.push_back({});
    lit.parts.back().text.append(text);
  };
  for (auto* part : ctx->parts) {
    if (auto* interp = Is<P::StrInterpContext>(part)) {
      lit.parts.push_back(ast::StringPart{"", BuildExpr(interp->value)});
      continue;
    }
    Token* token = part->getStart();
    if (IsMissing(token)) continue;
    std::string text = token->getText();
    if (token->getType() == P::STR_ESCAPE) {
      auto decoded = DecodeEscape(std::string_view(text).substr(1));
      if (!decoded) {
        reporter_.diags().Report(DiagKind::InvalidEscape, Range(token), text.substr(1));
        continue;
      }
      append_text(std::string_view(&*decoded, 1));
    } else {
      append_text(text);
    }
  }
  return lit;
}

auto AstBuilder::BuildType(P::TypeContext* ctx) -> ast::TypeExprId {
  SourceRange range = Range(ctx);
  if (ctx == nullptr || ctx->un == nullptr) return ErrorType(range);
  if (!Enter(1, range)) return ErrorType(range);
  DepthScope scope(depth_, 1);
  const auto& members = ctx->un->members;
  ast::TypeExprId result;
  if (members.size() == 1) {
    result = BuildPrimaryType(members[0]);
  } else {
    ast::UnionTypeExpr u;
    for (auto* m : members) u.members.push_back(BuildPrimaryType(m));
    result = ast_.AddType(ast::TypeExpr{Range(ctx->un), std::move(u)});
  }
  if (members.empty()) return ErrorType(range);
  // Each `?` wraps once more; its range ends at that `?`.
  for (Token* q : ctx->qs) {
    SourceRange r{range.file, range.begin, Range(q).end};
    result = ast_.AddType(ast::TypeExpr{r, ast::OptionalTypeExpr{result}});
  }
  return result;
}

auto AstBuilder::BuildPrimaryType(P::PrimaryTypeContext* ctx) -> ast::TypeExprId {
  SourceRange range = Range(ctx);
  if (ctx == nullptr || IsMissing(ctx->getStart())) return ErrorType(range);
  auto add = [&](auto node) { return ast_.AddType(ast::TypeExpr{range, std::move(node)}); };
  if (Is<P::NamedTypeContext>(ctx)) return add(ast::NamedTypeExpr{ctx->getStart()->getText()});
  if (auto* l = Is<P::ListTypeContext>(ctx)) return add(ast::ListTypeExpr{BuildType(l->elem)});
  if (auto* p = Is<P::ParenTypeContext>(ctx)) return BuildType(p->inner);
  if (auto* s = Is<P::LiteralTypeContext>(ctx)) {
    return add(ast::LiteralTypeExpr{PlainText(BuildString(s->str))});
  }
  if (auto* r = Is<P::RecordTypeContext>(ctx)) {
    ast::RecordTypeExpr record;
    for (auto* field : r->fields) {
      auto key = FieldKey(field->name, field->key);
      if (!key) continue;
      record.fields.push_back(ast::FieldTypeExpr{key->first, key->second, BuildType(field->ty)});
    }
    return add(std::move(record));
  }
  return ErrorType(range);
}

}  // namespace flow::parse
