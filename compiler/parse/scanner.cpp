#include "compiler/parse/scanner.h"

#include <cstring>

#include "FlowLexer.h"
#include "compiler/parse/lexer_check.h"
#include "compiler/parse/tokens.h"

namespace flow::parse {

using L = grammar::FlowLexer;
using antlr4::Token;

namespace {

auto IsDigit(unsigned char c) -> bool { return c >= '0' && c <= '9'; }
auto IsWordStart(unsigned char c) -> bool {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
auto IsWordChar(unsigned char c) -> bool { return IsWordStart(c) || IsDigit(c); }
auto IsContinuationByte(unsigned char c) -> bool { return (c & 0xC0) == 0x80; }

struct Keyword {
  const char* text;
  size_t type;
};

// Every keyword of FlowLexer.g4 (a word equal to one is that keyword; any
// other word is an ID).
constexpr Keyword kKeywords[] = {
    {"connector", L::CONNECTOR}, {"type", L::TYPE},         {"fn", L::FN},
    {"workflow", L::WORKFLOW},   {"let", L::LET},           {"var", L::VAR},
    {"if", L::IF},               {"else", L::ELSE},         {"for", L::FOR},
    {"in", L::IN},               {"while", L::WHILE},       {"return", L::RETURN},
    {"fail", L::FAIL},           {"try", L::TRY},           {"catch", L::CATCH},
    {"retry", L::RETRY},         {"timeout", L::TIMEOUT},   {"compensate", L::COMPENSATE},
    {"checkpoint", L::CHECKPOINT}, {"approve", L::APPROVE}, {"from", L::FROM},
    {"wait", L::WAIT},           {"sleep", L::SLEEP},       {"parallel", L::PARALLEL},
    {"break", L::BREAK},         {"continue", L::CONTINUE},
    {"true", L::TRUE_LIT},       {"false", L::FALSE_LIT},   {"null", L::NULL_LIT},
    {"and", L::AND},             {"or", L::OR},             {"not", L::NOT},
    {"as", L::AS},               {"backoff", L::BACKOFF},   {"max", L::MAX},
    {"on", L::ON},               {"limit", L::LIMIT},
};

auto WordType(std::string_view word) -> size_t {
  for (const Keyword& k : kKeywords) {
    if (word.size() == std::strlen(k.text) && std::memcmp(word.data(), k.text, word.size()) == 0) {
      return k.type;
    }
  }
  return L::ID;
}

}  // namespace

auto LexerKeywords() -> std::vector<std::string_view> {
  std::vector<std::string_view> out;
  for (const Keyword& k : kKeywords) out.emplace_back(k.text);
  return out;
}

auto IsKeywordToken(size_t type) -> bool { return type >= L::CONNECTOR && type <= L::LIMIT; }

auto KeywordRangeMismatch() -> std::string {
  for (const Keyword& k : kKeywords) {
    if (!IsKeywordToken(k.type)) return std::string("keyword '") + k.text + "' is outside the range";
  }
  for (size_t type = 1; type <= L::STR_NEWLINE; ++type) {
    bool in_table = false;
    for (const Keyword& k : kKeywords) in_table = in_table || k.type == type;
    if (IsKeywordToken(type) != in_table) return "token type " + std::to_string(type) + " is misclassified";
  }
  return "";
}

Scanner::Scanner(std::string_view text, antlr4::CharStream* input) : text_(text), input_(input) {
  modes_.reserve(64);
}

auto Scanner::getSourceName() -> std::string { return input_->getSourceName(); }

auto Scanner::getTokenFactory() -> antlr4::TokenFactory<antlr4::CommonToken>* {
  return antlr4::CommonTokenFactory::DEFAULT.get();
}

void Scanner::Advance() {
  unsigned char c = Peek();
  ++pos_;
  while (!AtEnd() && IsContinuationByte(Peek())) ++pos_;
  ++index_;
  if (c == '\n') {
    ++line_;
    column_ = 0;
  } else {
    ++column_;
  }
}

void Scanner::AdvanceAscii(size_t n) {
  pos_ += n;
  index_ += n;
  column_ += n;
}

void Scanner::PushMode(Mode mode) {
  modes_.push_back(mode_);
  mode_ = mode;
}

void Scanner::PopMode() {
  if (modes_.empty()) return;
  mode_ = modes_.back();
  modes_.pop_back();
}

// DURATION, FLOAT or INT, longest match (DURATION and FLOAT never compete:
// after the digits comes either a unit letter or a '.').
auto Scanner::ScanNumber() -> size_t {
  size_t n = 0;
  while (IsDigit(Peek(n))) ++n;
  unsigned char c = Peek(n);
  if (c == 'm' && Peek(n + 1) == 's') {
    AdvanceAscii(n + 2);
    return L::DURATION;
  }
  if (c == 's' || c == 'm' || c == 'h' || c == 'd') {
    AdvanceAscii(n + 1);
    return L::DURATION;
  }
  if (c == '.' && IsDigit(Peek(n + 1))) {
    n += 1;
    while (IsDigit(Peek(n))) ++n;
    if (Peek(n) == 'e' || Peek(n) == 'E') {
      size_t e = n + 1;
      if (Peek(e) == '+' || Peek(e) == '-') ++e;
      if (IsDigit(Peek(e))) {
        while (IsDigit(Peek(e))) ++e;
        n = e;
      }
    }
    AdvanceAscii(n);
    return L::FLOAT;
  }
  AdvanceAscii(n);
  return L::INT;
}

auto Scanner::ScanWord() -> size_t {
  size_t n = 1;
  while (IsWordChar(Peek(n))) ++n;
  size_t type = WordType(text_.substr(pos_, n));
  AdvanceAscii(n);
  return type;
}

auto Scanner::ScanDefault(size_t& channel) -> size_t {
  unsigned char c = Peek();
  if (IsWordStart(c)) return ScanWord();
  if (IsDigit(c)) return ScanNumber();
  unsigned char next = Peek(1);
  auto one = [&](size_t type) { AdvanceAscii(1); return type; };
  auto two = [&](size_t type) { AdvanceAscii(2); return type; };
  switch (c) {
    case ' ': case '\t': case '\f': {
      size_t n = 1;
      while (Peek(n) == ' ' || Peek(n) == '\t' || Peek(n) == '\f') ++n;
      AdvanceAscii(n);
      return 0;
    }
    case '\n': Advance(); return L::NL;
    case '\r':
      if (next == '\n') {
        AdvanceAscii(1);
        Advance();
        return L::NL;
      }
      return one(L::BAD_CHAR);
    case '/':
      if (next == '/') {
        while (!AtEnd() && Peek() != '\r' && Peek() != '\n') Advance();
        return 0;
      }
      if (next == '*') {
        AdvanceAscii(2);
        while (!AtEnd() && !(Peek() == '*' && Peek(1) == '/')) Advance();
        if (!AtEnd()) AdvanceAscii(2);
        channel = Token::HIDDEN_CHANNEL;
        return L::BLOCK_COMMENT;
      }
      return one(L::SLASH);
    case '-': return next == '>' ? two(L::ARROW) : one(L::MINUS);
    case '?': return next == '?' ? two(L::QQ) : one(L::QUESTION);
    case '=': return next == '=' ? two(L::EQ) : one(L::ASSIGN);
    case '!': return next == '=' ? two(L::NE) : one(L::BAD_CHAR);
    case '<': return next == '=' ? two(L::LE) : one(L::LT);
    case '>': return next == '=' ? two(L::GE) : one(L::GT);
    case '+': return one(L::PLUS);
    case '*': return one(L::STAR);
    case '%': return one(L::PERCENT);
    case '(': return one(L::LPAREN);
    case ')': return one(L::RPAREN);
    case '[': return one(L::LBRACKET);
    case ']': return one(L::RBRACKET);
    case '{': PushMode(Mode::Default); return one(L::LBRACE);
    case '}': PopMode(); return one(L::RBRACE);
    case ',': return one(L::COMMA);
    case ':': return one(L::COLON);
    case ';': return one(L::SEMI);
    case '.': return one(L::DOT);
    case '|': return one(L::PIPE);
    case '"': PushMode(Mode::String); return one(L::STR_START);
    default:
      Advance();  // one code point, whatever it is
      return L::BAD_CHAR;
  }
}

// One token in string mode, or 0 after FlowLexer's error recovery: a lone
// '\r' is dropped together with the character after it, a '\' at the end of
// the file alone.
auto Scanner::ScanString() -> size_t {
  unsigned char c = Peek();
  switch (c) {
    case '"': PopMode(); AdvanceAscii(1); return L::STR_END;
    case '\\':
      Advance();
      if (AtEnd()) return 0;
      Advance();
      return L::STR_ESCAPE;
    case '$':
      if (Peek(1) == '{') {
        PushMode(Mode::Default);
        AdvanceAscii(2);
        return L::INTERP_START;
      }
      AdvanceAscii(1);
      return L::STR_DOLLAR;
    case '\n': PopMode(); Advance(); return L::STR_NEWLINE;
    case '\r':
      if (Peek(1) == '\n') {
        PopMode();
        AdvanceAscii(1);
        Advance();
        return L::STR_NEWLINE;
      }
      Advance();
      if (!AtEnd()) Advance();
      return 0;
    default:
      while (!AtEnd()) {
        unsigned char t = Peek();
        if (t == '"' || t == '\\' || t == '$' || t == '\r' || t == '\n') break;
        if (t < 0x80) AdvanceAscii(1);
        else Advance();
      }
      return L::STR_TEXT;
  }
}

auto Scanner::nextToken() -> std::unique_ptr<Token> {
  while (true) {
    size_t start = index_;
    size_t line = line_;
    size_t column = column_;
    if (AtEnd()) {
      auto eof = std::make_unique<antlr4::CommonToken>(
          std::pair<antlr4::TokenSource*, antlr4::CharStream*>{this, input_}, Token::EOF,
          Token::DEFAULT_CHANNEL, start, start - 1);
      eof->setLine(line);
      eof->setCharPositionInLine(column);
      return eof;
    }
    size_t channel = Token::DEFAULT_CHANNEL;
    size_t type = mode_ == Mode::Default ? ScanDefault(channel) : ScanString();
    if (type == 0) continue;
    auto token = std::make_unique<antlr4::CommonToken>(
        std::pair<antlr4::TokenSource*, antlr4::CharStream*>{this, input_}, type, channel, start,
        index_ - 1);
    token->setLine(line);
    token->setCharPositionInLine(column);
    return token;
  }
}

// ---------------------------------------------------------------- LexerMismatch

auto LexerMismatch(std::string_view text) -> std::string {
  antlr4::ANTLRInputStream input(text.data(), text.size());
  grammar::FlowLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::ANTLRInputStream input2(text.data(), text.size());
  Scanner scanner(text, &input2);
  for (size_t i = 0;; ++i) {
    auto want = lexer.nextToken();
    auto got = scanner.nextToken();
    auto describe = [](const Token& t) {
      return "type " + std::to_string(t.getType()) + " channel " + std::to_string(t.getChannel()) +
             " [" + std::to_string(t.getStartIndex()) + "," + std::to_string(t.getStopIndex()) +
             "] at " + std::to_string(t.getLine()) + ":" + std::to_string(t.getCharPositionInLine());
    };
    std::string a = describe(*want);
    std::string b = describe(*got);
    if (a != b) return "token " + std::to_string(i) + ": FlowLexer " + a + ", Scanner " + b;
    if (want->getType() == Token::EOF) return "";
  }
}

}  // namespace flow::parse
