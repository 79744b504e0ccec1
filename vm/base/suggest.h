// "Did you mean" suggestions (STYLE.md §4: one helper for all of them).
// It lives on the runtime side because both halves suggest: the compiler's
// diagnostics and the checks of a run's input (vm/engine/input_check.cpp);
// compiler/diag/suggest.h forwards here.
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

namespace flow {

// Two edits covers one transposition or one dropped and one added letter,
// the common typos; more than that suggests unrelated names.
constexpr int kMaxSuggestDistance = 2;

auto EditDistance(std::string_view a, std::string_view b) -> int;

// The closest candidate within the thresholds above, or "" when none is close.
auto BestSuggestion(std::string_view name, std::span<const std::string> candidates) -> std::string;

// "; did you mean 'x'?" for `best`, or "" when it is empty: the one
// spelling of the suffix every "unknown ..." message ends with.
auto DidYouMeanSuffix(std::string_view best) -> std::string;

// "; did you mean 'x'?" for the best suggestion, or "" when there is none:
// the suffix every "unknown ..." diagnostic format ends with.
auto DidYouMean(std::string_view name, std::span<const std::string> candidates) -> std::string;

}  // namespace flow
