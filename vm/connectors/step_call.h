// One attempt of a connector step: the interface between the VM and the
// transports (SPEC §3).
//
// The VM owns everything durable about a step (journal, retries, backoff
// timers, compensation); this layer owns exactly one attempt: check the
// arguments against the input schema, send them over the connector's
// transport (a Transport of transport.h, found by name in the runtime's
// registry), and classify what came back into an
// outcome: Ok with the validated output, or a failure with an error kind
// from error_kinds.h that says whether another attempt may help. It keeps
// no state between attempts except a reusable HTTP handle per thread, so
// the VM can call it from any thread and retry by calling it again with the
// same StepAttempt (same idempotency key).
//
// Failures never escape as exceptions or Results: every problem is an
// outcome, because the VM must journal it and may let the workflow `catch`
// it. A broken machine (a missing command, working directory or
// environment variable) is the outcome Blocked: nothing was sent, and the
// engine suspends the run (reason `blocked`, SPEC §4) instead of failing it.
// Messages are one line and never contain a secret read from the
// environment (every secret value used for the attempt is redacted from the
// message, even if the server echoes it back). docs/transports.md describes
// the observable behaviour.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "vm/base/secret_ref.h"
#include "vm/connectors/connector_file.h"
#include "vm/connectors/error_kinds.h"

namespace flow::connectors {

struct StepAttempt {
  const ConnectorFile* connector = nullptr;
  const Operation* op = nullptr;  // one of connector->operations
  // The folder of the connector file: exec commands containing a '/' are
  // resolved against it and it is the child's working directory. Ignored by
  // the other transports. "" means the current directory.
  std::string connector_dir;
  // The named arguments: a JSON object (or null when the operation takes
  // none). An argument that was left out is simply absent.
  nlohmann::json args;
  // The same on every attempt of one step (SPEC §3). Sent as the
  // Idempotency-Key header (http) or FLOW_IDEMPOTENCY_KEY (exec); an empty
  // key sends no header.
  std::string idempotency_key;
  std::string run_id;  // FLOW_RUN_ID for exec
  // Per-attempt limit; zero means none. The engine always sets one
  // (AttemptTimeout): nothing waits for ever.
  std::chrono::milliseconds timeout{0};
  // True when the attempt is sent again after a crash (its previous send
  // may still be at work): exec first kills and waits for what is left of
  // the previous attempt (process_guard.h), so two copies never overlap.
  bool resent = false;
  // The secrets in `args` ("***" there): PerformAttempt reads each variable
  // and puts its value in place for this attempt only (secrets.h).
  std::vector<SecretRef> secrets = {};
  // Set by PerformAttempt for the transport: the values it put in place,
  // which the transport redacts (redact.h) from what comes back before
  // anything reads it, as it does its own credentials.
  std::vector<std::string> secret_values = {};
};

struct StepOutcome {
  // Blocked: the attempt could not be sent because of the machine it runs
  // on; `message` names exactly what is missing (kind "config").
  enum class Status { Ok, Retryable, Permanent, Blocked };
  Status status = Status::Ok;
  nlohmann::json output;   // Ok: the response, validated against the output schema
  std::string error_kind;  // otherwise: a name from kErrorKinds
  std::string message;     // otherwise: one line, secrets redacted
  // rate_limited: the server's Retry-After (delta-seconds or HTTP-date),
  // at least zero and at most kMaxRetryAfter.
  std::optional<std::chrono::milliseconds> retry_after;

  auto ok() const -> bool { return status == Status::Ok; }
  auto blocked() const -> bool { return status == Status::Blocked; }
};

// A server asking for more than a day is treated as asking for a day, so a
// bogus header cannot overflow the timer arithmetic.
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);
// Messages quote at most this much of a response body or of stderr: enough
// for an API's error sentence, short enough for one journal line.
inline constexpr size_t kMaxMessageExcerptBytes = 512;

// SPEC §4 "Nothing hangs for ever": the per-attempt limit of a step (or a
// compensation) that has no `timeout` clause and whose operation declares
// no "timeout". Long enough for any honest API call or tool run; a step
// that needs longer says so.
inline constexpr std::chrono::milliseconds kDefaultStepTimeout = std::chrono::minutes(5);

// The limit of one attempt: the step's `timeout` clause when it has one,
// else the operation's "timeout", else kDefaultStepTimeout. Never zero.
auto AttemptTimeout(std::optional<std::chrono::milliseconds> clause, const Operation& op)
    -> std::chrono::milliseconds;

class TransportRegistry;

// Performs one attempt over the transport `transports` registers under the
// connector's transport kind (transport.h). Arguments that do not match the
// input schema are a permanent "contract" outcome and nothing is sent; so
// is a secret passed to a built-in other than http.request, and a kind with
// no registered transport is a permanent "config" outcome. An unset secret
// variable is a blocked "config" outcome. Secret values are masked out of
// the message and the output. Never throws.
auto PerformAttempt(const TransportRegistry& transports, const StepAttempt& attempt) -> StepOutcome;

// Outcome builders shared by the transports.
auto OkOutcome(nlohmann::json output) -> StepOutcome;
// The status follows the kind's row in kErrorKinds.
auto FailOutcome(std::string_view kind, std::string message) -> StepOutcome;
// Nothing was sent: `message` names what the machine lacks ("command
// 'crm' not found in PATH", "environment variable CRM_TOKEN is not set").
auto BlockedOutcome(std::string message) -> StepOutcome;

// Parses `text` as JSON and validates it against `op`'s output schema:
// Ok, or a "contract" failure ("response is not JSON: ...", "$.amount:
// expected integer, got string"). `what` names the text in the message
// ("response", "stdout").
auto ParseAndValidateOutput(const ConnectorFile& connector, const Operation& op,
                            std::string_view text, std::string_view what) -> StepOutcome;
// Validates an already-parsed output (the builtin transport).
auto ValidateOutput(const ConnectorFile& connector, const Operation& op, nlohmann::json output)
    -> StepOutcome;

// One line, at most kMaxMessageExcerptBytes (cut on a UTF-8 boundary, "..."
// appended), whitespace runs and control characters folded to one space,
// leading and trailing whitespace trimmed.
auto Excerpt(std::string_view text, size_t max_bytes = kMaxMessageExcerptBytes) -> std::string;

}  // namespace flow::connectors
