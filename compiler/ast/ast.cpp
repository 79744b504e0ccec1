// DumpAst and the operator spellings declared in ast.h.
#include "compiler/ast/ast.h"

#include <fmt/format.h>

namespace flow::ast {

auto UnaryOpSpelling(UnaryOp op) -> const char* {
  switch (op) {
    case UnaryOp::Neg: return "-";
    case UnaryOp::Not: return "not";
  }
  return "?";
}

auto BinaryOpSpelling(BinaryOp op) -> const char* {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::Mod: return "%";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::And: return "and";
    case BinaryOp::Or: return "or";
    case BinaryOp::Coalesce: return "??";
  }
  return "?";
}

namespace {

// Escapes a string for one-line display in the dump.
auto Quote(std::string_view text) -> std::string {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

class Dumper {
 public:
  Dumper(const Ast& ast, const SourceFile* file) : ast_(ast), file_(file) {}

  auto Run() -> std::string {
    for (const auto& c : ast_.connectors) {
      Line(0, fmt::format("ConnectorDecl {} {}", c.name, Quote(c.path)), c.range);
    }
    for (const auto& t : ast_.type_decls) {
      Line(0, fmt::format("TypeDecl {}", t.name), t.range);
      Type(1, t.type);
    }
    for (const auto& f : ast_.functions) Function(f);
    return std::move(out_);
  }

 private:
  auto Where(SourceRange r) const -> std::string {
    if (file_ == nullptr) return fmt::format("@{}-{}", r.begin, r.end);
    LineCol lc = file_->Locate(r.begin);
    return fmt::format("@{}:{}", lc.line, lc.column);
  }
  void Line(int depth, std::string_view text, SourceRange r) {
    out_.append(static_cast<size_t>(depth) * 2, ' ');
    out_ += text;
    out_ += ' ';
    out_ += Where(r);
    out_ += '\n';
  }
  void Label(int depth, std::string_view text) {
    out_.append(static_cast<size_t>(depth) * 2, ' ');
    out_ += text;
    out_ += '\n';
  }

  void Function(const FunctionDecl& f) {
    Line(0, fmt::format("{} {}", f.is_workflow ? "Workflow" : "Fn", f.name), f.range);
    for (const auto& p : f.params) {
      Line(1, fmt::format("Param {}", p.name), p.name_range);
      Type(2, p.type);
    }
    if (f.result.valid()) {
      Label(1, "result:");
      Type(2, f.result);
    }
    Block(1, f.body);
  }

  void Type(int depth, TypeExprId id) {
    if (!id.valid()) return;
    const TypeExpr& t = ast_.type(id);
    std::visit(Overload{
        [&](const ErrorTypeExpr&) { Line(depth, "ErrorType", t.range); },
        [&](const NamedTypeExpr& n) { Line(depth, "NamedType " + n.name, t.range); },
        [&](const ListTypeExpr& l) { Line(depth, "ListType", t.range); Type(depth + 1, l.element); },
        [&](const RecordTypeExpr& r) {
          Line(depth, "RecordType", t.range);
          for (const auto& f : r.fields) {
            Line(depth + 1, "Field " + f.name, f.name_range);
            Type(depth + 2, f.type);
          }
        },
        [&](const OptionalTypeExpr& o) { Line(depth, "OptionalType", t.range); Type(depth + 1, o.inner); },
        [&](const LiteralTypeExpr& l) { Line(depth, "LiteralType " + Quote(l.value), t.range); },
        [&](const UnionTypeExpr& u) {
          Line(depth, "UnionType", t.range);
          for (auto m : u.members) Type(depth + 1, m);
        },
    }, t.node);
  }

  void Block(int depth, const ast::Block& b) {
    Line(depth, "Block", b.range);
    for (auto s : b.stmts) Stmt(depth + 1, s);
  }

  void Clauses(int depth, const StepClauses& c) {
    if (c.retry) Retry(depth, *c.retry);
    if (c.timeout) Timeout(depth, *c.timeout);
    if (c.compensate) {
      Line(depth, "Compensate", c.compensate->range);
      Expr(depth + 1, c.compensate->step);
      if (c.compensate->retry) Retry(depth + 1, *c.compensate->retry);
      if (c.compensate->timeout) Timeout(depth + 1, *c.compensate->timeout);
    }
  }
  void Retry(int depth, const RetryClause& r) {
    std::string on;
    for (const auto& kind : r.on) on += " on=" + Quote(kind);
    Line(depth, "Retry" + on, r.range);
    Child(depth + 1, "attempts:", r.attempts);
    Child(depth + 1, "backoff:", r.backoff);
    Child(depth + 1, "max:", r.max);
  }
  void Timeout(int depth, const TimeoutClause& t) {
    Line(depth, "Timeout", t.range);
    Expr(depth + 1, t.duration);
  }
  void Child(int depth, std::string_view label, ExprId id) {
    if (!id.valid()) return;
    Label(depth, label);
    Expr(depth + 1, id);
  }

  void Stmt(int depth, StmtId id) {
    const ast::Stmt& s = ast_.stmt(id);
    int d = depth + 1;
    std::visit(Overload{
        [&](const ErrorStmt&) { Line(depth, "ErrorStmt", s.range); },
        [&](const LetStmt& l) {
          Line(depth, fmt::format("{} {}", l.is_var ? "Var" : "Let", l.name), s.range);
          Type(d, l.type);
          Expr(d, l.init);
          Clauses(d, l.clauses);
        },
        [&](const AssignStmt& a) { Line(depth, "Assign", s.range); Expr(d, a.target); Expr(d, a.value); Clauses(d, a.clauses); },
        [&](const ExprStmt& e) { Line(depth, "ExprStmt", s.range); Expr(d, e.expr); Clauses(d, e.clauses); },
        [&](const IfStmt& i) {
          Line(depth, "If", s.range);
          Expr(d, i.cond);
          Block(d, i.then_block);
          if (i.else_block) { Label(d, "else:"); Block(d + 1, *i.else_block); }
        },
        [&](const ForStmt& f) { Line(depth, "For " + f.var, s.range); Expr(d, f.iterable); Block(d, f.body); },
        [&](const WhileStmt& w) { Line(depth, "While", s.range); Expr(d, w.cond); Block(d, w.body); },
        [&](const ReturnStmt& r) { Line(depth, "Return", s.range); Expr(d, r.value); Clauses(d, r.clauses); },
        [&](const FailStmt& f) { Line(depth, "Fail", s.range); Expr(d, f.message); },
        [&](const TryStmt& t) {
          Line(depth, "Try catch " + t.err_name, s.range);
          Block(d, t.body);
          Block(d, t.handler);
        },
        [&](const CheckpointStmt& c) { Line(depth, "Checkpoint", s.range); Expr(d, c.label); },
        [&](const SleepStmt& c) { Line(depth, "Sleep", s.range); Expr(d, c.duration); },
        [&](const ParallelStmt& p) { Line(depth, "Parallel", s.range); Block(d, p.body); },
        [&](const BreakStmt&) { Line(depth, "Break", s.range); },
        [&](const ContinueStmt&) { Line(depth, "Continue", s.range); },
    }, s.node);
  }

  void Expr(int depth, ExprId id);

  const Ast& ast_;
  const SourceFile* file_;
  std::string out_;
};

void Dumper::Expr(int depth, ExprId id) {
  if (!id.valid()) return;
  const ast::Expr& e = ast_.expr(id);
  int d = depth + 1;
  std::visit(Overload{
      [&](const ErrorExpr&) { Line(depth, "ErrorExpr", e.range); },
      [&](const IntLit& i) { Line(depth, fmt::format("Int {}", i.value), e.range); },
      [&](const FloatLit& f) { Line(depth, fmt::format("Float {}", f.value), e.range); },
      [&](const BoolLit& b) { Line(depth, b.value ? "Bool true" : "Bool false", e.range); },
      [&](const NullLit&) { Line(depth, "Null", e.range); },
      [&](const DurationLit& du) { Line(depth, fmt::format("Duration {}ms", du.millis), e.range); },
      [&](const StringLit& s) {
        if (s.is_plain()) {
          Line(depth, "String " + Quote(s.parts.empty() ? "" : s.parts[0].text), e.range);
          return;
        }
        Line(depth, "String", e.range);
        for (const auto& p : s.parts) {
          if (p.expr.valid()) Expr(d, p.expr);
          else Label(d, "Text " + Quote(p.text));
        }
      },
      [&](const ListLit& l) { Line(depth, "List", e.range); for (auto i : l.items) Expr(d, i); },
      [&](const RecordLit& r) {
        Line(depth, "Record", e.range);
        for (const auto& f : r.fields) { Line(d, "Field " + f.name, f.name_range); Expr(d + 1, f.value); }
      },
      [&](const NameRef& n) { Line(depth, "Name " + n.name, e.range); },
      [&](const MemberExpr& m) { Line(depth, "Member ." + m.name, e.range); Expr(d, m.object); },
      [&](const IndexExpr& i) { Line(depth, "Index", e.range); Expr(d, i.object); Expr(d, i.index); },
      [&](const CallExpr& c) {
        Line(depth, "Call", e.range);
        Expr(d, c.callee);
        for (const auto& a : c.args) {
          if (a.name.empty()) { Expr(d, a.value); continue; }
          Line(d, "Arg " + a.name, a.name_range);
          Expr(d + 1, a.value);
        }
      },
      [&](const UnaryExpr& u) { Line(depth, fmt::format("Unary {}", UnaryOpSpelling(u.op)), e.range); Expr(d, u.operand); },
      [&](const BinaryExpr& b) {
        Line(depth, fmt::format("Binary {}", BinaryOpSpelling(b.op)), e.range);
        Expr(d, b.lhs);
        Expr(d, b.rhs);
      },
      [&](const CastExpr& c) { Line(depth, "Cast", e.range); Expr(d, c.value); Type(d, c.type); },
      [&](const ApproveExpr& a) {
        Line(depth, "Approve", e.range);
        Expr(d, a.prompt);
        Child(d, "from:", a.from);
        Child(d, "timeout:", a.timeout);
      },
      [&](const WaitExpr& w) {
        Line(depth, "Wait", e.range);
        Expr(d, w.event);
        Child(d, "timeout:", w.timeout);
        if (w.type.valid()) { Label(d, "as:"); Type(d + 1, w.type); }
      },
      [&](const ParallelForExpr& p) {
        Line(depth, "ParallelFor " + p.var, e.range);
        Expr(d, p.iterable);
        Child(d, "limit:", p.limit);
        Block(d, p.body);
      },
  }, e.node);
}

}  // namespace

auto DumpAst(const Ast& ast) -> std::string { return Dumper(ast, nullptr).Run(); }
auto DumpAst(const Ast& ast, const SourceFile& file) -> std::string { return Dumper(ast, &file).Run(); }

}  // namespace flow::ast
