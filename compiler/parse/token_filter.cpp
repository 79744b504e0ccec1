#include "compiler/parse/token_filter.h"

#include "compiler/parse/tokens.h"
#include "vm/base/check.h"

namespace flow::parse {

using antlr4::Token;
using L = grammar::FlowLexer;

namespace {

// Tokens after which a line break ends the statement.
auto CanEndStatement(size_t type) -> bool {
  switch (type) {
    case L::ID: case L::INT: case L::FLOAT: case L::DURATION:
    case L::TRUE_LIT: case L::FALSE_LIT: case L::NULL_LIT: case L::STR_END:
    case L::RPAREN: case L::RBRACKET: case L::RBRACE: case L::QUESTION: case L::RETURN:
    case L::BREAK: case L::CONTINUE:
      return true;
    default:
      return false;
  }
}

}  // namespace

TokenFilter::TokenFilter(Scanner& lexer, SyntaxReporter& reporter)
    : lexer_(lexer), reporter_(reporter) {
  open_.reserve(64);
}

auto TokenFilter::IsContinuation(size_t type) const -> bool {
  switch (type) {
    case L::RETRY: case L::TIMEOUT: case L::COMPENSATE: case L::ELSE: case L::CATCH:
    case L::FROM: case L::AS:
    case L::PLUS: case L::MINUS: case L::STAR: case L::SLASH: case L::PERCENT:
    case L::EQ: case L::NE: case L::LT: case L::LE: case L::GT: case L::GE:
    case L::AND: case L::OR: case L::QQ: case L::DOT:
    case L::RPAREN: case L::RBRACKET: case L::RBRACE:
      return true;
    case L::BACKOFF: case L::ON:
      return RetryKeywordAllowed();
    case L::MAX:
      return RetryKeywordAllowed() && backoff_seen_;
    case L::LIMIT:
      return LimitKeywordAllowed();
    default:
      return false;
  }
}

auto TokenFilter::LimitKeywordAllowed() const -> bool {
  return in_parallel_for_ && !limit_seen_ && open_.size() == parallel_for_depth_ &&
         CanEndStatement(prev_type_);
}

auto TokenFilter::InsideParens() const -> bool {
  if (open_.empty()) return false;
  char top = open_.back().kind;
  return top == '(' || top == '[' || top == '$';
}

auto TokenFilter::RetryKeywordAllowed() const -> bool {
  return in_retry_ && open_.size() == retry_depth_;
}

void TokenFilter::PushFront(std::unique_ptr<Token> token) {
  FLOW_CHECK(queue_size_ < queue_.size(), "token filter queue overflow");
  queue_head_ = (queue_head_ + queue_.size() - 1) % queue_.size();
  queue_[queue_head_] = std::move(token);
  ++queue_size_;
}

void TokenFilter::PushBack(std::unique_ptr<Token> token) {
  FLOW_CHECK(queue_size_ < queue_.size(), "token filter queue overflow");
  queue_[(queue_head_ + queue_size_) % queue_.size()] = std::move(token);
  ++queue_size_;
}

auto TokenFilter::FetchRaw() -> std::unique_ptr<Token> {
  if (queue_size_ == 0) return lexer_.nextToken();
  auto token = std::move(queue_[queue_head_]);
  queue_head_ = (queue_head_ + 1) % queue_.size();
  --queue_size_;
  return token;
}

auto TokenFilter::MakeStringEnd(size_t at) -> std::unique_ptr<Token> {
  auto token = std::make_unique<antlr4::CommonToken>(
      std::pair<antlr4::TokenSource*, antlr4::CharStream*>{this, lexer_.getInputStream()},
      L::STR_END, Token::DEFAULT_CHANNEL, at, at - 1);
  token->setText("\"");
  return token;
}

auto TokenFilter::Fetch() -> std::unique_ptr<Token> {
  while (true) {
    auto token = FetchRaw();
    switch (token->getType()) {
      case L::BLOCK_COMMENT: {
        std::string text = token->getText();
        if (text.size() < 4 || text.compare(text.size() - 2, 2, "*/") != 0) {
          size_t start = token->getStartIndex();
          reporter_.ReportOnLine(token->getLine(), DiagKind::UnterminatedComment,
                                 reporter_.Range(start, start + 2));
        }
        if (text.find('\n') == std::string::npos) continue;
        // A comment spanning lines separates statements like a line break.
        auto* writable = static_cast<antlr4::CommonToken*>(token.get());
        writable->setType(L::NL);
        writable->setChannel(Token::DEFAULT_CHANNEL);
        return token;
      }
      case L::BAD_CHAR:
        reporter_.ReportOnLine(token->getLine(), DiagKind::InvalidCharacter,
                               reporter_.TokenRange(token.get()), token->getText());
        continue;
      case L::STR_NEWLINE: {
        // The string ends at the line break: close it, then the line break.
        size_t start = open_.empty() ? token->getStartIndex() : open_.back().start;
        reporter_.ReportOnLine(token->getLine(), DiagKind::UnterminatedString,
                               reporter_.Range(start, token->getStartIndex()));
        auto end = MakeStringEnd(token->getStartIndex());
        static_cast<antlr4::CommonToken*>(token.get())->setType(L::NL);
        PushFront(std::move(token));
        return end;
      }
      case Token::EOF:
        if (!string_closed_at_eof_ && !open_.empty() && open_.back().kind == '"') {
          string_closed_at_eof_ = true;
          size_t start = open_.back().start;
          reporter_.ReportOnLine(token->getLine(), DiagKind::UnterminatedString,
                                 reporter_.Range(start, token->getStartIndex()));
          auto end = MakeStringEnd(token->getStartIndex());
          PushFront(std::move(token));
          return end;
        }
        return token;
      default:
        return token;
    }
  }
}

auto TokenFilter::PeekType() -> size_t {
  auto token = Fetch();
  size_t type = token->getType();
  PushFront(std::move(token));
  return type;
}

void TokenFilter::ApplyContextualKeyword(Token& token) {
  size_t type = token.getType();
  if (!IsKeywordToken(type)) return;
  bool keyword = true;
  if (prev_type_ == L::DOT) {
    keyword = false;  // `event.type`, `reply.from`
  } else if (type == L::BACKOFF || type == L::ON) {
    keyword = RetryKeywordAllowed();
  } else if (type == L::MAX) {
    keyword = RetryKeywordAllowed() && backoff_seen_;
  } else if (type == L::LIMIT) {
    keyword = LimitKeywordAllowed();
  }
  // A keyword right before `:` is a field or argument name: `{ type: x }`.
  if (keyword && PeekType() == L::COLON) keyword = false;
  if (!keyword) static_cast<antlr4::CommonToken&>(token).setType(L::ID);
}

void TokenFilter::Close(char kind) {
  for (size_t i = open_.size(); i > 0; --i) {
    if (open_[i - 1].kind == kind || (kind == '{' && open_[i - 1].kind == '$')) {
      open_.resize(i - 1);
      return;
    }
    if (open_[i - 1].kind == '"') return;  // never close past a string
  }
}

void TokenFilter::Track(const Token& token) {
  if (token.getType() == L::FOR && prev_type_ == L::PARALLEL) {
    in_parallel_for_ = true;
    limit_seen_ = false;
    parallel_for_depth_ = open_.size();
  } else if (in_parallel_for_ && open_.size() < parallel_for_depth_) {
    in_parallel_for_ = false;  // a bracket around the header closed: malformed
  } else if (in_parallel_for_ && open_.size() == parallel_for_depth_) {
    // The body's `{` follows a token that ends the iterable or the limit
    // (`in {` would open a record literal); a `;` or `}` means the header
    // was malformed.
    size_t type = token.getType();
    if (type == L::LIMIT) limit_seen_ = true;
    bool body = type == L::LBRACE && CanEndStatement(prev_type_);
    if (body || type == L::SEMI || type == L::RBRACE) in_parallel_for_ = false;
  }
  switch (token.getType()) {
    case L::LPAREN: open_.push_back({'(', token.getStartIndex()}); break;
    case L::LBRACKET: open_.push_back({'[', token.getStartIndex()}); break;
    case L::LBRACE: open_.push_back({'{', token.getStartIndex()}); break;
    case L::INTERP_START: open_.push_back({'$', token.getStartIndex()}); break;
    case L::STR_START: open_.push_back({'"', token.getStartIndex()}); break;
    case L::RPAREN: Close('('); break;
    case L::RBRACKET: Close('['); break;
    case L::RBRACE: Close('{'); break;
    case L::STR_END: Close('"'); break;
    case L::RETRY:
      in_retry_ = true;
      backoff_seen_ = false;
      retry_depth_ = open_.size();
      return;
    case L::BACKOFF: backoff_seen_ = true; return;
    default: break;
  }
  if (in_retry_ && open_.size() <= retry_depth_) {
    switch (token.getType()) {
      case L::TIMEOUT: case L::COMPENSATE: case L::SEMI: case L::LBRACE: case L::RBRACE:
        in_retry_ = false;
        break;
      default:
        if (open_.size() < retry_depth_) in_retry_ = false;
        break;
    }
  }
}

auto TokenFilter::nextToken() -> std::unique_ptr<Token> {
  while (true) {
    auto token = Fetch();
    if (token->getType() == L::NL) {
      size_t next = PeekType();
      while (next == L::NL) {
        Fetch();  // collapse consecutive line breaks
        next = PeekType();
      }
      if (!CanEndStatement(prev_type_) || InsideParens() || IsContinuation(next)) continue;
      in_retry_ = false;
      in_parallel_for_ = false;
      prev_type_ = L::NL;
      return token;
    }
    ApplyContextualKeyword(*token);
    Track(*token);
    prev_type_ = token->getType();
    return token;
  }
}

auto FilteredTokenStream::fetch(size_t n) -> size_t {
  if (_fetchedEOF) return 0;
  size_t i = 0;
  while (i < n) {
    std::unique_ptr<Token> token = _tokenSource->nextToken();
    static_cast<antlr4::CommonToken*>(token.get())->setTokenIndex(_tokens.size());
    _tokens.push_back(std::move(token));
    ++i;
    if (_tokens.back()->getType() == Token::EOF) {
      _fetchedEOF = true;
      break;
    }
  }
  return i;
}

}  // namespace flow::parse
