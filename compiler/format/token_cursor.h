// The source tokens the printer walks through, and the comments between them.
//
// The AST keeps no comments, no blank lines and not every token's position,
// so the printer (printer.h) prints from the AST but takes every token it
// writes from here, in source order: Take(",") checks that the next source
// token is a ',' and hands over the comments around it. This is what makes
// `flow fmt` safe: the output has the input's tokens in the input's order
// (only `;` separators and trailing commas may go or come), and a printer
// that tried to write anything else stops with a FormatBug instead of
// writing a different program.
//
// Where comments attach (as gofmt and rustfmt decide it):
//   - trailing: a comment that starts on the line of the token before it,
//     `let x = 1 // why`, stays at the end of that token's line;
//   - inline: a block comment with code after it on the same line,
//     `f(/* n */ 1)`, stays right before the next token;
//   - own-line: any other comment is printed on its own line(s) before the
//     next token, at that token's indentation; comments after the last token
//     close the file.
// A blank line (two or more line breaks) before a token or an own-line
// comment is kept as one blank line when the printer starts a line there;
// blank lines right after an opening bracket are dropped.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/format/doc.h"
#include "compiler/parse/tokens.h"
#include "compiler/source/source.h"

namespace flow::format {

// The printer asked for a token the source does not have next: a bug in
// flow fmt. Format() turns it into an Error and leaves the file alone.
class FormatBug : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TokenCursor {
 public:
  // `text` is the source and `raw` its ScanRawTokens. Both must outlive the
  // cursor.
  TokenCursor(std::string_view text, const std::vector<parse::RawToken>& raw);

  // Writes the next source token, which must be `expected` (skipping `;`
  // separators, whose comments are written in passing), with its comments.
  void Take(std::string_view expected, Doc& doc);
  // Writes the source text of `range` as it is (string literals, names,
  // literals): every token starting inside it is taken; comments inside it
  // are part of the text.
  void TakeVerbatim(SourceRange range, Doc& doc);
  // Takes the next token when it is `text`, writing only its comments (a
  // trailing comma the layout decides on, a `;`). Returns whether it did.
  auto Skip(std::string_view text, Doc& doc) -> bool;
  // True when the next token (after `;` separators) is `text`.
  auto NextIs(std::string_view text) const -> bool;
  // The byte offset where the next token starts (after `;`), or the text's
  // length at the end.
  auto NextBegin() const -> uint32_t;
  // Writes the own-line and inline comments before the next token now (the
  // end of a block: they belong inside it, not before its `}`), or the
  // comments that close the file. `own_lines`: the next token will start a
  // line of its own (a block's `}`), so an inline comment before it is
  // written on a line of its own too; it would not stay inline anyway.
  void FlushLeading(Doc& doc, bool own_lines = false);
  // True when comments precede the next token (an empty block with a
  // comment inside cannot be written `{}`).
  auto HasLeading() const -> bool;
  // After the last token: every token and comment must have been written.
  void Finish(Doc& doc);

 private:
  struct Comment {
    uint32_t begin, end;
    bool block;
    bool trailing;      // on the line of the token before it
    bool inline_;       // a block comment with code after it on its line
    bool blank_before;  // an empty line before it
  };
  struct Token {
    uint32_t begin, end;
    bool blank_before;
    std::vector<size_t> leading;   // comment indices
    std::vector<size_t> trailing;  // comment indices
  };

  void Classify(const std::vector<parse::RawToken>& raw);
  void SkipSeparators(Doc& doc);
  void WriteLeading(Token& token, Doc& doc);
  void WriteTrailing(Token& token, Doc& doc);
  void WriteComment(size_t index, Doc& doc, bool own_line = false);
  auto TokenText(const Token& t) const -> std::string_view {
    return text_.substr(t.begin, t.end - t.begin);
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::vector<Comment> comments_;
  std::vector<bool> written_;     // by comment index
  std::vector<size_t> eof_comments_;
  size_t next_ = 0;
};

}  // namespace flow::format
