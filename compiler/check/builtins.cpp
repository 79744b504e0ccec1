#include "compiler/check/builtins.h"

#include "vm/base/check.h"

namespace flow::check {
namespace {

constexpr BuiltinInfo kBuiltins[] = {
#define FLOW_BUILTIN(name, flow_name, min, max, ...) {BuiltinId::name, flow_name, min, max, false, {__VA_ARGS__}},
#define FLOW_EFFECT(name, flow_name) {BuiltinId::name, flow_name, 0, 0, true, {}},
#include "vm/bytecode/builtins.def"
#undef FLOW_BUILTIN
#undef FLOW_EFFECT
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

// The parameter names cover every argument a built-in accepts.
constexpr auto ParamsNamed() -> bool {
  for (const BuiltinInfo& b : kBuiltins) {
    if (b.max_args > kMaxBuiltinParams) return false;
    for (int k = 0; k < kMaxBuiltinParams; ++k) {
      if ((k < b.max_args) != !b.params[k].empty()) return false;
    }
  }
  return true;
}
static_assert(ParamsNamed(), "builtins.def: one parameter name per argument, at most kMaxBuiltinParams");

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
