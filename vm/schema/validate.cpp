#include "vm/schema/validate.h"

#include <cstdint>
#include <limits>

namespace flow::jsonschema {
namespace {

// One step of the path from the root to the value being checked. Frames live
// on the validator's stack; text is made only when a mismatch is reported.
struct PathSeg {
  const PathSeg* parent = nullptr;
  std::string_view key;  // a member name, when !is_index
  size_t index = 0;
  bool is_index = false;
};

auto RenderPath(const PathSeg* seg) -> std::string {
  if (seg == nullptr) return "$";
  std::string out = RenderPath(seg->parent);
  if (seg->is_index) return out + "[" + std::to_string(seg->index) + "]";
  return JsonPathMember(std::move(out), seg->key);
}

// A value for a message: scalars as JSON, containers by kind only (they may
// be large, and dumping them recurses as deep as they nest).
template <typename J>
auto Quote(const J& v) -> std::string {
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  std::string text = v.dump(-1, ' ', false, J::error_handler_t::replace);
  if (text.size() > kMaxQuotedValueBytes) {
    // Cut on a UTF-8 boundary so the message stays valid text.
    size_t cut = kMaxQuotedValueBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// Structural equality between a response value (json or ordered_json) and a
// schema constant (json). Numbers compare by value: 1 equals 1.0.
template <typename J>
auto JsonEqual(const J& a, const nlohmann::json& b) -> bool {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) return a.template get<double>() == b.get<double>();
    if (a.is_number_unsigned() != b.is_number_unsigned()) {
      // One is negative-capable, the other not; equal only when both fit.
      if (a.is_number_unsigned()) return b.get<int64_t>() >= 0 && a.template get<uint64_t>() == b.get<uint64_t>();
      return a.template get<int64_t>() >= 0 && a.template get<uint64_t>() == b.get<uint64_t>();
    }
    return a.is_number_unsigned() ? a.template get<uint64_t>() == b.get<uint64_t>()
                                  : a.template get<int64_t>() == b.get<int64_t>();
  }
  if (KindOf(a) != KindOf(b) || a.is_null() != b.is_null()) return false;
  switch (KindOf(a)) {
    case JsonType::Null: return true;
    case JsonType::Boolean: return a.template get<bool>() == b.get<bool>();
    case JsonType::String:
      return a.template get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case JsonType::Array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!JsonEqual(a[i], b[i])) return false;
      }
      return true;
    case JsonType::Object:
      if (a.size() != b.size()) return false;
      for (const auto& [k, item] : a.items()) {
        auto it = b.find(k);
        if (it == b.end() || !JsonEqual(item, *it)) return false;
      }
      return true;
    default: return false;
  }
}

// Sign of a - b for two JSON numbers, exact for integers.
template <typename J>
auto CompareNumbers(const J& a, const nlohmann::json& b) -> int {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (a.is_number_float() || b.is_number_float()) {
    return sign(a.template get<double>(), b.get<double>());
  }
  bool a_neg = !a.is_number_unsigned() && a.template get<int64_t>() < 0;
  bool b_neg = !b.is_number_unsigned() && b.get<int64_t>() < 0;
  if (a_neg != b_neg) return a_neg ? -1 : 1;
  if (a_neg) return sign(a.template get<int64_t>(), b.get<int64_t>());
  return sign(a.template get<uint64_t>(), b.get<uint64_t>());
}

auto CodePoints(std::string_view s) -> uint64_t {
  uint64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

template <typename J>
class Validator {
 public:
  explicit Validator(const SchemaPool& pool) : pool_(pool) {}

  // True when `v` conforms; otherwise false with error_ set.
  auto Check(NodeId id, const J& v, const PathSeg* path) -> bool;
  auto error() -> std::optional<std::string>& { return error_; }

 private:
  auto Fail(const PathSeg* path, const std::string& what) -> bool {
    error_ = RenderPath(path) + ": " + what;
    return false;
  }
  auto CheckValueSet(const Node& n, const J& v, const PathSeg* path) -> bool;
  auto CheckNumber(const Node& n, const J& v, const PathSeg* path) -> bool;
  auto CheckString(const Node& n, const J& v, const PathSeg* path) -> bool;
  auto CheckObject(const Node& n, const J& v, const PathSeg* path) -> bool;
  auto CheckArray(const Node& n, const J& v, const PathSeg* path) -> bool;

  const SchemaPool& pool_;
  std::optional<std::string> error_;
};

template <typename J>
auto Validator<J>::Check(NodeId id, const J& v, const PathSeg* path) -> bool {
  const Node& n = pool_.node(id);
  if (n.ref.valid()) {
    if (n.nullable && v.is_null()) return true;
    return Check(n.ref, v, path);
  }
  JsonType kind = KindOf(v);
  if (!n.types.accepts(kind)) {
    return Fail(path, "expected " + DescribeTypes(n.types) + ", got " +
                          std::string(JsonTypeName(kind)));
  }
  if (kind == JsonType::Null && n.types.has(JsonType::Null)) return true;
  if (!CheckValueSet(n, v, path)) return false;
  switch (kind) {
    case JsonType::Integer:
    case JsonType::Number: return CheckNumber(n, v, path);
    case JsonType::String: return CheckString(n, v, path);
    case JsonType::Object: return CheckObject(n, v, path);
    case JsonType::Array: return CheckArray(n, v, path);
    default: return true;
  }
}

template <typename J>
auto Validator<J>::CheckValueSet(const Node& n, const J& v, const PathSeg* path) -> bool {
  if (n.has_const && !JsonEqual(v, n.const_value)) {
    return Fail(path, "expected the constant " + Quote(n.const_value) + ", got " + Quote(v));
  }
  if (!n.has_enum) return true;
  for (const nlohmann::json& option : n.enum_values) {
    if (JsonEqual(v, option)) return true;
  }
  std::string options;
  for (const nlohmann::json& option : n.enum_values) {
    if (!options.empty()) options += ", ";
    options += Quote(option);
  }
  return Fail(path, Quote(v) + " is not one of " + options);
}

template <typename J>
auto Validator<J>::CheckNumber(const Node& n, const J& v, const PathSeg* path) -> bool {
  // An integer-only schema means a flow int: it must fit in 64 bits.
  if (n.types.has(JsonType::Integer) && !n.types.has(JsonType::Number) && v.is_number_unsigned() &&
      v.template get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Fail(path, Quote(v) + " does not fit in a 64-bit integer");
  }
  if (n.minimum && CompareNumbers(v, *n.minimum) < 0) {
    return Fail(path, Quote(v) + " is less than the minimum " + n.minimum->dump());
  }
  if (n.maximum && CompareNumbers(v, *n.maximum) > 0) {
    return Fail(path, Quote(v) + " is greater than the maximum " + n.maximum->dump());
  }
  return true;
}

template <typename J>
auto Validator<J>::CheckString(const Node& n, const J& v, const PathSeg* path) -> bool {
  const std::string& s = v.template get_ref<const std::string&>();
  if (n.min_length || n.max_length) {
    uint64_t length = CodePoints(s);
    if (n.min_length && length < *n.min_length) {
      return Fail(path, "length " + std::to_string(length) + " is less than the minimum length " +
                            std::to_string(*n.min_length));
    }
    if (n.max_length && length > *n.max_length) {
      return Fail(path, "length " + std::to_string(length) +
                            " is greater than the maximum length " + std::to_string(*n.max_length));
    }
  }
  if (n.has_pattern) {
    if (s.size() > kMaxPatternSubjectBytes) {
      return Fail(path, "is longer than " + std::to_string(kMaxPatternSubjectBytes) +
                            " bytes, the limit for checking pattern '" + n.pattern_text + "'");
    }
    bool matched = false;
    try {
      matched = std::regex_search(s, n.pattern);
    } catch (const std::regex_error&) {
      matched = false;  // error_complexity / error_stack: treat as no match
    }
    if (!matched) return Fail(path, "does not match pattern '" + n.pattern_text + "'");
  }
  if (n.date_time && !IsRfc3339DateTime(s)) {
    return Fail(path, Quote(v) + " is not an RFC 3339 date-time");
  }
  return true;
}

template <typename J>
auto Validator<J>::CheckObject(const Node& n, const J& v, const PathSeg* path) -> bool {
  for (const Property& p : n.properties) {
    auto it = v.find(p.name);
    if (it == v.end()) {
      if (p.required) return Fail(path, "missing required property '" + p.name + "'");
      continue;
    }
    if (!p.required && it->is_null()) continue;  // optional: null reads as absent
    PathSeg seg{path, p.name, 0, false};
    if (!Check(p.schema, *it, &seg)) return false;
  }
  return true;
}

template <typename J>
auto Validator<J>::CheckArray(const Node& n, const J& v, const PathSeg* path) -> bool {
  if (!n.items.valid()) return true;
  for (size_t i = 0; i < v.size(); ++i) {
    PathSeg seg{path, {}, i, true};
    if (!Check(n.items, v[i], &seg)) return false;
  }
  return true;
}

template <typename J>
auto ValidateImpl(const SchemaPool& pool, NodeId schema, const J& value)
    -> std::optional<std::string> {
  Validator<J> validator(pool);
  if (validator.Check(schema, value, nullptr)) return std::nullopt;
  return std::move(validator.error());
}

// Parses exactly `n` digits at `s[pos]` into `out`.
auto Digits(std::string_view s, size_t pos, size_t n, int& out) -> bool {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

auto DaysInMonth(int year, int month) -> int {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

auto Validate(const SchemaPool& pool, NodeId schema, const nlohmann::json& value)
    -> std::optional<std::string> {
  return ValidateImpl(pool, schema, value);
}

auto Validate(const SchemaPool& pool, NodeId schema, const nlohmann::ordered_json& value)
    -> std::optional<std::string> {
  return ValidateImpl(pool, schema, value);
}

auto IsRfc3339DateTime(std::string_view s) -> bool {
  int year, month, day, hour, minute, second;
  // 2026-01-15T09:30:00 is 19 bytes; a zone follows.
  if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) return pos + 1 == s.size();
  if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return false;
  int off_hour, off_minute;
  return pos + 6 == s.size() && Digits(s, pos + 1, 2, off_hour) && s[pos + 3] == ':' &&
         Digits(s, pos + 4, 2, off_minute) && off_hour <= 23 && off_minute <= 59;
}

}  // namespace flow::jsonschema
