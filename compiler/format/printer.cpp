#include "compiler/format/printer.h"

#include <algorithm>
#include <functional>
#include <variant>

namespace flow::format {

namespace {

// Binary operators that chain on one level when broken: a + b - c breaks
// before each of its operators, a + b * c only before the `+`.
auto PrecedenceClass(ast::BinaryOp op) -> int {
  switch (op) {
    case ast::BinaryOp::Mul: case ast::BinaryOp::Div: case ast::BinaryOp::Mod: return 1;
    case ast::BinaryOp::Add: case ast::BinaryOp::Sub: return 2;
    case ast::BinaryOp::Coalesce: return 3;
    case ast::BinaryOp::Eq: case ast::BinaryOp::Ne: case ast::BinaryOp::Lt:
    case ast::BinaryOp::Le: case ast::BinaryOp::Gt: case ast::BinaryOp::Ge: return 4;
    case ast::BinaryOp::And: return 5;
    case ast::BinaryOp::Or: return 6;
  }
  return 0;
}

// Continuation lines of a broken binary expression: deeper than a block's
// body, so `if a\n    and b {` does not line up with the statements below.
constexpr int kContinuationIndent = 2 * kIndentWidth;

// Pieces of the output keyed by where they start in the source, written in
// source order (declarations live in three vectors, clauses in fixed slots).
using Pieces = std::vector<std::pair<uint32_t, std::function<void()>>>;

void SortBySource(Pieces& pieces) {
  std::stable_sort(pieces.begin(), pieces.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

class Printer {
 public:
  Printer(const ast::Ast& ast, TokenCursor& cursor) : ast_(ast), cur_(cursor) {}

  auto Run() -> Doc {
    Pieces decls;
    for (const auto& c : ast_.connectors) decls.emplace_back(c.range.begin, [&] { Connector(c); });
    for (const auto& t : ast_.type_decls) decls.emplace_back(t.range.begin, [&] { TypeDecl(t); });
    for (const auto& f : ast_.functions) decls.emplace_back(f.range.begin, [&] { Function(f); });
    SortBySource(decls);
    for (size_t i = 0; i < decls.size(); ++i) {
      if (i > 0) doc_.HardLine();
      decls[i].second();
    }
    cur_.Finish(doc_);
    return std::move(doc_);
  }

 private:
  void Tok(std::string_view text) { cur_.Take(text, doc_); }
  void Space() { doc_.Text(" "); }
  // `pieces` in source order, one indentation level in, each after a line
  // break: always (`hard`), or when the enclosing group breaks.
  void IndentedLines(Pieces pieces, bool hard) {
    SortBySource(pieces);
    doc_.BeginIndent();
    for (auto& piece : pieces) {
      hard ? doc_.HardLine() : doc_.Line();
      piece.second();
    }
    doc_.EndIndent();
  }
  void Verbatim(SourceRange range) { cur_.TakeVerbatim(range, doc_); }
  // `name: ` before a field's type or value, a parameter's type, an argument.
  void Label(SourceRange name) {
    Verbatim(name);
    Tok(":");
    Space();
  }

  // `open item, item close`: flat on one line, or one item per line with a
  // trailing comma. `spaced`: `{ a }` rather than `[a]`.
  void Delimited(std::string_view open, std::string_view close, size_t count, bool spaced,
                 const std::function<void(size_t)>& item) {
    doc_.BeginGroup();
    Tok(open);
    if (count == 0 && !cur_.HasLeading()) {
      Tok(close);
      doc_.EndGroup();
      return;
    }
    doc_.BeginIndent();
    spaced ? doc_.Line() : doc_.SoftLine();
    for (size_t i = 0; i < count; ++i) {
      item(i);
      if (i + 1 < count) {
        Tok(",");
        doc_.Line();
      }
    }
    if (count > 0) {
      doc_.IfBreak(",");
      cur_.Skip(",", doc_);
    }
    cur_.FlushLeading(doc_);
    doc_.EndIndent();
    spaced ? doc_.Line() : doc_.SoftLine();
    Tok(close);
    doc_.EndGroup();
  }

  // ---------------------------------------------------------------- declarations

  void Connector(const ast::ConnectorDecl& c) {
    Tok("connector");
    Space();
    Verbatim(c.name_range);
    Space();
    Tok("=");
    Space();
    Verbatim(c.path_range);
  }

  void TypeDecl(const ast::TypeDecl& t) {
    Tok("type");
    Space();
    Verbatim(t.name_range);
    Space();
    Tok("=");
    Space();
    Type(t.type);
  }

  void Function(const ast::FunctionDecl& f) {
    Tok(f.is_workflow ? "workflow" : "fn");
    Space();
    Verbatim(f.name_range);
    Delimited("(", ")", f.params.size(), false, [&](size_t i) {
      Label(f.params[i].name_range);
      Type(f.params[i].type);
    });
    if (f.result.valid()) {
      Space();
      Tok("->");
      Space();
      Type(f.result);
    }
    Space();
    Block(f.body);
  }

  // ---------------------------------------------------------------- types

  void Type(ast::TypeExprId id) {
    const ast::TypeExpr& t = ast_.type(id);
    int parens = 0;
    for (; cur_.NextIs("(") && cur_.NextBegin() < t.range.begin; ++parens) Tok("(");
    std::visit(ast::Overload{
        [&](const ast::ErrorTypeExpr&) { throw FormatBug("an error node in the type"); },
        [&](const ast::NamedTypeExpr&) { Verbatim(t.range); },
        [&](const ast::ListTypeExpr& l) {
          Tok("[");
          Type(l.element);
          Tok("]");
        },
        [&](const ast::RecordTypeExpr& r) {
          Delimited("{", "}", r.fields.size(), true, [&](size_t i) {
            Label(r.fields[i].name_range);
            Type(r.fields[i].type);
          });
        },
        [&](const ast::OptionalTypeExpr& o) {
          Type(o.inner);
          Tok("?");
        },
        [&](const ast::LiteralTypeExpr&) { Verbatim(t.range); },
        [&](const ast::UnionTypeExpr& u) {
          for (size_t i = 0; i < u.members.size(); ++i) {
            if (i > 0) {
              Space();
              Tok("|");
              Space();
            }
            Type(u.members[i]);
          }
        },
    }, t.node);
    for (; parens > 0; --parens) Tok(")");
  }

  // ---------------------------------------------------------------- statements

  void Block(const ast::Block& b) {
    Tok("{");
    if (b.stmts.empty() && !cur_.HasLeading()) {
      Tok("}");
      return;
    }
    doc_.BeginIndent();
    for (ast::StmtId s : b.stmts) {
      doc_.HardLine();
      Stmt(s);
    }
    cur_.FlushLeading(doc_, /*own_lines=*/true);
    doc_.EndIndent();
    doc_.HardLine();
    Tok("}");
  }

  void Stmt(ast::StmtId id) {
    std::visit(ast::Overload{
        [&](const ast::ErrorStmt&) { throw FormatBug("an error node in the statements"); },
        [&](const ast::LetStmt& s) { Let(s); },
        [&](const ast::AssignStmt& s) {
          Expr(s.target);
          Space();
          Tok("=");
          Space();
          Expr(s.value);
          Clauses(s.clauses);
        },
        [&](const ast::ExprStmt& s) {
          Expr(s.expr);
          Clauses(s.clauses);
        },
        [&](const ast::IfStmt& s) { If(s); },
        [&](const ast::ForStmt& s) { For(s); },
        [&](const ast::WhileStmt& s) {
          Tok("while");
          Space();
          Expr(s.cond);
          Space();
          Block(s.body);
        },
        [&](const ast::ReturnStmt& s) {
          Tok("return");
          if (s.value.valid()) {
            Space();
            Expr(s.value);
          }
          Clauses(s.clauses);
        },
        [&](const ast::FailStmt& s) { Keyword("fail", s.message); },
        [&](const ast::TryStmt& s) { Try(s); },
        [&](const ast::CheckpointStmt& s) { Keyword("checkpoint", s.label); },
        [&](const ast::SleepStmt& s) { Keyword("sleep", s.duration); },
        [&](const ast::ParallelStmt& s) {
          Tok("parallel");
          Space();
          Block(s.body);
        },
        [&](const ast::BreakStmt&) { Tok("break"); },
        [&](const ast::ContinueStmt&) { Tok("continue"); },
    }, ast_.stmt(id).node);
  }

  void Let(const ast::LetStmt& s) {
    Tok(s.is_var ? "var" : "let");
    Space();
    Verbatim(s.name_range);
    if (s.type.valid()) {
      Tok(":");
      Space();
      Type(s.type);
    }
    Space();
    Tok("=");
    Space();
    Expr(s.init);
    Clauses(s.clauses);
  }

  void For(const ast::ForStmt& s) {
    Tok("for");
    Space();
    Verbatim(s.var_range);
    Space();
    Tok("in");
    Space();
    Expr(s.iterable);
    Space();
    Block(s.body);
  }

  void Try(const ast::TryStmt& s) {
    Tok("try");
    Space();
    Block(s.body);
    Space();
    Tok("catch");
    Space();
    Verbatim(s.err_range);
    Space();
    Block(s.handler);
  }

  void Keyword(std::string_view keyword, ast::ExprId operand) {
    Tok(keyword);
    Space();
    Expr(operand);
  }

  void If(const ast::IfStmt& s) {
    Tok("if");
    Space();
    Expr(s.cond);
    Space();
    Block(s.then_block);
    if (!s.else_block) return;
    Space();
    Tok("else");
    Space();
    // `else if` is an else block holding one IfStmt, without braces.
    if (cur_.NextIs("if") && s.else_block->stmts.size() == 1) {
      Stmt(s.else_block->stmts[0]);
    } else {
      Block(*s.else_block);
    }
  }

  // A step's clauses in source order, each on a line of its own.
  void Clauses(const ast::StepClauses& c) {
    Pieces items;
    if (c.retry) items.emplace_back(c.retry->range.begin, [&] { Retry(*c.retry); });
    if (c.timeout) items.emplace_back(c.timeout->range.begin, [&] { Timeout(*c.timeout); });
    if (c.compensate) items.emplace_back(c.compensate->range.begin, [&] { Compensate(*c.compensate); });
    IndentedLines(std::move(items), /*hard=*/true);
  }

  void Retry(const ast::RetryClause& r) {
    Keyword("retry", r.attempts);
    if (r.backoff.valid()) {
      Space();
      Keyword("backoff", r.backoff);
    }
    if (r.max.valid()) {
      Space();
      Keyword("max", r.max);
    }
    for (size_t i = 0; i < r.on_ranges.size(); ++i) {
      if (i == 0) {
        Space();
        Tok("on");
      } else {
        Tok(",");
      }
      Space();
      Verbatim(r.on_ranges[i]);
    }
  }

  void Timeout(const ast::TimeoutClause& t) { Keyword("timeout", t.duration); }

  void Compensate(const ast::CompensateClause& c) {
    Keyword("compensate", c.step);
    ast::StepClauses own;
    own.retry = c.retry;
    own.timeout = c.timeout;
    Clauses(own);
  }

  // ---------------------------------------------------------------- expressions

  void Expr(ast::ExprId id) {
    const ast::Expr& e = ast_.expr(id);
    int parens = 0;
    for (; cur_.NextIs("(") && cur_.NextBegin() < e.range.begin; ++parens) Tok("(");
    ExprNode(e);
    for (; parens > 0; --parens) Tok(")");
  }

  void ExprNode(const ast::Expr& e) {
    std::visit(ast::Overload{
        [&](const ast::ErrorExpr&) { throw FormatBug("an error node in the expressions"); },
        [&](const ast::IntLit&) { Number(e.range); },
        [&](const ast::FloatLit&) { Number(e.range); },
        [&](const ast::BoolLit&) { Verbatim(e.range); },
        [&](const ast::NullLit&) { Verbatim(e.range); },
        [&](const ast::DurationLit&) { Verbatim(e.range); },
        [&](const ast::StringLit&) { Verbatim(e.range); },
        [&](const ast::NameRef&) { Verbatim(e.range); },
        [&](const ast::ListLit& l) {
          Delimited("[", "]", l.items.size(), false, [&](size_t i) { Expr(l.items[i]); });
        },
        [&](const ast::RecordLit& r) {
          Delimited("{", "}", r.fields.size(), true, [&](size_t i) {
            Label(r.fields[i].name_range);
            Expr(r.fields[i].value);
          });
        },
        [&](const ast::MemberExpr& m) {
          Expr(m.object);
          Tok(".");
          Verbatim(m.name_range);
        },
        [&](const ast::IndexExpr& x) {
          Expr(x.object);
          Tok("[");
          Expr(x.index);
          Tok("]");
        },
        [&](const ast::CallExpr& c) { Call(c); },
        [&](const ast::UnaryExpr& u) {
          Tok(ast::UnaryOpSpelling(u.op));
          if (u.op == ast::UnaryOp::Not) Space();
          Expr(u.operand);
        },
        [&](const ast::BinaryExpr& b) { Binary(e, b); },
        [&](const ast::CastExpr& c) {
          Expr(c.value);
          Space();
          Tok("as");
          Space();
          Type(c.type);
        },
        [&](const ast::ApproveExpr& a) {
          Suspension("approve", a.prompt, {{a.from, "from"}, {a.timeout, "timeout"}}, {});
        },
        [&](const ast::WaitExpr& w) {
          Suspension("wait", w.event, {{w.timeout, "timeout"}}, w.type);
        },
        [&](const ast::ParallelForExpr& p) { ParallelFor(p); },
    }, e.node);
  }

  void ParallelFor(const ast::ParallelForExpr& p) {
    Tok("parallel");
    Space();
    Tok("for");
    Space();
    Verbatim(p.var_range);
    Space();
    Tok("in");
    Space();
    Expr(p.iterable);
    if (p.limit.valid()) {
      Space();
      Keyword("limit", p.limit);
    }
    Space();
    Block(p.body);
  }

  void Call(const ast::CallExpr& c) {
    Expr(c.callee);
    Delimited("(", ")", c.args.size(), false, [&](size_t i) {
      if (!c.args[i].name.empty()) Label(c.args[i].name_range);
      Expr(c.args[i].value);
    });
  }

  // An int or float literal; a negative one is one literal in the AST but
  // two tokens in the source (`-7`), written without a space between.
  void Number(SourceRange range) {
    if (cur_.NextIs("-")) {
      Tok("-");
      Verbatim(SourceRange{range.file, cur_.NextBegin(), range.end});
      return;
    }
    Verbatim(range);
  }

  // A chain of one precedence class, `a + b - c`, as one group that breaks
  // before each operator.
  void Binary(const ast::Expr& e, const ast::BinaryExpr& b) {
    int cls = PrecedenceClass(b.op);
    std::vector<const ast::BinaryExpr*> links{&b};
    const ast::Expr* left = &ast_.expr(b.lhs);
    // Descend while the left operand is an unparenthesised link of the same class.
    while (const auto* inner = std::get_if<ast::BinaryExpr>(&left->node)) {
      if (PrecedenceClass(inner->op) != cls || left->range.begin != e.range.begin) break;
      links.push_back(inner);
      left = &ast_.expr(inner->lhs);
    }
    doc_.BeginGroup();
    Expr(links.back()->lhs);
    doc_.BeginIndent(kContinuationIndent);
    for (size_t i = links.size(); i-- > 0;) {
      doc_.Line();
      Tok(ast::BinaryOpSpelling(links[i]->op));
      Space();
      Expr(links[i]->rhs);
    }
    doc_.EndIndent();
    doc_.EndGroup();
  }

  // `approve PROMPT [from R] [timeout D]`, `wait EVENT [timeout D] [as T]`:
  // the clauses in source order, moved to lines of their own when the whole
  // does not fit.
  void Suspension(std::string_view keyword, ast::ExprId operand,
                  std::vector<std::pair<ast::ExprId, std::string_view>> clauses,
                  ast::TypeExprId as_type) {
    Pieces items;
    for (auto& [expr, word] : clauses) {
      if (!expr.valid()) continue;
      items.emplace_back(ast_.expr(expr).range.begin, [&, expr = expr, word = word] {
        Keyword(word, expr);
      });
    }
    if (as_type.valid()) {
      items.emplace_back(ast_.type(as_type).range.begin, [&] {
        Tok("as");
        Space();
        Type(as_type);
      });
    }
    doc_.BeginGroup();
    Keyword(keyword, operand);
    IndentedLines(std::move(items), /*hard=*/false);
    doc_.EndGroup();
  }

  const ast::Ast& ast_;
  TokenCursor& cur_;
  Doc doc_;
};

}  // namespace

auto PrintFile(const ast::Ast& ast, TokenCursor& cursor) -> Doc {
  return Printer(ast, cursor).Run();
}

}  // namespace flow::format
