// The bytecode verifier: everything the interpreter assumes without checking
// on its hot path, checked once when a module is loaded. After Verify
// succeeds, every register, constant, name, shape, type, step, function and
// jump operand is in range, register windows fit the frame, and no function
// can run off the end of its code. A module built by codegen passes by
// construction; one read from a file or the database may not.
#pragma once

#include "vm/base/result.h"
#include "vm/bytecode/module.h"

namespace flow::bytecode {

// Why a function's register file is bounded: registers are 16-bit operands,
// and the VM stack holds kMaxCallDepth frames of at most this many slots.
inline constexpr uint32_t kMaxRegisters = 4096;

// Why type descriptors nest at most this deep: converting JSON by a type
// recurses once per level, and a hostile module must not overflow the stack.
inline constexpr uint32_t kMaxTypeDepth = 256;

// OK, or "invalid bytecode: <where>: <what>" naming the first problem.
auto Verify(const Module& module) -> Status;

}  // namespace flow::bytecode
