// Run ids (docs/security.md "Run ids"): the one rule every way a run id
// enters flow goes through -- `flow run --id`, the RUN_ID of resume,
// approve, reject, signal, cancel, show and fork, `fork --id`, the ids a
// worker reads back from the database, and any id flow derives itself.
//
// A run id travels into places that give characters meaning: the
// Idempotency-Key header ("<run id>:<step>"; a CR/LF there is header
// injection and makes two runs share a key), FLOW_RUN_ID of exec tools,
// terminal output, and later URLs of the dashboard. So the rule is an
// allow-list, not a list of known-bad characters: letters, digits and
// `_ - . : @`, 1 to kMaxRunIdBytes bytes, not starting with `-` (it would
// read as an option, so the run could not be named on a command line) or
// `.` (`.` and `..` are path segments).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vm/base/result.h"

namespace flow::engine {

// Long enough for any natural key with a prefix ("invoice-2026-01-15:cust_
// 8f3a..."), short enough that a key, a header line and a table column stay
// readable. Temporal's default limit is 1000; ours leaves room for the
// suffixes of derived ids (child runs) within the same rule.
inline constexpr size_t kMaxRunIdBytes = 128;

// Ok when `id` follows the rule above; otherwise an Error whose one-line
// message names the first problem and shows the id with control and
// non-ASCII bytes escaped (QuoteEscaped: `"order-7\r\nX-Tenant: a"`), so the
// message itself cannot carry what it refuses:
//   invalid run id "a b": ' ' at byte 1 is not allowed (letters, digits and _ - . : @ only)
auto CheckRunId(std::string_view id) -> Status;

}  // namespace flow::engine
