// Decoding literal tokens into values: integers, durations, string escapes.
//
// Kept apart from the AST builder and free of ANTLR so the rules (what fits
// in 64 bits, which escapes exist, what a duration unit means) are small pure
// functions with their own unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flow::parse {

// The value of a decimal literal `digits`, negated when `negative` (so that
// -9223372036854775808 fits); nullopt when it does not fit in int64.
auto ParseIntLiteral(std::string_view digits, bool negative) -> std::optional<int64_t>;

// Milliseconds of a duration token like "500ms", "30s", "5m", "2h", "7d";
// nullopt on overflow of int64 milliseconds (or a malformed token).
auto ParseDurationMillis(std::string_view text) -> std::optional<int64_t>;

// The character an escape `\c` stands for (`c` is the text after the
// backslash): n t " \ $; nullopt for any other (E006).
auto DecodeEscape(std::string_view after_backslash) -> std::optional<char>;

}  // namespace flow::parse
