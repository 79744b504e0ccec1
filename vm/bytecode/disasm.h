// `flow disasm`: a deterministic text listing of a Module, one instruction a
// line with its source line and operands decoded by their kind from
// opcodes.def (constants shown inline, jump targets as absolute pcs). Golden
// tests compare this text, so its format changes only on purpose.
#pragma once

#include <string>

#include "vm/bytecode/module.h"

namespace flow::bytecode {

// The listing of a verified module.
auto Disassemble(const Module& module) -> std::string;

// One instruction of `fn` at `pc`, without the trailing newline.
auto DisassembleInstr(const Module& module, const Function& fn, size_t pc) -> std::string;

// A constant as source-like text: 42, 2.5, "text", 500ms.
auto ConstantToString(const Constant& k) -> std::string;

}  // namespace flow::bytecode
