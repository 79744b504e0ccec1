// JSON text from outside flow: the one bounded parser every entry point
// uses -- `--input`, `flow signal --data`, http and exec responses, the
// `http.request` body, `parse_json`, connector files, JSON read back from
// the database for display.
//
// Why a depth limit: nlohmann's parser is iterative, but almost everything
// done with a document afterwards recurses once per level -- `dump`,
// copies, schema validation, conversion into VM values, the state writer.
// A 65,000-deep array (130 KB of brackets) parsed fine and then overflowed
// the stack in `dump` (a segfault, not an error). So the text is scanned
// for its nesting depth *before* it is parsed (linear, no allocation), and
// a document deeper than the limit is refused with a one-line reason.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vm/base/result.h"

namespace flow {

// Arrays and objects nest at most this deep in JSON that enters flow.
// Real documents nest a dozen levels (serde_json's default limit is 128,
// Python's ~1000); 512 keeps every recursive walk of a value a few hundred
// KiB of stack at most, far from the 8 MiB of the main thread or a worker
// thread, and stays below kMaxValueDepth (vm/value/value.h), so a document
// that entered can still be put inside a record or a list by the workflow.
inline constexpr int kMaxJsonDepth = 512;

// The byte offset of the first `[` or `{` that opens a level deeper than
// `max_depth`, or npos. Brackets inside strings do not count. Works on any
// text (unbalanced or not JSON at all): it only counts.
auto FindTooDeep(std::string_view text, int max_depth) -> size_t;

// Parses `text` as one JSON document. Errors (one line, worded to follow
// "<what> is ", e.g. "input is not valid JSON: line 3, column 10: ..."):
//   "nested deeper than 512 levels"  (FindTooDeep found a level too many)
//   "not valid JSON: line L, column C: <reason>"  (syntax; see JsonSyntaxError)
//   "not valid JSON: a number is too large"       (beyond a double: 1e999)
// Never throws a library exception.
auto ParseJsonText(std::string_view text, int max_depth = kMaxJsonDepth) -> Result<nlohmann::json>;

// Where and why a JSON text failed to parse, in words a person can act on:
// for `--input` ("line 2, column 13") and connector files (a caret at the
// byte). nlohmann's message carries its own "[json.exception...] parse
// error at line L, column C:" prefix and a "last read: '...'" clause that
// spells control characters as <U+000A>; callers print the place
// themselves, so both go.
struct JsonSyntaxError {
  size_t offset = 0;  // 0-based byte where the parser stopped, at most text.size()
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in bytes
  std::string reason; // "syntax error while parsing value - invalid literal"
};

// Describes `e`, thrown while parsing `text`.
auto DescribeJsonError(std::string_view text, const nlohmann::json::parse_error& e) -> JsonSyntaxError;

// nlohmann's message `what` without its location prefix and "last read" clause.
auto JsonErrorReason(std::string what) -> std::string;

// The message of the depth error, shared with callers that report it in
// their own words ("input is nested deeper than 512 levels").
auto TooDeepMessage(int max_depth = kMaxJsonDepth) -> std::string;

}  // namespace flow
