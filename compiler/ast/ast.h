// The abstract syntax tree of one .flow file.
//
// Shape (STYLE.md §2): nodes are value types stored in flat vectors owned by
// Ast and referred to by typed ids (ExprId, StmtId, TypeExprId), never by
// pointer, so the tree is cheap to build, copy and walk, and later phases can
// keep side tables (types, resolutions) as vectors indexed by the same ids.
// Each node kind is its own struct; Expr, Stmt and TypeExpr hold a std::variant
// of them plus the node's SourceRange.
//
// The parser (compiler/parse) is the only producer. It never leaves a hole:
// where the source was malformed it stores an ErrorExpr / ErrorTypeExpr, which
// the checker treats as "already reported" (a poison value), so one syntax
// error produces one message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/source/source.h"
#include "vm/base/check.h"

namespace flow::ast {

// Strong index types: an id into one of Ast's vectors. -1 is "absent".
template <typename Tag>
struct Id {
  int32_t index = -1;
  auto valid() const -> bool { return index >= 0; }
  friend auto operator==(Id a, Id b) -> bool { return a.index == b.index; }
};
using ExprId = Id<struct ExprTag>;
using StmtId = Id<struct StmtTag>;
using TypeExprId = Id<struct TypeExprTag>;

// ------------------------------------------------------------------ types

struct ErrorTypeExpr {};
struct NamedTypeExpr {  // int, string, Customer, ...
  std::string name;
};
struct ListTypeExpr {  // [T]
  TypeExprId element;
};
struct FieldTypeExpr {
  std::string name;
  SourceRange name_range;
  TypeExprId type;
};
struct RecordTypeExpr {  // { a: T, b: U }
  std::vector<FieldTypeExpr> fields;
};
struct OptionalTypeExpr {  // T?
  TypeExprId inner;
};
struct LiteralTypeExpr {  // "free" (a one-member literal union)
  std::string value;
};
struct UnionTypeExpr {  // A | B | C (the checker requires string literals)
  std::vector<TypeExprId> members;
};

struct TypeExpr {
  SourceRange range;
  std::variant<ErrorTypeExpr, NamedTypeExpr, ListTypeExpr, RecordTypeExpr, OptionalTypeExpr,
               LiteralTypeExpr, UnionTypeExpr>
      node;
};

// ------------------------------------------------------------------ expressions

enum class UnaryOp : uint8_t { Neg, Not };
enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Mod,
  Eq, Ne, Lt, Le, Gt, Ge,
  And, Or, Coalesce,
};
auto UnaryOpSpelling(UnaryOp op) -> const char*;
auto BinaryOpSpelling(BinaryOp op) -> const char*;

enum class DurationUnit : uint8_t { Ms, S, M, H, D };

struct ErrorExpr {};
struct IntLit {
  int64_t value = 0;  // the parser reports literals beyond int64
};
struct FloatLit {
  double value = 0;
};
struct BoolLit {
  bool value = false;
};
struct NullLit {};
struct DurationLit {
  int64_t millis = 0;  // the value in milliseconds, overflow reported by the parser
};
// One piece of a string literal: literal text (escapes already decoded) or an
// interpolated expression `${...}`.
struct StringPart {
  std::string text;
  ExprId expr;  // valid exactly when this part is an interpolation
};
struct StringLit {
  std::vector<StringPart> parts;
  // True when there is no interpolation: the value is parts[0].text (or "").
  auto is_plain() const -> bool {
    for (const auto& p : parts) {
      if (p.expr.valid()) return false;
    }
    return true;
  }
};
struct ListLit {
  std::vector<ExprId> items;
};
struct RecordFieldInit {
  std::string name;
  SourceRange name_range;
  ExprId value;
};
struct RecordLit {
  std::vector<RecordFieldInit> fields;
};
struct NameRef {  // a bare identifier: variable, parameter, connector, function
  std::string name;
};
struct MemberExpr {  // object.name
  ExprId object;
  std::string name;
  SourceRange name_range;
};
struct IndexExpr {  // object[index]
  ExprId object;
  ExprId index;
};
struct Arg {
  std::string name;  // empty for a positional argument
  SourceRange name_range;
  ExprId value;
};
// A call: `f(x)`, `len(x)`, or a step `billing.charge(amount: 5)` whose callee
// is a MemberExpr on a connector name. The checker decides which.
struct CallExpr {
  ExprId callee;
  std::vector<Arg> args;
  SourceRange args_range;  // from '(' to ')'
};
struct UnaryExpr {
  UnaryOp op;
  ExprId operand;
  SourceRange op_range;
};
struct BinaryExpr {
  BinaryOp op;
  ExprId lhs;
  ExprId rhs;
  SourceRange op_range;
};
struct CastExpr {  // e as T
  ExprId value;
  TypeExprId type;
};
// approve PROMPT [from ROLE] [timeout D]
struct ApproveExpr {
  ExprId prompt;
  ExprId from;     // optional
  ExprId timeout;  // optional
};
// wait EVENT [timeout D] [as T]
struct WaitExpr {
  ExprId event;
  ExprId timeout;   // optional
  TypeExprId type;  // optional
};

struct Block {
  SourceRange range;  // from '{' to '}'
  std::vector<StmtId> stmts;
};

// parallel for VAR in ITERABLE [limit N] { BODY }: one concurrent branch per
// element. An expression (its value is the list of each body's last
// expression statement); as a statement it is an ExprStmt whose value is
// dropped.
struct ParallelForExpr {
  std::string var;
  SourceRange var_range;
  ExprId iterable;
  ExprId limit;  // optional
  Block body;
};

struct Expr {
  SourceRange range;
  std::variant<ErrorExpr, IntLit, FloatLit, BoolLit, NullLit, DurationLit, StringLit, ListLit,
               RecordLit, NameRef, MemberExpr, IndexExpr, CallExpr, UnaryExpr, BinaryExpr,
               CastExpr, ApproveExpr, WaitExpr, ParallelForExpr>
      node;
};

// ------------------------------------------------------------------ statements

// retry N [backoff D [max D]] [on "kind", ...]
struct RetryClause {
  SourceRange range;  // the whole clause, from 'retry'
  ExprId attempts;
  ExprId backoff;  // optional
  ExprId max;      // optional
  std::vector<std::string> on;
  std::vector<SourceRange> on_ranges;
};
struct TimeoutClause {
  SourceRange range;
  ExprId duration;
};
struct CompensateClause {
  SourceRange range;  // from 'compensate' to the end of the step
  ExprId step;
  std::optional<RetryClause> retry;
  std::optional<TimeoutClause> timeout;
};
// The clauses written after a statement's expression. Only meaningful when
// the expression is a step; the checker reports them elsewhere.
struct StepClauses {
  std::optional<RetryClause> retry;
  std::optional<TimeoutClause> timeout;
  std::optional<CompensateClause> compensate;
  auto empty() const -> bool { return !retry && !timeout && !compensate; }
};

struct ErrorStmt {};
struct LetStmt {  // let/var name[: T] = init clauses
  bool is_var = false;
  std::string name;
  SourceRange name_range;
  TypeExprId type;  // optional
  ExprId init;
  StepClauses clauses;
};
struct AssignStmt {  // target = value clauses
  ExprId target;
  ExprId value;
  StepClauses clauses;
};
struct ExprStmt {
  ExprId expr;
  StepClauses clauses;
};
struct IfStmt {
  ExprId cond;
  Block then_block;
  // `else if` is an else block holding one IfStmt.
  std::optional<Block> else_block;
};
struct ForStmt {
  std::string var;
  SourceRange var_range;
  ExprId iterable;
  Block body;
};
struct WhileStmt {
  ExprId cond;
  Block body;
};
struct ReturnStmt {
  ExprId value;  // optional
  StepClauses clauses;
};
struct FailStmt {
  ExprId message;
};
struct TryStmt {
  Block body;
  std::string err_name;
  SourceRange err_range;
  Block handler;
};
struct CheckpointStmt {
  ExprId label;
};
struct SleepStmt {
  ExprId duration;
};
// parallel { S1 \n S2 ... }: each top-level statement of `body` is a branch.
struct ParallelStmt {
  Block body;
};
struct BreakStmt {};
struct ContinueStmt {};

struct Stmt {
  SourceRange range;
  std::variant<ErrorStmt, LetStmt, AssignStmt, ExprStmt, IfStmt, ForStmt, WhileStmt, ReturnStmt,
               FailStmt, TryStmt, CheckpointStmt, SleepStmt, ParallelStmt, BreakStmt, ContinueStmt>
      node;
};

// ------------------------------------------------------------------ declarations

struct ConnectorDecl {
  SourceRange range;
  std::string name;
  SourceRange name_range;
  std::string path;  // as written, relative to the .flow file's folder
  SourceRange path_range;
};

struct TypeDecl {
  SourceRange range;
  std::string name;
  SourceRange name_range;
  TypeExprId type;
};

struct Param {
  std::string name;
  SourceRange name_range;
  TypeExprId type;
};

// A `fn` or a `workflow`: same shape, different rules (purity, effects).
struct FunctionDecl {
  SourceRange range;
  bool is_workflow = false;
  std::string name;
  SourceRange name_range;
  std::vector<Param> params;
  TypeExprId result;  // optional: no `-> T` means no result
  Block body;
};

// One parsed file. Declarations keep source order within each vector.
struct Ast {
  FileId file;
  std::vector<Expr> exprs;
  std::vector<Stmt> stmts;
  std::vector<TypeExpr> types;
  std::vector<ConnectorDecl> connectors;
  std::vector<TypeDecl> type_decls;
  std::vector<FunctionDecl> functions;  // fns and workflows

  auto expr(ExprId id) const -> const Expr& {
    FLOW_CHECK(id.valid() && static_cast<size_t>(id.index) < exprs.size(), "bad ExprId");
    return exprs[id.index];
  }
  auto stmt(StmtId id) const -> const Stmt& {
    FLOW_CHECK(id.valid() && static_cast<size_t>(id.index) < stmts.size(), "bad StmtId");
    return stmts[id.index];
  }
  auto type(TypeExprId id) const -> const TypeExpr& {
    FLOW_CHECK(id.valid() && static_cast<size_t>(id.index) < types.size(), "bad TypeExprId");
    return types[id.index];
  }

  auto AddExpr(Expr e) -> ExprId {
    exprs.push_back(std::move(e));
    return ExprId{static_cast<int32_t>(exprs.size() - 1)};
  }
  auto AddStmt(Stmt s) -> StmtId {
    stmts.push_back(std::move(s));
    return StmtId{static_cast<int32_t>(stmts.size() - 1)};
  }
  auto AddType(TypeExpr t) -> TypeExprId {
    types.push_back(std::move(t));
    return TypeExprId{static_cast<int32_t>(types.size() - 1)};
  }
};

// The visitor of every std::visit over AST variants (STYLE.md §9): one lambda
// per alternative and no catch-all, so a new node kind fails the build
// wherever it is not handled.
template <class... Fs>
struct Overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overload(Fs...) -> Overload<Fs...>;

// A readable indented dump of the whole tree (`flow check --dump-ast`): one
// node per line, two spaces per level, "Kind key-fields @line:col". Without
// the source file, locations print as byte ranges "@begin-end".
auto DumpAst(const Ast& ast) -> std::string;
auto DumpAst(const Ast& ast, const SourceFile& file) -> std::string;

}  // namespace flow::ast
