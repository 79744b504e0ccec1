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
};

}  // namespace

auto AllBuiltins() -> std::span<const BuiltinInfo> { return kBuiltins; }

auto FindBuiltin(std::string_view name) -> const BuiltinInfo* {
  // A linear scan of 23 short names costs less than hashing for the few
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
