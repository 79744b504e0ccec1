// The error kinds a connector step can fail with, as one named table.
//
// A failed attempt is classified once, by the transport (step_call.h), into a
// kind. The kind decides whether the step may be retried and is what a
// workflow sees in `catch err { err.kind }` and what `retry N on "kind", ...`
// names. This table is the single source of truth for those names: the
// checker validates a `retry ... on` list against the retryable rows (exactly
// "transport", "timeout", "rate_limited", "server_error", "exit_retryable"),
// the transports use the constants below, and docs/transports.md prints the
// same table. Append rows; never rename one (kinds are stored in journals).
#pragma once

#include <array>
#include <string_view>

namespace flow::connectors {

// Retryable kinds (SPEC §2.5: transport failures, timeouts, HTTP 429 and 5xx,
// exec exit code 75).
inline constexpr std::string_view kKindTransport = "transport";
inline constexpr std::string_view kKindTimeout = "timeout";
inline constexpr std::string_view kKindRateLimited = "rate_limited";
inline constexpr std::string_view kKindServerError = "server_error";
inline constexpr std::string_view kKindExitRetryable = "exit_retryable";
// Permanent kinds: retrying would send the same request and get the same
// answer.
inline constexpr std::string_view kKindHttp = "http";          // HTTP 3xx/4xx (not 429)
inline constexpr std::string_view kKindExit = "exit";          // exec: other exit codes, signals
inline constexpr std::string_view kKindContract = "contract";  // input/output schema mismatch
inline constexpr std::string_view kKindConfig = "config";      // missing env var, bad command

struct ErrorKindInfo {
  std::string_view name;
  bool retryable;
  std::string_view meaning;  // one line, for docs and `flow show`
};

inline constexpr std::array<ErrorKindInfo, 9> kErrorKinds = {{
    {kKindTransport, true, "the request could not be sent or the answer not received"},
    {kKindTimeout, true, "the attempt exceeded its `timeout`"},
    {kKindRateLimited, true, "HTTP 429; Retry-After is honoured"},
    {kKindServerError, true, "HTTP 5xx"},
    {kKindExitRetryable, true, "exec: the process exited with code 75 (EX_TEMPFAIL)"},
    {kKindHttp, false, "HTTP 3xx or 4xx other than 429"},
    {kKindExit, false, "exec: any other non-zero exit code, or killed by a signal"},
    {kKindContract, false, "arguments or response do not match the operation's schema"},
    {kKindConfig, false, "the connector cannot be used here (missing env var, command not found)"},
}};

// The row of `name`, or nullptr for a name that is not a step error kind.
constexpr auto FindErrorKind(std::string_view name) -> const ErrorKindInfo* {
  for (const ErrorKindInfo& info : kErrorKinds) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

// True for the five kinds `retry ... on "kind"` may name.
constexpr auto IsRetryableKind(std::string_view name) -> bool {
  const ErrorKindInfo* info = FindErrorKind(name);
  return info != nullptr && info->retryable;
}

}  // namespace flow::connectors
