// Building the flow AST (compiler/ast/ast.h) from ANTLR's parse tree.
//
// A hand walk over the generated context classes rather than ANTLR's
// visitor: the visitor returns antlrcpp::Any, which allocates for every node.
// Children are reached through the labels in grammar/Flow.g4 (plain fields
// set while parsing) rather than the generated accessors, and alternatives
// are told apart with Is<T> (one type_info comparison) rather than
// dynamic_cast: the accessors and dynamic_cast walk the class hierarchy with
// string compares, which was an eighth of the whole front end.
// The builder never trusts the tree to be complete: after a syntax error any
// child may be missing or a token conjured by recovery, and each such hole
// becomes an ErrorExpr / ErrorStmt / ErrorTypeExpr (already reported, so the
// checker stays quiet about it).
//
// It also reports what the grammar cannot: invalid escapes (E006), integer and
// duration literals beyond 64 bits (E008), repeated clauses (E009), and trees
// deeper than kMaxAstDepth (E007). Left-recursive chains (`a + b + ...`,
// `a.b.c...`) are walked with a loop over their left spine, so a million-term
// expression costs no recursion before it is rejected.
#pragma once

#include <string>
#include <typeinfo>

#include "Flow.h"
#include "compiler/ast/ast.h"
#include "compiler/parse/syntax_reporter.h"

namespace flow::parse {

// `node` when its dynamic type is exactly T (a labelled alternative's context
// class, which nothing derives from), else null.
template <typename T>
auto Is(antlr4::tree::ParseTree* node) -> T* {
  return node != nullptr && typeid(*node) == typeid(T) ? static_cast<T*>(node) : nullptr;
}

class AstBuilder {
 public:
  // `has_tree`: whether the parser built the tree's children (the LL pass
  // after a syntax error). Without them (the SLL pass, which succeeds only on
  // input without syntax errors) terminals come from labels and rule starts.
  AstBuilder(ast::Ast& ast, SyntaxReporter& reporter, bool has_tree)
      : ast_(ast), reporter_(reporter), has_tree_(has_tree) {}

  // Fills the Ast with the declarations of `file`.
  void BuildFile(grammar::Flow::FileContext* file);

 private:
  using P = grammar::Flow;

  // Declarations and statements (ast_builder.cpp).
  void BuildDecl(P::DeclContext* ctx);
  auto BuildBlock(P::BlockContext* ctx) -> ast::Block;
  auto BuildStmt(P::StmtContext* ctx) -> ast::StmtId;
  auto BuildStmtNode(P::StmtContext* ctx, SourceRange range) -> ast::StmtId;
  auto BuildIf(P::IfStmtContext* ctx, SourceRange range) -> ast::StmtId;
  auto BuildClauses(P::ClausesContext* ctx) -> ast::StepClauses;
  auto BuildRetry(P::RetryClauseContext* ctx) -> ast::RetryClause;

  // Expressions, strings and types (ast_builder_expr.cpp).
  auto BuildExpr(P::ExprContext* ctx) -> ast::ExprId;
  auto BuildBinaryChain(P::ExprContext* ctx) -> ast::ExprId;
  auto BuildUnary(P::ExprContext* ctx, antlr4::Token* op, P::ExprContext* operand) -> ast::ExprId;
  auto BuildPostfix(P::PostfixExprContext* ctx) -> ast::ExprId;
  auto BuildPrimary(P::PrimaryContext* ctx) -> ast::ExprId;
  auto BuildApprove(P::ApproveContext* ctx, SourceRange range) -> ast::ExprId;
  auto BuildWait(P::WaitContext* ctx, SourceRange range) -> ast::ExprId;
  auto BuildString(P::StringContext* ctx) -> ast::StringLit;
  // The name of a record field or field type, written as a name or as a
  // string literal (`"X-Api-Key": v`), with its range; nullopt when it is
  // missing. A literal that interpolates is E076 (its literal text is kept).
  auto BuildCompoundAssign(SyntaxReporter::CompoundOperator op, antlr4::Token* eq, ast::ExprId target,
                           ast::ExprId value, ast::StepClauses clauses) -> ast::AssignStmt;
  void MergeStrayRetryPart(antlr4::ParserRuleContext* stray, ast::StepClauses& out,
                           std::optional<ast::RetryClause>& retry, const std::vector<SourceRange>& others);
  auto RetryText(const ast::RetryClause& r) const -> std::string;
  // The source text of `range` ("" for an empty or invalid one).
  auto SourceText(SourceRange range) const -> std::string;
  auto FieldKey(antlr4::Token* name, P::StringContext* key)
      -> std::optional<std::pair<std::string, SourceRange>>;
  auto BuildIntLiteral(antlr4::Token* digits, bool negative, SourceRange range) -> ast::ExprId;
  auto BuildType(P::TypeContext* ctx) -> ast::TypeExprId;
  auto BuildPrimaryType(P::PrimaryTypeContext* ctx) -> ast::TypeExprId;

  // Helpers.
  auto Range(antlr4::ParserRuleContext* ctx) const -> SourceRange;
  auto Range(antlr4::Token* token) const -> SourceRange { return reporter_.TokenRange(token); }
  auto Range(antlr4::tree::TerminalNode* node) const -> SourceRange;
  auto ErrorExpr(SourceRange range) -> ast::ExprId;
  auto ErrorType(SourceRange range) -> ast::TypeExprId;
  // Enters one level of AST depth; false (after reporting E007 once) when
  // the limit is reached.
  auto Enter(int levels, SourceRange range) -> bool;
  void ReportDuplicate(const char* clause, SourceRange range);
  // The plain text of a string literal (interpolations skipped).
  static auto PlainText(const ast::StringLit& lit) -> std::string;
  static auto IsMissing(antlr4::Token* token) -> bool;
  static auto HasToken(antlr4::ParserRuleContext* ctx, size_t type) -> bool;
  // The first `type` token child of `ctx` (ctx->getToken(type, 0)) when the
  // tree has children; otherwise the rule's first token, which is that
  // token for the clause alternatives this is used on.
  auto LeadingToken(antlr4::ParserRuleContext* ctx, size_t type) const -> antlr4::Token*;

  ast::Ast& ast_;
  SyntaxReporter& reporter_;
  int depth_ = 0;
  bool depth_reported_ = false;
  bool has_tree_;

  friend class DepthScope;
};

// RAII for AstBuilder depth accounting.
class DepthScope {
 public:
  DepthScope(int& depth, int levels) : depth_(depth), levels_(levels) { depth_ += levels_; }
  ~DepthScope() { depth_ -= levels_; }
  DepthScope(const DepthScope&) = delete;
  auto operator=(const DepthScope&) -> DepthScope& = delete;

 private:
  int& depth_;
  int levels_;
};

}  // namespace flow::parse
