// RFC 3339 text for `time` values and flow's text for durations.
//
// Times are UTC milliseconds since the epoch. Formatting is canonical:
// "2026-01-15T09:30:00Z", with ".250" milliseconds only when non-zero.
// Parsing accepts any RFC 3339 date-time (offsets, fractions of any length,
// truncated to milliseconds). Durations print as a person writes them
// (docs/language.md, "Durations as text"): days, hours, minutes and seconds
// from the largest, milliseconds as a fraction of a second, and plain
// milliseconds only below a second: 500 -> "500ms", 1500 -> "1.5s",
// 30010 -> "30.01s", 5400000 -> "1h30m", 183600000 -> "2d3h", 0 -> "0s".
// A value that is a whole number of one unit prints as a duration literal
// of the language ("2h", "30s", "7d"); the others ("1m30s") are not
// literals, but ParseDuration reads them back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flow::value {

auto FormatTime(int64_t ms) -> std::string;
// nullopt when `text` is not an RFC 3339 date-time.
auto ParseTime(std::string_view text) -> std::optional<int64_t>;

// The text above; never fails (INT64_MIN included).
auto FormatDuration(int64_t ms) -> std::string;
// Reads what FormatDuration writes, and every duration literal: one or more
// `<digits><unit>` parts with units d h m s ms strictly from the largest
// ("1h30m", "2d3h", "500ms"), an optional leading '-', and a fraction of at
// most three digits on seconds only ("30.01s"). nullopt otherwise
// ("5 weeks", "30m1h", "1.5h", "") or on overflow.
auto ParseDuration(std::string_view text) -> std::optional<int64_t>;

}  // namespace flow::value
