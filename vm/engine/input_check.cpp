#include "vm/engine/input_check.h"

#include <cstdint>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "vm/base/suggest.h"
#include "vm/value/convert.h"
#include "vm/value/time_format.h"

namespace flow::engine {

namespace {

using bytecode::TypeKind;
using nlohmann::json;

// Why the walk stops here: the verifier bounds type nesting (kMaxTypeDepth)
// but JSON may still be deep; beyond this the path is deep enough to report.
constexpr int kMaxInputDepth = 256;

auto GotName(const json& j) -> std::string {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "int";
    case json::value_t::number_float: return "float";
    case json::value_t::string: return "string";
    case json::value_t::array: return "list";
    case json::value_t::object: return "record";
    default: return "invalid";
  }
}

// What a duration or time input may look like, for the message of one that
// does not parse (docs/language.md "Durations as text", RFC 3339).
constexpr const char* kDurationForms =
    "a duration such as \"30s\", \"5m\", \"1h30m\", \"1.5s\" or \"500ms\" (units d, h, m, s, ms)";
constexpr const char* kTimeForms =
    "a time in RFC 3339 form such as \"2026-01-15T09:30:00Z\" or \"2026-01-15T10:30:00+01:00\"";
// A string input is quoted in a message up to this many bytes.
constexpr size_t kMaxQuotedInput = 64;

auto Mismatch(const bytecode::Module& m, const std::string& path, uint32_t type, const json& got) -> Error {
  std::string what = GotName(got);
  TypeKind kind = m.types[type].kind;
  bool quote = got.is_string() && (kind == TypeKind::Literal || kind == TypeKind::Duration || kind == TypeKind::Time);
  if (quote) {
    const std::string& text = got.get_ref<const std::string&>();
    what = value::DumpJson(text.size() > kMaxQuotedInput ? text.substr(0, kMaxQuotedInput) + "..." : text);
  }
  std::string expected = kind == TypeKind::Duration ? kDurationForms
                         : kind == TypeKind::Time   ? kTimeForms
                                                    : FlowTypeName(m, type);
  return Error{fmt::format("{}: expected {}, got {}", path, expected, what)};
}

// A key of `object` that is a misspelling of one of `absent` (field names
// the input leaves out), as "path.key: unknown field; did you mean 'x'?".
auto MisspeltField(const json& object, const std::vector<std::string>& absent, const std::string& path)
    -> std::optional<Error> {
  if (absent.empty()) return std::nullopt;
  for (const auto& [key, value] : object.items()) {
    std::string best = BestSuggestion(key, absent);
    if (!best.empty()) return Error{fmt::format("{}.{}: unknown field; did you mean '{}'?", path, key, best)};
  }
  return std::nullopt;
}

auto Check(const bytecode::Module& m, uint32_t type, const json& j, const std::string& path, int depth) -> Status {
  if (depth > kMaxInputDepth) return Error{fmt::format("{}: nested too deeply", path)};
  const bytecode::TypeDesc& d = m.types[type];
  switch (d.kind) {
    case TypeKind::Json: return value::JsonTooDeep(j) ? Status(Error{path + ": nested too deeply"}) : Status(Ok{});
    case TypeKind::Null: return j.is_null() ? Status(Ok{}) : Mismatch(m, path, type, j);
    case TypeKind::Optional: return j.is_null() ? Status(Ok{}) : Check(m, d.element, j, path, depth + 1);
    case TypeKind::Int:
      if (!j.is_number_integer()) return Mismatch(m, path, type, j);
      // nlohmann reads 2^63 .. 2^64-1 as unsigned: valid JSON, not an int.
      if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return Error{fmt::format("{}: {} does not fit in a 64-bit integer", path, j.get<uint64_t>())};
      }
      return Ok{};
    case TypeKind::Float: return j.is_number() ? Status(Ok{}) : Mismatch(m, path, type, j);
    case TypeKind::Bool: return j.is_boolean() ? Status(Ok{}) : Mismatch(m, path, type, j);
    case TypeKind::String: return j.is_string() ? Status(Ok{}) : Mismatch(m, path, type, j);
    case TypeKind::Duration:
      if (j.is_string() && value::ParseDuration(j.get<std::string>())) return Ok{};
      return Mismatch(m, path, type, j);
    case TypeKind::Time:
      if (j.is_string() && value::ParseTime(j.get<std::string>())) return Ok{};
      return Mismatch(m, path, type, j);
    case TypeKind::Literal:
      if (j.is_string()) {
        for (const auto& lit : d.literals) {
          if (lit == j.get<std::string>()) return Ok{};
        }
      }
      return Mismatch(m, path, type, j);
    case TypeKind::List: {
      if (!j.is_array()) return Mismatch(m, path, type, j);
      for (size_t i = 0; i < j.size(); ++i) {
        if (auto s = Check(m, d.element, j[i], fmt::format("{}[{}]", path, i), depth + 1); !s) return s;
      }
      return Ok{};
    }
    case TypeKind::Record: {
      if (!j.is_object()) return Mismatch(m, path, type, j);
      std::vector<std::string> absent;
      for (const auto& f : d.fields) {
        if (!j.contains(m.names[f.name])) absent.push_back(m.names[f.name]);
      }
      // `{"nmae": "x"}` for `{ name: string }`: the misspelling, not "missing".
      if (auto typo = MisspeltField(j, absent, path)) return *typo;
      for (const auto& f : d.fields) {
        const std::string& name = m.names[f.name];
        const std::string sub = path + "." + name;
        auto it = j.find(name);
        if (it == j.end()) {
          TypeKind k = m.types[f.type].kind;
          if (k == TypeKind::Optional || k == TypeKind::Json || k == TypeKind::Null) continue;
          return Error{sub + ": missing"};
        }
        if (auto s = Check(m, f.type, *it, sub, depth + 1); !s) return s;
      }
      return Ok{};
    }
  }
  return Ok{};
}

}  // namespace

auto CheckJsonType(const bytecode::Module& m, uint32_t type, const json& j, const std::string& path) -> Status {
  return Check(m, type, j, path, 0);
}

auto FlowTypeName(const bytecode::Module& m, uint32_t type) -> std::string {
  const bytecode::TypeDesc& d = m.types[type];
  switch (d.kind) {
    case TypeKind::Null: return "null";
    case TypeKind::Int: return "int";
    case TypeKind::Float: return "float";
    case TypeKind::Bool: return "bool";
    case TypeKind::String: return "string";
    case TypeKind::Duration: return "duration";
    case TypeKind::Time: return "time";
    case TypeKind::Json: return "json";
    case TypeKind::List: return "[" + FlowTypeName(m, d.element) + "]";
    case TypeKind::Optional: return FlowTypeName(m, d.element) + "?";
    case TypeKind::Literal: {
      std::string out;
      for (const auto& lit : d.literals) out += (out.empty() ? "" : " | ") + value::DumpJson(lit);
      return out;
    }
    case TypeKind::Record: {
      std::string out = "{ ";
      for (size_t i = 0; i < d.fields.size(); ++i) {
        if (i > 0) out += ", ";
        out += m.names[d.fields[i].name] + ": " + FlowTypeName(m, d.fields[i].type);
      }
      return out + " }";
    }
  }
  return "?";
}

auto ValidateInput(const bytecode::Module& m, uint32_t fn, const json& input) -> Status {
  if (!input.is_object()) return Error{fmt::format("$: expected a JSON object of the parameters, got {}", GotName(input))};
  const bytecode::Function& f = m.functions[fn];
  // Every key must be a parameter: a misspelt optional one would otherwise
  // be dropped without a word.
  std::vector<std::string> params;
  for (uint32_t name : f.param_names) params.push_back(m.names[name]);
  for (const auto& [key, value] : input.items()) {
    if (std::find(params.begin(), params.end(), key) != params.end()) continue;
    return Error{fmt::format("$.{}: workflow '{}' has no parameter '{}'{}", key, f.name, key, DidYouMean(key, params))};
  }
  for (size_t k = 0; k < f.param_names.size() && k < f.param_types.size(); ++k) {
    const std::string& name = m.names[f.param_names[k]];
    auto it = input.find(name);
    if (it == input.end()) {
      TypeKind kind = m.types[f.param_types[k]].kind;
      if (kind == TypeKind::Optional || kind == TypeKind::Json || kind == TypeKind::Null) continue;
      return Error{fmt::format("$.{}: missing", name)};
    }
    if (auto s = Check(m, f.param_types[k], *it, "$." + name, 0); !s) return s;
  }
  return Ok{};
}

}  // namespace flow::engine
