#include "compiler/format/token_cursor.h"

#include <fmt/format.h>

namespace flow::format {

using parse::RawKind;
using parse::RawToken;

namespace {

auto IsComment(RawKind k) -> bool { return k == RawKind::LineComment || k == RawKind::BlockComment; }

// True when a significant token follows raw[i] before any line break: the
// block comment at raw[i] is then inline.
auto CodeFollowsOnLine(const std::vector<RawToken>& raw, size_t i) -> bool {
  for (size_t j = i + 1; j < raw.size(); ++j) {
    if (raw[j].kind == RawKind::Newline) return false;
    if (!IsComment(raw[j].kind)) return true;
  }
  return false;
}

// A comment's text as written, with CRLF line breaks made LF.
auto CommentText(std::string_view text) -> std::string {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

}  // namespace

TokenCursor::TokenCursor(std::string_view text, const std::vector<RawToken>& raw) : text_(text) {
  Classify(raw);
  written_.assign(comments_.size(), false);
}

void TokenCursor::Classify(const std::vector<RawToken>& raw) {
  int newlines = 0;                // line breaks since the previous token or comment
  bool any_item = false;           // a token or comment came before
  bool after_open = false;         // ... and it was an opening bracket
  bool newline_since_token = false;
  std::vector<size_t> pending;     // comments waiting for the next token
  for (size_t i = 0; i < raw.size(); ++i) {
    const RawToken& r = raw[i];
    if (r.kind == RawKind::Newline) {
      ++newlines;
      newline_since_token = true;
      continue;
    }
    bool blank = any_item && !after_open && newlines >= 2;
    if (IsComment(r.kind)) {
      Comment c{r.begin, r.end, r.kind == RawKind::BlockComment, false, false, blank};
      c.inline_ = c.block && CodeFollowsOnLine(raw, i);
      c.trailing = !c.inline_ && !tokens_.empty() && !newline_since_token;
      comments_.push_back(c);
      if (c.trailing) tokens_.back().trailing.push_back(comments_.size() - 1);
      else pending.push_back(comments_.size() - 1);
      // A comment spanning lines ends on another line than its token.
      if (c.block && text_.substr(r.begin, r.end - r.begin).find('\n') != std::string_view::npos) {
        newline_since_token = true;
      }
    } else {
      tokens_.push_back(Token{r.begin, r.end, blank, std::move(pending), {}});
      pending.clear();
      newline_since_token = false;
      std::string_view t = text_.substr(r.begin, r.end - r.begin);
      after_open = t == "{" || t == "(" || t == "[";
      newlines = 0;
      any_item = true;
      continue;
    }
    newlines = 0;
    any_item = true;
    after_open = false;
  }
  eof_comments_ = std::move(pending);
}

void TokenCursor::WriteComment(size_t index, Doc& doc, bool own_line) {
  if (written_[index]) return;
  written_[index] = true;
  const Comment& c = comments_[index];
  std::string text = CommentText(text_.substr(c.begin, c.end - c.begin));
  if (c.trailing) {
    doc.LineSuffix(" " + text);
  } else if (c.inline_ && !own_line) {
    doc.InlineComment(text);
  } else {
    if (c.blank_before) doc.BlankLine();
    doc.OwnLineComment(text);
  }
}

void TokenCursor::WriteLeading(Token& token, Doc& doc) {
  for (size_t c : token.leading) WriteComment(c, doc);
  if (token.blank_before) doc.BlankLine();
}

void TokenCursor::WriteTrailing(Token& token, Doc& doc) {
  for (size_t c : token.trailing) WriteComment(c, doc);
}

void TokenCursor::SkipSeparators(Doc& doc) {
  while (next_ < tokens_.size() && TokenText(tokens_[next_]) == ";") {
    WriteLeading(tokens_[next_], doc);
    WriteTrailing(tokens_[next_], doc);
    ++next_;
  }
}

void TokenCursor::Take(std::string_view expected, Doc& doc) {
  SkipSeparators(doc);
  if (next_ >= tokens_.size()) {
    throw FormatBug(fmt::format("expected '{}' at the end of the file", expected));
  }
  Token& token = tokens_[next_];
  if (TokenText(token) != expected) {
    throw FormatBug(fmt::format("expected '{}' at byte {}, found '{}'", expected, token.begin,
                                TokenText(token)));
  }
  WriteLeading(token, doc);
  doc.Text(TokenText(token));
  WriteTrailing(token, doc);
  ++next_;
}

void TokenCursor::TakeVerbatim(SourceRange range, Doc& doc) {
  SkipSeparators(doc);
  if (next_ >= tokens_.size() || tokens_[next_].begin != range.begin || range.end <= range.begin) {
    throw FormatBug(fmt::format("expected the text at bytes {}-{}", range.begin, range.end));
  }
  size_t first = next_;
  while (next_ < tokens_.size() && tokens_[next_].begin < range.end) ++next_;
  Token& last = tokens_[next_ - 1];
  if (last.end != range.end) {
    throw FormatBug(fmt::format("the text at bytes {}-{} ends inside a token", range.begin,
                                range.end));
  }
  WriteLeading(tokens_[first], doc);
  // Comments inside the range (in a string's `${...}`) are part of the text.
  for (size_t i = first; i + 1 < next_; ++i) {
    for (size_t c : tokens_[i].trailing) written_[c] = true;
    for (size_t c : tokens_[i + 1].leading) written_[c] = true;
  }
  std::string text;
  for (char ch : text_.substr(range.begin, range.end - range.begin)) {
    if (ch != '\r') text += ch;
  }
  doc.Text(text);
  WriteTrailing(last, doc);
}

auto TokenCursor::Skip(std::string_view text, Doc& doc) -> bool {
  if (!NextIs(text)) return false;
  SkipSeparators(doc);
  WriteLeading(tokens_[next_], doc);
  WriteTrailing(tokens_[next_], doc);
  ++next_;
  return true;
}

auto TokenCursor::NextIs(std::string_view text) const -> bool {
  size_t i = next_;
  while (i < tokens_.size() && TokenText(tokens_[i]) == ";") ++i;
  return i < tokens_.size() && TokenText(tokens_[i]) == text;
}

auto TokenCursor::NextBegin() const -> uint32_t {
  size_t i = next_;
  while (i < tokens_.size() && TokenText(tokens_[i]) == ";") ++i;
  return i < tokens_.size() ? tokens_[i].begin : static_cast<uint32_t>(text_.size());
}

void TokenCursor::FlushLeading(Doc& doc, bool own_lines) {
  SkipSeparators(doc);
  if (next_ < tokens_.size()) {
    for (size_t c : tokens_[next_].leading) WriteComment(c, doc, own_lines);
    return;
  }
  for (size_t c : eof_comments_) WriteComment(c, doc, own_lines);
}

auto TokenCursor::HasLeading() const -> bool {
  size_t i = next_;
  while (i < tokens_.size() && TokenText(tokens_[i]) == ";") {
    if (!tokens_[i].leading.empty() || !tokens_[i].trailing.empty()) return true;
    ++i;
  }
  const auto& leading = i < tokens_.size() ? tokens_[i].leading : eof_comments_;
  for (size_t c : leading) {
    if (!written_[c]) return true;
  }
  return false;
}

void TokenCursor::Finish(Doc& doc) {
  FlushLeading(doc, /*own_lines=*/true);
  if (next_ != tokens_.size()) {
    throw FormatBug(fmt::format("the printer stopped at byte {}", tokens_[next_].begin));
  }
  for (size_t i = 0; i < written_.size(); ++i) {
    if (!written_[i]) {
      throw FormatBug(fmt::format("the comment at byte {} was not written", comments_[i].begin));
    }
  }
}

}  // namespace flow::format
