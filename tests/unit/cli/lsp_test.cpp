// The pieces of `flow lsp` below the protocol session of
// tests/lsp/protocol_test.py: UTF-16 positions, edits, URIs, and the
// message reader on a real pipe fed malformed input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <string>
#include <thread>

#include "cli/lsp/analysis.h"
#include "cli/lsp/text.h"
#include "cli/lsp/transport.h"

namespace flow::lsp {
namespace {

TEST(LspText, Utf16PositionsBothWays) {
  // "é" is 2 bytes and 1 UTF-16 unit; "😀" 4 bytes and 2 units (a surrogate pair).
  std::string text = "ab\né😀x\r\nend";
  LineIndex index(text);
  EXPECT_EQ(index.line_count(), 3u);
  EXPECT_EQ(index.Offset({1, 0}), 3u);
  EXPECT_EQ(index.Offset({1, 1}), 5u);   // after é
  EXPECT_EQ(index.Offset({1, 3}), 9u);   // after 😀
  EXPECT_EQ(index.Offset({1, 2}), 5u);   // inside the pair: its start
  EXPECT_EQ(index.Offset({1, 4}), 10u);  // after x
  EXPECT_EQ(index.Offset({1, 99}), 10u); // clamped before the CRLF
  EXPECT_EQ(index.Offset({2, 3}), 15u);
  EXPECT_EQ(index.Offset({7, 0}), text.size());
  EXPECT_EQ(index.At(9).line, 1u);
  EXPECT_EQ(index.At(9).character, 3u);
  EXPECT_EQ(index.At(12).line, 2u);
  EXPECT_EQ(index.At(12).character, 0u);
  EXPECT_EQ(index.At(1000).character, 3u);
}

TEST(LspText, EditsAreClampedNeverTrusted) {
  std::string text = "let a = 1\nlet b = 2\n";
  ApplyEdit(text, Range{{0, 4}, {0, 5}}, "total");
  EXPECT_EQ(text, "let total = 1\nlet b = 2\n");
  ApplyEdit(text, Range{{1, 8}, {40, 0}}, "3\n");  // past the end: to the end
  EXPECT_EQ(text, "let total = 1\nlet b = 3\n");
  ApplyEdit(text, Range{{1, 0}, {0, 0}}, "");  // reversed: the range between
  EXPECT_EQ(text, "let b = 3\n");
}

TEST(LspText, FileUris) {
  EXPECT_EQ(UriToPath("file:///home/ann/my%20flows/a.flow"), "/home/ann/my flows/a.flow");
  EXPECT_EQ(UriToPath("file://localhost/x.flow"), "/x.flow");
  EXPECT_EQ(UriToPath("untitled:Untitled-1"), "");
  EXPECT_EQ(UriToPath("file://otherhost/x.flow"), "");
  EXPECT_EQ(PathToUri("/home/ann/my flows/ä.flow"), "file:///home/ann/my%20flows/%C3%A4.flow");
  EXPECT_EQ(UriToPath(PathToUri("/a b/c#d.flow")), "/a b/c#d.flow");
}

// Feeds `input` into a pipe (from a thread, so a large input cannot block)
// and reads every message back.
auto ReadAll(const std::string& input, size_t max_bytes) -> std::vector<std::pair<int, std::string>> {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = ::write(fds[1], input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  MessageReader reader(fds[0], max_bytes);
  std::vector<std::pair<int, std::string>> out;
  std::string body;
  while (true) {
    MessageReader::Status s = reader.Next(body);
    if (s == MessageReader::Status::End) break;
    out.emplace_back(s == MessageReader::Status::Message ? 1 : 0, body);
  }
  writer.join();
  ::close(fds[0]);
  return out;
}

TEST(LspTransport, MalformedHeadersAndOversizedBodiesAreSkipped) {
  std::string big(300, 'x');
  std::string input =
      "Content-Length: 2\r\n\r\n{}"                                 // fine
      "Content-Type: application/vscode-jsonrpc\r\nContent-Length: 4\r\n\r\n[1,2]"  // 4 of 5 bytes
      "\r\nContent-Length: abc\r\n\r\n"                             // unusable length
      "Content-Length: 300\r\n\r\n" + big +                         // over the limit
      "content-length:   3  \r\n\r\n\"a\""                          // any case, blanks
      "Content-Length: 10\r\n\r\n{\"cut\"";                         // the input ends
  auto got = ReadAll(input, 100);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], std::make_pair(1, std::string("{}")));
  EXPECT_EQ(got[1], std::make_pair(1, std::string("[1,2")));
  EXPECT_EQ(got[2].first, 0);
  EXPECT_NE(got[2].second.find("abc"), std::string::npos);
  EXPECT_EQ(got[3].first, 0);
  EXPECT_NE(got[3].second.find("300 bytes"), std::string::npos);
  EXPECT_EQ(got[4], std::make_pair(1, std::string("\"a\"")));
}

TEST(LspTransport, AHeaderLineLongerThanTheLimitIsSkippedInPieces) {
  // 20,000 bytes without a line break (over kMaxHeaderLine, 8 KiB), then a message.
  auto got = ReadAll(std::string(20000, 'z') + "\r\nContent-Length: 2\r\n\r\n{}", 100);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], std::make_pair(1, std::string("{}")));
}

TEST(LspTransport, LargeMessagesAcrossManyReads) {
  std::string body(1 << 20, 'y');
  auto got = ReadAll("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body, 2 << 20);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.size(), body.size());
}

TEST(LspHover, TypesLocalsAndExpressions) {
  std::string text =
      "type Customer = { email: string, plan: \"free\" | \"pro\" }\n"
      "workflow w(c: Customer) -> int {\n"
      "  let n = len(c.email) + 1\n"
      "  return n\n"
      "}\n";
  auto a = Analyse("untitled:hover", text);
  auto at = [&](const std::string& needle, size_t delta = 0) {
    auto hover = Hover(*a, static_cast<uint32_t>(text.find(needle) + delta));
    return hover.is_object() ? hover["contents"]["value"].get<std::string>() : std::string("null");
  };
  std::string customer = "type Customer = { email: string, plan: \"free\" | \"pro\" }";
  EXPECT_NE(at("Customer) ->").find(customer), std::string::npos) << at("Customer) ->");
  EXPECT_NE(at("Customer =").find(customer), std::string::npos) << at("Customer =");
  EXPECT_NE(at("n = len").find("let n: int"), std::string::npos) << at("n = len");
  EXPECT_NE(at("c.email", 2).find("string"), std::string::npos) << at("c.email", 2);
  EXPECT_NE(at("len(").find("len(x)  // built-in"), std::string::npos) << at("len(");
  EXPECT_NE(at("c: Customer").find("(parameter) c: Customer"), std::string::npos) << at("c: Customer");
  EXPECT_EQ(at("workflow w"), "null");
}

// The labels Complete offers at the `|` of `text` (the bar is removed).
auto LabelsAt(const std::string& dir, std::string text) -> std::set<std::string> {
  size_t at = text.find('|');
  text.erase(at, 1);
  auto a = Analyse(PathToUri(dir + "/c.flow"), text);
  std::set<std::string> out;
  for (const auto& item : Complete(*a, static_cast<uint32_t>(at))) out.insert(item["label"]);
  return out;
}

TEST(LspCompletion, EnumValuesFieldChainsTypesAndNothingInText) {
  std::string dir = ::testing::TempDir() + "/flow_lsp_completion";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/pay.json")
      << R"({ "connector": "pay", "transport": { "kind": "http", "base_url": "http://127.0.0.1:9" },
              "operations": { "charge": { "http": { "method": "POST", "path": "/x" }, "idempotent": true,
              "input": { "type": "object", "required": ["n"],
                         "properties": { "n": { "type": "integer" }, "cur": { "enum": ["eur", "usd"] } } },
              "output": { "type": "object", "required": ["card"], "properties": {
                "card": { "type": "object", "required": ["last4"], "properties": { "last4": { "type": "string" } } } } } } } })";
  std::string head = "connector pay = \"pay.json\"\ntype T = { a: int }\nworkflow w() {\n  let c = pay.charge(n: 1)\n";
  EXPECT_EQ(LabelsAt(dir, head + "  pay.charge(n: 1, cur: |)\n}\n"),
            (std::set<std::string>{"\"eur\"", "\"usd\""}));
  EXPECT_EQ(LabelsAt(dir, head + "  let x = c.card.|\n}\n"), (std::set<std::string>{"last4"}));
  EXPECT_EQ(LabelsAt(dir, head + "  let x = c.|\n}\n"), (std::set<std::string>{"card"}));
  auto types = LabelsAt(dir, head + "  var y: |\n}\n");
  EXPECT_TRUE(types.count("T") && types.count("int") && !types.count("c")) << types.size();
  EXPECT_TRUE(LabelsAt(dir, head + "  // pay.|\n}\n").empty());
  EXPECT_TRUE(LabelsAt(dir, head + "  let s = \"pay.|\"\n}\n").empty());
  auto general = LabelsAt(dir, head + "  let z = |\n}\n");
  EXPECT_TRUE(general.count("c") && general.count("len") && general.count("pay") && general.count("retry") &&
              general.count("log"));
}

TEST(LspHover, AnOperationsJsonIsCutAtTheLineLimit) {
  // An operation whose JSON runs to more than kMaxSchemaLines (40) lines.
  std::string dir = ::testing::TempDir() + "/flow_lsp_hover";
  std::filesystem::create_directories(dir);
  std::string props;
  for (int i = 0; i < 30; ++i) {
    props += (i ? ", " : "") + std::string("\"p") + std::to_string(i) + "\": { \"type\": \"string\" }";
  }
  std::ofstream(dir + "/big.json")
      << R"({ "connector": "big", "transport": { "kind": "http", "base_url": "http://127.0.0.1:9" },
              "operations": { "op": { "http": { "method": "POST", "path": "/x" }, "idempotent": true,
              "input": { "type": "object", "properties": { )" << props << "} } } } }";
  std::string text = "connector big = \"big.json\"\nworkflow w() {\n  big.op(p0: \"a\")\n}\n";
  auto a = Analyse(PathToUri(dir + "/w.flow"), text);
  auto hover = Hover(*a, static_cast<uint32_t>(text.find("op(") + 1));
  ASSERT_TRUE(hover.is_object()) << hover.dump();
  std::string md = hover["contents"]["value"].get<std::string>();
  EXPECT_NE(md.find("big.op(p0?: string"), std::string::npos) << md;
  size_t json_start = md.find("```json\n");
  ASSERT_NE(json_start, std::string::npos) << md;
  std::string json_part = md.substr(json_start);
  EXPECT_NE(json_part.find("\n  ...\n```"), std::string::npos) << md;
  // "```json" + 40 lines (39 line breaks between them) + "  ..." + "```".
  EXPECT_EQ(std::count(json_part.begin(), json_part.end(), '\n'), 1 + 39 + 2) << md;
}

}  // namespace
}  // namespace flow::lsp
