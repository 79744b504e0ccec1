// `flow fmt` (compiler/format): the canonical layout on hand-picked cases,
// comments kept where they attach, and, over every .flow file of the
// repository, the three promises of format.h checked from outside:
// idempotent (fmt(fmt(x)) == fmt(x)), the same AST (without positions) and
// the same bytecode (without line numbers) before and after.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/codegen/lower.h"
#include "compiler/driver/compile.h"
#include "compiler/format/format.h"
#include "compiler/parse/parse.h"
#include "compiler/parse/tokens.h"

namespace flow {
namespace {

namespace fs = std::filesystem;

// Formats `text`; fails the test (and returns "") when it cannot.
auto Fmt(const std::string& text) -> std::string {
  SourceManager sources;
  FileId id = sources.Add("t.flow", text);
  Diagnostics diags;
  Result<std::string> out = format::Format(sources.file(id), id, diags);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message) << "\n"
                       << RenderText(diags, sources) << "input:\n" << text;
  return out.ok() ? *out : "";
}

TEST(Format, OneStatementPerLineAndCanonicalSpacing) {
  EXPECT_EQ(Fmt("workflow w(a:int,b:string)->{n:int}{let x=a+1;var y:[string]=[b,\"c\"]\n"
                "y=y+[\"d\"]\nreturn {n:x*2}}"),
            "workflow w(a: int, b: string) -> { n: int } {\n"
            "  let x = a + 1\n"
            "  var y: [string] = [b, \"c\"]\n"
            "  y = y + [\"d\"]\n"
            "  return { n: x * 2 }\n"
            "}\n");
}

TEST(Format, ClausesOnLinesOfTheirOwnCompensationClausesDeeper) {
  EXPECT_EQ(Fmt("connector b = \"b.json\"\nworkflow w() { let c = b.charge(n: 1) timeout 30s "
                "retry 5 backoff 2s max 1m on \"timeout\",\"server_error\" compensate "
                "b.refund(id: c.id) retry 3 }"),
            "connector b = \"b.json\"\n"
            "workflow w() {\n"
            "  let c = b.charge(n: 1)\n"
            "    timeout 30s\n"
            "    retry 5 backoff 2s max 1m on \"timeout\", \"server_error\"\n"
            "    compensate b.refund(id: c.id)\n"
            "      retry 3\n"
            "}\n");
}

TEST(Format, LongCallsBreakOneArgumentPerLineWithATrailingComma) {
  std::string in =
      "workflow w() { crm.create_account(email: customer.email, name: customer.name, plan: "
      "customer.plan, seats: 3, region: \"eu-west-1\") }";
  std::string out =
      "workflow w() {\n"
      "  crm.create_account(\n"
      "    email: customer.email,\n"
      "    name: customer.name,\n"
      "    plan: customer.plan,\n"
      "    seats: 3,\n"
      "    region: \"eu-west-1\",\n"
      "  )\n"
      "}\n";
  EXPECT_EQ(Fmt(in), out);
  // A short call written broken is joined again: one layout per program.
  EXPECT_EQ(Fmt("workflow w() {\n  f(\n    a,\n    b,\n  )\n}\n"), "workflow w() {\n  f(a, b)\n}\n");
}

TEST(Format, LongBinaryExpressionsBreakBeforeTheirOperators) {
  std::string in = "fn f(a: int) -> bool { return aaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbb + "
                   "cccccccccccccccccccccccc > ddddddddddddddddddddddddddddd * 2 }";
  EXPECT_EQ(Fmt(in),
            "fn f(a: int) -> bool {\n"
            "  return aaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbb + cccccccccccccccccccccccc\n"
            "      > ddddddddddddddddddddddddddddd * 2\n"
            "}\n");
}

TEST(Format, ParenthesesStringsAndNumbersStayAsWritten) {
  EXPECT_EQ(Fmt("fn f() -> int { return ((1 + 2)) * - 3 + len(\"a ${ 1+2 } \\\"b\\\"\") }"),
            "fn f() -> int {\n  return ((1 + 2)) * -3 + len(\"a ${ 1+2 } \\\"b\\\"\")\n}\n");
}

TEST(Format, ElseIfChainsAndBlocks) {
  EXPECT_EQ(Fmt("fn f(a: int) -> int { if a > 1 { return 1 } else if a > 0 { return 2 } "
                "else { return 3 } }"),
            "fn f(a: int) -> int {\n"
            "  if a > 1 {\n    return 1\n  } else if a > 0 {\n    return 2\n  } else {\n"
            "    return 3\n  }\n}\n");
  EXPECT_EQ(Fmt("workflow w() {\n}\n"), "workflow w() {}\n");
}

TEST(Format, ParallelParallelForBreakAndContinue) {
  EXPECT_EQ(Fmt("workflow w(xs:[int]){parallel{log.info(message:\"a\");log.info(message:\"b\")}\n"
                "let ys=parallel for x in xs limit  4{if x>1{continue};x}\n"
                "while true{break}}"),
            "workflow w(xs: [int]) {\n"
            "  parallel {\n"
            "    log.info(message: \"a\")\n"
            "    log.info(message: \"b\")\n"
            "  }\n"
            "  let ys = parallel for x in xs limit 4 {\n"
            "    if x > 1 {\n      continue\n    }\n"
            "    x\n"
            "  }\n"
            "  while true {\n    break\n  }\n"
            "}\n");
}

TEST(Format, ApproveAndWaitClausesMoveToTheirOwnLinesOnlyWhenLong) {
  EXPECT_EQ(Fmt("workflow w() { let r = approve \"ok?\" from \"ops\" timeout 2d }"),
            "workflow w() {\n  let r = approve \"ok?\" from \"ops\" timeout 2d\n}\n");
  std::string prompt(90, 'x');
  EXPECT_EQ(Fmt("workflow w() { let r = wait \"" + prompt + "\" timeout 1h as T }"),
            "workflow w() {\n  let r = wait \"" + prompt + "\"\n    timeout 1h\n    as T\n}\n");
}

TEST(Format, CommentsStayWhereTheyAttach) {
  std::string out =
      "// header\n"
      "\n"
      "workflow w() { // on the brace\n"
      "  let a = 1 // trailing\n"
      "\n"
      "  // own line, after a blank line\n"
      "  let b = f(/* inline */ a)\n"
      "  let xs = [\n"
      "    1, // one\n"
      "    2,\n"
      "  ]\n"
      "  /* a block\n"
      "     over lines */\n"
      "  // last in the block\n"
      "}\n"
      "// the end\n";
  // The same program with two blank lines after the header (one is kept)
  // and the list written on one line (it stays broken: its comment must
  // end a line).
  std::string in = out;
  in.replace(0, std::string("// header\n\n").size(), "// header\n\n\n");
  std::string broken_list = "[\n    1, // one\n    2,\n  ]";
  in.replace(in.find(broken_list), broken_list.size(), "[1, // one\n 2]");
  ASSERT_NE(in, out);
  EXPECT_EQ(Fmt(in), out);
  EXPECT_EQ(Fmt(out), out);
}

TEST(Format, CommentsInOddPlacesAreKeptAndStable) {
  // A comment before, after and between almost every kind of token.
  std::string in =
      "// lead\n"
      "connector /* c1 */ billing /* c2 */ = /* c3 */ \"billing.json\" // c4\n"
      "type /* t1 */ T /* t2 */ = { /* t3 */ a: int, // t4\n"
      "  b: /* t5 */ string? /* t6 */ } // t7\n"
      "fn f(/* p1 */ x: int /* p2 */, // p3\n"
      "  y: int) -> /* r */ int { // b1\n"
      "  return ( /* q */ x + // plus\n"
      "    y ) * 2 // end\n"
      "}\n"
      "workflow w(n: int) { // open\n"
      "  let c = billing.charge(amount: n) // after call\n"
      "    // before retry\n"
      "    retry 3 // after retry\n"
      "    /* before compensate */ compensate billing.refund(id: c.id) // after comp\n"
      "      timeout 5s\n"
      "  if n > 1 { /* empty-ish */ } else if n > 0 {\n"
      "    // only comment\n"
      "  } else { sleep 1h } // tail\n"
      "  let r = approve \"ok?\" // a1\n"
      "    from \"x\" // a2\n"
      "  for i in [1, 2, /* three */ 3] { log.info(message: \"${i}\") }\n"
      "  try { sleep 1s } // t\n"
      "  catch err { fail err.message }\n"
      "  ; ; // semis\n"
      "}\n"
      "// trailing 1\n"
      "\n"
      "// trailing 2\n";
  std::string out =
      "// lead\n"
      "connector /* c1 */ billing /* c2 */ = /* c3 */ \"billing.json\" // c4\n"
      "type /* t1 */ T /* t2 */ = {\n"
      "  /* t3 */ a: int, // t4\n"
      "  b: /* t5 */ string?, /* t6 */\n"
      "} // t7\n"
      "fn f(\n"
      "  /* p1 */ x: int /* p2 */, // p3\n"
      "  y: int,\n"
      ") -> /* r */ int { // b1\n"
      "  return (/* q */ x + y) // plus\n"
      "      * 2 // end\n"
      "}\n"
      "workflow w(n: int) { // open\n"
      "  let c = billing.charge(amount: n) // after call\n"
      "    // before retry\n"
      "    retry 3 // after retry\n"
      "    /* before compensate */ compensate billing.refund(id: c.id) // after comp\n"
      "      timeout 5s\n"
      "  if n > 1 {\n"
      "    /* empty-ish */\n"
      "  } else if n > 0 {\n"
      "    // only comment\n"
      "  } else {\n"
      "    sleep 1h\n"
      "  } // tail\n"
      "  let r = approve \"ok?\" // a1\n"
      "    from \"x\" // a2\n"
      "  for i in [1, 2, /* three */ 3] {\n"
      "    log.info(message: \"${i}\")\n"
      "  }\n"
      "  try {\n"
      "    sleep 1s\n"
      "  } catch err { // t\n"
      "    fail err.message\n"
      "  } // semis\n"
      "}\n"
      "// trailing 1\n"
      "\n"
      "// trailing 2\n";
  EXPECT_EQ(Fmt(in), out);
  EXPECT_EQ(Fmt(out), out);
}

TEST(Format, ATrailingCommentAfterACallDoesNotBreakIt) {
  EXPECT_EQ(Fmt("workflow w() {\n  f(a, b) // why\n}\n"), "workflow w() {\n  f(a, b) // why\n}\n");
  // Inside the arguments it does: the comment must end its line.
  EXPECT_EQ(Fmt("workflow w() {\n  f(a, // why\n    b)\n}\n"),
            "workflow w() {\n  f(\n    a, // why\n    b,\n  )\n}\n");
}

TEST(Format, SemicolonsGoAndTheirCommentsStay) {
  EXPECT_EQ(Fmt("workflow w() { let a = 1; /* x */ let b = 2; }"),
            "workflow w() {\n  let a = 1\n  /* x */ let b = 2\n}\n");
}

TEST(Format, SyntaxErrorsAreReportedAndNothingIsFormatted) {
  SourceManager sources;
  FileId id = sources.Add("bad.flow", "workflow w( {");
  Diagnostics diags;
  Result<std::string> out = format::Format(sources.file(id), id, diags);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("syntax errors"), std::string::npos);
  EXPECT_TRUE(diags.has_errors());
}

TEST(Format, EmptyAndCommentOnlyFiles) {
  EXPECT_EQ(Fmt(""), "");
  EXPECT_EQ(Fmt("\n\n// only a comment   \n\n"), "// only a comment\n");
}

// ---------------------------------------------------------------- the repository

struct Split {
  std::string flow;                                          // the .flow part
  std::vector<std::pair<std::string, std::string>> files;  // `// --- path` sections
};

// A golden file's .flow part and its inline files (tests/golden_runner.cpp).
auto SplitGolden(const std::string& text) -> Split {
  Split s;
  std::istringstream in(text);
  std::string line;
  std::string* target = &s.flow;
  while (std::getline(in, line)) {
    if (line.rfind("// --- ", 0) == 0) {
      s.files.emplace_back(line.substr(7), "");
      target = &s.files.back().second;
      continue;
    }
    *target += line + "\n";
  }
  return s;
}

auto ReadFile(const fs::path& p) -> std::string {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The shared inputs a golden file asks for (`// INPUT: name`, docs/testing.md):
// name and content of Inputs/name in the nearest folder above it that has it.
auto SharedInputs(const fs::path& golden, const std::string& flow)
    -> std::vector<std::pair<std::string, std::string>> {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(flow);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("// INPUT: ", 0) != 0) continue;
    std::string name = line.substr(10);
    for (fs::path dir = golden.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (fs::is_regular_file(dir / "Inputs" / name)) {
        out.emplace_back(name, ReadFile(dir / "Inputs" / name));
        break;
      }
      if (dir == dir.parent_path()) break;
    }
  }
  return out;
}

// The AST dump without the positions that end its lines.
auto AstShape(const std::string& text) -> std::string {
  SourceFile file("x.flow", text);
  Diagnostics diags;
  std::string dump = ast::DumpAst(parse::ParseFile(file, FileId{0}, diags));
  return std::regex_replace(dump, std::regex(" @[0-9]+-[0-9]+\n"), "\n");
}

// The bytecode of the .flow file at `path` with source positions cleared, or
// nullopt when it does not check cleanly or cannot be lowered yet (E056:
// docs/composition.md).
auto Bytecode(const std::string& path) -> std::optional<bytecode::Module> {
  SourceManager sources;
  Diagnostics diags;
  auto program = CompileFile(path, sources, diags);
  if (!program.ok() || !*program) return std::nullopt;
  bytecode::Module m = std::move((*program)->module);
  m.source_name.clear();
  for (auto& f : m.functions) f.positions.clear();
  for (auto& s : m.steps) s.line = 0;
  return m;
}

TEST(Format, EveryFlowFileOfTheRepositoryKeepsItsMeaning) {
  fs::path root(FLOW_SOURCE_DIR);
  int formatted = 0, compiled = 0, syntax_errors = 0;
  for (const char* dir : {"examples", "tests", "bench", "stdlib"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (entry.path().extension() != ".flow") continue;
      SCOPED_TRACE(entry.path().string());
      Split golden = SplitGolden(ReadFile(entry.path()));
      // A folder with the .flow part, its inline files and the JSON files
      // beside the original (connectors), as `flow check` would see them.
      fs::path tmp = fs::temp_directory_path() / ("flow_fmt_test_" + std::to_string(::getpid()));
      fs::remove_all(tmp);
      fs::create_directories(tmp);
      for (const auto& sibling : fs::directory_iterator(entry.path().parent_path())) {
        if (sibling.path().extension() == ".json") fs::copy(sibling.path(), tmp / sibling.path().filename());
      }
      for (auto& input : SharedInputs(entry.path(), golden.flow)) golden.files.push_back(std::move(input));
      for (const auto& [name, content] : golden.files) {
        fs::create_directories((tmp / name).parent_path());
        std::ofstream(tmp / name, std::ios::binary) << content;
      }
      SourceManager sources;
      FileId id = sources.Add("x.flow", golden.flow);
      Diagnostics diags;
      Result<std::string> once = format::Format(sources.file(id), id, diags);
      if (!once.ok()) {
        // Only files with syntax errors may be refused, and they must say so.
        EXPECT_TRUE(diags.has_errors()) << once.error().message;
        ++syntax_errors;
        fs::remove_all(tmp);
        continue;
      }
      ++formatted;
      EXPECT_EQ(Fmt(*once), *once) << "not idempotent";
      EXPECT_EQ(AstShape(golden.flow), AstShape(*once)) << "a different AST";
      std::ofstream(tmp / "before.flow", std::ios::binary) << golden.flow;
      std::ofstream(tmp / "after.flow", std::ios::binary) << *once;
      auto before = Bytecode((tmp / "before.flow").string());
      auto after = Bytecode((tmp / "after.flow").string());
      EXPECT_EQ(before.has_value(), after.has_value());
      if (before && after) {
        ++compiled;
        EXPECT_TRUE(*before == *after) << "different bytecode";
      }
      fs::remove_all(tmp);
    }
  }
  // The counts prove the loop ran over the real corpus (259 files when written).
  EXPECT_GE(formatted, 200);
  EXPECT_GE(compiled, 100);
  EXPECT_LE(syntax_errors, formatted / 5);
  std::printf("formatted %d files (%d compiled to bytecode), %d refused for syntax errors\n",
              formatted, compiled, syntax_errors);
}

}  // namespace
}  // namespace flow

namespace flow {
namespace {

// Comments and blank lines dropped at random (fixed seeds) into every file
// of the repository that parses: block comments between tokens, line
// comments at line ends, comment lines and empty lines between lines. None
// changes the program; flow fmt must keep every comment (it checks that
// itself), refuse nothing, and be idempotent on the result.
auto Sprinkle(const std::string& text, std::mt19937& rng) -> std::string {
  std::vector<parse::RawToken> raw = parse::ScanRawTokens(text);
  std::vector<std::pair<uint32_t, std::string>> inserts;
  for (size_t i = 0; i < raw.size(); ++i) {
    parse::RawKind k = raw[i].kind;
    bool in_string = k == parse::RawKind::StringStart || k == parse::RawKind::StringText ||
                     k == parse::RawKind::StringEscape || k == parse::RawKind::StringDollar;
    if (in_string || k == parse::RawKind::LineComment) continue;
    std::string n = std::to_string(i);
    if (k != parse::RawKind::Newline) {
      if (rng() % 5 == 0) inserts.emplace_back(raw[i].end, " /* c" + n + " */ ");
      continue;
    }
    switch (rng() % 8) {
      case 0: inserts.emplace_back(raw[i].begin, " // end " + n); break;
      case 1: inserts.emplace_back(raw[i].end, "// own " + n + "\n"); break;
      case 2: inserts.emplace_back(raw[i].end, "\n\n"); break;
      case 3: inserts.emplace_back(raw[i].end, "  /* own " + n + " */\n"); break;
      default: break;
    }
  }
  std::string out = text;
  for (auto it = inserts.rbegin(); it != inserts.rend(); ++it) out.insert(it->first, it->second);
  return out;
}

TEST(Format, RandomCommentsInEveryFileAreKeptAndStable) {
  fs::path root(FLOW_SOURCE_DIR);
  int files = 0;
  for (const char* dir : {"examples", "tests"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (entry.path().extension() != ".flow") continue;
      std::string text = SplitGolden(ReadFile(entry.path())).flow;
      {
        SourceManager sources;
        FileId id = sources.Add("x.flow", text);
        Diagnostics diags;
        if (!format::Format(sources.file(id), id, diags).ok()) continue;  // syntax errors
      }
      SCOPED_TRACE(entry.path().string());
      for (unsigned seed : {1313u, 7u, 42u}) {
        std::mt19937 rng(seed);
        std::string sprinkled = Sprinkle(text, rng);
        std::string once = Fmt(sprinkled);
        EXPECT_EQ(Fmt(once), once) << "not idempotent on:\n" << sprinkled;
        if (::testing::Test::HasFailure()) return;  // one input to look at, not hundreds
      }
      ++files;
    }
  }
  EXPECT_GE(files, 200);
}

}  // namespace
}  // namespace flow
