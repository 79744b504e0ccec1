// Turning ANTLR's syntax errors into flow diagnostics (E001, E002).
//
// ANTLR's default strategy prints raw token dumps ("mismatched input 'x'
// expecting {';', NL, ...}"). This subclass keeps ANTLR's recovery (single
// token insertion/deletion, resynchronisation) but replaces every report with
// human wording: "expected an expression, found 'let'", "unexpected '}'",
// "expected ')' after the arguments, found 'b'", and, when a closing bracket
// is missing, E002 "expected ')' to close '(' opened at 2:11". Reports go
// through SyntaxReporter (one per line) and are further limited to one per
// statement: after an error, nothing more is reported until the parser has
// moved past a statement separator.
#pragma once

#include <antlr4-runtime.h>

#include <string>

#include "compiler/parse/syntax_reporter.h"

namespace flow::parse {

class FlowErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  explicit FlowErrorStrategy(SyntaxReporter& reporter) : reporter_(reporter) {}

 protected:
  void reportNoViableAlternative(antlr4::Parser* parser,
                                 const antlr4::NoViableAltException& e) override;
  void reportInputMismatch(antlr4::Parser* parser,
                           const antlr4::InputMismatchException& e) override;
  void reportFailedPredicate(antlr4::Parser* parser,
                             const antlr4::FailedPredicateException& e) override;
  void reportUnwantedToken(antlr4::Parser* parser) override;
  void reportMissingToken(antlr4::Parser* parser) override;

 private:
  // Reports the error at `offending` given the tokens that would have been
  // accepted there (`expected` may be empty when unknown).
  void Report(antlr4::Parser* parser, antlr4::Token* offending,
              const antlr4::misc::IntervalSet& expected);
  // False when an error was already reported in the statement holding
  // `offending` (no separator since the last report).
  auto NewStatement(antlr4::TokenStream& tokens, antlr4::Token* offending) const -> bool;

  SyntaxReporter& reporter_;
  size_t last_error_index_ = INVALID_INDEX;
};

// How a token is named in a message: 'text' in quotes, or end of line / end
// of file / a string.
auto DisplayToken(const antlr4::Token* token) -> std::string;

}  // namespace flow::parse
