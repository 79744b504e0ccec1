// The token filter between the Scanner (scanner.h) and the parser: newline rules and
// contextual keywords (the rules are in docs/language.md, "Lexical
// decisions", and at the top of grammar/Flow.g4).
//
// The lexer emits every line break as NL; the grammar only accepts NL where a
// statement may end. This filter drops every NL that is not a statement
// separator, Go style: a line break separates only after a token that can end
// a statement, outside `(`, `[` and `${`, and when the next line does not
// start with a token that continues the statement (`retry`, `else`, `.`, a
// binary operator, a closing bracket...). Consecutive NLs collapse into one.
//
// It also reports the lexical errors, once each: unterminated strings (E003,
// and a synthetic closing quote so the parse continues), unterminated block
// comments (E004) and invalid characters (E005, the character is dropped).
// `backoff`, `max` and `on` are keywords only inside a retry clause (or,
// reported as E074, later in a statement that has one), `limit` only in a `parallel for`
// header right after the iterable (`parallel for x in xs limit 4 {`); any
// keyword is a plain name after `.` or before `:` (`event.type`, `{ from: x }`).
//
// Constructs from other languages (foreign_syntax.h) are reported once with
// the flow spelling and replaced by the flow token, so the parse goes on as
// if they had been written right: `const` (E070), `elif`, `=` in an `if` or
// `while` condition (E071), `&&` `||` `!` (E075); `x += 1` reaches the parser
// as `x = 1`, the `+` noted for the AST builder (E072).
//
// Per token the filter does a few integer comparisons and moves unique_ptrs
// through a fixed 4-slot queue: no allocation beyond ANTLR's own token.
#pragma once

#include <antlr4-runtime.h>

#include <array>
#include <memory>
#include <vector>

#include "FlowLexer.h"
#include "compiler/parse/scanner.h"
#include "compiler/parse/syntax_reporter.h"

namespace flow::parse {

class TokenFilter : public antlr4::TokenSource {
 public:
  TokenFilter(Scanner& lexer, SyntaxReporter& reporter);

  auto nextToken() -> std::unique_ptr<antlr4::Token> override;
  auto getLine() const -> size_t override { return lexer_.getLine(); }
  auto getCharPositionInLine() -> size_t override { return lexer_.getCharPositionInLine(); }
  auto getInputStream() -> antlr4::CharStream* override { return lexer_.getInputStream(); }
  auto getSourceName() -> std::string override { return lexer_.getSourceName(); }
  auto getTokenFactory() -> antlr4::TokenFactory<antlr4::CommonToken>* override {
    return lexer_.getTokenFactory();
  }

 private:
  // An open bracket or string: its kind ('(' '[' '{' '$' for `${`, '"') and
  // where it starts (code-point index), for E003.
  struct Open {
    char kind;
    size_t start;
  };

  // The next token with comments, bad characters and line breaks inside
  // strings already handled.
  auto Fetch() -> std::unique_ptr<antlr4::Token>;
  auto FetchRaw() -> std::unique_ptr<antlr4::Token>;
  auto PeekType() -> size_t;
  void PushFront(std::unique_ptr<antlr4::Token> token);
  void PushBack(std::unique_ptr<antlr4::Token> token);
  auto MakeStringEnd(size_t at) -> std::unique_ptr<antlr4::Token>;

  auto IsContinuation(size_t type) const -> bool;
  // The next token is `elif`, `except`... right after a `}` (a line break
  // before it then does not end the statement).
  auto ForeignAfterBlockNext() -> bool;
  // E070/E071: a foreign keyword or a condition's `=`, replaced in place.
  void ApplyForeignSyntax(antlr4::Token& token);
  // E075: `&&`, `||` or `!` starting with `token`, merged into the flow
  // operator; false when `token` is not one.
  auto MergeForeignOperator(std::unique_ptr<antlr4::Token>& token) -> bool;
  auto MakeToken(size_t type, const antlr4::Token& at, const char* text) -> std::unique_ptr<antlr4::Token>;
  // `x += e` outside a let/var: true when `token` is the `+` of it, which
  // is then noted for the AST builder (E072) and dropped.
  auto DropCompoundOperator(const antlr4::Token& token) -> bool;
  auto InsideParens() const -> bool;
  auto RetryKeywordAllowed() const -> bool;
  // Whether a LIMIT token here is the keyword: in a `parallel for` header, at
  // the header's bracket depth, after a token that can end the iterable.
  auto LimitKeywordAllowed() const -> bool;
  void ApplyContextualKeyword(antlr4::Token& token);
  void Track(const antlr4::Token& token);
  void Close(char kind);

  Scanner& lexer_;
  SyntaxReporter& reporter_;
  std::array<std::unique_ptr<antlr4::Token>, 4> queue_;
  size_t queue_head_ = 0;
  size_t queue_size_ = 0;
  std::vector<Open> open_;
  size_t prev_type_ = 0;  // last token handed out; 0 at the start of the file
  bool string_closed_at_eof_ = false;
  bool in_retry_ = false;
  bool backoff_seen_ = false;
  size_t retry_depth_ = 0;
  // Between `parallel for` and the `{` of its body.
  bool in_parallel_for_ = false;
  bool limit_seen_ = false;
  size_t parallel_for_depth_ = 0;
  // A retry clause was seen in this statement at bracket depth
  // retry_depth_: a later `on "x"` or `backoff 1s` is its misplaced part.
  bool retry_in_statement_ = false;
  // The first token of the current statement (0 at its start).
  size_t statement_first_ = 0;
  // Inside the condition of an `if`/`while` opened at bracket depth cond_depth_.
  bool in_condition_ = false;
  size_t cond_depth_ = 0;
};

// The token stream the parser reads: a CommonTokenStream whose fetch skips
// the dynamic_cast ANTLR does on every token (TokenFilter and Scanner only
// ever produce CommonTokens).
class FilteredTokenStream : public antlr4::CommonTokenStream {
 public:
  explicit FilteredTokenStream(TokenFilter* filter) : antlr4::CommonTokenStream(filter) {}

 protected:
  auto fetch(size_t n) -> size_t override;
};

}  // namespace flow::parse
