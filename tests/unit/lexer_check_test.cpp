// The hand-written Scanner (compiler/parse/scanner.h) against the ANTLR lexer
// generated from grammar/FlowLexer.g4: both must emit the same tokens (type,
// channel, code-point positions, line, column) on edge cases, on every .flow
// file in the repository and on random input built from the characters that
// matter to the lexer.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "compiler/parse/lexer_check.h"
#include "compiler/parse/source_offsets.h"
#include "compiler/source/source.h"

namespace flow::parse {
namespace {

TEST(LexerCheck, EdgeCases) {
  const char* cases[] = {
      "", "x", "let x = 1\n", "a\r\nb\rc", "5ms 5m 5s 5h 5d 5max 5mss 5days 10", "1.5 1. 1.5e 1.5e+3 1.5E-2 1.5e+ 1e5",
      "-> - ?? ? == = != ! <= < >= > + * % / // c\n/* b */ /* x\ny */ /* open",
      "( ) [ ] { } , : ; . | @ # ~ ` ^ & '", "connector type fn workflow let var if else for in while",
      "return fail try catch retry timeout compensate checkpoint approve from wait sleep parallel",
      "true false null and or not as backoff max on letx _a a_1 fnfn",
      "break continue limit breaks continued limits parallel for x in xs limit 4 { }",
      "\"plain\" \"a\\n\\t\\\"\\\\\\$\\q\" \"$ $x ${x} ${ {a: 1} } ${\"in${y}\"}\"",
      "\"open\nnext", "\"open\r\nnext", "\"cr\rxy\"", "\"cr\r\"", "\"cr\r", "\"esc\\", "\"esc\\\n\"",
      "} } { \"${ } \" }", "\"h\xc3\xa9llo ${\"\xe2\x82\xac\"}\" \xc3\xa9 x \xf0\x9f\x98\x80 y",
      "/* \xc3\xa9\n */ z // \xc3\xa9\nw", "\t\f  x", "\"${", "\"${x", "\"a$", "a\n\n\n",
  };
  for (const char* text : cases) EXPECT_EQ(LexerMismatch(text), "") << text;
}

TEST(LexerCheck, KeywordTokensAreExactlyTheKeywordTable) {
  EXPECT_EQ(KeywordRangeMismatch(), "");
}

TEST(LexerCheck, RepositoryFiles) {
  int files = 0;
  for (const char* folder : {"tests", "examples", "stdlib", "docs"}) {
    std::filesystem::path root = std::filesystem::path(FLOW_SOURCE_DIR) / folder;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (entry.path().extension() != ".flow") continue;
      auto text = ReadFileText(entry.path().string());
      if (!text.ok() || !IsValidUtf8Text(*text)) continue;
      EXPECT_EQ(LexerMismatch(*text), "") << entry.path();
      ++files;
    }
  }
  EXPECT_GT(files, 0);
}

TEST(LexerCheck, RandomInput) {
  // Weighted towards the characters where the lexer has choices to make.
  const std::string alphabet[] = {
      "\"", "\\", "$", "{", "}", "$", "\n", "\r", "\r\n", "/", "*", "-", ">", "?", "=", "!", "<",
      " ", "\t", "a", "m", "s", "d", "e", "E", "+", ".", "0", "7", "if", "max", "on", "\xc3\xa9",
      "\xe2\x82\xac", "#", "(", ")", ":", "x_1",
  };
  std::mt19937 rng(20260115);
  std::uniform_int_distribution<size_t> pick(0, std::size(alphabet) - 1);
  std::uniform_int_distribution<int> length(0, 60);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    for (int i = length(rng); i > 0; --i) text += alphabet[pick(rng)];
    ASSERT_EQ(LexerMismatch(text), "") << testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace flow::parse
