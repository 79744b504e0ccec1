#include "vm/bytecode/opcodes.h"

#include "vm/base/check.h"

namespace flow::bytecode {

namespace {
constexpr OpInfo kOpInfo[] = {
#define FLOW_OP(name, fmt, a, b, c, effect) \
  {#name, Format::fmt, Operand::a, Operand::b, Operand::c, effect},
#include "vm/bytecode/opcodes.def"
#undef FLOW_OP
};
static_assert(sizeof(kOpInfo) / sizeof(kOpInfo[0]) == kOpCount);
}  // namespace

auto GetOpInfo(Op op) -> const OpInfo& {
  FLOW_CHECK(static_cast<int>(op) < kOpCount, "opcode out of range");
  return kOpInfo[static_cast<int>(op)];
}

}  // namespace flow::bytecode
