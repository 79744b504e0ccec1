// The builtin transport: what the `log` and `http` connectors of
// stdlib/builtin_connectors.h do when a workflow calls them (SPEC §3).
// Registered as "builtin" (transport.h); it lives here, beside the other
// transports, while the connector schemas it implements are data in
// stdlib/ that the compiler embeds in every program.
//
// They are steps like any other (journaled, retried, validated against the
// output schema), so they go through PerformAttempt and return a
// StepOutcome:
// - log.info / log.warn / log.error write "[info] message" (and the `data`
//   argument as compact JSON, when given) as one line to stderr and return
//   { at: <now, RFC 3339 UTC with milliseconds> }. The journal entry is the
//   VM's job.
// - http.request sends one request over http_client.h: `headers` is an
//   object of strings, a string `body` is sent as is (Content-Type
//   text/plain unless a header says otherwise), any other body as JSON
//   (application/json). The answer is { status, headers (lower-cased names,
//   repeated headers joined with ", "), body (parsed JSON when it parses,
//   else the text) }. Transport failures and 5xx are retryable
//   ("transport", "server_error"), a timeout is "timeout"; every other
//   status, 4xx and 429 included, is a result the workflow inspects. No
//   Idempotency-Key is added: an arbitrary server would not honour it.
#pragma once

#include <string>

#include "vm/connectors/step_call.h"

namespace flow::connectors {

// One attempt of a builtin operation; `attempt.args` has passed the input
// schema. An unknown connector or operation is a permanent "config" outcome.
auto PerformBuiltinAttempt(const StepAttempt& attempt) -> StepOutcome;

// The current time as RFC 3339 UTC with milliseconds: 2026-01-15T09:30:00.125Z.
auto NowRfc3339() -> std::string;

}  // namespace flow::connectors
