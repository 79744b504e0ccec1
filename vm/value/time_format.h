// RFC 3339 text for `time` values and flow's text for durations.
//
// Times are UTC milliseconds since the epoch. Formatting is canonical:
// "2026-01-15T09:30:00Z", with ".250" milliseconds only when non-zero.
// Parsing accepts any RFC 3339 date-time (offsets, fractions of any length,
// truncated to milliseconds). Durations print in the largest unit that
// divides them exactly: 1500 -> "1500ms", 90000 -> "90s", 7200000 -> "2h".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flow::value {

auto FormatTime(int64_t ms) -> std::string;
// nullopt when `text` is not an RFC 3339 date-time.
auto ParseTime(std::string_view text) -> std::optional<int64_t>;

auto FormatDuration(int64_t ms) -> std::string;
// "500ms", "30s", "5m", "2h", "7d"; nullopt otherwise or on overflow.
auto ParseDuration(std::string_view text) -> std::optional<int64_t>;

}  // namespace flow::value
