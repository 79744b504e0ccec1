#include "compiler/parse/token_filter.h"

#include "compiler/parse/tokens.h"
#include "compiler/parse/foreign_syntax.h"
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

auto AtStatementStart(size_t prev_type) -> bool {
  return prev_type == 0 || prev_type == L::NL || prev_type == L::SEMI || prev_type == L::LBRACE;
}

// Two tokens with nothing between them: `&&`, not `& &`.
auto Adjacent(const Token& a, const Token& b) -> bool { return b.getStartIndex() == a.getStopIndex() + 1; }

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
        if (MergeForeignOperator(token)) return token;
        reporter_.ReportOnLine(token->getLine(), DiagKind::InvalidCharacter,
                               reporter_.TokenRange(token.get()), token->getText());
        continue;
      case L::PIPE:
        MergeForeignOperator(token);
        return token;
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

auto TokenFilter::MakeToken(size_t type, const Token& at, const char* text) -> std::unique_ptr<Token> {
  auto token = std::make_unique<antlr4::CommonToken>(
      std::pair<antlr4::TokenSource*, antlr4::CharStream*>{this, lexer_.getInputStream()}, type,
      Token::DEFAULT_CHANNEL, at.getStartIndex(), at.getStopIndex());
  token->setLine(at.getLine());
  token->setCharPositionInLine(at.getCharPositionInLine());
  token->setText(text);
  return token;
}

auto TokenFilter::MergeForeignOperator(std::unique_ptr<Token>& token) -> bool {
  std::string text = token->getText();
  const char* flow = nullptr;
  size_t type = 0;
  std::unique_ptr<Token> next;
  if (text == "&" || text == "|") {  // `&&` `||`: the second must follow at once
    next = FetchRaw();
    bool pair = next->getText() == text && Adjacent(*token, *next);
    if (!pair) {
      PushFront(std::move(next));
      return false;
    }
    flow = text == "&" ? "and" : "or";
    type = text == "&" ? L::AND : L::OR;
  } else if (text == "!") {  // `!=` is a token of its own; this is `!x`
    flow = "not";
    type = L::NOT;
  } else {
    return false;
  }
  std::string spelled = next ? text + text : text;
  // Reported whatever else the line holds: the parse goes on as if the
  // flow operator had been written, so this cannot start a cascade.
  SourceRange range = reporter_.Range(token->getStartIndex(), (next ? next : token)->getStopIndex() + 1);
  reporter_.diags().Report(DiagKind::ForeignOperator, range, spelled, flow).fixes.push_back({range, flow});
  auto* merged = static_cast<antlr4::CommonToken*>(token.get());
  merged->setType(type);
  if (next) merged->setStopIndex(next->getStopIndex());
  merged->setText(flow);
  return true;
}

auto TokenFilter::DropCompoundOperator(const Token& token) -> bool {
  switch (token.getType()) {
    case L::PLUS: case L::MINUS: case L::STAR: case L::SLASH: case L::PERCENT: break;
    default: return false;
  }
  if (statement_first_ == L::LET || statement_first_ == L::VAR || in_condition_) return false;
  auto next = Fetch();
  bool compound = next->getType() == L::ASSIGN && Adjacent(token, *next);
  if (compound) {
    reporter_.NoteCompoundOperator(next->getStartIndex(), {token.getType(), token.getStartIndex()});
  }
  PushFront(std::move(next));
  return compound;
}

auto TokenFilter::ForeignAfterBlockNext() -> bool {
  if (prev_type_ != L::RBRACE) return false;
  auto token = Fetch();
  bool foreign = token->getType() == L::ID &&
                 FindForeignKeyword(token->getText(), ForeignPlace::AfterBlock) != nullptr;
  PushFront(std::move(token));
  return foreign;
}

void TokenFilter::ApplyForeignSyntax(Token& token) {
  auto& writable = static_cast<antlr4::CommonToken&>(token);
  if (token.getType() == L::ASSIGN && in_condition_ && open_.size() == cond_depth_) {
    SourceRange range = reporter_.TokenRange(&token);
    reporter_.diags().Report(DiagKind::AssignInCondition, range).fixes.push_back({range, "=="});
    writable.setType(L::EQ);
    return;
  }
  // Only a name right after `}` or at the start of a statement can be one;
  // its text (a copy) is read only then: this runs for every token.
  if (token.getType() != L::ID || (prev_type_ != L::RBRACE && !AtStatementStart(prev_type_))) return;
  const std::string word = token.getText();
  const ForeignKeyword* k = nullptr;
  if (prev_type_ == L::RBRACE) {
    k = FindForeignKeyword(word, ForeignPlace::AfterBlock);
  } else {
    k = FindForeignKeyword(word, ForeignPlace::StatementStart);
    size_t next = k != nullptr ? PeekType() : 0;
    // A contextual keyword (`limit`, `on`, ...) not yet turned into a name
    // is a name here: `const limit = 10`.
    if (next == L::LIMIT || next == L::ON || next == L::BACKOFF || next == L::MAX) next = L::ID;
    // Only where the word cannot be a name: `const x`, `throw "..."`,
    // `def f` at the top level; `const = 1` is an assignment, and `raise
    // Oops("x")` would become a call of an unknown function (a second
    // message), so `fail` is offered only before a string.
    if (k != nullptr && k->flow == "fn" && !open_.empty()) k = nullptr;
    if (k != nullptr && next != (k->flow == "fail" ? L::STR_START : L::ID)) k = nullptr;
  }
  if (k == nullptr) return;
  SourceRange range = reporter_.TokenRange(&token);
  Diagnostic& d = reporter_.diags().Report(DiagKind::ForeignKeyword, range, word, k->flow);
  d.fixes.push_back({range, std::string(k->flow)});  // the quick fix `flow lsp` offers
  if (k->flow == "else if") {
    writable.setType(L::ELSE);
    writable.setText("else");
    PushFront(MakeToken(L::IF, token, "if"));
  } else {
    writable.setType(k->flow == "let" ? L::LET : k->flow == "fn" ? L::FN : k->flow == "fail" ? L::FAIL : L::CATCH);
    writable.setText(std::string(k->flow));
  }
}

void TokenFilter::ApplyContextualKeyword(Token& token) {
  size_t type = token.getType();
  if (!IsKeywordToken(type)) return;
  bool keyword = true;
  if (prev_type_ == L::DOT) {
    keyword = false;  // `event.type`, `reply.from`
  } else if (type == L::BACKOFF || type == L::ON) {
    // A misplaced part of an earlier retry clause (`timeout 2s on "x"`)
    // stays a keyword for the parser, which reports it as E074.
    size_t next = RetryKeywordAllowed() ? 0 : PeekType();
    keyword = RetryKeywordAllowed() || (retry_in_statement_ && open_.size() == retry_depth_ &&
                                        (type == L::ON ? next == L::STR_START
                                                       : next == L::DURATION || next == L::INT));
  } else if (type == L::MAX) {
    keyword = backoff_seen_ && (RetryKeywordAllowed() ||
                                (retry_in_statement_ && open_.size() == retry_depth_ &&
                                 (PeekType() == L::DURATION || PeekType() == L::INT)));
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
  size_t type = token.getType();
  if (type == L::FOR && prev_type_ == L::PARALLEL) {
    in_parallel_for_ = true;
    limit_seen_ = false;
    parallel_for_depth_ = open_.size();
  } else if (in_parallel_for_ && open_.size() < parallel_for_depth_) {
    in_parallel_for_ = false;  // a bracket around the header closed: malformed
  } else if (in_parallel_for_ && open_.size() == parallel_for_depth_) {
    // The body's `{` follows a token that ends the iterable or the limit
    // (`in {` would open a record literal); a `;` or `}` means the header
    // was malformed.
    if (type == L::LIMIT) limit_seen_ = true;
    bool body = type == L::LBRACE && CanEndStatement(prev_type_);
    if (body || type == L::SEMI || type == L::RBRACE) in_parallel_for_ = false;
  }
  if (type == L::SEMI || ((type == L::LBRACE || type == L::RBRACE) && open_.size() <= retry_depth_)) {
    retry_in_statement_ = false;
  }
  if (type == L::LBRACE && in_condition_ && open_.size() == cond_depth_) in_condition_ = false;
  switch (type) {
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
      retry_in_statement_ = true;
      backoff_seen_ = false;
      retry_depth_ = open_.size();
      return;
    case L::IF: case L::WHILE:
      in_condition_ = true;
      cond_depth_ = open_.size();
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
      if (next == L::ID && ForeignAfterBlockNext()) continue;  // `}` newline `elif`
      in_retry_ = false;
      in_parallel_for_ = false;
      retry_in_statement_ = false;
      in_condition_ = false;
      prev_type_ = L::NL;
      return token;
    }
    if (DropCompoundOperator(*token)) continue;
    ApplyForeignSyntax(*token);
    ApplyContextualKeyword(*token);
    Track(*token);
    if (AtStatementStart(prev_type_)) statement_first_ = token->getType();
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
