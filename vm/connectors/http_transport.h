// The http transport (SPEC §3): one attempt of a connector operation as one
// HTTP request, and the classification of its answer.
//
// Request: base_url (or the non-empty environment variable base_url_env) +
// the route's path with `{name}` parameters taken from the arguments and
// percent-encoded; the other arguments are the JSON body (POST, PUT, PATCH)
// or the query string (GET, DELETE). Headers: Content-Type and Accept
// application/json, Idempotency-Key on every attempt, and the credentials
// named by `auth`, read from the environment at each attempt.
// Secrets (docs/security.md): every form of every credential value is
// redacted from the response body before it is parsed or quoted, and from
// the final message (redact.h); a header carrying a control character is
// never sent (http_client.h HeaderProblem).
// Answer: 2xx is validated against the output schema; 429 is rate_limited
// (with Retry-After), 5xx server_error, any other status a permanent "http"
// error quoting the status and the start of the body. docs/transports.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vm/connectors/step_call.h"

namespace flow::connectors {

// One attempt over http. `attempt.args` has passed the input schema.
auto PerformHttpAttempt(const StepAttempt& attempt) -> StepOutcome;

}  // namespace flow::connectors
