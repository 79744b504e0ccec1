// Run-time validation of JSON values against the schema subset of
// json_schema.h (SPEC §3: every connector response is checked against its
// operation's output schema; a mismatch is a `contract` error naming the path).
//
// The validator stops at the first mismatch and reports it as
// "<json path>: <what>", e.g.
//   $.amount: expected integer, got string
//   $.items[1].qty: expected integer, got string
//   $.status: "refunded" is not one of "paid", "pending"
//   $.amount: 0 is less than the minimum 1
//   $.email: does not match pattern '^[^@]+@[^@]+$'
//   $: missing required property 'id'
// It runs on every response, so the success path allocates nothing of its
// own: the path is a chain of stack frames turned into text only on failure.
//
// Decisions (see docs/connectors.md):
// - "integer" means a JSON integer token that fits in 64 bits; 1.0 is a
//   number, not an integer (flow's int is 64-bit and JSON floats are not).
// - A property that is not `required` may be absent or null: its flow type
//   is T?, so a null is what the program would read for "absent" anyway.
// - A value that is null where the type set names "null" (or `nullable`)
//   passes even when `enum`/`const` do not list null (OpenAPI 3.0.3 rule).
// - minLength/maxLength count Unicode code points, as JSON Schema does.
// - `pattern` is an unanchored ECMAScript search; strings longer than
//   kMaxPatternSubjectBytes are reported instead of matched.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "vm/schema/json_schema.h"

namespace flow::jsonschema {

// std::regex matches recursively (one stack frame per character in
// libstdc++), so a huge response string could overflow the stack; 16 KiB is
// far above any identifier, e-mail or code a pattern is written for.
constexpr size_t kMaxPatternSubjectBytes = 16 * 1024;
// Values quoted in messages (enum, const, date-time) are cut to this many
// bytes: a message is one line, and a response may be large or sensitive.
constexpr size_t kMaxQuotedValueBytes = 64;

// Checks `value` against the schema node `schema` of `pool`. Returns the
// first mismatch as "<path>: <what>", or nullopt when the value conforms.
auto Validate(const SchemaPool& pool, NodeId schema, const nlohmann::json& value)
    -> std::optional<std::string>;
auto Validate(const SchemaPool& pool, NodeId schema, const nlohmann::ordered_json& value)
    -> std::optional<std::string>;

// RFC 3339 section 5.6 date-time: 2026-01-15T09:30:00Z,
// 2026-01-15T09:30:00.125+01:00 ("T"/"Z" in either case; calendar checked,
// including leap years; second 60 allowed for leap seconds).
auto IsRfc3339DateTime(std::string_view text) -> bool;

}  // namespace flow::jsonschema
