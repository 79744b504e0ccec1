// A hand-written lexer for the .flow language: the tokens of
// grammar/FlowLexer.g4, produced without ANTLR's lexer interpreter.
//
// Why: ANTLR 4.9's C++ lexer walks its DFA under a read lock per character
// and runs every mode switch through a lexer-action executor; on a 20,000-line
// program it was a third of `flow check` (docs/performance.md). FlowLexer.g4
// stays the specification: Scanner must emit exactly the tokens FlowLexer
// emits (type, channel, code-point start/stop, line, column), including its
// error recovery in string mode (an unmatched character is dropped together
// with the character after it, as Lexer::recover does). LexerMismatch
// (lexer_check.h) runs both on a text and names the first difference; the unit tests run it
// over hand-picked edge cases, every .flow file in the repository and random
// input. Any change to FlowLexer.g4 must be mirrored here.
//
// Scanner works on the UTF-8 bytes; token positions count code points like
// ANTLR's input stream does. Tokens carry no text of their own: getText()
// reads it from the ANTLRInputStream given at construction, as with FlowLexer.
#pragma once

#include <antlr4-runtime.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flow::parse {

class Scanner : public antlr4::TokenSource {
 public:
  // `text` is the UTF-8 source and `input` the ANTLRInputStream over it
  // (tokens read their text from it). Both must outlive the scanner.
  Scanner(std::string_view text, antlr4::CharStream* input);

  auto nextToken() -> std::unique_ptr<antlr4::Token> override;
  auto getLine() const -> size_t override { return line_; }
  auto getCharPositionInLine() -> size_t override { return column_; }
  auto getInputStream() -> antlr4::CharStream* override { return input_; }
  auto getSourceName() -> std::string override;
  auto getTokenFactory() -> antlr4::TokenFactory<antlr4::CommonToken>* override;

 private:
  enum class Mode { Default, String };

  auto Peek(size_t ahead = 0) const -> unsigned char {
    return pos_ + ahead < text_.size() ? static_cast<unsigned char>(text_[pos_ + ahead]) : 0;
  }
  auto AtEnd(size_t ahead = 0) const -> bool { return pos_ + ahead >= text_.size(); }
  // Consumes one code point, keeping line and column like ANTLR's lexer.
  void Advance();
  void AdvanceAscii(size_t n);

  // Scans one token in the current mode; returns its type, or 0 to skip it.
  // `channel` is set for hidden tokens.
  auto ScanDefault(size_t& channel) -> size_t;
  auto ScanString() -> size_t;
  auto ScanNumber() -> size_t;
  auto ScanWord() -> size_t;
  void PushMode(Mode mode);
  void PopMode();

  std::string_view text_;
  antlr4::CharStream* input_;
  size_t pos_ = 0;    // byte offset
  size_t index_ = 0;  // code-point index
  size_t line_ = 1;
  size_t column_ = 0;
  Mode mode_ = Mode::Default;
  std::vector<Mode> modes_;
};

}  // namespace flow::parse
