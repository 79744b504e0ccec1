// Unit tests for the checker's trickiest logic: approval dominance on the
// CFG, flow-sensitive narrowing, missing-return analysis, poison values (one
// mistake, one message), step arguments. Programs are built as ASTs by a
// small builder so these tests do not depend on the parser; the golden tests
// in tests/check/ cover every diagnostic end to end.
#include <gtest/gtest.h>
#include <unistd.h>

// GCC 12 reports a false maybe-uninitialized inside std::variant moves of
// the builder's node structs at -O2.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "compiler/check/cfg.h"
#include "compiler/check/check.h"
#include "compiler/driver/compile.h"
#include "compiler/parse/parse.h"

namespace flow::check {
namespace {

using ast::BinaryOp;
using ast::ExprId;
using ast::StmtId;
using ast::TypeExprId;

// Builds an Ast with fake but distinct ranges (every node its own offsets).
class Builder {
 public:
  Builder() { a.file = FileId{0}; }

  auto R() -> SourceRange {
    pos_ += 4;
    return SourceRange{FileId{0}, pos_, pos_ + 2};
  }
  auto E(decltype(ast::Expr::node) node) -> ExprId { return a.AddExpr({R(), std::move(node)}); }
  auto S(decltype(ast::Stmt::node) node) -> StmtId { return a.AddStmt({R(), std::move(node)}); }

  auto Int(int64_t v) -> ExprId { return E(ast::IntLit{v}); }
  auto Bool(bool v) -> ExprId { return E(ast::BoolLit{v}); }
  auto Null() -> ExprId { return E(ast::NullLit{}); }
  auto Dur(int64_t ms) -> ExprId { return E(ast::DurationLit{ms}); }
  auto Str(std::string text) -> ExprId { return E(ast::StringLit{{{std::move(text), {}}}}); }
  auto Name(std::string n) -> ExprId { return E(ast::NameRef{std::move(n)}); }
  auto Member(ExprId obj, std::string n) -> ExprId {
    return E(ast::MemberExpr{obj, std::move(n), R()});
  }
  auto Bin(BinaryOp op, ExprId l, ExprId r) -> ExprId { return E(ast::BinaryExpr{op, l, r, R()}); }
  auto Not(ExprId e) -> ExprId { return E(ast::UnaryExpr{ast::UnaryOp::Not, e, R()}); }
  auto Call(ExprId callee, std::vector<std::pair<std::string, ExprId>> args) -> ExprId {
    ast::CallExpr c{callee, {}, R()};
    for (auto& [name, value] : args) c.args.push_back({name, R(), value});
    return E(std::move(c));
  }
  auto Step(std::string conn, std::string op, std::vector<std::pair<std::string, ExprId>> args)
      -> ExprId {
    return Call(Member(Name(std::move(conn)), std::move(op)), std::move(args));
  }
  auto Approve() -> ExprId { return E(ast::ApproveExpr{Str("ok?"), {}, {}}); }

  auto Let(std::string n, ExprId init, bool is_var = false, TypeExprId type = {},
           ast::StepClauses clauses = {}) -> StmtId {
    return S(ast::LetStmt{is_var, std::move(n), R(), type, init, std::move(clauses)});
  }
  auto Assign(ExprId target, ExprId value) -> StmtId { return S(ast::AssignStmt{target, value, {}}); }
  auto Do(ExprId e, ast::StepClauses clauses = {}) -> StmtId {
    return S(ast::ExprStmt{e, std::move(clauses)});
  }
  auto B(std::vector<StmtId> stmts) -> ast::Block { return ast::Block{R(), std::move(stmts)}; }
  auto If(ExprId c, std::vector<StmtId> then, std::optional<std::vector<StmtId>> els = {})
      -> StmtId {
    std::optional<ast::Block> else_block;
    if (els) else_block = B(*els);
    return S(ast::IfStmt{c, B(std::move(then)), std::move(else_block)});
  }
  auto While(ExprId c, std::vector<StmtId> body) -> StmtId {
    return S(ast::WhileStmt{c, B(std::move(body))});
  }
  auto For(std::string v, ExprId list, std::vector<StmtId> body) -> StmtId {
    return S(ast::ForStmt{std::move(v), R(), list, B(std::move(body))});
  }
  auto Return(ExprId e = {}) -> StmtId { return S(ast::ReturnStmt{e, {}}); }
  auto Fail() -> StmtId { return S(ast::FailStmt{Str("boom")}); }
  auto Try(std::vector<StmtId> body, std::vector<StmtId> handler) -> StmtId {
    return S(ast::TryStmt{B(std::move(body)), "err", R(), B(std::move(handler))});
  }

  auto T(std::string name) -> TypeExprId {
    return a.AddType({R(), ast::NamedTypeExpr{std::move(name)}});
  }
  auto Opt(TypeExprId inner) -> TypeExprId { return a.AddType({R(), ast::OptionalTypeExpr{inner}}); }
  auto Rec(std::vector<std::pair<std::string, TypeExprId>> fields) -> TypeExprId {
    ast::RecordTypeExpr r;
    for (auto& [n, t] : fields) r.fields.push_back({n, R(), t});
    return a.AddType({R(), std::move(r)});
  }

  void TypeDecl(std::string name, TypeExprId t) { a.type_decls.push_back({R(), name, R(), t}); }
  void Connector(std::string name) { a.connectors.push_back({R(), name, R(), name + ".json", R()}); }
  void Fn(std::string name, std::vector<std::pair<std::string, TypeExprId>> params,
          TypeExprId result, std::vector<StmtId> body, bool workflow = false) {
    ast::FunctionDecl f{R(), workflow, std::move(name), R(), {}, result, B(std::move(body))};
    for (auto& [n, t] : params) f.params.push_back({n, R(), t});
    a.functions.push_back(std::move(f));
  }
  void Workflow(std::string name, std::vector<std::pair<std::string, TypeExprId>> params,
                TypeExprId result, std::vector<StmtId> body) {
    Fn(std::move(name), std::move(params), result, std::move(body), true);
  }

  ast::Ast a;

 private:
  uint32_t pos_ = 0;
};

// billing.charge(customer: string, amount: int) -> { id, amount, status }:
// irreversible, not idempotent, requires approval; billing.refund(charge).
auto Billing(types::TypeTable& tt, bool requires_approval = true) -> schema::ConnectorSig {
  schema::ConnectorSig c;
  c.name = "billing";
  schema::OperationSig charge;
  charge.connector = "billing";
  charge.name = "charge";
  charge.args = {{"customer", tt.string(), true}, {"amount", tt.int_(), true},
                 {"currency", tt.Literal({"eur", "usd"}), false}};
  charge.output = tt.Record({{"id", tt.string()}, {"amount", tt.int_()},
                             {"note", tt.Optional(tt.string())}});
  charge.effect = schema::Effect::Irreversible;
  charge.requires_approval = requires_approval;
  charge.sends_idempotency_key = false;
  schema::OperationSig refund;
  refund.connector = "billing";
  refund.name = "refund";
  refund.args = {{"charge", tt.string(), true}};
  refund.output = tt.Record({});
  refund.idempotent = true;
  c.operations = {charge, refund};
  return c;
}

struct Outcome {
  std::unique_ptr<CheckedProgram> program;
  Diagnostics diags;
  auto codes() const -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& d : diags.all()) out.emplace_back(GetDiagKindInfo(d.kind).code);
    return out;
  }
  auto messages() const -> std::string {
    std::string out;
    for (const auto& d : diags.all()) out += d.message + "\n";
    return out;
  }
};

auto CheckIt(Builder& b, bool with_billing = true, bool billing_loaded = true) -> Outcome {
  Outcome o;
  CheckInput in;
  if (with_billing) {
    b.Connector("billing");
    if (billing_loaded) {
      in.declared.push_back(Billing(in.types));
    } else {
      in.declared.push_back(std::nullopt);
    }
  }
  in.ast = std::move(b.a);
  o.program = Check(std::move(in), o.diags);
  return o;
}

using Codes = std::vector<std::string>;

auto ChargeArgs(Builder& b) -> std::vector<std::pair<std::string, ExprId>> {
  return {{"customer", b.Str("c1")}, {"amount", b.Int(5)}};
}
auto Compensated(Builder& b) -> ast::StepClauses {
  ast::StepClauses c;
  c.compensate = ast::CompensateClause{b.R(), b.Step("billing", "refund", {{"charge", b.Str("x")}}),
                                       {}, {}};
  return c;
}

// ------------------------------------------------------------------ approval dominance

TEST(CheckApproval, StepWithoutApproveIsReported) {
  Builder b;
  b.Workflow("w", {}, {}, {b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"E060"});
}

TEST(CheckApproval, ApproveBeforeStepCovers) {
  Builder b;
  b.Workflow("w", {}, {}, {b.Do(b.Approve()),
                           b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{});
}

TEST(CheckApproval, ApproveInOneBranchDoesNotCover) {
  Builder b;
  b.Workflow("w", {{"c", b.T("bool")}}, {},
             {b.If(b.Name("c"), {b.Do(b.Approve())}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"E060"});
}

TEST(CheckApproval, ApproveInBothBranchesCovers) {
  Builder b;
  b.Workflow("w", {{"c", b.T("bool")}}, {},
             {b.If(b.Name("c"), {b.Do(b.Approve())}, {{b.Let("a", b.Approve())}}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{});
}

TEST(CheckApproval, BranchThatReturnsNeedsNoApprove) {
  Builder b;
  b.Workflow("w", {{"c", b.T("bool")}}, {},
             {b.If(b.Name("c"), {b.Return()}, {{b.Do(b.Approve())}}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{});
}

TEST(CheckApproval, ApproveInLoopBodyDoesNotCoverAfterLoop) {
  Builder b;
  b.Workflow("w", {{"c", b.T("bool")}}, {},
             {b.While(b.Name("c"), {b.Do(b.Approve())}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"E060"});
}

TEST(CheckApproval, ApproveEarlierInLoopBodyCoversStepInBody) {
  Builder b;
  b.Workflow("w", {{"c", b.T("bool")}}, {},
             {b.While(b.Name("c"), {b.Do(b.Approve()), b.Do(b.Step("billing", "charge",
                                                                    ChargeArgs(b)),
                                                             Compensated(b))})});
  EXPECT_EQ(CheckIt(b).codes(), Codes{});
}

TEST(CheckApproval, ApproveInsideTryDoesNotCoverHandlerOrAfter) {
  Builder b;
  // try { approve } catch err { } ; charge  -> a rejected approve is caught.
  b.Workflow("w", {}, {},
             {b.Try({b.Do(b.Approve())}, {}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"E060"});
}

TEST(CheckApproval, ApproveInsideTryCoversWhenHandlerFails) {
  Builder b;
  b.Workflow("w", {}, {},
             {b.Try({b.Do(b.Approve())}, {b.Fail()}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{});
}

TEST(CheckApproval, ApproveOnRightOfAndDoesNotCover) {
  Builder b;
  ExprId by = b.Member(b.Approve(), "by");
  b.Workflow("w", {{"c", b.T("bool")}}, {},
             {b.If(b.Bin(BinaryOp::And, b.Name("c"), b.Bin(BinaryOp::Eq, by, b.Str("x"))), {}),
              b.Do(b.Step("billing", "charge", ChargeArgs(b)), Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"E060"});
}

// A hand-built graph of `n` blocks with the given edges (from, to).
auto MakeCfg(size_t n, std::initializer_list<std::pair<int, int>> edges) -> Cfg {
  Cfg cfg;
  cfg.blocks.resize(n);
  for (auto [from, to] : edges) {
    cfg.blocks[from].succs.push_back(to);
    cfg.blocks[to].preds.push_back(from);
  }
  return cfg;
}

TEST(CheckCfg, DataflowOnHandBuiltGraph) {
  // b0 -> b2 -> b3(approve) -> b4(step); b0 -> b4; b4 -> b1.
  Cfg cfg = MakeCfg(5, {{0, 2}, {2, 3}, {3, 4}, {0, 4}, {4, 1}});
  cfg.blocks[3].events.push_back({CfgEvent::Kind::Approve, ExprId{1}});
  cfg.blocks[4].events.push_back({CfgEvent::Kind::Step, ExprId{2}});
  auto in = ApprovedOnEntry(cfg);
  EXPECT_FALSE(in[4]);
  EXPECT_EQ(UnapprovedSteps(cfg).size(), 1u);
  // Remove the bypass: now every path passes the approve.
  cfg.blocks[0].succs = {2};
  cfg.blocks[4].preds = {3};
  EXPECT_TRUE(ApprovedOnEntry(cfg)[4]);
  EXPECT_TRUE(UnapprovedSteps(cfg).empty());
}

TEST(CheckCfg, LoopBackEdgeConverges) {
  // b0 -> b2(header) -> b3(body: approve) -> b2; b2 -> b4(step)
  Cfg cfg = MakeCfg(5, {{0, 2}, {2, 3}, {3, 2}, {2, 4}});
  cfg.blocks[3].events.push_back({CfgEvent::Kind::Approve, ExprId{1}});
  cfg.blocks[4].events.push_back({CfgEvent::Kind::Step, ExprId{2}});
  EXPECT_FALSE(ApprovedOnEntry(cfg)[4]);
}

TEST(CheckCfg, ParallelJoinIsApprovedWhenAnyBranchApproves) {
  // b0 forks into b2(approve) and b3; both join in b4(step), a join_any.
  Cfg cfg = MakeCfg(5, {{0, 2}, {0, 3}, {2, 4}, {3, 4}, {4, 1}});
  cfg.blocks[2].events.push_back({CfgEvent::Kind::Approve, ExprId{1}});
  cfg.blocks[3].events.push_back({CfgEvent::Kind::Step, ExprId{2}});
  cfg.blocks[4].events.push_back({CfgEvent::Kind::Step, ExprId{3}});
  EXPECT_FALSE(ApprovedOnEntry(cfg)[4]);  // an ordinary join: every path
  cfg.blocks[4].join_any = true;
  auto in = ApprovedOnEntry(cfg);
  EXPECT_TRUE(in[4]);   // every branch has ended, one of them approved
  EXPECT_FALSE(in[3]);  // the sibling branch is not covered
  EXPECT_EQ(UnapprovedSteps(cfg), (std::vector<ExprId>{ExprId{2}}));
}

// ------------------------------------------------------------------ policy warnings

TEST(CheckPolicy, IrreversibleWithoutCompensateWarns) {
  Builder b;
  b.Workflow("w", {}, {}, {b.Do(b.Approve()), b.Do(b.Step("billing", "charge", ChargeArgs(b)))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"W060"});
}

TEST(CheckPolicy, RetryOnNonIdempotentWarns) {
  Builder b;
  ast::StepClauses clauses = Compensated(b);
  clauses.retry = ast::RetryClause{b.R(), b.Int(3), {}, {}, {}, {}};
  b.Workflow("w", {}, {}, {b.Do(b.Approve()), b.Do(b.Step("billing", "charge", ChargeArgs(b)),
                                                    clauses)});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"W061"});
}

// ------------------------------------------------------------------ narrowing

// type C = { seats: int? }
auto SeatsType(Builder& b) -> TypeExprId { return b.Rec({{"seats", b.Opt(b.T("int"))}}); }

TEST(CheckNarrowing, OptionalUseIsReported) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}}, b.T("int"),
       {b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))});
  auto o = CheckIt(b, false);
  EXPECT_EQ(o.codes(), Codes{"E032"});
}

TEST(CheckNarrowing, NotNullCheckNarrowsThenBranch) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}}, b.T("int"),
       {b.If(b.Bin(BinaryOp::Ne, b.Name("x"), b.Null()),
             {b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))}),
        b.Return(b.Int(0))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{});
}

TEST(CheckNarrowing, EarlyReturnNarrowsRestOfBlock) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}}, b.T("int"),
       {b.If(b.Bin(BinaryOp::Eq, b.Name("x"), b.Null()), {b.Return(b.Int(0))}),
        b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{});
}

TEST(CheckNarrowing, EqNullElseBranchIsNarrowed) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}}, b.T("int"),
       {b.If(b.Bin(BinaryOp::Eq, b.Name("x"), b.Null()), {b.Return(b.Int(0))},
             {{b.Return(b.Name("x"))}})});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{});
}

TEST(CheckNarrowing, FieldPathIsNarrowed) {
  Builder b;
  ExprId seats = b.Member(b.Name("c"), "seats");
  b.Fn("f", {{"c", SeatsType(b)}}, b.T("int"),
       {b.If(b.Bin(BinaryOp::Ne, seats, b.Null()),
             {b.Return(b.Bin(BinaryOp::Add, b.Member(b.Name("c"), "seats"), b.Int(1)))}),
        b.Return(b.Int(0))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{});
}

TEST(CheckNarrowing, AndNarrowsItsRightSide) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}}, b.T("bool"),
       {b.Return(b.Bin(BinaryOp::And, b.Bin(BinaryOp::Ne, b.Name("x"), b.Null()),
                       b.Bin(BinaryOp::Gt, b.Name("x"), b.Int(3))))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{});
}

TEST(CheckNarrowing, OrDoesNotNarrowWhenTrue) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}, {"c", b.T("bool")}}, b.T("int"),
       {b.If(b.Bin(BinaryOp::Or, b.Bin(BinaryOp::Ne, b.Name("x"), b.Null()), b.Name("c")),
             {b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))}),
        b.Return(b.Int(0))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E032"});
}

TEST(CheckNarrowing, AssignmentInvalidatesNarrowing) {
  Builder b;
  b.Fn("f", {}, b.T("int"),
       {b.Let("x", b.Null(), true, b.Opt(b.T("int"))),
        b.If(b.Bin(BinaryOp::Eq, b.Name("x"), b.Null()), {b.Return(b.Int(0))}),
        b.Assign(b.Name("x"), b.Null()),
        b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E032"});
}

TEST(CheckNarrowing, AssignmentInNestedBlockInvalidatesOuterNarrowing) {
  Builder b;
  b.Fn("f", {{"c", b.T("bool")}}, b.T("int"),
       {b.Let("x", b.Null(), true, b.Opt(b.T("int"))),
        b.If(b.Bin(BinaryOp::Eq, b.Name("x"), b.Null()), {b.Return(b.Int(0))}),
        b.If(b.Name("c"), {b.Assign(b.Name("x"), b.Null())}),
        b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E032"});
}

TEST(CheckNarrowing, AssignmentLaterInLoopInvalidatesEarlierUse) {
  Builder b;
  b.Fn("f", {{"c", b.T("bool")}}, b.T("int"),
       {b.Let("x", b.Int(1), true, b.Opt(b.T("int"))),
        b.If(b.Bin(BinaryOp::Eq, b.Name("x"), b.Null()), {b.Return(b.Int(0))}),
        b.While(b.Name("c"), {b.Let("y", b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1))),
                              b.Assign(b.Name("x"), b.Null())}),
        b.Return(b.Int(0))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E032"});
}

TEST(CheckNarrowing, StoringNonNullNarrowsUntilNextAssignment) {
  Builder b;
  b.Fn("f", {{"c", b.T("bool")}}, b.T("int"),
       {b.Let("x", b.Int(1), true, b.Opt(b.T("int"))),
        b.Let("y", b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1))),
        b.Assign(b.Name("x"), b.Null()),
        b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E032"});
}

TEST(CheckNarrowing, NarrowingEndsWithTheBlock) {
  Builder b;
  b.Fn("f", {{"x", b.Opt(b.T("int"))}}, b.T("int"),
       {b.If(b.Bin(BinaryOp::Ne, b.Name("x"), b.Null()), {b.Let("y", b.Name("x"))}),
        b.Return(b.Bin(BinaryOp::Add, b.Name("x"), b.Int(1)))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E032"});
}

// ------------------------------------------------------------------ missing return

TEST(CheckReturn, IfWithoutElseMayFallOff) {
  Builder b;
  b.Fn("f", {{"c", b.T("bool")}}, b.T("int"), {b.If(b.Name("c"), {b.Return(b.Int(1))})});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E052"});
}

TEST(CheckReturn, IfElseBothReturning) {
  Builder b;
  b.Fn("f", {{"c", b.T("bool")}}, b.T("int"),
       {b.If(b.Name("c"), {b.Return(b.Int(1))}, {{b.Fail()}})});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{});
}

TEST(CheckReturn, LoopsMayRunZeroTimes) {
  Builder b;
  b.Fn("f", {{"c", b.T("bool")}}, b.T("int"), {b.While(b.Name("c"), {b.Return(b.Int(1))})});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E052"});
}

TEST(CheckReturn, TryNeedsBothPartsToReturn) {
  Builder b;
  b.Fn("f", {}, b.T("int"), {b.Try({b.Return(b.Int(1))}, {})});
  b.Fn("g", {}, b.T("int"), {b.Try({b.Return(b.Int(1))}, {b.Return(b.Int(2))})});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E052"});
}

TEST(CheckReturn, UnreachableCodeWarnsOncePerBlock) {
  Builder b;
  b.Fn("f", {}, b.T("int"), {b.Return(b.Int(1)), b.Let("a", b.Int(1)), b.Let("b", b.Int(2))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"W002"});
}

TEST(CheckReturn, WrongTypeAndValueInVoid) {
  Builder b;
  b.Fn("f", {}, b.T("int"), {b.Return(b.Str("x"))});
  b.Fn("g", {}, {}, {b.Return(b.Int(1))});
  EXPECT_EQ(CheckIt(b, false).codes(), (Codes{"E051", "E053"}));
}

// ------------------------------------------------------------------ poison, no cascade

TEST(CheckPoison, UnknownVariableReportedOnce) {
  Builder b;
  b.Fn("f", {{"count", b.T("int")}}, b.T("int"),
       {b.Let("a", b.Bin(BinaryOp::Add, b.Name("cont"), b.Int(1))),
        b.Let("b", b.Member(b.Name("cont"), "x")), b.Return(b.Name("a"))});
  auto o = CheckIt(b, false);
  EXPECT_EQ(o.codes(), Codes{"E020"});
  EXPECT_EQ(o.messages(), "unknown variable 'cont'; did you mean 'count'?\n");
}

TEST(CheckPoison, FailedConnectorIsSilent) {
  Builder b;
  b.Workflow("w", {}, {},
             {b.Let("c", b.Step("billing", "charge", {{"amout", b.Int(1)}})),
              b.Let("d", b.Member(b.Name("c"), "whatever"))});
  EXPECT_EQ(CheckIt(b, true, false).codes(), Codes{});
}

TEST(CheckPoison, UnknownTypeDoesNotCascade) {
  Builder b;
  b.Fn("f", {{"c", b.T("Custmer")}}, b.T("int"), {b.Return(b.Member(b.Name("c"), "seats"))});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E021"});
}

TEST(CheckPoison, CyclicTypeReportedOnce) {
  Builder b;
  b.TypeDecl("A", b.T("B"));
  b.TypeDecl("B", b.Rec({{"a", b.T("A")}}));
  b.Fn("f", {{"x", b.T("A")}}, {}, {});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E029"});
}

// ------------------------------------------------------------------ steps and calls

TEST(CheckSteps, ArgumentDiagnostics) {
  Builder b;
  b.Workflow("w", {}, {},
             {b.Do(b.Approve()),
              b.Let("c",
                    b.Step("billing", "charge",
                           {{"customer", b.Str("c1")}, {"sum", b.Int(5)},
                            {"currency", b.Str("usdd")}}),
                    false, {}, Compensated(b)),
              b.Let("n", b.Member(b.Name("c"), "amuont"))});
  auto o = CheckIt(b);
  EXPECT_EQ(o.codes(), (Codes{"E025", "E031", "E040", "E026"}));
  EXPECT_EQ(o.messages(),
            "billing.charge has no argument 'sum'\n"
            "\"usdd\" is not one of \"eur\" | \"usd\"; did you mean 'usd'?\n"
            "billing.charge is missing required argument 'amount'\n"
            "'{ amount: int, id: string, note: string? }' has no field 'amuont'; "
            "did you mean 'amount'?\n");
}

TEST(CheckSteps, MisspeltArgumentIsNotAlsoMissing) {
  Builder b;
  b.Workflow("w", {}, {},
             {b.Do(b.Approve()),
              b.Do(b.Step("billing", "charge", {{"customer", b.Str("c1")}, {"amout", b.Int(5)}}),
                   Compensated(b))});
  EXPECT_EQ(CheckIt(b).codes(), Codes{"E025"});
}

TEST(CheckSteps, StepInFnIsAnEffect) {
  Builder b;
  b.Fn("f", {}, {}, {b.Do(b.Step("billing", "refund", {{"charge", b.Str("x")}}))});
  auto o = CheckIt(b);
  EXPECT_EQ(o.codes(), Codes{"E050"});
  EXPECT_EQ(o.messages(),
            "step 'billing.refund' is not allowed in fn 'f'; functions are pure\n");
}

TEST(CheckSteps, CompensateSeesTheBoundName) {
  Builder b;
  ast::StepClauses clauses;
  clauses.compensate = ast::CompensateClause{
      b.R(), b.Step("billing", "refund", {{"charge", b.Member(b.Name("charge"), "id")}}), {}, {}};
  b.Workflow("w", {}, {},
             {b.Do(b.Approve()),
              b.Let("charge", b.Step("billing", "charge", ChargeArgs(b)), false, {}, clauses)});
  EXPECT_EQ(CheckIt(b).codes(), Codes{});
}

TEST(CheckCalls, BuiltinsAndUserFns) {
  Builder b;
  b.Fn("price", {{"plan", b.T("string")}, {"seats", b.T("int")}}, b.T("int"),
       {b.Return(b.Name("seats"))});
  b.Fn("g", {}, b.T("int"),
       {b.Let("a", b.Call(b.Name("price"), {{"", b.Str("pro")}, {"seats", b.Int(2)}})),
        b.Let("l", b.Call(b.Name("len"), {{"", b.Int(3)}})),
        b.Let("s", b.Call(b.Name("split"), {{"", b.Str("a,b")}})),
        b.Let("t", b.Call(b.Name("now"), {})),
        b.Return(b.Call(b.Name("price"), {{"", b.Str("pro")}}))});
  auto o = CheckIt(b, false);
  EXPECT_EQ(o.codes(), (Codes{"E041", "E042", "E050", "E042"}));
  auto p = o.program.get();
  // price(plan: "pro", seats: 2) resolved to fn 0 with the mapping.
  ExprId first_call = std::get<ast::LetStmt>(p->ast.stmts[1].node).init;
  EXPECT_EQ(p->calls[first_call.index].kind, CallKind::Function);
  EXPECT_EQ(p->calls[first_call.index].arg_params, (std::vector<int32_t>{0, 1}));
}

TEST(CheckSlots, EveryBindingGetsItsOwnSlot) {
  Builder b;
  StmtId inner = b.Let("x", b.Int(2));
  StmtId loop = b.For("i", b.Call(b.Name("range"), {{"", b.Int(3)}}), {inner});
  b.Fn("f", {{"p", b.T("int")}}, {}, {b.Let("x", b.Int(1)), loop});
  auto o = CheckIt(b, false);
  EXPECT_EQ(o.codes(), Codes{});
  const FunctionInfo& info = o.program->functions[0];
  ASSERT_EQ(info.locals.size(), 4u);  // p, x, i, x
  EXPECT_EQ(o.program->stmt_slots[loop.index], 2);
  EXPECT_EQ(o.program->stmt_slots[inner.index], 3);
  EXPECT_EQ(info.locals[2].type, o.program->types.int_());
}

TEST(CheckInference, VarOfEmptyListNeedsAnnotation) {
  Builder b;
  b.Fn("f", {}, {}, {b.Let("xs", b.E(ast::ListLit{}), true)});
  EXPECT_EQ(CheckIt(b, false).codes(), Codes{"E039"});
}

TEST(CheckAssign, OnlyVarsAreAssignable) {
  Builder b;
  b.Fn("f", {{"p", b.T("int")}}, {},
       {b.Let("v", b.Str("a"), true), b.Assign(b.Name("v"), b.Str("b")),
        b.Assign(b.Name("p"), b.Int(1)), b.Assign(b.Member(b.Name("v"), "x"), b.Int(1))});
  // `var v = "a"` widens to string so "b" fits; p is a param; v.x is no field.
  EXPECT_EQ(CheckIt(b, false).codes(), (Codes{"E054", "E035"}));
}

// ------------------------------------------------------------------ parsed programs

// log.info/warn/error(message: string, data: json?) -> { at: time }, as the
// built-in connector declares them.
auto LogConnector(types::TypeTable& tt) -> schema::ConnectorSig {
  schema::ConnectorSig c;
  c.name = "log";
  c.builtin = true;
  for (const char* level : {"info", "warn", "error"}) {
    schema::OperationSig op;
    op.connector = "log";
    op.name = level;
    op.args = {{"message", tt.string(), true}, {"data", tt.json(), false}};
    op.output = tt.Record({{"at", tt.time()}});
    op.idempotent = true;
    c.operations.push_back(op);
  }
  return c;
}

struct Parsed {
  SourceManager sources;
  Diagnostics diags;
  std::unique_ptr<CheckedProgram> program;
  auto Render() const -> std::string { return RenderText(diags, sources); }
};

// Parses and checks `text` with billing (declared) and log (built-in).
auto CheckText(const std::string& text) -> std::unique_ptr<Parsed> {
  auto p = std::make_unique<Parsed>();
  FileId id = p->sources.Add("t.flow", text);
  CheckInput in;
  in.ast = parse::ParseFile(p->sources.file(id), id, p->diags);
  for (const auto& decl : in.ast.connectors) {
    if (decl.name == "billing") in.declared.push_back(Billing(in.types));
    else in.declared.push_back(std::nullopt);
  }
  in.builtins.push_back(LogConnector(in.types));
  in.source_text = p->sources.file(id).text();
  p->program = Check(std::move(in), p->diags);
  return p;
}

TEST(CheckParsed, CaretsAndMessagesFromSource) {
  auto p = CheckText(R"(connector billing = "billing.json"
workflow pay(id: string) -> { ok: bool } {
  approve "pay ${id}?"
  let c = billing.charge(customer: id, amout: 5)
    compensate billing.refund(charge: c.id)
  return { ok: c.note + "x" == "" }
}
)");
  EXPECT_EQ(p->Render(),
            "t.flow:4:40: error: billing.charge has no argument 'amout'; did you mean 'amount'?\n"
            "  let c = billing.charge(customer: id, amout: 5)\n"
            "                                       ^~~~~\n"
            "t.flow:6:16: error: 'c.note' may be null; use '??' or check it against null first\n"
            "  return { ok: c.note + \"x\" == \"\" }\n"
            "               ^~~~~~\n");
}

TEST(CheckParsed, NarrowingAndPolicyFromSource) {
  auto p = CheckText(R"(connector billing = "billing.json"
type Customer = { id: string, plan: "free" | "pro", seats: int? }
workflow pay(c: Customer) -> int {
  if c.plan == "pro" {
    approve "charge ${c.id}?"
  }
  let x = billing.charge(customer: c.id, amount: 5, currency: "usd")
    retry 3 on "timeout", "rate_limted"
    compensate billing.refund(charge: x.id)
  if c.seats == null {
    fail "no seats"
  }
  return c.seats + 1
}
)");
  std::string out = p->Render();
  EXPECT_NE(out.find("t.flow:7:11: error: billing.charge requires approval"), std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown retryable error kind \"rate_limted\"; did you mean 'rate_limited'?"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("warning: billing.charge is retried"), std::string::npos) << out;
  EXPECT_EQ(p->diags.error_count(), 2) << out;
}

TEST(CheckParsed, FailedConnectorPoisonsSilently) {
  auto p = CheckText(R"(connector crm = "missing.json"
workflow w() {
  let a = crm.lookup(id: 1)
  log.info(message: "${a.name}")
  log.inf(message: "x")
}
)");
  EXPECT_EQ(p->Render(),
            "t.flow:5:7: error: connector 'log' has no operation 'inf'; did you mean 'info'?\n"
            "  log.inf(message: \"x\")\n"
            "      ^~~\n");
}

TEST(CheckParsed, CompositionTables) {
  auto p = CheckText(R"(workflow child(n: int) -> int {
  return n
}
workflow w(xs: [int]) -> [int] {
  let one = child(n: 1)
  let ys = parallel for x in xs limit 2 { x + one }
  return ys
}
)");
  EXPECT_EQ(p->Render(), "");
  const CheckedProgram& prog = *p->program;
  int workflow_calls = 0;
  for (size_t i = 0; i < prog.calls.size(); ++i) {
    if (prog.calls[i].kind != CallKind::Workflow) continue;
    ++workflow_calls;
    EXPECT_EQ(prog.calls[i].function, 0);
    EXPECT_EQ(prog.calls[i].arg_params, (std::vector<int32_t>{0}));
  }
  EXPECT_EQ(workflow_calls, 1);
  for (size_t i = 0; i < prog.ast.exprs.size(); ++i) {
    if (!std::holds_alternative<ast::ParallelForExpr>(prog.ast.exprs[i].node)) continue;
    int32_t slot = prog.expr_slots[i];
    ASSERT_GE(slot, 0);
    EXPECT_EQ(prog.functions[1].locals[slot].name, "x");
    EXPECT_EQ(prog.functions[1].locals[slot].kind, LocalKind::ForVar);
    EXPECT_EQ(prog.types.Display(prog.expr_types[i]), "[int]");
  }
}

TEST(CheckParsed, ParallelForWithoutBodyIsOneSyntaxError) {
  auto p = CheckText("workflow w() {\n  let y = parallel for x in [1] limit 2\n}\n");
  std::string out = p->Render();
  EXPECT_EQ(out.find("must end in an expression"), std::string::npos) << out;
  EXPECT_NE(out.find("error: expected '{'"), std::string::npos) << out;
}

// ------------------------------------------------------------------ driver

class CheckFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("flow_check_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "connectors");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel) << text;
  }
  auto Check(const std::string& rel) -> std::string {
    SourceManager sources;
    Diagnostics diags;
    auto result = CheckFile((dir_ / rel).string(), sources, diags);
    if (!result.ok()) return "Error: " + result.error().message;
    return RenderText(diags, sources);
  }
  std::filesystem::path dir_;
};

TEST_F(CheckFileTest, ConnectorPathIsRelativeToTheFlowFile) {
  Write("connectors/billing.json", R"({ "connector": "billing",
    "transport": { "kind": "http", "base_url": "http://127.0.0.1:8099" },
    "operations": { "charge": { "http": { "method": "POST", "path": "/charges" },
      "input": { "type": "object", "required": ["customer", "amount"],
                 "properties": { "customer": { "type": "string" }, "amount": { "type": "integer" } } },
      "output": { "type": "object" }, "idempotent": true } } })");
  Write("pay.flow", R"(connector billing = "connectors/billing.json"
workflow pay(id: string) -> { ok: bool } {
  let c = billing.charge(customer: id, amout: 5)
  log.info(message: "charged")
  return { ok: true }
}
)");
  std::string out = Check("pay.flow");
  EXPECT_NE(out.find("pay.flow:3:40: error: billing.charge has no argument 'amout'; did you mean "
                     "'amount'?"),
            std::string::npos)
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '^'), 1) << out;
}

TEST_F(CheckFileTest, MissingConnectorIsOneMessage) {
  Write("w.flow", R"(connector crm = "nope.json"
workflow w() {
  let a = crm.lookup(id: 1)
  log.info(message: "${a.name}")
}
)");
  std::string out = Check("w.flow");
  EXPECT_EQ(std::count(out.begin(), out.end(), '^'), 1) << out;
  EXPECT_NE(out.find("error: cannot read connector file"), std::string::npos) << out;
}

TEST_F(CheckFileTest, NoWorkflowWarnsAndMissingFileIsAnError) {
  Write("lib.flow", "fn f() -> int { return 1 }\n");
  EXPECT_NE(Check("lib.flow").find("warning: '"), std::string::npos);
  EXPECT_EQ(Check("absent.flow").rfind("Error: ", 0), 0u);
}

}  // namespace
}  // namespace flow::check
