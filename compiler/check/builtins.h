// The built-in functions of SPEC §2.5a, as one table.
//
// The checker resolves a call `len(x)` to a BuiltinId and records it in
// CheckedProgram::calls; codegen maps each id to its instruction or native
// routine. The table is the single list of names, arities, parameter names
// (used in diagnostics: "argument 'sep' of 'split' expects ...") and whether
// the built-in is an effect (journaled, workflows only). Code that must follow
// this table: check/calls.cpp (the per-builtin typing rules, a switch that the
// compiler warns about when an id is missing) and codegen.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace flow::check {

enum class BuiltinId : uint8_t {
  Len, Range, Int, Float, String, Keys, Contains, Split, Join, Lower, Upper, Trim,
  StartsWith, EndsWith, Replace, Min, Max, Abs, ParseJson, ToJson,
  Now, Uuid, Random,  // effects: recorded in the journal, workflows only
  Secret,             // secret("ENV"): an opaque reference, read by the transport
};

// The most parameters any built-in takes (replace(s, old, new)).
constexpr int kMaxBuiltinParams = 3;

struct BuiltinInfo {
  BuiltinId id;
  std::string_view name;
  int min_args;
  int max_args;
  bool effect;  // now/uuid/random: not allowed in a fn
  // Parameter names for messages; for range(a, b) the one-argument form is
  // range(n), see ParamName.
  std::array<std::string_view, kMaxBuiltinParams> params;
};

// Every built-in, in SPEC order.
auto AllBuiltins() -> std::span<const BuiltinInfo>;
// The built-in called `name`, or nullptr.
auto FindBuiltin(std::string_view name) -> const BuiltinInfo*;
auto GetBuiltin(BuiltinId id) -> const BuiltinInfo&;
// The flow spelling of a built-in function, step or literal that other
// languages name differently ("length" -> "len", "JSON.parse" ->
// "parse_json", "print" -> "log.info", "None" -> "null"), or "" when `name`
// is not one of them: the did-you-mean of E020 and E022 when edit distance
// finds nothing.
auto FlowNameFor(std::string_view name) -> std::string_view;
// The name of parameter `index` when called with `arg_count` arguments.
auto ParamName(const BuiltinInfo& info, int index, int arg_count) -> std::string_view;

}  // namespace flow::check
