// The pure rules of docs/security.md, each at its edges: run ids, quoting
// untrusted text, header fields, the redaction of every encoded form of a
// secret, the JSON depth limit, and the timeout every attempt gets.
#include <gtest/gtest.h>

#include <string>

#include "vm/base/json_text.h"
#include "vm/base/quote.h"
#include "vm/connectors/connector_file.h"
#include "vm/connectors/http_client.h"
#include "vm/connectors/redact.h"
#include "vm/connectors/step_call.h"
#include "vm/engine/run_id.h"
#include "vm/value/value.h"

namespace flow {
namespace {

TEST(RunIds, TheAllowedSetAndLength) {
  for (const char* ok : {"r1", "order-7", "Order_7.a-b:c@d", "run_0123456789abcdef", "_x", "9"}) {
    EXPECT_TRUE(engine::CheckRunId(ok).ok()) << ok;
  }
  EXPECT_TRUE(engine::CheckRunId(std::string(engine::kMaxRunIdBytes, 'a')).ok());
  EXPECT_EQ(engine::CheckRunId("").error().message, "invalid run id: it is empty");
  EXPECT_EQ(engine::CheckNewRunId(std::string(engine::kMaxRunIdBytes + 1, 'a')).error().message,
            "invalid run id \"" + std::string(32, 'a') + "\"...: 129 bytes, more than the limit of 128");
  EXPECT_TRUE(engine::CheckRunId(std::string(engine::kMaxDerivedRunIdBytes, 'a')).ok());
  EXPECT_EQ(engine::CheckRunId(std::string(engine::kMaxDerivedRunIdBytes + 1, 'a')).error().message,
            "invalid run id \"" + std::string(32, 'a') + "\"...: 513 bytes, more than the limit of 512");
  EXPECT_EQ(engine::CheckRunId("order-7\r\nX-Tenant: a").error().message,
            "invalid run id \"order-7\\r\\nX-Tenant: a\": U+000D at byte 7 is not allowed "
            "(letters, digits and _ - . : @ only)");
  EXPECT_EQ(engine::CheckRunId("-r1").error().message, "invalid run id \"-r1\": it may not start with '-'");
  EXPECT_EQ(engine::CheckRunId(".r1").error().message, "invalid run id \".r1\": it may not start with '.'");
  EXPECT_EQ(engine::CheckRunId("a b").error().message,
            "invalid run id \"a b\": ' ' at byte 1 is not allowed (letters, digits and _ - . : @ only)");
  EXPECT_EQ(engine::CheckRunId("caf\xc3\xa9").error().message,
            "invalid run id \"caf\\u00c3\\u00a9\": byte 0xC3 at byte 3 is not allowed "
            "(letters, digits and _ - . : @ only)");
  EXPECT_FALSE(engine::CheckRunId(std::string("a\0b", 3)).ok());
}

// Child runs' ids (docs/composition.md): segments joined by '/', each
// following the rule; a user's new id is one segment.
TEST(RunIds, ChildRunIdsAreSegmentsAUserCannotChoose) {
  EXPECT_EQ(engine::ChildRunId("r1", 3), "r1/3");
  EXPECT_EQ(engine::ChildRunId("r1/3", 1), "r1/3/1");
  for (const char* ok : {"r1/1", "r1/2/10", "a.b/c-d/9"}) EXPECT_TRUE(engine::CheckRunId(ok).ok()) << ok;
  EXPECT_EQ(engine::CheckRunId("a/../b").error().message, "invalid run id \"a/../b\": a segment may not start with '.'");
  EXPECT_EQ(engine::CheckRunId("a/-b").error().message, "invalid run id \"a/-b\": a segment may not start with '-'");
  for (const char* bad : {"/a", "a/", "a//b", "../r1"}) EXPECT_FALSE(engine::CheckRunId(bad).ok()) << bad;
  EXPECT_EQ(engine::CheckNewRunId("a/b").error().message,
            "invalid run id \"a/b\": '/' at byte 1 is reserved for child runs (letters, digits and _ - . : @ only)");
  EXPECT_TRUE(engine::CheckNewRunId("r1").ok());
}

TEST(QuoteEscaped, NothingUnprintableSurvives) {
  EXPECT_EQ(QuoteEscaped("plain"), "\"plain\"");
  EXPECT_EQ(QuoteEscaped("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteEscaped("\r\n\t\x1b[31m\x7f"), "\"\\r\\n\\t\\u001b[31m\\u007f\"");
  EXPECT_EQ(QuoteEscaped(std::string("\0", 1)), "\"\\u0000\"");
}

TEST(HeaderFields, ControlCharactersAndNonTokensAreRefused) {
  using connectors::HeaderProblem;
  EXPECT_EQ(HeaderProblem("X-Trace", "a b\tc ~!"), std::nullopt);
  EXPECT_EQ(HeaderProblem("X-Trace", ""), std::nullopt);
  EXPECT_EQ(HeaderProblem("X-Tenant", "a\r\nX-Other: b"),
            "header \"X-Tenant\" has a control character (U+000D) in its value");
  EXPECT_EQ(HeaderProblem("X", "a\nb"), "header \"X\" has a control character (U+000A) in its value");
  EXPECT_EQ(HeaderProblem("X", std::string("a\0b", 3)), "header \"X\" has a control character (U+0000) in its value");
  EXPECT_EQ(HeaderProblem("X", "a\x7f"), "header \"X\" has a control character (U+007F) in its value");
  EXPECT_EQ(HeaderProblem("X\r\nY", "v"), "header name \"X\\r\\nY\" is not a token");
  EXPECT_EQ(HeaderProblem("X Y", "v"), "header name \"X Y\" is not a token");
  EXPECT_EQ(HeaderProblem("", "v"), "a header has an empty name");
}

TEST(Redaction, EveryEncodedFormInAnyCase) {
  connectors::Redactor r;
  r.Add("Tok/en+Value 9z\xc3\xa9");
  const std::string kMask(connectors::kRedactedMask);
  EXPECT_EQ(r.Apply("a Tok/en+Value 9z\xc3\xa9 b"), "a " + kMask + " b");
  EXPECT_EQ(r.Apply("\"Tok\\/en+Value 9z\xc3\xa9\""), "\"" + kMask + "\"");       // JSON, '\/'
  EXPECT_EQ(r.Apply("\"Tok\\/en+Value 9z\\u00e9\""), "\"" + kMask + "\"");        // JSON, ASCII only
  EXPECT_EQ(r.Apply("q=Tok%2Fen%2BValue%209z%C3%A9&"), "q=" + kMask + "&");      // percent-encoded
  EXPECT_EQ(r.Apply("q=tok%2fen%2bvalue+9z%c3%a9&"), "q=" + kMask + "&");        // lower hex, '+'
  EXPECT_EQ(r.Apply("TOK/EN+VALUE 9Z\xc3\xa9"), kMask);                          // upper case
  EXPECT_EQ(r.Apply(connectors::Base64Encode("Tok/en+Value 9z\xc3\xa9")), kMask);  // base64
  // Overlapping and adjacent occurrences become masks, never fragments.
  EXPECT_EQ(r.Apply("Tok/en+Value 9z\xc3\xa9Tok/en+Value 9z\xc3\xa9!"), kMask + kMask + "!");
  EXPECT_EQ(r.Apply("nothing here"), "nothing here");
  // Too short to tell apart from ordinary text: not redacted (redact.h).
  connectors::Redactor shortish;
  shortish.Add("abc");
  EXPECT_TRUE(shortish.empty());
  EXPECT_EQ(connectors::RedactSecrets("k=abcd", {"abcd"}), "k=" + kMask);
}

TEST(JsonDepth, TheLimitAndItsReason) {
  static_assert(kMaxJsonDepth < value::kMaxValueDepth, "JSON that enters must fit in a value with room to spare");
  EXPECT_EQ(FindTooDeep(std::string(512, '[') + std::string(512, ']'), kMaxJsonDepth), std::string::npos);
  EXPECT_EQ(FindTooDeep(std::string(513, '['), kMaxJsonDepth), 512u);
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_EQ(FindTooDeep("[\"" + std::string(1000, '[') + "\\\"\"]", 2), std::string::npos);
  EXPECT_EQ(FindTooDeep("{\"a\":{\"b\":[1]}}", 2), 10u);
  auto deep = ParseJsonText(std::string(65000, '[') + std::string(65000, ']'));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().message, "nested deeper than 512 levels");
  EXPECT_EQ(ParseJsonText("{").error().message.rfind("not valid JSON: line 1, column 2: ", 0), 0u)
      << ParseJsonText("{").error().message;
  EXPECT_EQ(ParseJsonText("[1e999]").error().message, "not valid JSON: a number is too large");
  EXPECT_EQ(*ParseJsonText("{\"a\": [1, 2]}"), nlohmann::json::parse("{\"a\": [1, 2]}"));
}

TEST(AttemptTimeouts, ClauseThenOperationThenTheDefault) {
  auto file = connectors::ParseConnectorFile(R"({"connector": "c", "transport": {"kind": "exec", "command": ["x"]},
      "operations": {"slow": {"timeout": "2m"}, "plain": {}}})");
  ASSERT_TRUE(file.ok()) << file.error().message;
  using std::chrono::milliseconds;
  EXPECT_EQ(connectors::AttemptTimeout(std::nullopt, *file->FindOperation("slow")), milliseconds(120'000));
  EXPECT_EQ(connectors::AttemptTimeout(milliseconds(500), *file->FindOperation("slow")), milliseconds(500));
  EXPECT_EQ(connectors::AttemptTimeout(std::nullopt, *file->FindOperation("plain")), std::chrono::minutes(5));
  for (const char* bad : {R"("soon")", R"("0s")", R"("-5s")", R"(30)", R"("30")", R"("99999999999999d")"}) {
    auto parsed = connectors::ParseConnectorFile(
        std::string(R"({"connector": "c", "transport": {"kind": "exec", "command": ["x"]},
        "operations": {"op": {"timeout": )") + bad + "}}}");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().message.rfind("$.operations.op.timeout: ", 0), 0u) << parsed.error().message;
  }
}

}  // namespace
}  // namespace flow
