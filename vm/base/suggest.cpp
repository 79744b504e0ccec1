#include "vm/base/suggest.h"

#include <algorithm>
#include <cctype>

namespace flow {

auto EditDistance(std::string_view a, std::string_view b) -> int {
  // Optimal string alignment: insertions, deletions, substitutions and swaps
  // of two adjacent letters each cost 1, so "emial" is one edit from "email"
  // (the commonest typo). A letter replaced by itself in another case costs 1
  // like any other substitution. Three rows: the swap looks two rows back.
  std::vector<int> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

auto BestSuggestion(std::string_view name, std::span<const std::string> candidates) -> std::string {
  std::string best;
  int best_distance = kMaxSuggestDistance + 1;
  for (const std::string& candidate : candidates) {
    if (candidate == name) continue;
    int distance = EditDistance(name, candidate);
    int longest = static_cast<int>(std::max(name.size(), candidate.size()));
    if (distance * 3 > longest) continue;
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

auto DidYouMeanSuffix(std::string_view best) -> std::string {
  return best.empty() ? "" : "; did you mean '" + std::string(best) + "'?";
}

auto DidYouMean(std::string_view name, std::span<const std::string> candidates) -> std::string {
  return DidYouMeanSuffix(BestSuggestion(name, candidates));
}

}  // namespace flow
