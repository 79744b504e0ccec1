// The checker's internal state, shared by its source files (one concern
// each: decls.cpp declarations and type expressions, exprs.cpp expressions,
// calls.cpp calls and steps, stmts.cpp statements and narrowing). Not a
// public interface: everything outside check/ uses check.h.
//
// Scopes: one hash map from name to the innermost binding (a stack of
// shadowed bindings threaded through `Local::shadowed`), so lookup is O(1)
// and leaving a block is O(names it declared). Narrowing facts live on a
// stack with the same block discipline (see Fact).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compiler/check/check.h"
#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/diag/suggest.h"

namespace flow::check {

using types::TypeId;

// A binding visible in the current function.
struct Local {
  std::string_view name;
  int32_t slot;
  int32_t shadowed;  // index in Checker::locals_ of the binding it hides, -1
  int32_t depth;     // scope depth it was declared at
};

// "The value at this path is not null here": `slot` is the root variable,
// `path` the field names below it (empty for the variable itself). A fact
// with an invalid `type` is dead (its variable was assigned since).
struct Fact {
  int32_t slot;
  std::vector<std::string_view> path;
  TypeId type;
};

// A construct a `break`, `continue` or `return` may have to leave, innermost
// last: a loop (the target of break/continue), a `parallel for` body (a
// `continue` ends the item; nothing else may leave it) or a parallel branch
// (nothing may leave it).
struct JumpScope {
  enum class Kind : uint8_t { Loop, ParallelFor, Branch };
  Kind kind;
  bool has_break = false;  // Loop: a `break` targets it
};

// One use of a local inside a `parallel` block, for the data-race rule:
// read, assigned, or bound (declared) there.
struct LocalAccess {
  enum class Kind : uint8_t { Read, Assign, Bind };
  int32_t slot;
  SourceRange range;
  Kind kind;
};

// A call of a workflow from a workflow (a child run), for the recursion check.
struct ChildCall {
  int32_t caller;
  int32_t callee;
  SourceRange range;  // the callee name at the call
};

class Checker {
 public:
  Checker(CheckInput& input, CheckedProgram& out, Diagnostics& diags);
  void Run();

 private:
  // ---- decls.cpp
  // Notes where the parser reported a syntax error (before checking).
  void CollectSyntaxErrors();
  // Whether the declaration starting at `decl_begin` holds a syntax error.
  auto SyntaxErrorIn(uint32_t decl_begin) const -> bool;
  void CollectConnectors();
  void CollectDeclarations();
  auto DeclareTop(std::string_view name, SourceRange range) -> bool;
  void ResolveSignatures();
  auto ResolveType(ast::TypeExprId id) -> TypeId;
  auto ResolveTypeNode(const ast::TypeExpr& te) -> TypeId;
  auto ResolveNamedType(const std::string& name, SourceRange range) -> TypeId;
  auto ResolveTypeDecl(int32_t index, SourceRange use) -> TypeId;
  void CheckFunction(int32_t index);

  // ---- exprs.cpp
  auto CheckExpr(ast::ExprId id) -> TypeId;
  auto CheckExprNode(ast::ExprId id) -> TypeId;
  auto CheckString(const ast::StringLit& s) -> TypeId;
  auto CheckList(const ast::ListLit& list) -> TypeId;
  auto CheckRecord(const ast::RecordLit& rec) -> TypeId;
  auto CheckName(ast::ExprId id, const ast::NameRef& name) -> TypeId;
  auto CheckMember(ast::ExprId id, const ast::MemberExpr& m) -> TypeId;
  auto CheckIndex(const ast::IndexExpr& ix) -> TypeId;
  auto CheckUnary(const ast::UnaryExpr& u) -> TypeId;
  auto CheckBinary(const ast::BinaryExpr& b) -> TypeId;
  auto BinaryResult(const ast::BinaryExpr& b, TypeId l, TypeId r) -> TypeId;
  auto CheckApprove(ast::ExprId id, const ast::ApproveExpr& a) -> TypeId;
  auto CheckWait(ast::ExprId id, const ast::WaitExpr& w) -> TypeId;
  // Reports E032 when `t` is optional; true when it was.
  auto RejectOptional(ast::ExprId id, TypeId t) -> bool;
  // Reports E081 when `t` is or holds a secret; true when it does. Called
  // where a value would be read, printed or compared (calls.cpp).
  auto RejectSecret(ast::ExprId id, TypeId t) -> bool;
  // Whether argument `arg` of an operation of `sig` may carry a secret:
  // any argument of an http or exec connector, the headers and body of
  // http.request.
  auto SecretArgumentAllowed(const schema::ConnectorSig& sig, std::string_view arg) const -> bool;
  // Whether a value of `actual` (the type of `value`) fits `expected`. On a
  // mismatch it reports the most precise diagnostic it can (E031 for a string
  // literal outside an enum, E032 for an optional, recursing into record and
  // list literals) and says Reported; Mismatch leaves the message (E030,
  // E041, E051...) to the caller, which knows the context.
  enum class Fit { Ok, Reported, Mismatch };
  auto Fits(ast::ExprId value, TypeId actual, TypeId expected) -> Fit;
  // Fits, reporting a plain E030 type mismatch on Mismatch.
  void ExpectType(ast::ExprId value, TypeId actual, TypeId expected);
  // The source text of an expression, for messages.
  auto Text(ast::ExprId id) const -> std::string;
  auto IsError(TypeId t) const -> bool { return types().kind(t) == types::Kind::Error; }

  // ---- calls.cpp
  auto CheckCall(ast::ExprId id, const ast::CallExpr& call) -> TypeId;
  auto CheckNamedCall(ast::ExprId id, const ast::CallExpr& call, const ast::NameRef& callee)
      -> TypeId;
  auto CheckUserCall(ast::ExprId id, const ast::CallExpr& call, int32_t fn) -> TypeId;
  // A workflow called from a workflow: a child run, typed like a fn call.
  auto CheckChildCall(ast::ExprId id, const ast::CallExpr& call, int32_t workflow) -> TypeId;
  auto CheckBuiltinCall(ast::ExprId id, const ast::CallExpr& call, const BuiltinInfo& b) -> TypeId;
  auto BuiltinResult(const ast::CallExpr& call, const BuiltinInfo& b,
                     const std::vector<TypeId>& args) -> TypeId;
  auto CheckStep(ast::ExprId id, const ast::CallExpr& call, const ast::MemberExpr& callee)
      -> TypeId;
  void CheckStepArgs(ast::ExprId id, const ast::CallExpr& call, const schema::OperationSig& op,
                     SourceRange op_range);
  void CheckArgsOnly(const ast::CallExpr& call);
  auto ArgError(const ast::CallExpr& call, int index, std::string_view param,
                std::string_view callee, std::string_view expected, TypeId found) -> TypeId;
  void ReportEffect(std::string_view what, SourceRange range);
  // The flow name ("len") of a name another language uses for a built-in
  // or literal (FlowNameFor), as a suggestion; none otherwise.
  auto ForeignSuggestion(std::string_view name) const -> Suggestion;

  // ---- stmts.cpp
  auto CheckBlock(const ast::Block& block, const std::vector<Fact>* facts = nullptr) -> bool;
  auto CheckStmts(const ast::Block& block) -> bool;
  auto CheckStmt(ast::StmtId id) -> bool;
  void CheckLet(ast::StmtId id, const ast::LetStmt& let);
  void CheckAssign(const ast::AssignStmt& assign);
  auto CheckIf(const ast::IfStmt& s) -> bool;
  void CheckFor(ast::StmtId id, const ast::ForStmt& s);
  void CheckWhile(const ast::WhileStmt& s);
  void CheckReturn(ast::StmtId id, const ast::ReturnStmt& r);
  auto CheckTry(ast::StmtId id, const ast::TryStmt& t) -> bool;
  void CheckCondition(ast::ExprId cond);
  void CheckClauses(const ast::StepClauses& clauses, ast::ExprId expr);
  void CheckCompensate(const ast::StepClauses& clauses, ast::ExprId expr);
  void CheckRetry(const ast::RetryClause& r);
  auto IsStepExpr(ast::ExprId id) const -> bool;
  auto IsChildCallExpr(ast::ExprId id) const -> bool;
  void ExpectScalar(ast::ExprId id, TypeId expected);

  // ---- narrowing (stmts.cpp)
  void CondFacts(ast::ExprId cond, bool when_true, std::vector<Fact>& out);
  auto PathOf(ast::ExprId id, Fact& fact) const -> bool;
  auto NarrowedType(ast::ExprId id, TypeId declared) const -> TypeId;
  void PushFacts(const std::vector<Fact>& facts);
  void KillFacts(int32_t slot);
  // After `var x: T? = v` / `x = v` with a non-null `v`, x is T until assigned.
  void NarrowAfterStore(int32_t slot, TypeId declared, TypeId stored);
  void KillAssignedIn(const ast::Block& block);
  void PushFactsUnless(const std::vector<Fact>& facts, size_t log_from, size_t log_to);

  // ---- composition (composition.cpp): break/continue, parallel, child calls
  auto CheckParallel(ast::StmtId id, const ast::ParallelStmt& p) -> bool;
  // `as_value`: the value is used, so the body must end in an expression.
  auto CheckParallelFor(ast::ExprId id, const ast::ParallelForExpr& p, bool as_value) -> TypeId;
  void CheckParallelLimit(ast::ExprId limit);
  void CheckJump(SourceRange range, bool is_break);
  // E092 when a `return` would leave a parallel branch.
  void CheckReturnLeavesNoBranch(SourceRange range);
  void CheckCheckpointPlacement(SourceRange keyword);
  auto InsideParallel() const -> bool;
  // E093 for the accesses of each branch (spans of accesses_, one per
  // branch in order) that conflict with another branch's write.
  void ReportRaces(const std::vector<std::pair<size_t, size_t>>& spans);
  void LogAccess(int32_t slot, SourceRange range, LocalAccess::Kind kind);
  // E093 when an unknown `name` is bound by a later branch of an open
  // `parallel`; false when it is not.
  auto ReportLaterBranchBind(std::string_view name, SourceRange use) -> bool;
  // E094 when `slot` is assigned inside a `parallel for` body that it is
  // declared outside of.
  void CheckParallelForAssign(int32_t slot, SourceRange range);
  // The element type of a `for`/`parallel for` iterable (Error, reported,
  // when it is not a list).
  auto ElementType(ast::ExprId iterable) -> TypeId;
  // E098 for every cycle of workflow calls (run after every body is checked).
  void CheckWorkflowRecursion();

  // ---- scopes (decls.cpp)
  void PushScope();
  void PopScope();
  auto Declare(std::string_view name, SourceRange range, TypeId type, LocalKind kind) -> int32_t;
  auto LookupLocal(std::string_view name) const -> int32_t;  // slot or -1
  auto VisibleNames() const -> std::vector<std::string>;
  auto FunctionNames() const -> std::vector<std::string>;
  auto ConnectorNames() const -> std::vector<std::string>;
  auto CurrentFunctionLabel() const -> std::string;

  auto ast() const -> const ast::Ast& { return out_.ast; }
  auto types() -> types::TypeTable& { return out_.types; }
  auto types() const -> const types::TypeTable& { return out_.types; }
  auto fn_info() -> FunctionInfo& { return out_.functions[current_fn_]; }

  CheckInput& input_;
  CheckedProgram& out_;
  Diagnostics& diags_;

  // Top-level names (one namespace for connectors, types, fns, workflows).
  std::unordered_set<std::string_view> top_names_;
  std::unordered_map<std::string_view, int32_t> connector_by_name_;
  std::unordered_map<std::string_view, int32_t> function_by_name_;
  std::unordered_map<std::string_view, int32_t> type_by_name_;
  // Per connector: operation name -> index.
  std::vector<std::unordered_map<std::string_view, int32_t>> operation_index_;
  // Type declarations being resolved (cycle detection): 0 new, 1 busy, 2 done.
  std::vector<uint8_t> type_decl_state_;

  // Per-function state, reset by CheckFunction.
  int32_t current_fn_ = -1;
  std::vector<Local> locals_;
  std::unordered_map<std::string_view, int32_t> visible_;  // name -> locals_ index
  std::vector<size_t> scope_marks_;
  std::vector<size_t> fact_marks_;
  std::vector<Fact> facts_;
  std::unordered_map<int32_t, int32_t> fact_count_;  // slot -> facts_ entries
  std::unordered_set<std::string_view> unknown_names_;  // reported once per fn
  // True when the current function holds a syntax error or a node the
  // parser could not build: its control flow and bindings are then unknown,
  // so "may end without returning" and "unknown variable" would only echo
  // the syntax error.
  bool saw_syntax_error_ = false;
  std::vector<uint32_t> syntax_errors_;  // byte offsets of syntax errors in this file
  std::vector<uint32_t> decl_starts_;    // where each declaration begins, sorted
  std::vector<int32_t> assigned_log_;  // slots assigned so far, in order
  std::vector<JumpScope> jump_scopes_;
  // Accesses to locals while a `parallel` block is open (parallel_depth_ > 0).
  std::vector<LocalAccess> accesses_;
  int parallel_depth_ = 0;
  // Per open `parallel` block, innermost last: the block and the index of
  // the branch being checked (a name a later branch binds is a race, not an
  // unknown variable).
  struct OpenParallel {
    const ast::ParallelStmt* block;
    size_t branch;
  };
  std::vector<OpenParallel> open_parallels_;
  // Per open `parallel for` body, innermost last: its first slot (every
  // slot below it is declared outside the body).
  std::vector<int32_t> parallel_for_first_slot_;

  // Whole program.
  std::vector<ChildCall> child_calls_;

  TypeId approve_type_;
  TypeId error_record_type_;
};

}  // namespace flow::check
