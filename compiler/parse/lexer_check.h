// A differential check of the hand-written Scanner against the ANTLR lexer
// generated from grammar/FlowLexer.g4 (see scanner.h for why both exist).
//
// Free of ANTLR headers so that tests outside compiler/parse/ can call it.
#pragma once

#include <string>
#include <string_view>

namespace flow::parse {

// The first difference between the token streams of FlowLexer and Scanner
// on `text` ("" when they agree), e.g. "token 3: type 41 vs 42 at 1:7".
// `text` must be valid UTF-8 (IsValidUtf8Text), as ParseFile requires.
auto LexerMismatch(std::string_view text) -> std::string;

// "" when IsKeywordToken (tokens.h) holds for exactly the token types of the
// Scanner's keyword table, else the first keyword or token type it gets
// wrong.
auto KeywordRangeMismatch() -> std::string;

}  // namespace flow::parse
