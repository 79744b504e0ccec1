// "Did you mean" suggestions (STYLE.md §4: one helper for all of them).
//
// A candidate is suggested when its edit distance to the misspelt name (a swap
// of two adjacent letters counts as one edit) is at most kMaxSuggestDistance
// and at most a third of the longer name's length (so "id" is not "fixed" into "to"), ties broken by declaration order.
// Comparison is case-sensitive but a case-only difference counts as distance 1.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostics.h"

namespace flow {

// Two edits covers one transposition or one dropped and one added letter,
// the common typos; more than that suggests unrelated names.
constexpr int kMaxSuggestDistance = 2;

auto EditDistance(std::string_view a, std::string_view b) -> int;

// The closest candidate within the thresholds above, or "" when none is close.
auto BestSuggestion(std::string_view name, std::span<const std::string> candidates) -> std::string;

// "; did you mean 'x'?" for the best suggestion, or "" when there is none:
// the suffix every "unknown ..." diagnostic format ends with.
auto DidYouMean(std::string_view name, std::span<const std::string> candidates) -> std::string;

// The "did you mean" of one diagnostic, found once and used twice: as the
// message suffix and as the quick fix `flow lsp` offers.
struct Suggestion {
  std::string best;  // "" when no candidate is close enough

  // "; did you mean 'x'?", or "" (what DidYouMean returns).
  auto suffix() const -> std::string;
  // Adds the fix "replace `range` with the suggestion" to `diag`; nothing
  // when there is no suggestion. `quoted`: `range` is a string literal (an
  // enum value, an error kind), so the replacement is one too.
  void AttachTo(Diagnostic& diag, SourceRange range, bool quoted = false) const;
};

// BestSuggestion as a Suggestion.
auto Suggest(std::string_view name, std::span<const std::string> candidates) -> Suggestion;

}  // namespace flow
