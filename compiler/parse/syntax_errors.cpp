#include "compiler/parse/syntax_errors.h"

#include "Flow.h"

namespace flow::parse {

using antlr4::Token;
using P = grammar::Flow;

namespace {

constexpr size_t kMaxTokenDisplay = 24;  // longer token text is cut with "..."
// How far back to look for the unclosed bracket; bounded so that a file full
// of errors stays linear.
constexpr size_t kMaxOpenerScan = 100000;

auto CloserOf(size_t opener) -> size_t {
  switch (opener) {
    case P::LPAREN: return P::RPAREN;
    case P::LBRACKET: return P::RBRACKET;
    default: return P::RBRACE;  // LBRACE and INTERP_START
  }
}

auto IsCloser(size_t type) -> bool {
  return type == P::RPAREN || type == P::RBRACKET || type == P::RBRACE;
}

auto Spelling(size_t type) -> std::string {
  switch (type) {
    case P::RPAREN: return ")";
    case P::RBRACKET: return "]";
    case P::RBRACE: return "}";
    case P::LPAREN: return "(";
    case P::LBRACKET: return "[";
    case P::LBRACE: return "{";
    case P::INTERP_START: return "${";
    default: return "?";
  }
}

// The innermost bracket still open before token `index`, or nullptr.
auto InnermostOpener(antlr4::TokenStream& tokens, size_t index) -> Token* {
  int depth[4] = {0, 0, 0, 0};  // ( [ { ${
  size_t stop = index > kMaxOpenerScan ? index - kMaxOpenerScan : 0;
  for (size_t i = index; i > stop; --i) {
    Token* t = tokens.get(i - 1);
    switch (t->getType()) {
      case P::RPAREN: ++depth[0]; break;
      case P::RBRACKET: ++depth[1]; break;
      case P::RBRACE: ++depth[2]; break;
      case P::LPAREN: if (depth[0]-- == 0) return t; break;
      case P::LBRACKET: if (depth[1]-- == 0) return t; break;
      case P::LBRACE:
      case P::INTERP_START: if (depth[2]-- == 0) return t; break;
      default: break;
    }
  }
  return nullptr;
}

auto Has(const antlr4::misc::IntervalSet& set, size_t type) -> bool { return set.contains(type); }

auto ExpressionExpected(const antlr4::misc::IntervalSet& set) -> bool {
  return Has(set, P::INT) && Has(set, P::ID) && Has(set, P::STR_START);
}

auto ExpectedName(const antlr4::dfa::Vocabulary& vocab, size_t type) -> std::string {
  switch (type) {
    case Token::EOF: return "end of file";
    case P::NL: return "end of line";
    case P::ID: return "a name";
    case P::INT: return "an integer";
    case P::FLOAT: return "a number";
    case P::DURATION: return "a duration";
    case P::STR_START: return "a string";
    default: return vocab.getLiteralName(type);  // already quoted: "')'"
  }
}

// "a statement", "an expression", "')' or ','"; empty when the set is too
// large to be helpful (the message is then "unexpected X").
auto DescribeExpected(const antlr4::misc::IntervalSet& set,
                      const antlr4::dfa::Vocabulary& vocab) -> std::string {
  if (Has(set, P::LET)) return "a statement";
  if (Has(set, P::CONNECTOR)) return "a declaration";
  if (ExpressionExpected(set)) return "an expression";
  constexpr size_t kMaxListed = 3;
  if (set.isEmpty() || set.size() > kMaxListed) return "";
  std::vector<ssize_t> types = set.toList();
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += i + 1 == types.size() ? " or " : ", ";
    std::string name = ExpectedName(vocab, static_cast<size_t>(types[i]));
    if (name.empty()) return "";
    out += name;
  }
  return out;
}

auto IsStatementKeyword(size_t type) -> bool {
  switch (type) {
    case P::LET: case P::VAR: case P::IF: case P::FOR: case P::WHILE: case P::RETURN:
    case P::FAIL: case P::TRY: case P::CHECKPOINT: case P::SLEEP: case P::PARALLEL:
    case P::BREAK: case P::CONTINUE:
    case P::FN: case P::WORKFLOW: case P::TYPE: case P::CONNECTOR:
      return true;
    default:
      return false;
  }
}

// The last token before `index` that is not a line break, or nullptr.
auto Previous(antlr4::TokenStream& tokens, size_t index) -> Token* {
  if (index == INVALID_INDEX) return nullptr;
  while (index > 0) {
    Token* t = tokens.get(--index);
    if (t->getType() != P::NL) return t;
  }
  return nullptr;
}

}  // namespace

auto DisplayToken(const Token* token) -> std::string {
  if (token == nullptr || token->getType() == Token::EOF) return "end of file";
  if (token->getType() == P::NL) return "end of line";
  if (token->getType() == P::STR_START) return "a string";
  std::string text = token->getText();
  if (text.size() > kMaxTokenDisplay) text = text.substr(0, kMaxTokenDisplay) + "...";
  return "'" + text + "'";
}

auto FlowErrorStrategy::NewStatement(antlr4::TokenStream& tokens, Token* offending) const -> bool {
  if (last_error_index_ == INVALID_INDEX) return true;
  size_t index = offending->getTokenIndex();
  if (index == INVALID_INDEX || index <= last_error_index_) return false;
  // A separator, or a statement keyword at the start of a line (the line
  // break before it was dropped because the broken statement could not end).
  // Not the keyword the last error was reported at: `(a + 1` newline `if c {`
  // reports the missing ')' at the `if`, and the recovery that follows must
  // not add "expected '}'" at its `{`.
  for (size_t i = last_error_index_; i <= index; ++i) {
    Token* t = tokens.get(i);
    size_t type = t->getType();
    if ((type == P::NL || type == P::SEMI) && i < index) return true;
    if (IsStatementKeyword(type) && i > last_error_index_ && tokens.get(i - 1)->getLine() < t->getLine()) {
      return true;
    }
  }
  return false;
}

void FlowErrorStrategy::Report(antlr4::Parser* parser, Token* offending,
                               const antlr4::misc::IntervalSet& expected) {
  auto& tokens = *parser->getTokenStream();
  if (!NewStatement(tokens, offending)) return;
  size_t index = offending->getTokenIndex();
  Token* prev = Previous(tokens, index);
  bool new_line = prev != nullptr && prev->getLine() < offending->getLine();
  // At the start of a new line, point just after the last token of the
  // statement: that is where the missing piece belongs.
  SourceRange at_token = reporter_.TokenRange(offending);
  SourceRange range = at_token;
  if ((new_line || offending->getType() == Token::EOF) && prev != nullptr) {
    SourceRange p = reporter_.TokenRange(prev);
    range = SourceRange{p.file, p.end, p.end};
  }
  Token* opener = index == INVALID_INDEX ? nullptr : InnermostOpener(tokens, index);
  size_t type = offending->getType();
  bool reported = false;
  // At the end of the file an open bracket is always the problem.
  if (opener != nullptr && (type == Token::EOF || (Has(expected, CloserOf(opener->getType())) &&
                                                   (IsCloser(type) || new_line)))) {
    LineCol at = reporter_.file().Locate(reporter_.TokenRange(opener).begin);
    size_t line = reporter_.file().Locate(range.begin).line;
    reported = reporter_.ReportOnLine(line, DiagKind::UnclosedDelimiter, range,
                                      Spelling(CloserOf(opener->getType())),
                                      Spelling(opener->getType()), at.line, at.column);
  } else {
    std::string message;
    std::string what = DescribeExpected(expected, parser->getVocabulary());
    Token* before_opener = opener ? Previous(tokens, opener->getTokenIndex()) : nullptr;
    bool call_paren = opener != nullptr && opener->getType() == P::LPAREN &&
                      before_opener != nullptr &&
                      (before_opener->getType() == P::ID || before_opener->getType() == P::RPAREN);
    bool unexpected = false;
    if (IsCloser(type) && (opener == nullptr || CloserOf(opener->getType()) != type)) {
      unexpected = true;
    } else if (call_paren && Has(expected, P::RPAREN) && !ExpressionExpected(expected)) {
      message = "expected ')' after the arguments, found " + DisplayToken(offending);
    } else if (!what.empty()) {
      message = "expected " + what + ", found " + DisplayToken(offending);
    } else {
      unexpected = true;
    }
    if (unexpected) {
      // Point at the token itself: it is what is wrong.
      message = "unexpected " + DisplayToken(offending);
      range = at_token;
    }
    size_t line = reporter_.file().Locate(range.begin).line;
    reported = reporter_.ReportOnLine(line, DiagKind::SyntaxError, range, message);
  }
  if (reported || last_error_index_ == INVALID_INDEX || index > last_error_index_) {
    last_error_index_ = index;
  }
}

void FlowErrorStrategy::reportNoViableAlternative(antlr4::Parser* parser,
                                                  const antlr4::NoViableAltException& e) {
  Token* offending = e.getOffendingToken();
  if (e.getStartToken() == offending) {
    Report(parser, offending, e.getExpectedTokens());
  } else {
    Report(parser, offending, antlr4::misc::IntervalSet());
  }
}

void FlowErrorStrategy::reportInputMismatch(antlr4::Parser* parser,
                                            const antlr4::InputMismatchException& e) {
  Report(parser, e.getOffendingToken(), e.getExpectedTokens());
}

void FlowErrorStrategy::reportFailedPredicate(antlr4::Parser* parser,
                                              const antlr4::FailedPredicateException& e) {
  Report(parser, e.getOffendingToken(), antlr4::misc::IntervalSet());
}

void FlowErrorStrategy::reportUnwantedToken(antlr4::Parser* parser) {
  if (inErrorRecoveryMode(parser)) return;
  beginErrorCondition(parser);
  Report(parser, parser->getCurrentToken(), getExpectedTokens(parser));
}

auto FlowErrorStrategy::singleTokenDeletion(antlr4::Parser* parser) -> antlr4::Token* {
  switch (parser->getCurrentToken()->getType()) {
    case grammar::Flow::LET: case grammar::Flow::VAR: case grammar::Flow::RETURN:
    case grammar::Flow::IF: case grammar::Flow::FOR: case grammar::Flow::WHILE:
    case grammar::Flow::FAIL: case grammar::Flow::TRY: case grammar::Flow::CHECKPOINT:
    case grammar::Flow::SLEEP: case grammar::Flow::PARALLEL: case grammar::Flow::BREAK:
    case grammar::Flow::CONTINUE: case grammar::Flow::FN:
    case grammar::Flow::WORKFLOW: case grammar::Flow::TYPE: case grammar::Flow::CONNECTOR:
      return nullptr;
    default:
      return DefaultErrorStrategy::singleTokenDeletion(parser);
  }
}

void FlowErrorStrategy::reportMissingToken(antlr4::Parser* parser) {
  if (inErrorRecoveryMode(parser)) return;
  beginErrorCondition(parser);
  Report(parser, parser->getCurrentToken(), getExpectedTokens(parser));
}

}  // namespace flow::parse
