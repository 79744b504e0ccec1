// Where and why a JSON text failed to parse, in words a person can act on:
// for `--input` ("line 2, column 13") and connector files (a caret at the
// byte). nlohmann's message carries its own "[json.exception...] parse
// error at line L, column C:" prefix and a "last read: '...'" clause that
// spells control characters as <U+000A>; callers print the place
// themselves, so both go.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace flow {

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

}  // namespace flow
