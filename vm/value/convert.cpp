#include "vm/value/convert.h"

#include <fmt/format.h>

#include <algorithm>

#include "vm/value/time_format.h"

namespace flow::value {

namespace {

using bytecode::TypeDesc;
using bytecode::TypeKind;
using nlohmann::json;

auto Expected(TypeKind k) -> const char* {
  switch (k) {
    case TypeKind::Null: return "null";
    case TypeKind::Int: return "integer";
    case TypeKind::Float: return "number";
    case TypeKind::Bool: return "boolean";
    case TypeKind::String: return "string";
    case TypeKind::Duration: return "duration string";
    case TypeKind::Time: return "date-time string";
    case TypeKind::Json: return "json";
    case TypeKind::List: return "array";
    case TypeKind::Record: return "object";
    case TypeKind::Optional: return "optional";
    case TypeKind::Literal: return "one of the literals";
  }
  return "?";
}

auto Mismatch(const std::string& path, TypeKind want, const json& got) -> Error {
  return Error{fmt::format("{}: expected {}, got {}", path, Expected(want), got.type_name())};
}

auto IsNullable(const bytecode::Module& m, uint32_t t) -> bool {
  TypeKind k = m.types[t].kind;
  return k == TypeKind::Optional || k == TypeKind::Null || k == TypeKind::Json;
}

auto RecordFromJson(const json& j, const bytecode::Module& m, const TypeDesc& d,
                    const std::string& path) -> Result<Value> {
  if (!j.is_object()) return Mismatch(path, TypeKind::Record, j);
  std::vector<std::pair<std::string, Value>> fields;
  for (const auto& f : d.fields) {
    const std::string& name = m.names[f.name];
    auto it = j.find(name);
    if (it == j.end()) {
      if (!IsNullable(m, f.type)) return Error{fmt::format("{}: missing required field '{}'", path, name)};
      fields.emplace_back(name, Value());
      continue;
    }
    auto v = FromJson(*it, m, f.type, path + "." + name);
    if (!v) return v;
    fields.emplace_back(name, std::move(*v));
  }
  std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  std::vector<Value> values;
  for (auto& [n, v] : fields) {
    names.push_back(n);
    values.push_back(std::move(v));
  }
  return Value::Record(Symbols::Global().ShapeOfTexts(std::move(names)), std::move(values));
}

auto ScalarFromJson(const json& j, const TypeDesc& d, const std::string& path) -> Result<Value> {
  switch (d.kind) {
    case TypeKind::Null:
      if (j.is_null()) return Value();
      break;
    case TypeKind::Int:
      if (j.is_number_integer()) {
        if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return Error{path + ": integer out of range"};
        }
        return Value::Int(j.get<int64_t>());
      }
      break;
    case TypeKind::Float:
      if (j.is_number()) return Value::Float(j.get<double>());
      break;
    case TypeKind::Bool:
      if (j.is_boolean()) return Value::Bool(j.get<bool>());
      break;
    case TypeKind::String:
      if (j.is_string()) return Value::String(j.get<std::string>());
      break;
    case TypeKind::Duration:
      if (j.is_string()) {
        if (auto ms = ParseDuration(j.get_ref<const std::string&>())) return Value::Duration(*ms);
      }
      break;
    case TypeKind::Time:
      if (j.is_string()) {
        if (auto ms = ParseTime(j.get_ref<const std::string&>())) return Value::Time(*ms);
      }
      break;
    case TypeKind::Literal:
      if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (std::find(d.literals.begin(), d.literals.end(), s) != d.literals.end()) return Value::String(s);
        std::string all;
        for (const auto& l : d.literals) all += (all.empty() ? "\"" : ", \"") + l + "\"";
        return Error{fmt::format("{}: expected one of {}, got \"{}\"", path, all, s)};
      }
      break;
    default: break;
  }
  return Mismatch(path, d.kind, j);
}

}  // namespace

auto JsonTooDeep(const json& j) -> bool {
  std::vector<std::pair<const json*, int>> stack{{&j, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    if (depth > kMaxValueDepth) return true;
    for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

auto DumpJson(const json& j) -> std::string { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

namespace {

// "~" and "/" escaped as RFC 6901 requires.
auto PointerToken(std::string_view key) -> std::string {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

auto ToJsonAt(const Value& v, std::string& pointer, std::vector<SecretRef>* secrets) -> json {
  switch (v.tag()) {
    case Tag::Null: return nullptr;
    case Tag::Bool: return v.as_bool();
    case Tag::Int: return v.as_int();
    case Tag::Float: return v.as_float();
    case Tag::Duration: return FormatDuration(v.as_int());
    case Tag::Time: return FormatTime(v.as_int());
    case Tag::String: return v.str();
    case Tag::List: {
      json a = json::array();
      const size_t mark = pointer.size();
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (secrets != nullptr) pointer += "/" + std::to_string(i);
        a.push_back(ToJsonAt(v.list()[i], pointer, secrets));
        pointer.resize(mark);
      }
      return a;
    }
    case Tag::Record: {
      json o = json::object();
      const Shape& s = v.record_shape();
      const size_t mark = pointer.size();
      for (size_t i = 0; i < s.texts.size(); ++i) {
        if (secrets != nullptr) pointer += "/" + PointerToken(s.texts[i]);
        o[s.texts[i]] = ToJsonAt(v.record_fields()[i], pointer, secrets);
        pointer.resize(mark);
      }
      return o;
    }
    case Tag::Json: return v.json();
    case Tag::Secret:
      if (secrets != nullptr) secrets->push_back(SecretRef{pointer, v.secret_name()});
      return std::string(kSecretMask);
  }
  return nullptr;
}

}  // namespace

auto ToJson(const Value& v, std::vector<SecretRef>* secrets) -> json {
  std::string pointer;
  return ToJsonAt(v, pointer, secrets);
}

auto FromJson(const json& j, const bytecode::Module& m, uint32_t type, const std::string& path) -> Result<Value> {
  FLOW_CHECK(type < m.types.size(), "type id out of range (verified modules only)");
  const TypeDesc& d = m.types[type];
  switch (d.kind) {
    case TypeKind::Json:
      if (JsonTooDeep(j)) return Error{fmt::format("{}: nested deeper than {} levels", path, kMaxValueDepth)};
      return Value::Json(j);
    case TypeKind::Optional:
      if (j.is_null()) return Value();
      return FromJson(j, m, d.element, path);
    case TypeKind::List: {
      if (!j.is_array()) return Mismatch(path, TypeKind::List, j);
      std::vector<Value> items;
      items.reserve(j.size());
      for (size_t i = 0; i < j.size(); ++i) {
        auto v = FromJson(j[i], m, d.element, fmt::format("{}[{}]", path, i));
        if (!v) return v;
        items.push_back(std::move(*v));
      }
      return Value::List(std::move(items));
    }
    case TypeKind::Record: return RecordFromJson(j, m, d, path);
    default: return ScalarFromJson(j, d, path);
  }
}

auto ConvertTo(const Value& v, const bytecode::Module& m, uint32_t type) -> Result<Value> {
  if (v.is_json()) return FromJson(v.json(), m, type);
  return FromJson(ToJson(v), m, type);
}

void AppendDisplay(std::string& out, const Value& v) {
  switch (v.tag()) {
    case Tag::String: out += v.str(); return;
    case Tag::Int: out += fmt::format_int(v.as_int()).c_str(); return;
    case Tag::Duration: out += FormatDuration(v.as_int()); return;
    case Tag::Time: out += FormatTime(v.as_int()); return;
    case Tag::Json:
      if (v.json().is_string()) { out += v.json().get_ref<const std::string&>(); return; }
      break;
    case Tag::Secret: out += kSecretMask; return;  // the checker forbids it; never the value
    default: break;
  }
  out += DumpJson(ToJson(v));
}

auto ToDisplayString(const Value& v) -> std::string {
  std::string out;
  AppendDisplay(out, v);
  return out;
}

}  // namespace flow::value
