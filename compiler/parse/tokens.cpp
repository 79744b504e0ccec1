#include "compiler/parse/tokens.h"

#include <antlr4-runtime.h>

#include "FlowLexer.h"
#include "compiler/parse/scanner.h"
#include "compiler/parse/source_offsets.h"

namespace flow::parse {

namespace {

using L = grammar::FlowLexer;

auto KindOf(size_t type) -> RawKind {
  switch (type) {
    case L::ID: return RawKind::Word;
    case L::INT: case L::FLOAT: return RawKind::Number;
    case L::DURATION: return RawKind::Duration;
    case L::STR_START: return RawKind::StringStart;
    case L::STR_TEXT: return RawKind::StringText;
    case L::STR_ESCAPE: return RawKind::StringEscape;
    case L::STR_DOLLAR: return RawKind::StringDollar;
    case L::INTERP_START: return RawKind::InterpStart;
    case L::STR_END: return RawKind::StringEnd;
    case L::BLOCK_COMMENT: return RawKind::BlockComment;
    case L::NL: case L::STR_NEWLINE: return RawKind::Newline;
    case L::BAD_CHAR: return RawKind::Bad;
    default:
      return IsKeywordToken(type) ? RawKind::Word : RawKind::Punct;
  }
}

// The line comment the Scanner skipped in the gap [begin, end) between two
// tokens, if any: the gap holds blanks, then possibly `//...` to the end of
// the line (trailing blanks are part of the comment; they are cut off).
void AddSkippedComment(std::string_view text, uint32_t begin, uint32_t end,
                       std::vector<RawToken>& out) {
  std::string_view gap = text.substr(begin, end - begin);
  size_t slash = gap.find("//");
  if (slash == std::string_view::npos) return;
  uint32_t stop = end;
  while (stop > begin + slash + 2 && (text[stop - 1] == ' ' || text[stop - 1] == '\t' ||
                                      text[stop - 1] == '\f')) {
    --stop;
  }
  out.push_back(RawToken{RawKind::LineComment, false, begin + static_cast<uint32_t>(slash), stop});
}

}  // namespace

auto ScanRawTokens(std::string_view text) -> std::vector<RawToken> {
  std::vector<RawToken> out;
  if (!IsValidUtf8Text(text)) return out;
  SourceOffsets offsets(text);
  antlr4::ANTLRInputStream input(text.data(), text.size());
  Scanner scanner(text, &input);
  uint32_t previous_end = 0;
  while (true) {
    auto token = scanner.nextToken();
    uint32_t begin = offsets.ByteOffset(token->getStartIndex());
    bool eof = token->getType() == antlr4::Token::EOF;
    if (eof) begin = static_cast<uint32_t>(text.size());
    AddSkippedComment(text, previous_end, begin, out);
    if (eof) break;
    uint32_t end = offsets.ByteOffset(token->getStopIndex() + 1);
    size_t type = token->getType();
    out.push_back(RawToken{KindOf(type), type >= L::CONNECTOR && type <= L::ON, begin, end});
    previous_end = end;
  }
  return out;
}

}  // namespace flow::parse
