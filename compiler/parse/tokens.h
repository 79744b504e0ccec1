// The raw token stream of a .flow file, for tools that need more than the
// AST: `flow fmt` (comments and blank lines live only here) and `flow lsp`
// (is the cursor inside a string, a comment, after a dot?).
//
// The tokens are exactly the Scanner's (scanner.h, which mirrors
// grammar/FlowLexer.g4), with byte offsets instead of ANTLR's code-point
// indices, and with what the Scanner skips put back: line comments (the
// lexer drops them) become LineComment tokens. No token filter runs: every
// line break is a Newline, keywords stay keywords even where the parser
// reads them as names (`event.type`). No ANTLR type crosses this header.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace flow::parse {

enum class RawKind : uint8_t {
  Word,          // an identifier or a keyword (see RawToken::keyword)
  Number,        // 42, 3.25
  Duration,      // 500ms, 2h
  Punct,         // operators, brackets, separators
  StringStart,   // the opening '"'
  StringText,    // literal characters inside a string
  StringEscape,  // \n, \"...
  StringDollar,  // a '$' not followed by '{'
  InterpStart,   // '${' (its closing '}' is a Punct)
  StringEnd,     // the closing '"'
  LineComment,   // `// ...` up to (not including) the line break
  BlockComment,  // `/* ... */` (possibly unterminated, up to the end)
  Newline,       // a line break outside a string, or one ending an unterminated string
  Bad,           // a character no token starts with
};

struct RawToken {
  RawKind kind;
  bool keyword = false;  // a Word that FlowLexer lexes as a keyword
  uint32_t begin = 0;    // byte offsets into the text, [begin, end)
  uint32_t end = 0;
};

// Every token of `text` in order, comments and line breaks included. `text`
// must be valid UTF-8 without NUL bytes (IsValidUtf8Text); anything else
// gives an empty vector.
auto ScanRawTokens(std::string_view text) -> std::vector<RawToken>;

// Every keyword of FlowLexer.g4, as the Scanner knows them (the one table
// in scanner.cpp), for completion in `flow lsp`.
auto LexerKeywords() -> std::vector<std::string_view>;

// Whether a FlowLexer token type is one of those keywords (a word, even
// when the token filter makes it a name). FlowLexer.g4 declares them
// together, CONNECTOR through LIMIT; a parse test checks every entry of the
// table against this.
auto IsKeywordToken(size_t type) -> bool;

}  // namespace flow::parse
