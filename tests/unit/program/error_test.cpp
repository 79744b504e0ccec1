// The error model (vm/base/result.h, docs/architecture.md "The error
// model"): an Error carries a code callers branch on and, when it is about
// one thing, that thing as its subject, so nobody parses a message back.
#include <gtest/gtest.h>

#include <vector>

#include "vm/base/file_io.h"
#include "vm/base/result.h"
#include "vm/connectors/connector_file.h"

namespace flow {
namespace {

TEST(Error, ErrorAboutKeepsItsSubjectAndReasonApart) {
  Error e = ErrorAbout(ErrorCode::kInvalidInput, R"($.types["a: b"])", "unknown type 'x: y'");
  EXPECT_EQ(e.message, R"($.types["a: b"]: unknown type 'x: y')");
  EXPECT_EQ(e.code, ErrorCode::kInvalidInput);
  EXPECT_EQ(e.subject, R"($.types["a: b"])");
  EXPECT_EQ(e.reason(), "unknown type 'x: y'");
}

TEST(Error, WithoutASubjectTheReasonIsTheWholeMessage) {
  Error e{"database error: disk I/O error", ErrorCode::kIo};
  EXPECT_EQ(e.reason(), e.message);
  EXPECT_EQ(Error{"x"}.code, ErrorCode::kOther);
}

auto Half(int n) -> Result<int> {
  if (n % 2 != 0) return Error{"odd", ErrorCode::kInvalidInput};
  return n / 2;
}

auto Quarter(int n, std::vector<int>& seen) -> Result<int> {
  FLOW_TRY_ASSIGN(int half, Half(n));
  seen.push_back(half);
  FLOW_TRY_ASSIGN(auto quarter, Half(half));
  seen.push_back(quarter);
  return quarter;
}

auto CheckEven(int n, bool& after) -> Status {
  FLOW_TRY(Half(n));
  after = true;
  return Ok{};
}

TEST(Error, FlowTryReturnsTheFirstErrorAndGoesOnOtherwise) {
  std::vector<int> seen;
  auto q = Quarter(8, seen);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 2);
  EXPECT_EQ(seen, (std::vector<int>{4, 2}));
  seen.clear();
  auto odd = Quarter(6, seen);  // 6 / 2 = 3 is odd: stops at the second
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(seen, (std::vector<int>{3}));
  bool after = false;
  EXPECT_FALSE(CheckEven(3, after).ok());
  EXPECT_FALSE(after);
  EXPECT_TRUE(CheckEven(4, after).ok());
  EXPECT_TRUE(after);
}

TEST(Error, AnUnreadableFileIsAnIoErrorAboutTheFile) {
  auto text = ReadFileBounded("/nonexistent/flow-error-test.json", 1024);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kIo);
  EXPECT_EQ(text.error().subject, "cannot read '/nonexistent/flow-error-test.json'");
  EXPECT_EQ(text.error().reason(), "No such file or directory");
}

// A connector file's problems keep the JSON path they were made with, even
// one whose quoted member name holds ": " (nothing splits the message).
TEST(Error, ConnectorFileProblemsCarryTheirPath) {
  const char* text = R"({"connector": "c", "transport": {"kind": "builtin"},
    "operations": {"op": {"input": {"type": "object", "properties": {"a: b": {"type": "string"}}}}}})";
  std::vector<connectors::ParseProblem> problems;
  auto parsed = connectors::ParseConnectorFile(text, &problems);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].json_path, R"($.operations.op.input.properties["a: b"])");
  EXPECT_EQ(problems[0].what, "argument name 'a: b' is not an identifier");
  EXPECT_EQ(parsed.error().message, problems[0].json_path + ": " + problems[0].what);
}

}  // namespace
}  // namespace flow
