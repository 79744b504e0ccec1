// Opcodes and the 64-bit instruction word, all expanded from opcodes.def.
//
// The instruction format is fixed at 64 bits (op 8, A 16, B 16, C 16, 8
// reserved): wide enough that no realistic program hits a register, constant
// or jump limit, so codegen needs no EXTRAARG escape and the decoder is three
// shifts. docs/bytecode.md explains the choice against 32-bit words.
#pragma once

#include <cstdint>

namespace flow::bytecode {

enum class Op : uint8_t {
#define FLOW_OP(name, fmt, a, b, c, effect) name,
#include "vm/bytecode/opcodes.def"
#undef FLOW_OP
};

inline constexpr int kOpCount = 0
#define FLOW_OP(name, fmt, a, b, c, effect) +1
#include "vm/bytecode/opcodes.def"
#undef FLOW_OP
    ;

enum class Format : uint8_t { ABC, ABx, AsBx };

// What an operand names (the a/b/c columns of opcodes.def).
enum class Operand : uint8_t { _, R, K, I, U, J, F, B, N, S, T, D, E };

struct OpInfo {
  const char* name;
  Format format;
  Operand a, b, c;
  const char* effect;
};

// The row of opcodes.def for `op`; `op` must be < kOpCount.
auto GetOpInfo(Op op) -> const OpInfo&;

using Instr = uint64_t;

inline constexpr uint32_t kMaxOperand = 0xFFFF;

constexpr auto EncodeABC(Op op, uint32_t a, uint32_t b, uint32_t c) -> Instr {
  return static_cast<Instr>(op) | (static_cast<Instr>(a & 0xFFFF) << 8) |
         (static_cast<Instr>(b & 0xFFFF) << 24) | (static_cast<Instr>(c & 0xFFFF) << 40);
}
constexpr auto EncodeABx(Op op, uint32_t a, uint32_t bx) -> Instr {
  return static_cast<Instr>(op) | (static_cast<Instr>(a & 0xFFFF) << 8) |
         (static_cast<Instr>(bx) << 24);
}
constexpr auto EncodeAsBx(Op op, uint32_t a, int32_t sbx) -> Instr {
  return EncodeABx(op, a, static_cast<uint32_t>(sbx));
}

constexpr auto GetOp(Instr i) -> Op { return static_cast<Op>(i & 0xFF); }
constexpr auto GetA(Instr i) -> uint32_t { return (i >> 8) & 0xFFFF; }
constexpr auto GetB(Instr i) -> uint32_t { return (i >> 24) & 0xFFFF; }
constexpr auto GetC(Instr i) -> uint32_t { return (i >> 40) & 0xFFFF; }
constexpr auto GetSC(Instr i) -> int32_t { return static_cast<int16_t>(GetC(i)); }
constexpr auto GetBx(Instr i) -> uint32_t { return static_cast<uint32_t>(i >> 24); }
constexpr auto GetSBx(Instr i) -> int32_t { return static_cast<int32_t>(GetBx(i)); }
constexpr auto GetReserved(Instr i) -> uint32_t { return static_cast<uint32_t>(i >> 56); }

}  // namespace flow::bytecode
