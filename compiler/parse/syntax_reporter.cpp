#include "compiler/parse/syntax_reporter.h"

#include <antlr4-runtime.h>

namespace flow::parse {

auto SyntaxReporter::TokenRange(const antlr4::Token* token) const -> SourceRange {
  auto end_of_file = static_cast<uint32_t>(file_.text().size());
  if (token == nullptr || token->getStartIndex() == INVALID_INDEX) {
    return SourceRange{id_, end_of_file, end_of_file};
  }
  size_t start = token->getStartIndex();
  size_t stop = token->getStopIndex();
  if (token->getType() == antlr4::Token::EOF || stop == INVALID_INDEX || stop + 1 < start) {
    stop = start - 1;  // an empty range at the start
  }
  return Range(start, stop + 1);
}

auto SyntaxReporter::ClaimLine(size_t line) -> bool {
  return claimed_lines_.insert(line).second;
}

}  // namespace flow::parse
