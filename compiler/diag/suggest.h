// "Did you mean" for diagnostics. The search itself (edit distance,
// thresholds, DidYouMean) is the one helper both halves share,
// vm/base/suggest.h: the checks of a run's input suggest too. Here it is
// tied to a Diagnostic: the message suffix and the quick fix `flow lsp`
// offers.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostics.h"
#include "vm/base/suggest.h"

namespace flow {

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
