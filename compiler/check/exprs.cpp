// Expressions: literals, names, fields, indexing, operators, approve/wait.
// Calls and steps are in calls.cpp.
#include "compiler/check/checker.h"
#include "compiler/diag/suggest.h"

namespace flow::check {
namespace {

using types::Kind;

auto IsNumeric(Kind k) -> bool { return k == Kind::Int || k == Kind::Float; }
auto IsStringLike(Kind k) -> bool { return k == Kind::String || k == Kind::Literal; }

auto BinarySpelling(ast::BinaryOp op) -> const char* {
  switch (op) {
    case ast::BinaryOp::Add: return "+";
    case ast::BinaryOp::Sub: return "-";
    case ast::BinaryOp::Mul: return "*";
    case ast::BinaryOp::Div: return "/";
    case ast::BinaryOp::Mod: return "%";
    case ast::BinaryOp::Eq: return "==";
    case ast::BinaryOp::Ne: return "!=";
    case ast::BinaryOp::Lt: return "<";
    case ast::BinaryOp::Le: return "<=";
    case ast::BinaryOp::Gt: return ">";
    case ast::BinaryOp::Ge: return ">=";
    case ast::BinaryOp::And: return "and";
    case ast::BinaryOp::Or: return "or";
    case ast::BinaryOp::Coalesce: return "??";
  }
  return "?";
}

auto IsComparison(ast::BinaryOp op) -> bool {
  return op >= ast::BinaryOp::Eq && op <= ast::BinaryOp::Ge;
}

// `"a" | "b"` for messages: the members themselves, even when the union has
// an alias, because the message is about which literal would fit.
auto MemberList(const std::vector<std::string>& lits) -> std::string {
  std::string out;
  for (size_t i = 0; i < lits.size(); ++i) {
    if (i > 0) out += " | ";
    out += "\"" + lits[i] + "\"";
  }
  return out;
}

auto PlainText(const ast::StringLit& s) -> std::string {
  std::string text;
  for (const auto& p : s.parts) text += p.text;
  return text;
}

}  // namespace

auto Checker::CheckExpr(ast::ExprId id) -> TypeId {
  if (!id.valid()) return types().error();
  TypeId t = CheckExprNode(id);
  out_.expr_types[id.index] = t;
  return t;
}

auto Checker::CheckExprNode(ast::ExprId id) -> TypeId {
  const ast::Expr& e = ast().expr(id);
  auto& tt = types();
  return std::visit(
      [&](const auto& n) -> TypeId {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, ast::ErrorExpr>) {
          saw_syntax_error_ = true;
          return tt.error();
        }
        if constexpr (std::is_same_v<N, ast::IntLit>) return tt.int_();
        if constexpr (std::is_same_v<N, ast::FloatLit>) return tt.float_();
        if constexpr (std::is_same_v<N, ast::BoolLit>) return tt.bool_();
        if constexpr (std::is_same_v<N, ast::NullLit>) return tt.null();
        if constexpr (std::is_same_v<N, ast::DurationLit>) return tt.duration();
        if constexpr (std::is_same_v<N, ast::StringLit>) return CheckString(n);
        if constexpr (std::is_same_v<N, ast::ListLit>) return CheckList(n);
        if constexpr (std::is_same_v<N, ast::RecordLit>) return CheckRecord(n);
        if constexpr (std::is_same_v<N, ast::NameRef>) return CheckName(id, n);
        if constexpr (std::is_same_v<N, ast::MemberExpr>) return CheckMember(id, n);
        if constexpr (std::is_same_v<N, ast::IndexExpr>) return CheckIndex(n);
        if constexpr (std::is_same_v<N, ast::CallExpr>) return CheckCall(id, n);
        if constexpr (std::is_same_v<N, ast::UnaryExpr>) return CheckUnary(n);
        if constexpr (std::is_same_v<N, ast::BinaryExpr>) return CheckBinary(n);
        if constexpr (std::is_same_v<N, ast::CastExpr>) {
          // Anything but a secret may be cast; checked at run time.
          RejectSecret(n.value, CheckExpr(n.value));
          return ResolveType(n.type);
        }
        if constexpr (std::is_same_v<N, ast::ApproveExpr>) return CheckApprove(id, n);
        if constexpr (std::is_same_v<N, ast::WaitExpr>) return CheckWait(id, n);
        if constexpr (std::is_same_v<N, ast::ParallelForExpr>) return CheckParallelFor(id, n, true);
        return tt.error();
      },
      e.node);
}

auto Checker::CheckString(const ast::StringLit& s) -> TypeId {
  if (s.is_plain()) return types().Literal({PlainText(s)});
  // Interpolation accepts any type but a secret: the VM renders it as
  // string(x) does.
  for (const auto& part : s.parts) {
    if (part.expr.valid()) RejectSecret(part.expr, CheckExpr(part.expr));
  }
  return types().string();
}

auto Checker::CheckList(const ast::ListLit& list) -> TypeId {
  TypeId element = types().never();
  for (ast::ExprId item : list.items) {
    TypeId t = CheckExpr(item);
    if (IsError(t)) continue;
    TypeId joined = types::Join(types(), element, t);
    if (!joined.valid()) {
      diags_.Report(DiagKind::TypeMismatch, ast().expr(item).range, types().Display(element),
                    types().Display(t));
      continue;
    }
    element = joined;
  }
  return types().List(element);
}

auto Checker::CheckRecord(const ast::RecordLit& rec) -> TypeId {
  std::vector<types::Field> fields;
  std::unordered_set<std::string_view> seen;
  for (const auto& f : rec.fields) {
    TypeId t = CheckExpr(f.value);
    if (!seen.insert(f.name).second) {
      diags_.Report(DiagKind::DuplicateDefinition, f.name_range, f.name);
      continue;
    }
    fields.push_back({f.name, t});
  }
  return types().Record(std::move(fields));
}

auto Checker::CheckName(ast::ExprId id, const ast::NameRef& name) -> TypeId {
  int32_t slot = LookupLocal(name.name);
  if (slot >= 0) {
    out_.names[id.index] = {NameKind::Local, slot};
    LogAccess(slot, ast().expr(id).range, LocalAccess::Kind::Read);
    return NarrowedType(id, fn_info().locals[slot].type);
  }
  if (!unknown_names_.insert(name.name).second) return types().error();  // reported once
  SourceRange range = ast().expr(id).range;
  auto fn = function_by_name_.find(name.name);
  auto conn = connector_by_name_.find(name.name);
  if (fn != function_by_name_.end() || conn != connector_by_name_.end()) {
    // Functions and connectors are not values; say what the name is.
    auto& d = diags_.Report(DiagKind::UnknownName, range, name.name, "");
    if (fn != function_by_name_.end()) {
      d.notes.push_back({ast().functions[fn->second].name_range,
                         "'" + name.name + "' is a function; call it with '(...)'"});
    } else if (conn->second < static_cast<int32_t>(ast().connectors.size())) {
      d.notes.push_back({ast().connectors[conn->second].name_range,
                         "'" + name.name + "' is a connector; call one of its operations"});
    }
    return types().error();
  }
  if (ReportLaterBranchBind(name.name, range)) return types().error();
  if (saw_syntax_error_) return types().error();  // its declaration may be what the parser lost
  Suggestion s = Suggest(name.name, VisibleNames());
  if (s.best.empty()) s = ForeignSuggestion(name.name);  // None -> null
  s.AttachTo(diags_.Report(DiagKind::UnknownName, range, name.name, s.suffix()), range);
  return types().error();
}

auto Checker::RejectOptional(ast::ExprId id, TypeId t) -> bool {
  if (!types().is_optional(t) && types().kind(t) != Kind::Null) return false;
  diags_.Report(DiagKind::OptionalUse, ast().expr(id).range, Text(id));
  return true;
}

auto Checker::CheckMember(ast::ExprId id, const ast::MemberExpr& m) -> TypeId {
  TypeId object = CheckExpr(m.object);
  auto& tt = types();
  Kind k = tt.kind(object);
  if (k == Kind::Error) return object;
  if (k == Kind::Json) return tt.json();  // dynamic: checked at run time
  if (RejectOptional(m.object, object)) return tt.error();
  if (k != Kind::Record) {
    diags_.Report(DiagKind::NotARecord, m.name_range, tt.Display(object));
    return tt.error();
  }
  TypeId field = tt.FieldType(object, m.name);
  if (!field.valid()) {
    std::vector<std::string> names;
    for (const auto& f : tt.get(object).fields) names.push_back(f.name);
    Suggestion s = Suggest(m.name, names);
    s.AttachTo(diags_.Report(DiagKind::UnknownField, m.name_range, tt.Display(object), m.name,
                             s.suffix()),
               m.name_range);
    return tt.error();
  }
  return NarrowedType(id, field);
}

auto Checker::CheckIndex(const ast::IndexExpr& ix) -> TypeId {
  TypeId object = CheckExpr(ix.object);
  TypeId index = CheckExpr(ix.index);
  auto& tt = types();
  Kind k = tt.kind(object);
  if (k == Kind::Error) return object;
  if (RejectOptional(ix.object, object)) return tt.error();
  if (k == Kind::Json) {
    Kind ik = tt.kind(index);
    if (ik != Kind::Int && !IsStringLike(ik)) ExpectType(ix.index, index, tt.int_());
    return tt.json();
  }
  if (k == Kind::List || IsStringLike(k)) {
    ExpectType(ix.index, index, tt.int_());
    return k == Kind::List ? tt.get(object).element : tt.string();
  }
  // `r["X-Api-Key"]`: a field by its name, for names that are not
  // identifiers (SPEC §2.1). Only a literal: a record's fields are static.
  const auto* key = std::get_if<ast::StringLit>(&ast().expr(ix.index).node);
  if (k == Kind::Record && key != nullptr && key->is_plain()) {
    std::string name = PlainText(*key);
    TypeId field = tt.FieldType(object, name);
    if (field.valid()) return field;
    std::vector<std::string> names;
    for (const auto& f : tt.get(object).fields) names.push_back(f.name);
    diags_.Report(DiagKind::UnknownField, ast().expr(ix.index).range, tt.Display(object), name,
                  DidYouMean(name, names));
    return tt.error();
  }
  diags_.Report(DiagKind::NotIndexable, ast().expr(ix.object).range, tt.Display(object));
  return tt.error();
}

auto Checker::CheckUnary(const ast::UnaryExpr& u) -> TypeId {
  TypeId t = CheckExpr(u.operand);
  auto& tt = types();
  if (IsError(t)) return u.op == ast::UnaryOp::Not ? tt.bool_() : t;
  if (RejectSecret(u.operand, t) || RejectOptional(u.operand, t)) return tt.error();
  Kind k = tt.kind(t);
  if (u.op == ast::UnaryOp::Not) {
    if (k == Kind::Bool) return t;
  } else if (IsNumeric(k) || k == Kind::Duration) {
    return t;
  }
  diags_.Report(DiagKind::InvalidOperand, u.op_range,
                u.op == ast::UnaryOp::Not ? "not" : "-", tt.Display(t));
  return tt.error();
}

auto Checker::CheckBinary(const ast::BinaryExpr& b) -> TypeId {
  TypeId l = CheckExpr(b.lhs);
  TypeId r;
  if (b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or) {
    // The right side runs only when the left is true (and) / false (or).
    std::vector<Fact> facts;
    CondFacts(b.lhs, b.op == ast::BinaryOp::And, facts);
    PushScope();
    PushFacts(facts);
    r = CheckExpr(b.rhs);
    PopScope();
  } else {
    r = CheckExpr(b.rhs);
  }
  auto& tt = types();
  bool boolean = IsComparison(b.op) || b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or;
  if (IsError(l) || IsError(r)) return boolean ? tt.bool_() : tt.error();
  // One message per operator, at the first operand holding a secret.
  if (RejectSecret(b.lhs, l) || RejectSecret(b.rhs, r)) return boolean ? tt.bool_() : tt.error();
  if (b.op == ast::BinaryOp::Eq || b.op == ast::BinaryOp::Ne) {
    bool numeric = IsNumeric(tt.kind(tt.StripOptional(l))) && IsNumeric(tt.kind(tt.StripOptional(r)));
    if (numeric || types::Join(tt, l, r).valid()) return tt.bool_();
    diags_.Report(DiagKind::InvalidOperands, b.op_range, BinarySpelling(b.op), tt.Display(l),
                  tt.Display(r));
    return tt.bool_();
  }
  if (b.op == ast::BinaryOp::Coalesce) {
    Kind lk = tt.kind(l);
    if (lk == Kind::Null) return r;
    if (lk == Kind::Json) return tt.json();
    if (lk == Kind::Optional) {
      TypeId joined = types::Join(tt, tt.StripOptional(l), r);
      if (joined.valid()) return joined;
      diags_.Report(DiagKind::InvalidOperands, b.op_range, "??", tt.Display(l), tt.Display(r));
      return tt.error();
    }
    diags_.Report(DiagKind::InvalidOperand, b.op_range, "??", tt.Display(l));
    return r;
  }
  bool bad_l = RejectOptional(b.lhs, l);
  bool bad_r = RejectOptional(b.rhs, r);
  if (bad_l || bad_r) return boolean ? tt.bool_() : tt.error();
  return BinaryResult(b, l, r);
}

auto Checker::BinaryResult(const ast::BinaryExpr& b, TypeId l, TypeId r) -> TypeId {
  auto& tt = types();
  Kind lk = tt.kind(l), rk = tt.kind(r);
  bool numeric = IsNumeric(lk) && IsNumeric(rk);
  TypeId arith = lk == Kind::Int && rk == Kind::Int ? tt.int_() : tt.float_();
  switch (b.op) {
    case ast::BinaryOp::Add:
      if (numeric) return arith;
      if (IsStringLike(lk) && IsStringLike(rk)) return tt.string();
      if (lk == Kind::List && rk == Kind::List) {
        TypeId e = types::Join(tt, tt.get(l).element, tt.get(r).element);
        if (e.valid()) return tt.List(e);
      }
      if ((lk == Kind::Time && rk == Kind::Duration) || (lk == Kind::Duration && rk == Kind::Time)) {
        return tt.time();
      }
      if (lk == Kind::Duration && rk == Kind::Duration) return tt.duration();
      break;
    case ast::BinaryOp::Sub:
      if (numeric) return arith;
      if (lk == Kind::Time && rk == Kind::Duration) return tt.time();
      if (lk == Kind::Time && rk == Kind::Time) return tt.duration();
      if (lk == Kind::Duration && rk == Kind::Duration) return tt.duration();
      break;
    case ast::BinaryOp::Mul:
      if (numeric) return arith;
      if ((lk == Kind::Duration && rk == Kind::Int) || (lk == Kind::Int && rk == Kind::Duration)) {
        return tt.duration();
      }
      break;
    case ast::BinaryOp::Div:
    case ast::BinaryOp::Mod:
      if (numeric) return arith;
      break;
    case ast::BinaryOp::Lt:
    case ast::BinaryOp::Le:
    case ast::BinaryOp::Gt:
    case ast::BinaryOp::Ge:
      if (numeric || (IsStringLike(lk) && IsStringLike(rk)) || (lk == rk && lk == Kind::Time) ||
          (lk == rk && lk == Kind::Duration)) {
        return tt.bool_();
      }
      break;
    case ast::BinaryOp::And:
    case ast::BinaryOp::Or:
      if (lk == Kind::Bool && rk == Kind::Bool) return tt.bool_();
      break;
    default:
      break;
  }
  diags_.Report(DiagKind::InvalidOperands, b.op_range, BinarySpelling(b.op), tt.Display(l),
                tt.Display(r));
  bool boolean = IsComparison(b.op) || b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or;
  return boolean ? tt.bool_() : tt.error();
}

auto Checker::CheckApprove(ast::ExprId id, const ast::ApproveExpr& a) -> TypeId {
  SourceRange kw = ast().expr(id).range;
  kw.end = std::min(kw.end, kw.begin + static_cast<uint32_t>(sizeof("approve") - 1));
  ReportEffect("'approve'", kw);
  ExpectType(a.prompt, CheckExpr(a.prompt), types().string());
  if (a.from.valid()) ExpectType(a.from, CheckExpr(a.from), types().string());
  if (a.timeout.valid()) ExpectType(a.timeout, CheckExpr(a.timeout), types().duration());
  return approve_type_;
}

auto Checker::CheckWait(ast::ExprId id, const ast::WaitExpr& w) -> TypeId {
  SourceRange kw = ast().expr(id).range;
  kw.end = std::min(kw.end, kw.begin + static_cast<uint32_t>(sizeof("wait") - 1));
  ReportEffect("'wait'", kw);
  ExpectType(w.event, CheckExpr(w.event), types().string());
  if (w.timeout.valid()) ExpectType(w.timeout, CheckExpr(w.timeout), types().duration());
  return w.type.valid() ? ResolveType(w.type) : types().json();
}

void Checker::ReportEffect(std::string_view what, SourceRange range) {
  const auto& f = ast().functions[current_fn_];
  if (!f.is_workflow) diags_.Report(DiagKind::EffectInFunction, range, what, f.name);
}

// ------------------------------------------------------------------ conversions

auto Checker::Fits(ast::ExprId value, TypeId actual, TypeId expected) -> Fit {
  auto& tt = types();
  if (!value.valid() || !actual.valid() || !expected.valid()) return Fit::Ok;  // nothing to say
  if (types::IsAssignable(tt, actual, expected)) return Fit::Ok;
  if (RejectSecret(value, actual)) return Fit::Reported;
  TypeId want = tt.StripOptional(expected);
  const auto& node = ast().expr(value).node;
  // `timeout 5`: a number where a duration belongs; seconds are the guess.
  if (tt.kind(want) == Kind::Duration && std::holds_alternative<ast::IntLit>(node)) {
    SourceRange range = ast().expr(value).range;
    Diagnostic& d = diags_.Report(DiagKind::DurationWithoutUnit, range, Text(value));
    d.fixes.push_back({range, Text(value) + "s"});  // the quick fix `flow lsp` offers
    return Fit::Reported;
  }
  if (auto* s = std::get_if<ast::StringLit>(&node);
      s && s->is_plain() && tt.kind(want) == Kind::Literal) {
    std::string text = PlainText(*s);
    const auto& lits = tt.get(want).literals;
    SourceRange where = ast().expr(value).range;
    Suggestion fix = Suggest(text, lits);
    fix.AttachTo(
        diags_.Report(DiagKind::LiteralNotInUnion, where, text, MemberList(lits), fix.suffix()),
        where, /*quoted=*/true);
    return Fit::Reported;
  }
  if (auto* rec = std::get_if<ast::RecordLit>(&node);
      rec && tt.kind(want) == Kind::Record && tt.kind(actual) == Kind::Record) {
    bool reported = false;
    for (const auto& f : rec->fields) {
      if (!f.value.valid()) continue;
      TypeId ft = tt.FieldType(want, f.name);
      TypeId have = out_.expr_types[f.value.index];
      if (!ft.valid() || !have.valid() || types::IsAssignable(tt, have, ft)) continue;
      ExpectType(f.value, have, ft);
      reported = true;
    }
    if (reported) return Fit::Reported;
  }
  if (auto* list = std::get_if<ast::ListLit>(&node); list && tt.kind(want) == Kind::List) {
    bool reported = false;
    TypeId element = tt.get(want).element;
    for (ast::ExprId item : list->items) {
      if (!item.valid()) continue;
      TypeId have = out_.expr_types[item.index];
      if (!have.valid() || types::IsAssignable(tt, have, element)) continue;
      ExpectType(item, have, element);
      reported = true;
    }
    if (reported) return Fit::Reported;
  }
  if (tt.is_optional(actual) && types::IsAssignable(tt, tt.StripOptional(actual), expected)) {
    diags_.Report(DiagKind::OptionalUse, ast().expr(value).range, Text(value));
    return Fit::Reported;
  }
  return Fit::Mismatch;
}

void Checker::ExpectType(ast::ExprId value, TypeId actual, TypeId expected) {
  if (Fits(value, actual, expected) == Fit::Mismatch) {
    diags_.Report(DiagKind::TypeMismatch, ast().expr(value).range, types().Display(expected),
                  types().Display(actual));
  }
}

auto Checker::Text(ast::ExprId id) const -> std::string {
  const ast::Expr& e = ast().expr(id);
  std::string_view src = input_.source_text;
  if (e.range.end > e.range.begin && e.range.end <= src.size()) {
    return std::string(src.substr(e.range.begin, e.range.end - e.range.begin));
  }
  if (auto* n = std::get_if<ast::NameRef>(&e.node)) return n->name;
  if (auto* m = std::get_if<ast::MemberExpr>(&e.node)) return Text(m->object) + "." + m->name;
  return "expression";
}

}  // namespace flow::check
