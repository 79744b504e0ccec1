// The retry clause of a step (SPEC §2.5) as pure functions: when another
// attempt is allowed and how long to wait before it.
//
// `retry N [backoff D [max M]] [on "kind", ...]`:
// - N is the total number of attempts (retry 1 = no retry; a step without
//   the clause makes one attempt).
// - Without `backoff` the delay is a fixed 1s. With it the delay is "full
//   jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): a
//   uniform random value in [0, min(M, D * 2^(k-1))] before attempt k+1,
//   where M defaults to 100 * D (Temporal's default maximum interval).
// - A Retry-After from the server is a floor: the delay is never shorter.
// - Only retryable outcomes retry, and with `on` only those kinds.
// Compensations without their own clauses use `retry 5 backoff 1s max 1m`.
//
// Nothing here reads a clock or a random generator: the caller passes the
// random number, so the VM can journal the delay it chose and tests are
// deterministic.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vm/connectors/step_call.h"

namespace flow::connectors {

// Without a `backoff` clause (SPEC §2.5).
inline constexpr std::chrono::milliseconds kDefaultFixedDelay{1000};
// Without `max`, the exponential delay is capped at this multiple of the
// backoff, so `retry 30 backoff 1s` cannot wait for years.
inline constexpr int kDefaultMaxBackoffFactor = 100;

struct RetryPolicy {
  int attempts = 1;  // total, at least 1
  // Set when the clause says `backoff D`: exponential with full jitter.
  std::optional<std::chrono::milliseconds> backoff;
  std::optional<std::chrono::milliseconds> max;  // only with backoff
  // Kinds that may retry; empty = every retryable kind.
  std::vector<std::string> on;
};

// A step without a retry clause: one attempt.
auto NoRetryPolicy() -> RetryPolicy;
// A compensation without its own clauses: retry 5 backoff 1s max 1m.
auto CompensationDefaultPolicy() -> RetryPolicy;

// After attempt number `attempt` (from 1) ended with `outcome`: true when
// the outcome is retryable, its kind is allowed by `on`, and attempts remain.
auto ShouldRetry(const RetryPolicy& policy, int attempt, const StepOutcome& outcome) -> bool;

// The delay before attempt `attempt + 1`, for `uniform01` drawn uniformly
// from [0, 1) (clamped into it). Never shorter than `retry_after`.
auto BackoffDelay(const RetryPolicy& policy, int attempt, double uniform01,
                  std::optional<std::chrono::milliseconds> retry_after = std::nullopt)
    -> std::chrono::milliseconds;

}  // namespace flow::connectors
