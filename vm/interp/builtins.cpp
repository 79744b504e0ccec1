#include "vm/interp/builtins.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "vm/base/json_text.h"
#include "vm/value/convert.h"

namespace flow::interp {

namespace {

using bytecode::BuiltinId;
using value::Tag;
using value::Value;

struct Ctx {
  const Value* args;
  value::Symbols& symbols;
  WorkflowError& error;
  int64_t room;  // bytes the result may take (CallBuiltin)
  // False (kind limit) when a result of about `bytes` would not fit.
  auto Fits(const char* fn, uint64_t bytes) -> bool {
    if (bytes <= static_cast<uint64_t>(std::max<int64_t>(room, 0))) return true;
    return Fail(kKindLimit, fmt::format("{}() would build {} MiB, more than the run's memory limit leaves", fn,
                                        bytes >> 20));
  }
  auto Fail(const char* kind, std::string message) -> bool {
    error.kind = kind;
    error.message = std::move(message);
    return false;
  }
  auto BadType(const char* fn, const Value& v) -> bool {
    return Fail(kKindType, fmt::format("{}() does not accept a {}", fn, value::TagName(v.tag())));
  }
};

// Code points, not bytes: what a person counts in "héllo".
auto Utf8Length(const std::string& s) -> int64_t {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

auto Len(Ctx& c, Value& out) -> bool {
  const Value& v = c.args[0];
  switch (v.tag()) {
    case Tag::String: out = Value::Int(Utf8Length(v.str())); return true;
    case Tag::List: out = Value::Int(static_cast<int64_t>(v.list().size())); return true;
    case Tag::Record: out = Value::Int(static_cast<int64_t>(v.record_fields().size())); return true;
    case Tag::Json:
      if (v.json().is_string()) { out = Value::Int(Utf8Length(v.json().get_ref<const std::string&>())); return true; }
      if (v.json().is_array() || v.json().is_object()) { out = Value::Int(static_cast<int64_t>(v.json().size())); return true; }
      break;
    default: break;
  }
  return c.BadType("len", v);
}

auto Range(Ctx& c, uint32_t argc, Value& out) -> bool {
  for (uint32_t k = 0; k < argc; ++k) if (!c.args[k].is_int()) return c.BadType("range", c.args[k]);
  int64_t lo = argc == 2 ? c.args[0].as_int() : 0;
  int64_t hi = argc == 2 ? c.args[1].as_int() : c.args[0].as_int();
  // Unsigned: hi - lo may not fit in an int64.
  uint64_t count = hi > lo ? static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) : 0;
  if (count > static_cast<uint64_t>(kMaxRangeLength)) {
    return c.Fail(kKindLimit, fmt::format("range of {} elements exceeds the limit of {}", count, kMaxRangeLength));
  }
  if (!c.Fits("range", count * sizeof(Value))) return false;
  std::vector<Value> items;
  items.reserve(count);
  for (int64_t k = lo; k < hi; ++k) items.push_back(Value::Int(k));
  out = Value::List(std::move(items));
  return true;
}

auto ParseInt(Ctx& c, const std::string& s, Value& out) -> bool {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || std::isspace(static_cast<unsigned char>(s[0]))) {
    return c.Fail(kKindConversion, fmt::format("cannot convert \"{}\" to int", s));
  }
  out = Value::Int(v);
  return true;
}

auto FloatToInt(Ctx& c, double d, Value& out) -> bool {
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (!(d > -9223372036854775808.0 - 1.0 && d < 9223372036854775808.0)) {
    return c.Fail(kKindConversion, fmt::format("{} does not fit in an int", d));
  }
  out = Value::Int(static_cast<int64_t>(d));
  return true;
}

auto ToInt(Ctx& c, Value& out) -> bool {
  const Value& v = c.args[0];
  switch (v.tag()) {
    case Tag::Int: out = v; return true;
    case Tag::Float: return FloatToInt(c, v.as_float(), out);
    case Tag::String: return ParseInt(c, v.str(), out);
    case Tag::Json: {
      const auto& j = v.json();
      if (j.is_number_integer() && !(j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX)) {
        out = Value::Int(j.get<int64_t>());
        return true;
      }
      if (j.is_number_float()) return FloatToInt(c, j.get<double>(), out);
      if (j.is_string()) return ParseInt(c, j.get_ref<const std::string&>(), out);
      return c.Fail(kKindConversion, fmt::format("cannot convert json {} to int", j.type_name()));
    }
    default: return c.BadType("int", v);
  }
}

auto ParseFloat(Ctx& c, const std::string& s, Value& out) -> bool {
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || std::isspace(static_cast<unsigned char>(s[0])) || !std::isfinite(d)) {
    return c.Fail(kKindConversion, fmt::format("cannot convert \"{}\" to float", s));
  }
  out = Value::Float(d);
  return true;
}

auto ToFloat(Ctx& c, Value& out) -> bool {
  const Value& v = c.args[0];
  switch (v.tag()) {
    case Tag::Int: out = Value::Float(static_cast<double>(v.as_int())); return true;
    case Tag::Float: out = v; return true;
    case Tag::String: return ParseFloat(c, v.str(), out);
    case Tag::Json:
      if (v.json().is_number()) { out = Value::Float(v.json().get<double>()); return true; }
      if (v.json().is_string()) return ParseFloat(c, v.json().get_ref<const std::string&>(), out);
      return c.Fail(kKindConversion, fmt::format("cannot convert json {} to float", v.json().type_name()));
    default: return c.BadType("float", v);
  }
}

auto Keys(Ctx& c, Value& out) -> bool {
  const Value& v = c.args[0];
  std::vector<Value> keys;
  if (v.is_record()) {
    for (const auto& t : v.record_shape().texts) keys.push_back(Value::String(t));
  } else if (v.is_json() && v.json().is_object()) {
    for (const auto& [k, _] : v.json().items()) keys.push_back(Value::String(k));
  } else {
    return c.BadType("keys", v);
  }
  out = Value::List(std::move(keys));
  return true;
}

auto Contains(Ctx& c, Value& out) -> bool {
  const Value& h = c.args[0];
  const Value& n = c.args[1];
  if (h.is_string() && n.is_string()) { out = Value::Bool(h.str().find(n.str()) != std::string::npos); return true; }
  if (h.is_list()) {
    out = Value::Bool(std::any_of(h.list().begin(), h.list().end(), [&](const Value& x) { return value::Equal(x, n); }));
    return true;
  }
  if (h.is_json()) {
    const auto& j = h.json();
    if (j.is_object() && n.is_string()) { out = Value::Bool(j.contains(n.str())); return true; }
    if (j.is_array()) {
      auto needle = value::ToJson(n);
      out = Value::Bool(std::find(j.begin(), j.end(), needle) != j.end());
      return true;
    }
    if (j.is_string() && n.is_string()) { out = Value::Bool(j.get_ref<const std::string&>().find(n.str()) != std::string::npos); return true; }
  }
  return c.BadType("contains", h);
}

auto Split(Ctx& c, Value& out) -> bool {
  if (!c.args[0].is_string() || !c.args[1].is_string()) return c.BadType("split", c.args[0].is_string() ? c.args[1] : c.args[0]);
  const std::string& s = c.args[0].str();
  const std::string& sep = c.args[1].str();
  // Each piece is a string object and a list slot (an empty separator: one per byte at most).
  const uint64_t pieces = sep.empty() ? s.size() : s.size() / sep.size() + 1;
  if (!c.Fits("split", pieces * (sizeof(value::StringObj) + sizeof(Value)) + s.size())) return false;
  std::vector<Value> parts;
  if (sep.empty()) {  // one element per code point
    for (size_t i = 0; i < s.size();) {
      size_t j = i + 1;
      while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
      parts.push_back(Value::String(s.substr(i, j - i)));
      i = j;
    }
  } else {
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) {
      parts.push_back(Value::String(s.substr(start, at - start)));
    }
    parts.push_back(Value::String(s.substr(start)));
  }
  out = Value::List(std::move(parts));
  return true;
}

auto Join(Ctx& c, Value& out) -> bool {
  if (!c.args[0].is_list() || !c.args[1].is_string()) return c.BadType("join", c.args[0].is_list() ? c.args[1] : c.args[0]);
  uint64_t bytes = c.args[1].str().size() * c.args[0].list().size();
  for (const Value& x : c.args[0].list()) bytes += x.is_string() ? x.str().size() : 32;
  if (!c.Fits("join", bytes)) return false;
  std::string s;
  bool first = true;
  for (const Value& x : c.args[0].list()) {
    if (!first) s += c.args[1].str();
    first = false;
    value::AppendDisplay(s, x);
  }
  out = Value::String(std::move(s));
  return true;
}

auto StringFn(Ctx& c, BuiltinId id, uint32_t argc, Value& out) -> bool {
  const char* name = bytecode::GetBuiltinInfo(id).name;
  for (uint32_t k = 0; k < argc; ++k) if (!c.args[k].is_string()) return c.BadType(name, c.args[k]);
  std::string s = c.args[0].str();
  switch (id) {
    case BuiltinId::Lower: for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); break;
    case BuiltinId::Upper: for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch))); break;
    case BuiltinId::Trim: {
      const char* ws = " \t\n\r\f\v";
      size_t b = s.find_first_not_of(ws);
      s = b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(ws) - b + 1);
      break;
    }
    case BuiltinId::StartsWith: out = Value::Bool(s.starts_with(c.args[1].str())); return true;
    case BuiltinId::EndsWith: out = Value::Bool(s.ends_with(c.args[1].str())); return true;
    case BuiltinId::Replace: {
      const std::string& from = c.args[1].str();
      const std::string& to = c.args[2].str();
      if (from.empty()) break;
      uint64_t hits = 0;
      for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += from.size()) ++hits;
      if (!c.Fits("replace", s.size() - hits * from.size() + hits * to.size())) return false;
      std::string r;
      size_t start = 0;
      for (size_t at; (at = s.find(from, start)) != std::string::npos; start = at + from.size()) {
        r.append(s, start, at - start);
        r += to;
      }
      r.append(s, start);
      s = std::move(r);
      break;
    }
    default: FLOW_CHECK(false, "not a string built-in");
  }
  out = Value::String(std::move(s));
  return true;
}

auto MinMax(Ctx& c, bool want_max, Value& out) -> bool {
  const Value& a = c.args[0];
  const Value& b = c.args[1];
  bool less = false, equal = false;
  if (!value::Compare(a, b, less, equal)) return c.BadType(want_max ? "max" : "min", a.tag() == b.tag() ? a : b);
  const Value& pick = (want_max ? (!less) : (less || equal)) ? a : b;
  // Mixed int/float yields a float, as arithmetic does.
  if (a.tag() != b.tag() && pick.is_int()) out = Value::Float(static_cast<double>(pick.as_int()));
  else out = pick;
  return true;
}

auto Abs(Ctx& c, Value& out) -> bool {
  const Value& v = c.args[0];
  if (v.is_int() || v.tag() == Tag::Duration) {
    if (v.as_int() == INT64_MIN) return c.Fail(kKindArithmetic, "integer overflow in abs");
    int64_t r = v.as_int() < 0 ? -v.as_int() : v.as_int();
    out = v.is_int() ? Value::Int(r) : Value::Duration(r);
    return true;
  }
  if (v.is_float()) { out = Value::Float(std::fabs(v.as_float())); return true; }
  return c.BadType("abs", v);
}

auto ParseJson(Ctx& c, Value& out) -> bool {
  if (!c.args[0].is_string()) return c.BadType("parse_json", c.args[0]);
  // Depth first (vm/base/json_text.h): cheaper than building the document.
  if (FindTooDeep(c.args[0].str(), kMaxJsonDepth) != std::string_view::npos) {
    return c.Fail(kKindConversion, "parse_json: " + TooDeepMessage());
  }
  try {
    auto j = nlohmann::json::parse(c.args[0].str());  // an iterative parser: any depth is safe here
    if (value::JsonTooDeep(j)) {
      return c.Fail(kKindConversion, fmt::format("parse_json: nested deeper than {} levels", value::kMaxValueDepth));
    }
    out = Value::Json(std::move(j));
    return true;
  } catch (const nlohmann::json::parse_error& e) {
    return c.Fail(kKindConversion, fmt::format("parse_json: invalid JSON at byte {}", e.byte));
  } catch (const nlohmann::json::out_of_range&) {  // "1e999": too large for a float
    return c.Fail(kKindConversion, "parse_json: a number is too large");
  }
}

}  // namespace

auto CallBuiltin(BuiltinId id, const Value* args, uint32_t argc, Value& out, value::Symbols& symbols,
                 WorkflowError& error, int64_t room) -> bool {
  Ctx c{args, symbols, error, room};
  switch (id) {
    case BuiltinId::Len: return Len(c, out);
    case BuiltinId::Range: return Range(c, argc, out);
    case BuiltinId::Int: return ToInt(c, out);
    case BuiltinId::Float: return ToFloat(c, out);
    case BuiltinId::String: out = Value::String(value::ToDisplayString(args[0])); return true;
    case BuiltinId::Keys: return Keys(c, out);
    case BuiltinId::Contains: return Contains(c, out);
    case BuiltinId::Split: return Split(c, out);
    case BuiltinId::Join: return Join(c, out);
    case BuiltinId::Lower: case BuiltinId::Upper: case BuiltinId::Trim: case BuiltinId::StartsWith:
    case BuiltinId::EndsWith: case BuiltinId::Replace:
      return StringFn(c, id, argc, out);
    case BuiltinId::Min: return MinMax(c, false, out);
    case BuiltinId::Max: return MinMax(c, true, out);
    case BuiltinId::Abs: return Abs(c, out);
    case BuiltinId::ParseJson: return ParseJson(c, out);
    case BuiltinId::ToJson: out = Value::String(value::DumpJson(value::ToJson(args[0]))); return true;
    case BuiltinId::Secret:
      // The name only: the value is read by the transport when a step is sent.
      if (!args[0].is_string()) return c.BadType("secret", args[0]);
      out = Value::Secret(args[0].str());
      return true;
    case BuiltinId::kCount: break;
  }
  FLOW_CHECK(false, "unknown built-in (the verifier checks ids)");
  return false;
}

}  // namespace flow::interp
