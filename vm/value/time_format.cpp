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

namespace {

struct DurationUnit {
  int64_t ms;
  std::string_view name;
};
// Largest first: the order FormatDuration writes them and ParseDuration
// requires them in.
constexpr DurationUnit kDurationUnits[] = {
    {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};

// The magnitude of `ms` as text, without the sign.
auto FormatMagnitude(uint64_t ms) -> std::string {
  if (ms < 1000) return fmt::format("{}ms", ms);
  std::string out;
  for (const DurationUnit& u : kDurationUnits) {
    if (u.ms < 1000) break;
    uint64_t n = ms / static_cast<uint64_t>(u.ms);
    ms %= static_cast<uint64_t>(u.ms);
    if (u.ms == 1000 && (n > 0 || ms > 0)) {
      // Seconds carry the milliseconds as a decimal fraction: "30.01s".
      std::string frac = ms == 0 ? "" : fmt::format(".{:03}", ms);
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
      out += fmt::format("{}{}s", n, frac);
      return out;
    }
    if (n > 0) out += fmt::format("{}{}", n, u.name);
  }
  return out;
}

// Reads digits at `i`; false when there are none or they overflow.
auto ReadNumber(std::string_view text, size_t& i, int64_t& n, size_t& digits) -> bool {
  n = 0;
  size_t start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[i] - '0', &n)) return false;
    ++i;
  }
  digits = i - start;
  return digits > 0;
}

// The unit at `i` ("ms" before "m"), or nullptr.
auto ReadUnit(std::string_view text, size_t& i) -> const DurationUnit* {
  std::string_view rest = text.substr(i);
  const DurationUnit* best = nullptr;
  for (const DurationUnit& u : kDurationUnits) {
    if (rest.substr(0, u.name.size()) == u.name && (best == nullptr || u.name.size() > best->name.size())) {
      best = &u;
    }
  }
  if (best != nullptr) i += best->name.size();
  return best;
}

// A fraction ".5" ".01" ".250" of a second, in milliseconds; false for more
// than three digits (below a millisecond).
auto ReadSecondFraction(std::string_view text, size_t& i, int64_t& ms) -> bool {
  ms = 0;
  if (i >= text.size() || text[i] != '.') return true;
  ++i;
  int64_t n = 0;
  size_t digits = 0;
  if (!ReadNumber(text, i, n, digits) || digits > 3) return false;
  for (size_t k = digits; k < 3; ++k) n *= 10;
  ms = n;
  return true;
}

}  // namespace

auto FormatDuration(int64_t ms) -> std::string {
  if (ms == 0) return "0s";
  // The magnitude of INT64_MIN does not fit an int64_t; it does a uint64_t.
  uint64_t magnitude = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  return (ms < 0 ? "-" : "") + FormatMagnitude(magnitude);
}

auto ParseDuration(std::string_view text) -> std::optional<int64_t> {
  size_t i = 0;
  bool negative = i < text.size() && text[i] == '-';
  if (negative) ++i;
  if (i == text.size()) return std::nullopt;
  int64_t total = 0;
  int64_t last_unit = INT64_MAX;  // each unit smaller than the one before
  while (i < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    if (!ReadNumber(text, i, n, digits)) return std::nullopt;
    int64_t frac_ms = 0;
    bool has_fraction = i < text.size() && text[i] == '.';
    if (!ReadSecondFraction(text, i, frac_ms)) return std::nullopt;
    const DurationUnit* unit = ReadUnit(text, i);
    if (unit == nullptr || unit->ms >= last_unit) return std::nullopt;
    if (has_fraction && unit->ms != 1000) return std::nullopt;  // only "1.5s"
    last_unit = unit->ms;
    int64_t part = 0;
    if (__builtin_mul_overflow(n, unit->ms, &part) || __builtin_add_overflow(part, frac_ms, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return std::nullopt;
    }
  }
  return negative ? -total : total;
}

}  // namespace flow::value
