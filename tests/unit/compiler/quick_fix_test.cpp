// Every "did you mean" carries a fix (DiagFix) that `flow lsp` offers as a
// quick fix: for each kind, a program with the typo, the fix applied to its
// text, and the program checked again without that diagnostic. A kind that
// can suggest (slug "unknown-..." or literal-not-in-union) and has no case
// here fails the completeness test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "compiler/driver/compile.h"

namespace flow {
namespace {

constexpr const char* kConnector = R"({
  "connector": "billing", "transport": { "kind": "http", "base_url": "http://127.0.0.1:9" },
  "operations": {
    "charge": { "http": { "method": "POST", "path": "/c" },
      "input": { "type": "object", "required": ["amount"],
                 "properties": { "amount": { "type": "integer" }, "currency": { "enum": ["eur", "usd"] } } },
      "output": { "type": "object", "required": ["status"], "properties": { "status": { "type": "string" } } },
      "idempotent": true } } })";

struct Case {
  DiagKind kind;
  const char* program;
};

const Case kCases[] = {
    {DiagKind::UnknownName, "workflow w() {\n  let amount = 1\n  let y = amout\n}\n"},
    {DiagKind::UnknownName, "workflow w() {\n  var amount = 1\n  amout = 2\n}\n"},
    {DiagKind::UnknownType, "workflow w(x: strng) {}\n"},
    {DiagKind::UnknownFunction,
     "fn price() -> int {\n  return 1\n}\nworkflow w() {\n  let p = prise()\n}\n"},
    {DiagKind::UnknownConnector,
     "connector billing = \"billing.json\"\nworkflow w() {\n  biling.charge(amount: 1)\n}\n"},
    {DiagKind::UnknownOperation,
     "connector billing = \"billing.json\"\nworkflow w() {\n  billing.chrage(amount: 1)\n}\n"},
    {DiagKind::UnknownArgument,
     "connector billing = \"billing.json\"\nworkflow w() {\n  billing.charge(amout: 1)\n}\n"},
    {DiagKind::UnknownArgument,
     "fn f(count: int) -> int {\n  return count\n}\nworkflow w() {\n  let n = f(cont: 1)\n}\n"},
    {DiagKind::UnknownField,
     "connector billing = \"billing.json\"\nworkflow w() {\n  let c = billing.charge(amount: 1)\n"
     "  let s = c.stauts\n}\n"},
    {DiagKind::LiteralNotInUnion,
     "connector billing = \"billing.json\"\nworkflow w() {\n"
     "  billing.charge(amount: 1, currency: \"eru\")\n}\n"},
    {DiagKind::UnknownErrorKind,
     "connector billing = \"billing.json\"\nworkflow w() {\n  billing.charge(amount: 1)\n"
     "    retry 3 on \"timout\"\n}\n"},
};

// Kinds with a did-you-mean that no editor can fix in the source: E028 is
// reported by `flow run --workflow X`, about the command line.
const std::set<DiagKind> kNotInSource = {DiagKind::UnknownWorkflow};

auto CheckText(const std::string& text, Diagnostics& diags) -> void {
  std::string dir = ::testing::TempDir() + "/flow_quick_fix_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/billing.json") << kConnector;
  SourceManager sources;
  FileId id = sources.Add(dir + "/q.flow", text);
  CheckLoaded(id, sources, diags);
}

TEST(QuickFix, EveryDidYouMeanFixesItsProgram) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.program);
    std::string text = c.program;
    Diagnostics diags;
    CheckText(text, diags);
    const Diagnostic* found = nullptr;
    for (const Diagnostic& d : diags.all()) {
      if (d.kind == c.kind) found = &d;
    }
    ASSERT_NE(found, nullptr) << "the program does not report its kind";
    EXPECT_NE(found->message.find("did you mean"), std::string::npos) << found->message;
    ASSERT_EQ(found->fixes.size(), 1u) << found->message;
    const DiagFix& fix = found->fixes[0];
    text.replace(fix.range.begin, fix.range.end - fix.range.begin, fix.replacement);
    Diagnostics after;
    CheckText(text, after);
    EXPECT_FALSE(after.has_errors()) << "after the fix:\n" << text;
  }
}

TEST(QuickFix, EveryKindThatSuggestsHasACase) {
  std::set<DiagKind> covered;
  for (const Case& c : kCases) covered.insert(c.kind);
  for (DiagKind kind : AllDiagKinds()) {
    std::string_view slug = GetDiagKindInfo(kind).slug;
    bool suggests = slug.rfind("unknown-", 0) == 0 || slug == "literal-not-in-union";
    if (!suggests || kNotInSource.count(kind)) continue;
    EXPECT_TRUE(covered.count(kind)) << "no quick-fix case for " << GetDiagKindInfo(kind).code
                                     << " " << slug;
  }
}

TEST(QuickFix, NoSuggestionNoFix) {
  Diagnostics diags;
  CheckText("workflow w() {\n  let y = zzzzzz\n}\n", diags);
  ASSERT_FALSE(diags.all().empty());
  EXPECT_TRUE(diags.all()[0].fixes.empty());
}

}  // namespace
}  // namespace flow
