// The retry clause's arithmetic (vm/connectors/retry_policy.h) with an
// injected random number, so every expectation is exact.
#include "vm/connectors/retry_policy.h"

#include <gtest/gtest.h>

namespace flow::connectors {
namespace {

using std::chrono::milliseconds;

auto Failure(std::string_view kind) -> StepOutcome {
  return FailOutcome(kind, "boom");
}

auto Policy(int attempts, std::optional<int64_t> backoff_ms,
            std::optional<int64_t> max_ms = std::nullopt) -> RetryPolicy {
  RetryPolicy policy;
  policy.attempts = attempts;
  if (backoff_ms) policy.backoff = milliseconds(*backoff_ms);
  if (max_ms) policy.max = milliseconds(*max_ms);
  return policy;
}

TEST(RetryPolicy, OnlyRetryableKindsRetryWhileAttemptsRemain) {
  RetryPolicy policy = Policy(3, std::nullopt);
  EXPECT_TRUE(ShouldRetry(policy, 1, Failure("server_error")));
  EXPECT_TRUE(ShouldRetry(policy, 2, Failure("timeout")));
  EXPECT_FALSE(ShouldRetry(policy, 3, Failure("timeout")));  // N total attempts
  for (const char* kind : {"http", "contract", "exit", "config"}) {
    EXPECT_FALSE(ShouldRetry(policy, 1, Failure(kind))) << kind;
  }
  EXPECT_FALSE(ShouldRetry(policy, 1, OkOutcome(nullptr)));
  EXPECT_FALSE(ShouldRetry(NoRetryPolicy(), 1, Failure("transport")));
}

TEST(RetryPolicy, OnListRestrictsKinds) {
  RetryPolicy policy = Policy(5, 1000);
  policy.on = {"rate_limited", "timeout"};
  EXPECT_TRUE(ShouldRetry(policy, 1, Failure("rate_limited")));
  EXPECT_TRUE(ShouldRetry(policy, 1, Failure("timeout")));
  EXPECT_FALSE(ShouldRetry(policy, 1, Failure("server_error")));
  policy.on = {"contract"};  // the checker rejects this; it still never retries
  EXPECT_FALSE(ShouldRetry(policy, 1, Failure("contract")));
}

TEST(RetryPolicy, WithoutBackoffTheDelayIsAFixedSecond) {
  RetryPolicy policy = Policy(4, std::nullopt);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_EQ(BackoffDelay(policy, attempt, 0.0), milliseconds(1000));
    EXPECT_EQ(BackoffDelay(policy, attempt, 0.99), milliseconds(1000));
  }
}

TEST(RetryPolicy, BackoffDoublesWithFullJitterCappedAtMax) {
  RetryPolicy policy = Policy(10, 2000, 60'000);  // retry 10 backoff 2s max 1m
  // The upper end of the jitter range: 2s, 4s, 8s, 16s, 32s, then the cap.
  const int64_t ceilings[] = {2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (int attempt = 1; attempt <= 7; ++attempt) {
    int64_t ceiling = ceilings[attempt - 1];
    EXPECT_EQ(BackoffDelay(policy, attempt, 0.0), milliseconds(0)) << attempt;
    EXPECT_EQ(BackoffDelay(policy, attempt, 0.5), milliseconds((ceiling + 1) / 2)) << attempt;
    EXPECT_EQ(BackoffDelay(policy, attempt, 0.99999999), milliseconds(ceiling)) << attempt;
  }
  // Huge attempt numbers neither overflow nor exceed the cap.
  EXPECT_EQ(BackoffDelay(policy, 1'000'000, 0.99999999), milliseconds(60'000));
  // Out-of-range random numbers are clamped.
  EXPECT_EQ(BackoffDelay(policy, 1, 7.0), milliseconds(2000));
  EXPECT_EQ(BackoffDelay(policy, 1, -1.0), milliseconds(0));
}

TEST(RetryPolicy, WithoutMaxTheCapIsAHundredTimesTheBackoff) {
  RetryPolicy policy = Policy(40, 1000);
  EXPECT_EQ(BackoffDelay(policy, 8, 0.99999999), milliseconds(100'000));
  EXPECT_EQ(BackoffDelay(policy, 7, 0.99999999), milliseconds(64'000));
}

TEST(RetryPolicy, RetryAfterIsAFloor) {
  RetryPolicy policy = Policy(5, 1000, 4000);
  EXPECT_EQ(BackoffDelay(policy, 1, 0.1, milliseconds(7000)), milliseconds(7000));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.99999999, milliseconds(10)), milliseconds(4000));
  EXPECT_EQ(BackoffDelay(Policy(2, std::nullopt), 1, 0.0, milliseconds(3000)), milliseconds(3000));
}

TEST(RetryPolicy, CompensationDefault) {
  RetryPolicy policy = CompensationDefaultPolicy();
  EXPECT_EQ(policy.attempts, 5);
  EXPECT_EQ(policy.backoff, milliseconds(1000));
  EXPECT_EQ(policy.max, milliseconds(60'000));
  EXPECT_TRUE(policy.on.empty());
}

TEST(ErrorKinds, TheRetryableTableMatchesTheCheckersList) {
  std::vector<std::string_view> retryable;
  for (const ErrorKindInfo& info : kErrorKinds) {
    if (info.retryable) retryable.push_back(info.name);
  }
  EXPECT_EQ(retryable, (std::vector<std::string_view>{"transport", "timeout", "rate_limited",
                                                      "server_error", "exit_retryable"}));
  EXPECT_TRUE(IsRetryableKind("rate_limited"));
  EXPECT_FALSE(IsRetryableKind("contract"));
  EXPECT_FALSE(IsRetryableKind("nonsense"));
  EXPECT_EQ(FailOutcome("http", "x").status, StepOutcome::Status::Permanent);
  EXPECT_EQ(FailOutcome("timeout", "x").status, StepOutcome::Status::Retryable);
}

}  // namespace
}  // namespace flow::connectors
