#include "compiler/check/builtins.h"

#include "vm/base/check.h"

namespace flow::check {
namespace {

constexpr BuiltinInfo kBuiltins[] = {
    {BuiltinId::Len, "len", 1, 1, false, {"x"}},
    {BuiltinId::Range, "range", 1, 2, false, {"a", "b"}},
    {BuiltinId::Int, "int", 1, 1, false, {"x"}},
    {BuiltinId::Float, "float", 1, 1, false, {"x"}},
    {BuiltinId::String, "string", 1, 1, false, {"x"}},
    {BuiltinId::Keys, "keys", 1, 1, false, {"r"}},
    {BuiltinId::Contains, "contains", 2, 2, false, {"haystack", "needle"}},
    {BuiltinId::Split, "split", 2, 2, false, {"s", "sep"}},
    {BuiltinId::Join, "join", 2, 2, false, {"list", "sep"}},
    {BuiltinId::Lower, "lower", 1, 1, false, {"s"}},
    {BuiltinId::Upper, "upper", 1, 1, false, {"s"}},
    {BuiltinId::Trim, "trim", 1, 1, false, {"s"}},
    {BuiltinId::StartsWith, "starts_with", 2, 2, false, {"s", "p"}},
    {BuiltinId::EndsWith, "ends_with", 2, 2, false, {"s", "p"}},
    {BuiltinId::Replace, "replace", 3, 3, false, {"s", "old", "new"}},
    {BuiltinId::Min, "min", 2, 2, false, {"a", "b"}},
    {BuiltinId::Max, "max", 2, 2, false, {"a", "b"}},
    {BuiltinId::Abs, "abs", 1, 1, false, {"x"}},
    {BuiltinId::ParseJson, "parse_json", 1, 1, false, {"s"}},
    {BuiltinId::ToJson, "to_json", 1, 1, false, {"v"}},
    {BuiltinId::Now, "now", 0, 0, true, {}},
    {BuiltinId::Uuid, "uuid", 0, 0, true, {}},
    {BuiltinId::Random, "random", 0, 0, true, {}},
    {BuiltinId::Secret, "secret", 1, 1, false, {"name"}},
};


struct ForeignName {
  std::string_view name;
  std::string_view flow;
};

// Python, JavaScript, Go and Ruby spellings of SPEC §2.5a's built-ins and of
// the literals; only names that edit distance alone would not suggest.
constexpr ForeignName kNames[] = {
    {"length", "len"},         {"size", "len"},             {"count", "len"},
    {"str", "string"},         {"toString", "string"},      {"String", "string"},
    {"parseInt", "int"},       {"Number", "float"},         {"parseFloat", "float"},
    {"toLowerCase", "lower"},  {"lowercase", "lower"},      {"downcase", "lower"},
    {"toUpperCase", "upper"},  {"uppercase", "upper"},      {"upcase", "upper"},
    {"strip", "trim"},         {"startsWith", "starts_with"}, {"startswith", "starts_with"},
    {"endsWith", "ends_with"}, {"endswith", "ends_with"},   {"includes", "contains"},
    {"replaceAll", "replace"}, {"JSON.parse", "parse_json"}, {"json.loads", "parse_json"},
    {"JSON.stringify", "to_json"}, {"json.dumps", "to_json"}, {"Object.keys", "keys"},
    {"Math.max", "max"},       {"Math.min", "min"},         {"Math.abs", "abs"},
    {"Date.now", "now"},       {"time.now", "now"},         {"print", "log.info"},
    {"console.log", "log.info"}, {"None", "null"},          {"nil", "null"},
    {"undefined", "null"},     {"NULL", "null"},            {"True", "true"},
    {"False", "false"},        {"TRUE", "true"},            {"FALSE", "false"},
};

}  // namespace

auto FlowNameFor(std::string_view name) -> std::string_view {
  for (const ForeignName& n : kNames) {
    if (n.name == name) return n.flow;
  }
  return "";
}

auto AllBuiltins() -> std::span<const BuiltinInfo> { return kBuiltins; }

auto FindBuiltin(std::string_view name) -> const BuiltinInfo* {
  // A linear scan of 24 short names costs less than hashing for the few
  // calls a program makes to names that are not locals or fns.
  for (const BuiltinInfo& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

auto GetBuiltin(BuiltinId id) -> const BuiltinInfo& {
  const BuiltinInfo& info = kBuiltins[static_cast<size_t>(id)];
  FLOW_CHECK(info.id == id, "kBuiltins must list the ids in enum order");
  return info;
}

auto ParamName(const BuiltinInfo& info, int index, int arg_count) -> std::string_view {
  if (info.id == BuiltinId::Range && arg_count == 1) return "n";
  if (index < 0 || index >= kMaxBuiltinParams) return "?";
  return info.params[index];
}

}  // namespace flow::check
