#include "vm/value/time_format.h"

#include <fmt/format.h>

#include <cctype>

namespace flow::value {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
auto DaysFromCivil(int64_t y, unsigned m, unsigned d) -> int64_t {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

auto FloorDiv(int64_t a, int64_t b) -> int64_t { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Cursor {
  std::string_view s;
  size_t i = 0;
  auto Digits(int n, int& out) -> bool {
    out = 0;
    for (int k = 0; k < n; ++k, ++i) {
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  }
  auto Eat(char c) -> bool {
    if (i < s.size() && (s[i] == c || std::tolower(static_cast<unsigned char>(s[i])) == std::tolower(static_cast<unsigned char>(c)))) { ++i; return true; }
    return false;
  }
};

}  // namespace

auto FormatTime(int64_t ms) -> std::string {
  int64_t days = FloorDiv(ms, 86400000);
  int64_t rest = ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  int64_t h = rest / 3600000, mi = rest / 60000 % 60, s = rest / 1000 % 60, frac = rest % 1000;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, h, mi, s);
  if (frac != 0) out += fmt::format(".{:03}", frac);
  return out + "Z";
}

auto ParseTime(std::string_view text) -> std::optional<int64_t> {
  Cursor c{text};
  int y, mo, d, h, mi, s;
  if (!c.Digits(4, y) || !c.Eat('-') || !c.Digits(2, mo) || !c.Eat('-') || !c.Digits(2, d)) return std::nullopt;
  if (!c.Eat('T') && !c.Eat(' ')) return std::nullopt;
  if (!c.Digits(2, h) || !c.Eat(':') || !c.Digits(2, mi) || !c.Eat(':') || !c.Digits(2, s)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t frac_ms = 0;
  if (c.Eat('.')) {
    int digits = 0, digit = 0;
    while (c.Digits(1, digit)) {
      if (digits < 3) frac_ms = frac_ms * 10 + digit;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 3; ++k) frac_ms *= 10;
  }
  int64_t offset_min = 0;
  if (!c.Eat('Z')) {
    int sign = c.Eat('+') ? 1 : (c.Eat('-') ? -1 : 0);
    int oh, om;
    if (sign == 0 || !c.Digits(2, oh) || !c.Eat(':') || !c.Digits(2, om)) return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  }
  if (c.i != text.size()) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi - offset_min) * 60000 + int64_t{s} * 1000 + frac_ms;
}

auto FormatDuration(int64_t ms) -> std::string {
  struct Unit { int64_t ms; const char* name; };
  static constexpr Unit kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  if (ms != 0) {
    for (const Unit& u : kUnits) {
      if (ms % u.ms == 0) return fmt::format("{}{}", ms / u.ms, u.name);
    }
  }
  return fmt::format("{}ms", ms);
}

auto ParseDuration(std::string_view text) -> std::optional<int64_t> {
  size_t i = 0;
  bool negative = i < text.size() && text[i] == '-';
  if (negative) ++i;
  int64_t n = 0;
  size_t start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[i] - '0', &n)) return std::nullopt;
    ++i;
  }
  if (i == start) return std::nullopt;
  std::string_view unit = text.substr(i);
  int64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000
                : unit == "d" ? 86400000 : 0;
  if (scale == 0 || __builtin_mul_overflow(n, scale, &n)) return std::nullopt;
  return negative ? -n : n;
}

}  // namespace flow::value
