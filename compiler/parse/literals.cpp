#include "compiler/parse/literals.h"

#include <limits>

namespace flow::parse {

auto ParseIntLiteral(std::string_view digits, bool negative) -> std::optional<int64_t> {
  if (digits.empty()) return std::nullopt;
  // Accumulate as a negative number: its range is one larger.
  int64_t value = 0;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    int d = c - '0';
    if (value < (kMin + d) / 10) return std::nullopt;
    value = value * 10 - d;
  }
  if (negative) return value;
  if (value == kMin) return std::nullopt;
  return -value;
}

auto ParseDurationMillis(std::string_view text) -> std::optional<int64_t> {
  size_t digits_end = 0;
  while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9') {
    ++digits_end;
  }
  std::string_view unit = text.substr(digits_end);
  int64_t factor = 0;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60 * 1000;
  else if (unit == "h") factor = 60 * 60 * 1000;
  else if (unit == "d") factor = 24 * 60 * 60 * 1000;
  else return std::nullopt;
  auto count = ParseIntLiteral(text.substr(0, digits_end), false);
  if (!count || *count > std::numeric_limits<int64_t>::max() / factor) return std::nullopt;
  return *count * factor;
}

auto DecodeEscape(std::string_view after_backslash) -> std::optional<char> {
  if (after_backslash.size() != 1) return std::nullopt;
  switch (after_backslash[0]) {
    case 'n': return '\n';
    case 't': return '\t';
    case '"': return '"';
    case '\\': return '\\';
    case '$': return '$';
    default: return std::nullopt;
  }
}

}  // namespace flow::parse
