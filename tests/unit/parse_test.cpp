// Tests of the parsing phase (compiler/parse): token filter rules, literals,
// every lexical/syntax diagnostic with its exact wording and position, the
// limits, hostile input, and the AST shape (through DumpAst).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/parse/limits.h"
#include "compiler/parse/literals.h"
#include "compiler/parse/parse.h"
#include "compiler/source/source.h"

namespace flow::parse {
namespace {

struct Parsed {
  SourceManager sources;
  Diagnostics diags;
  FileId id;
  ast::Ast ast;

  // "line:col: code message" for every diagnostic, in report order.
  auto Messages() const -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& d : diags.all()) {
      LineCol lc = sources.Locate(d.range.file, d.range.begin);
      out.push_back(std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " +
                    std::string(GetDiagKindInfo(d.kind).code) + " " + d.message);
    }
    return out;
  }
  auto Dump() const -> std::string { return ast::DumpAst(ast, sources.file(id)); }
};

auto Parse(std::string text) -> std::unique_ptr<Parsed> {
  auto p = std::make_unique<Parsed>();
  p->id = p->sources.Add("t.flow", std::move(text));
  p->ast = ParseFile(p->sources.file(p->id), p->id, p->diags);
  return p;
}

// Wraps statements in a workflow so tests can focus on one construct.
auto ParseBody(const std::string& body) -> std::unique_ptr<Parsed> {
  return Parse("workflow w() {\n" + body + "\n}\n");
}

auto Body(const Parsed& p) -> const std::vector<ast::StmtId>& {
  return p.ast.functions.at(0).body.stmts;
}

using Msgs = std::vector<std::string>;

// ------------------------------------------------------------- token filter

TEST(TokenFilter, NewlineSeparatesStatements) {
  auto p = ParseBody("let a = 1\nlet b = 2\n\n\nlet c = 3");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 3u);
}

TEST(TokenFilter, ContinuationLinesJoinTheStatement) {
  auto p = ParseBody(
      "let a = 1\n  + 2\n  * 3\nlet b = a\n  ?? 4\nlet c = f(\n  1,\n  2\n)\n"
      "let d = x\n  .field\nlet e = [\n1,\n2\n]\nif a == 1 {\n}\nelse {\n}");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 6u);
}

TEST(TokenFilter, NoSeparatorAfterTokenThatCannotEnd) {
  auto p = ParseBody("let a =\n  1\nlet b = 1 +\n  2");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 2u);
}

TEST(TokenFilter, StepClausesOnFollowingLines) {
  auto p = ParseBody(
      "let a = c.op(x: 1)\n    retry 3\n    backoff 2s\n    max 1m\n    on \"timeout\"\n"
      "    timeout 30s\n    compensate c.undo(x: a.id)\nlet b = 2");
  EXPECT_EQ(p->Messages(), Msgs{});
  ASSERT_EQ(Body(*p).size(), 2u);
  const auto& let = std::get<ast::LetStmt>(p->ast.stmt(Body(*p)[0]).node);
  ASSERT_TRUE(let.clauses.retry.has_value());
  EXPECT_TRUE(let.clauses.retry->backoff.valid());
  EXPECT_TRUE(let.clauses.retry->max.valid());
  EXPECT_EQ(let.clauses.retry->on, std::vector<std::string>{"timeout"});
  EXPECT_TRUE(let.clauses.timeout.has_value());
  EXPECT_TRUE(let.clauses.compensate.has_value());
}

TEST(TokenFilter, ContextualKeywordsOutsideRetry) {
  auto p = ParseBody(
      "let on = 1\nlet backoff = on\nlet m = max(on, backoff)\nlet r = e.type\n"
      "let q = { type: 1, from: 2, max: 3 }\nmax(1, 2)");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 6u);
  EXPECT_NE(p->Dump().find("Name max"), std::string::npos);
  EXPECT_NE(p->Dump().find("Member .type"), std::string::npos);
  EXPECT_NE(p->Dump().find("Field from"), std::string::npos);
}

TEST(TokenFilter, MaxOnNextLineIsAStatementOutsideRetry) {
  auto p = ParseBody("let a = 1\nmax(a, 2)");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 2u);
}

TEST(TokenFilter, MultiLineBlockCommentSeparates) {
  auto p = ParseBody("let a = 1 /* one\n two */ let b = 2 /* same line */\nlet c = 3");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 3u);
}

TEST(TokenFilter, SemicolonSeparates) {
  auto p = ParseBody("var n = 0; while n < 10 { n = n + 1 }");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(Body(*p).size(), 2u);
}

TEST(TokenFilter, LimitIsAKeywordOnlyInAParallelForHeader) {
  auto p = ParseBody(
      "let limit = 3\nlet m = max(limit, 2)\nlet r = { limit: limit }.limit\n"
      "let ys = parallel for x in [limit] limit limit { x }\n"
      "parallel for limit in f(limit)\n    limit 2 {\n  log.info(message: string(limit))\n}\n"
      "let zs = parallel for y in xs { y }");
  EXPECT_EQ(p->Messages(), Msgs{});
  ASSERT_EQ(Body(*p).size(), 6u);
  const auto& let = std::get<ast::LetStmt>(p->ast.stmt(Body(*p)[3]).node);
  const auto& pf = std::get<ast::ParallelForExpr>(p->ast.expr(let.init).node);
  EXPECT_EQ(pf.var, "x");
  ASSERT_TRUE(pf.limit.valid());
  EXPECT_EQ(std::get<ast::NameRef>(p->ast.expr(pf.limit).node).name, "limit");
  const auto& stmt = std::get<ast::ExprStmt>(p->ast.stmt(Body(*p)[4]).node);
  const auto& pf2 = std::get<ast::ParallelForExpr>(p->ast.expr(stmt.expr).node);
  EXPECT_EQ(pf2.var, "limit");
  EXPECT_TRUE(std::holds_alternative<ast::IntLit>(p->ast.expr(pf2.limit).node));
  const auto& let3 = std::get<ast::LetStmt>(p->ast.stmt(Body(*p)[5]).node);
  EXPECT_FALSE(std::get<ast::ParallelForExpr>(p->ast.expr(let3.init).node).limit.valid());
}

TEST(TokenFilter, BreakAndContinueEndTheirStatement) {
  auto p = ParseBody("while true {\n  break\n  continue\n}\nlet q = { break: 1, continue: 2 }.break");
  EXPECT_EQ(p->Messages(), Msgs{});
  ASSERT_EQ(Body(*p).size(), 2u);
  const auto& loop = std::get<ast::WhileStmt>(p->ast.stmt(Body(*p)[0]).node);
  ASSERT_EQ(loop.body.stmts.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ast::BreakStmt>(p->ast.stmt(loop.body.stmts[0]).node));
  EXPECT_TRUE(std::holds_alternative<ast::ContinueStmt>(p->ast.stmt(loop.body.stmts[1]).node));
}

TEST(AstShape, ParallelBranchesAreTheBlockStatements) {
  auto p = ParseBody("parallel {\n  let a = c.op(x: 1)\n  c.op(x: 2); c.op(x: 3)\n}");
  EXPECT_EQ(p->Messages(), Msgs{});
  ASSERT_EQ(Body(*p).size(), 1u);
  const auto& par = std::get<ast::ParallelStmt>(p->ast.stmt(Body(*p)[0]).node);
  EXPECT_EQ(par.body.stmts.size(), 3u);
}

TEST(SyntaxErrors, LimitWithoutParallelFor) {
  auto p = ParseBody("for x in xs limit 2 {\n}");
  ASSERT_FALSE(p->Messages().empty());
  EXPECT_EQ(p->Messages()[0], "2:13: E001 expected '{', found 'limit'");
}

// ------------------------------------------------------------- literals

TEST(Literals, Integers) {
  EXPECT_EQ(ParseIntLiteral("9223372036854775807", false), INT64_MAX);
  EXPECT_EQ(ParseIntLiteral("9223372036854775808", true), INT64_MIN);
  EXPECT_EQ(ParseIntLiteral("9223372036854775808", false), std::nullopt);
  EXPECT_EQ(ParseIntLiteral("9223372036854775809", true), std::nullopt);
  EXPECT_EQ(ParseIntLiteral("0", false), 0);
}

TEST(Literals, Durations) {
  EXPECT_EQ(ParseDurationMillis("500ms"), 500);
  EXPECT_EQ(ParseDurationMillis("30s"), 30000);
  EXPECT_EQ(ParseDurationMillis("5m"), 300000);
  EXPECT_EQ(ParseDurationMillis("2h"), 7200000);
  EXPECT_EQ(ParseDurationMillis("7d"), 604800000);
  EXPECT_EQ(ParseDurationMillis("106751991167d"), 9223372036828800000);
  EXPECT_EQ(ParseDurationMillis("106751991168d"), std::nullopt);
}

TEST(Literals, IntLimitsInSource) {
  auto p = ParseBody("let a = 9223372036854775807\nlet b = -9223372036854775808\n"
                     "let c = 9223372036854775808\nlet d = 106751991168d");
  EXPECT_EQ(p->Messages(),
            (Msgs{"4:9: E008 integer literal '9223372036854775808' does not fit in 64 bits",
                  "5:9: E008 integer literal '106751991168d' does not fit in 64 bits"}));
  EXPECT_NE(p->Dump().find("Int -9223372036854775808 @3:9"), std::string::npos);
  EXPECT_NE(p->Dump().find("Int 9223372036854775807 @2:9"), std::string::npos);
}

TEST(Literals, DurationsInSource) {
  auto p = ParseBody("sleep 500ms\nsleep 7d");
  EXPECT_NE(p->Dump().find("Duration 500ms"), std::string::npos);
  EXPECT_NE(p->Dump().find("Duration 604800000ms"), std::string::npos);
}

TEST(Literals, EscapesAreDecoded) {
  auto p = ParseBody(R"(let s = "a\nb\tc\"d\\e\$f ${x}")");
  EXPECT_EQ(p->Messages(), Msgs{});
  const auto& let = std::get<ast::LetStmt>(p->ast.stmt(Body(*p)[0]).node);
  const auto& lit = std::get<ast::StringLit>(p->ast.expr(let.init).node);
  ASSERT_EQ(lit.parts.size(), 2u);
  EXPECT_EQ(lit.parts[0].text, "a\nb\tc\"d\\e$f ");
  EXPECT_TRUE(lit.parts[1].expr.valid());
}

TEST(Literals, UnknownEscape) {
  auto p = ParseBody(R"(let s = "a\qb")");
  EXPECT_EQ(p->Messages(), Msgs{"2:11: E006 unknown escape sequence '\\q'"});
}

// ------------------------------------------------------------- diagnostics

TEST(SyntaxErrors, ExpectedExpression) {
  auto p = ParseBody("let y = let");
  EXPECT_EQ(p->Messages(), Msgs{"2:9: E001 expected an expression, found 'let'"});
}

TEST(SyntaxErrors, AfterTheArguments) {
  auto p = ParseBody("let x = f(a b)");
  EXPECT_EQ(p->Messages(), Msgs{"2:13: E001 expected ')' after the arguments, found 'b'"});
}

TEST(SyntaxErrors, UnexpectedClosingBrace) {
  auto p = Parse("workflow w() {\n}\n}\n");
  EXPECT_EQ(p->Messages(), Msgs{"3:1: E001 unexpected '}'"});
  EXPECT_EQ(p->ast.functions.size(), 1u);
}

TEST(SyntaxErrors, UnclosedAtEndOfFile) {
  auto p = Parse("workflow w() {\n  let x = 1\n");
  EXPECT_EQ(p->Messages(), Msgs{"2:12: E002 expected '}' to close '{' opened at 1:14"});
}

TEST(SyntaxErrors, UnclosedParenBeforeNextLine) {
  auto p = ParseBody("let z = f(1,\n  2\nlet q = 5");
  EXPECT_EQ(p->Messages(), Msgs{"3:4: E002 expected ')' to close '(' opened at 2:10"});
}

TEST(SyntaxErrors, MismatchedCloser) {
  auto p = ParseBody("let z = (1 + 2]");
  EXPECT_EQ(p->Messages(), Msgs{"2:15: E002 expected ')' to close '(' opened at 2:9"});
}

TEST(SyntaxErrors, OnePerStatementAndRecovery) {
  auto p = ParseBody("let a = 1 2\nlet b = )\nlet c = 3");
  EXPECT_EQ(p->Messages(), (Msgs{"2:11: E001 expected '}', ';' or end of line, found '2'",
                                 "3:9: E001 unexpected ')'"}));
  // The statements after the errors are still built.
  EXPECT_NE(p->Dump().find("Let c"), std::string::npos);
  EXPECT_EQ(LastParseMode(), ParseMode::Ll);
}

TEST(SyntaxErrors, TokenDisplayNamesEndOfLineAndFile) {
  auto p = ParseBody("let a = 1 +;");
  EXPECT_EQ(p->Messages(), Msgs{"2:12: E001 expected an expression, found ';'"});
  auto q = Parse("type T =");
  EXPECT_EQ(q->Messages(), Msgs{"1:9: E001 unexpected end of file"});
}

TEST(LexicalErrors, UnterminatedString) {
  auto p = ParseBody("let s = \"abc\nlet t = 1");
  EXPECT_EQ(p->Messages(), Msgs{"2:9: E003 unterminated string literal"});
  EXPECT_NE(p->Dump().find("Let t"), std::string::npos);
  auto q = Parse("type T = \"abc");
  EXPECT_EQ(q->Messages(), Msgs{"1:10: E003 unterminated string literal"});
}

TEST(LexicalErrors, UnterminatedComment) {
  auto p = ParseBody("let a = 1\n/* never closed");
  EXPECT_EQ(p->Messages()[0], "3:1: E004 unterminated block comment");
}

TEST(LexicalErrors, InvalidCharacterOncePerLine) {
  auto p = ParseBody("let a = 1 @@ 2\nlet b = #");
  EXPECT_EQ(p->Messages(), (Msgs{"2:11: E005 unexpected character '@'",
                                 "3:9: E005 unexpected character '#'"}));
}

TEST(Clauses, DuplicatesAreReported) {
  auto p = ParseBody(
      "let a = c.op() retry 3 timeout 1s retry 4 timeout 2s\n"
      "let b = c.op() compensate c.undo() compensate c.undo()\n"
      "let d = approve \"x\" from \"a\" from \"b\" timeout 1s timeout 2s\n"
      "let e = wait \"e\" as int as string");
  EXPECT_EQ(p->Messages(),
            (Msgs{"2:35: E009 duplicate 'retry' clause", "2:43: E009 duplicate 'timeout' clause",
                  "3:36: E009 duplicate 'compensate' clause", "4:30: E009 duplicate 'from' clause",
                  "4:50: E009 duplicate 'timeout' clause", "5:25: E009 duplicate 'as' clause"}));
}

TEST(Clauses, AfterCompensateBelongToCompensation) {
  auto p = ParseBody("let a = c.op() timeout 5s compensate c.undo(id: a.id) retry 2 timeout 1s");
  EXPECT_EQ(p->Messages(), Msgs{});
  const auto& let = std::get<ast::LetStmt>(p->ast.stmt(Body(*p)[0]).node);
  EXPECT_FALSE(let.clauses.retry.has_value());
  ASSERT_TRUE(let.clauses.timeout.has_value());
  ASSERT_TRUE(let.clauses.compensate.has_value());
  EXPECT_TRUE(let.clauses.compensate->retry.has_value());
  EXPECT_TRUE(let.clauses.compensate->timeout.has_value());
}

// ------------------------------------------------------------- limits and hostile input

TEST(Limits, TenThousandParensIsNestingTooDeep) {
  auto p = ParseBody("let a = " + std::string(10000, '(') + "1" + std::string(10000, ')'));
  EXPECT_EQ(p->Messages(), Msgs{"2:264: E007 nesting exceeds the limit of 256 levels"});
  EXPECT_TRUE(p->ast.functions.empty());
}

TEST(Limits, NestingJustBelowTheLimitParses) {
  // The workflow's `{` is one level already.
  int n = kMaxNestingDepth - 1;
  auto p = ParseBody("let a = " + std::string(n, '[') + "1" + std::string(n, ']'));
  EXPECT_EQ(p->Messages(), Msgs{});
}

TEST(Limits, PrefixOperatorRun) {
  std::string run;
  for (int i = 0; i < 300; ++i) run += "not ";
  auto p = ParseBody("let a = " + run + "true");
  ASSERT_EQ(p->diags.all().size(), 1u);
  EXPECT_EQ(p->diags.all()[0].kind, DiagKind::NestingTooDeep);
}

TEST(Limits, MillionTermChainDoesNotOverflow) {
  std::string chain = "1";
  chain.reserve(2'000'010);
  for (int i = 1; i < 1'000'000; ++i) chain += "+1";
  auto p = ParseBody("let a = " + chain);
  EXPECT_EQ(p->Messages(), Msgs{"2:9: E007 nesting exceeds the limit of 2000 levels"});
}

TEST(Limits, AstDepthJustBelowTheLimit) {
  std::string chain = "1";
  for (int i = 1; i < kMaxAstDepth - 10; ++i) chain += "+1";
  auto p = ParseBody("let a = " + chain);
  EXPECT_EQ(p->Messages(), Msgs{});
}

TEST(Limits, LongElseIfChain) {
  std::string text = "if a { }";
  for (int i = 0; i < 5000; ++i) text += " else if a { }";
  auto p = ParseBody(text);
  ASSERT_EQ(p->diags.all().size(), 1u);
  EXPECT_EQ(p->diags.all()[0].kind, DiagKind::NestingTooDeep);
  auto q = ParseBody("if a { } else if b { } else { }");
  EXPECT_EQ(q->Messages(), Msgs{});
}

TEST(Hostile, FiveMegabyteLine) {
  auto p = ParseBody("let s = \"" + std::string(5'000'000, 'x') + "\" // " + std::string(100, 'c'));
  EXPECT_EQ(p->Messages(), Msgs{});
  const auto& let = std::get<ast::LetStmt>(p->ast.stmt(Body(*p)[0]).node);
  EXPECT_EQ(std::get<ast::StringLit>(p->ast.expr(let.init).node).parts[0].text.size(), 5'000'000u);
}

TEST(Hostile, BinaryGarbage) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) & 0xff);
  auto p = Parse(garbage);
  EXPECT_EQ(p->Messages(), Msgs{"1:1: E014 't.flow' is not a UTF-8 text file"});
  EXPECT_TRUE(p->ast.functions.empty());
}

TEST(Hostile, EmptyFile) {
  auto p = Parse("");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(p->Dump(), "");
  auto q = Parse("\n\n// only a comment\n");
  EXPECT_EQ(q->Messages(), Msgs{});
}

TEST(Hostile, EveryPrefixOfAProgramIsSafe) {
  std::string text =
      "connector c = \"c.json\"\ntype T = { a: [int?], b: \"x\" | \"y\" }\n"
      "workflow w(t: T) -> int {\n  let a = c.op(x: \"${t.a[0] ?? -1}\") retry 2 backoff 1s\n"
      "  if not (a.ok and 1 < 2) { fail \"no\" } else { return -a.n as int }\n}\n";
  for (size_t n = 0; n <= text.size(); ++n) {
    auto p = Parse(text.substr(0, n));
    (void)p->Dump();
  }
}

TEST(NonAscii, RangesAreByteOffsets) {
  auto p = ParseBody("let s = \"héllo wörld\"; let t = s\nlet u = ü");
  const auto& stmts = Body(*p);
  ASSERT_EQ(stmts.size(), 3u);
  const auto& t = std::get<ast::LetStmt>(p->ast.stmt(stmts[1]).node);
  // `let s = "héllo wörld"; let ` is 29 bytes (27 characters), after the
  // 15-byte first line.
  EXPECT_EQ(t.name_range.begin, 15u + 29u);
  EXPECT_EQ(p->sources.file(p->id).text().substr(t.name_range.begin, 1), "t");
  EXPECT_EQ(p->Messages(), Msgs{"3:9: E005 unexpected character 'ü'"});
}

// ------------------------------------------------------------- AST shape

TEST(AstShape, RealisticWorkflow) {
  auto p = Parse(
      "connector billing = \"connectors/billing.json\"\n"
      "workflow pay(id: string) -> { ok: bool } {\n"
      "  let c = billing.charge(customer: id, amount: 5)\n"
      "      retry 3 backoff 2s on \"timeout\"\n"
      "      compensate billing.refund(charge: c.id)\n"
      "  approve \"refund ${c.id}?\" from \"owner\"\n"
      "  return { ok: c.amount > 0 and true }\n"
      "}\n");
  EXPECT_EQ(p->Messages(), Msgs{});
  EXPECT_EQ(LastParseMode(), ParseMode::Sll);
  EXPECT_EQ(p->Dump(),
            "ConnectorDecl billing \"connectors/billing.json\" @1:1\n"
            "Workflow pay @2:1\n"
            "  Param id @2:14\n"
            "    NamedType string @2:18\n"
            "  result:\n"
            "    RecordType @2:29\n"
            "      Field ok @2:31\n"
            "        NamedType bool @2:35\n"
            "  Block @2:42\n"
            "    Let c @3:3\n"
            "      Call @3:11\n"
            "        Member .charge @3:11\n"
            "          Name billing @3:11\n"
            "        Arg customer @3:26\n"
            "          Name id @3:36\n"
            "        Arg amount @3:40\n"
            "          Int 5 @3:48\n"
            "      Retry on=\"timeout\" @4:7\n"
            "        attempts:\n"
            "          Int 3 @4:13\n"
            "        backoff:\n"
            "          Duration 2000ms @4:23\n"
            "      Compensate @5:7\n"
            "        Call @5:18\n"
            "          Member .refund @5:18\n"
            "            Name billing @5:18\n"
            "          Arg charge @5:33\n"
            "            Member .id @5:41\n"
            "              Name c @5:41\n"
            "    ExprStmt @6:3\n"
            "      Approve @6:3\n"
            "        String @6:11\n"
            "          Text \"refund \"\n"
            "          Member .id @6:21\n"
            "            Name c @6:21\n"
            "          Text \"?\"\n"
            "        from:\n"
            "          String \"owner\" @6:34\n"
            "    Return @7:3\n"
            "      Record @7:10\n"
            "        Field ok @7:12\n"
            "          Binary and @7:16\n"
            "            Binary > @7:16\n"
            "              Member .amount @7:16\n"
            "                Name c @7:16\n"
            "              Int 0 @7:27\n"
            "            Bool true @7:33\n");
}

TEST(AstShape, PrecedenceTable) {
  auto p = ParseBody("let a = not x == y ?? 1 + 2 * -z or w\nlet b = a ?? b ?? c");
  EXPECT_EQ(p->Messages(), Msgs{});
  std::string dump = p->Dump();
  // or(not(==(??(x... wait: `??` binds tighter than `==`.
  EXPECT_NE(dump.find("      Binary or @2:9\n        Unary not @2:9\n          Binary == @2:13\n"
                      "            Name x @2:13\n            Binary ?? @2:18\n"),
            std::string::npos)
      << dump;
  // `??` is left-associative.
  EXPECT_NE(dump.find("      Binary ?? @3:9\n        Binary ?? @3:9\n"), std::string::npos) << dump;
}

TEST(AstShape, OpSpellings) {
  EXPECT_STREQ(ast::BinaryOpSpelling(ast::BinaryOp::Coalesce), "??");
  EXPECT_STREQ(ast::BinaryOpSpelling(ast::BinaryOp::Le), "<=");
  EXPECT_STREQ(ast::UnaryOpSpelling(ast::UnaryOp::Not), "not");
}

}  // namespace
}  // namespace flow::parse
