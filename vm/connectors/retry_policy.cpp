#include "vm/connectors/retry_policy.h"

#include <algorithm>

namespace flow::connectors {

using std::chrono::milliseconds;

auto NoRetryPolicy() -> RetryPolicy {
  return RetryPolicy{};
}

auto CompensationDefaultPolicy() -> RetryPolicy {
  RetryPolicy policy;
  policy.attempts = 5;
  policy.backoff = milliseconds(1000);
  policy.max = milliseconds(60'000);
  return policy;
}

auto ShouldRetry(const RetryPolicy& policy, int attempt, const StepOutcome& outcome) -> bool {
  if (outcome.status != StepOutcome::Status::Retryable) return false;
  if (attempt >= policy.attempts) return false;
  if (policy.on.empty()) return true;
  return std::find(policy.on.begin(), policy.on.end(), outcome.error_kind) != policy.on.end();
}

auto BackoffDelay(const RetryPolicy& policy, int attempt, double uniform01,
                  std::optional<milliseconds> retry_after) -> milliseconds {
  milliseconds delay = kDefaultFixedDelay;
  if (policy.backoff) {
    int64_t base = std::max<int64_t>(policy.backoff->count(), 0);
    int64_t cap = policy.max ? policy.max->count() : base * kDefaultMaxBackoffFactor;
    // base * 2^(attempt-1), stopping as soon as it reaches the cap (no overflow).
    int64_t ceiling = base;
    for (int i = 1; i < attempt && ceiling < cap; ++i) ceiling *= 2;
    ceiling = std::clamp<int64_t>(ceiling, 0, std::max<int64_t>(cap, 0));
    double u = std::clamp(uniform01, 0.0, 1.0);
    // Full jitter over the closed range [0, ceiling].
    delay = milliseconds(static_cast<int64_t>(u * static_cast<double>(ceiling + 1)));
    delay = std::min(delay, milliseconds(ceiling));
  }
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace flow::connectors
