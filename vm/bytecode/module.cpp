#include "vm/bytecode/module.h"

#include "vm/base/check.h"

namespace flow::bytecode {

namespace {
constexpr BuiltinInfo kBuiltins[] = {
#define FLOW_BUILTIN(name, flow_name, min, max) {flow_name, min, max},
#include "vm/bytecode/builtins.def"
#undef FLOW_BUILTIN
};
constexpr const char* kEffects[] = {
#define FLOW_EFFECT(name, flow_name) flow_name,
#include "vm/bytecode/builtins.def"
#undef FLOW_EFFECT
};
}  // namespace

auto GetBuiltinInfo(BuiltinId id) -> const BuiltinInfo& {
  FLOW_CHECK(id < BuiltinId::kCount, "builtin id out of range");
  return kBuiltins[static_cast<int>(id)];
}

auto GetEffectName(EffectId id) -> const char* {
  FLOW_CHECK(id < EffectId::kCount, "effect id out of range");
  return kEffects[static_cast<int>(id)];
}

auto Module::FindFunction(const std::string& name) const -> int {
  for (size_t i = 0; i < functions.size(); ++i) {
    if (functions[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

auto PositionAt(const Function& fn, size_t pc) -> SourcePos {
  return pc < fn.positions.size() ? fn.positions[pc] : SourcePos{};
}

auto FormatPosition(const std::string& source_name, SourcePos pos) -> std::string {
  if (pos.line == 0) return "";
  std::string out = source_name + ":" + std::to_string(pos.line);
  if (pos.column != 0) out += ":" + std::to_string(pos.column);
  return out;
}

}  // namespace flow::bytecode
