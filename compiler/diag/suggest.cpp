// See suggest.h: the suggestion as a diagnostic's suffix and quick fix; the
// edit distance behind it is vm/base/suggest.cpp.
#include "compiler/diag/suggest.h"

namespace flow {

auto Suggest(std::string_view name, std::span<const std::string> candidates) -> Suggestion {
  return Suggestion{BestSuggestion(name, candidates)};
}

auto Suggestion::suffix() const -> std::string { return DidYouMeanSuffix(best); }

void Suggestion::AttachTo(Diagnostic& diag, SourceRange range, bool quoted) const {
  if (best.empty() || !range.valid()) return;
  if (!quoted) {
    diag.fixes.push_back(DiagFix{range, best});
    return;
  }
  // A string literal of the suggestion: the characters a flow string gives
  // a meaning to are escaped (SPEC 2.1).
  std::string literal = "\"";
  for (char c : best) {
    if (c == '"' || c == '\\' || c == '$') literal += '\\';
    literal += c;
  }
  diag.fixes.push_back(DiagFix{range, literal + "\""});
}

}  // namespace flow
