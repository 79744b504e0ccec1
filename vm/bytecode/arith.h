// The language's division and modulo rules (SPEC §2: `/` and `%`), in one
// place for everyone who computes them: the interpreter loop's fast path
// (vm/interp/vm_loop.cpp), the VM's general arithmetic (vm/interp/vm.cpp) and
// the constant folder (compiler/codegen/lower_expr.cpp), so that a folded
// `7 % -1` and a computed one can never differ. It lives beside the opcodes
// because it is what Div, Mod, DivK and ModK mean.
//
// Integers: division truncates toward zero and the remainder takes the
// dividend's sign (C's rules); dividing by zero fails, INT64_MIN / -1
// overflows, and x % -1 is 0 (which C leaves undefined for INT64_MIN).
// Floats: IEEE division, std::fmod for the remainder, and a zero divisor
// fails as it does for integers (no infinities or NaNs from `/` or `%`).
//
// Each function returns true when the operation fails (the convention of
// __builtin_add_overflow, so the interpreter's arithmetic macro takes them
// alike) and otherwise stores the result in *r.
#pragma once

#include <cmath>
#include <cstdint>

namespace flow::bytecode {

// a / b on integers. Fails on b == 0 and on INT64_MIN / -1.
constexpr auto IntDivFails(int64_t a, int64_t b, int64_t* r) -> bool {
  if (b == 0 || (a == INT64_MIN && b == -1)) return true;
  *r = a / b;
  return false;
}

// a % b on integers. Fails on b == 0; x % -1 is 0.
constexpr auto IntModFails(int64_t a, int64_t b, int64_t* r) -> bool {
  if (b == 0) return true;
  *r = b == -1 ? 0 : a % b;
  return false;
}

// The interpreter loop's inline form of IntModFails: it also declines
// b == -1, which the general path (Vm::Arith, through IntModFails) then
// answers. Answering 0 inline cost two instructions more per `%` (callgrind
// on bench/compute/loop_mod.flow: 1.546 G against 1.526 G), declining none.
constexpr auto IntModFastFails(int64_t a, int64_t b, int64_t* r) -> bool {
  if (b == 0 || b == -1) return true;
  *r = a % b;
  return false;
}

// a / b on numbers (an int operand converted to double). Fails on b == 0.
inline auto FloatDivFails(double a, double b, double* r) -> bool {
  if (b == 0) return true;
  *r = a / b;
  return false;
}

// a % b on numbers, with std::fmod (the dividend's sign). Fails on b == 0.
inline auto FloatModFails(double a, double b, double* r) -> bool {
  if (b == 0) return true;
  *r = std::fmod(a, b);
  return false;
}

}  // namespace flow::bytecode
