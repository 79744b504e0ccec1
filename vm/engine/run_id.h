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
//
// Child runs (docs/composition.md) take the id `<parent id>/<n>`: `/` joins
// the segments of a derived id, so every id holds one or more segments,
// each following the rule above. An id a user chooses (`flow run --id`,
// `flow fork --id`) is a single segment of at most kMaxRunIdBytes
// (CheckNewRunId): no user run can take a child's id. A derived id may grow
// to kMaxDerivedRunIdBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vm/base/result.h"

namespace flow::engine {

// Long enough for any natural key with a prefix ("invoice-2026-01-15:cust_
// 8f3a..."), short enough that a key, a header line and a table column stay
// readable. Temporal's default limit is 1000; ours leaves room for the
// suffixes of derived ids (child runs) within the same rule.
inline constexpr size_t kMaxRunIdBytes = 128;
// A child's id adds "/<n>" to its parent's per level of nesting; nesting is
// bounded by the program (a workflow cannot call itself, E098). Why 512:
// a 128-byte root id with some 60 levels of children below it; a call
// that would go deeper fails with kind `limit`.
inline constexpr size_t kMaxDerivedRunIdBytes = 512;

// Ok when `id` follows the rule above; otherwise an Error whose one-line
// message names the first problem and shows the id with control and
// non-ASCII bytes escaped (QuoteEscaped: `"order-7\r\nX-Tenant: a"`), so the
// message itself cannot carry what it refuses:
//   invalid run id "a b": ' ' at byte 1 is not allowed (letters, digits and _ - . : @ only)
// Also accepts derived ids: segments joined by `/`, at most
// kMaxDerivedRunIdBytes.
auto CheckRunId(std::string_view id) -> Status;

// An id chosen by a user for a new run: CheckRunId, one segment (no `/`,
// reserved for child runs) and at most kMaxRunIdBytes.
auto CheckNewRunId(std::string_view id) -> Status;

// The id of the `n`-th child run (from 1) of run `parent`: "<parent>/<n>".
auto ChildRunId(std::string_view parent, int64_t n) -> std::string;

}  // namespace flow::engine
