// Vm::Execute: the interpreter loop, one case per opcode of opcodes.def.
//
// Hot registers live in locals (code, pc, R, ic, S, stack_end) and pc is written back to the
// frame (VM_SAVE) before anything that can push/pop frames, grow the stack,
// raise or suspend; VM_LOAD re-reads them after. Those pointers are never
// stored anywhere else -- the frame keeps an integer pc and a base slot.
// Int fast paths are inline; everything else calls a named helper in vm.cpp.
#include <fmt/format.h>

#include <algorithm>

#include "vm/bytecode/arith.h"
#include "vm/interp/builtins.h"
#include "vm/interp/vm.h"
#include "vm/value/convert.h"

// Computed goto with GCC; a switch otherwise. Clang refuses an indirect goto
// that leaves the scope of a variable with a destructor (some cases leave a
// block holding a moved-from Value); GCC accepts it and, as its manual says,
// runs no destructor there, which is harmless only because every such
// variable has been moved from (valgrind: no leaks).
#if defined(__GNUC__) && !defined(__clang__) && !defined(FLOW_NO_COMPUTED_GOTO)
#define FLOW_COMPUTED_GOTO 1
#else
#define FLOW_COMPUTED_GOTO 0
#endif

namespace flow::interp {

using bytecode::Function;
using bytecode::GetA;
using bytecode::GetB;
using bytecode::GetBx;
using bytecode::GetC;
using bytecode::GetSBx;
using bytecode::GetSC;
using bytecode::Instr;
using bytecode::Op;

// Div and Mod follow vm/bytecode/arith.h, like Vm::Arith and the folder.
using bytecode::IntDivFails;
using bytecode::IntModFastFails;

auto Vm::Execute() -> Outcome {
  const Function* fn;
  const Instr* code;
  const Instr* pc;
  Value* R;
  FieldCache* ic;
  const Value* K = constants_.data();
  const Function* fns = module_.functions.data();
  std::vector<FieldCache>* caches = field_caches_.data();
  Value* S;          // stack_.data(), refreshed whenever the stack can grow
  Value* stack_end;  // S + stack_.size()
  Instr i;
  frames_.reserve(kMaxCallDepth);
  // Budget units left until the next Tick (budget, memory, stop request).
  int64_t window = std::clamp<int64_t>(budget_left_, 1, kTickInstructions);
  int64_t tick = window;
  int64_t charge = 0;  // the units of the charge that ended the window

#define VM_LOAD()                                        \
  do {                                                   \
    const Frame& f_ = frames_.back();                    \
    fn = fns + f_.fn;                                    \
    code = fn->code.data();                              \
    pc = code + f_.pc;                                   \
    S = stack_.data();                                   \
    stack_end = S + stack_.size();                       \
    R = S + f_.base;                                     \
    ic = caches[f_.fn].data();                           \
  } while (0)
#define VM_SAVE() (frames_.back().pc = static_cast<uint32_t>(pc - code))
#define A GetA(i)
#define B GetB(i)
#define C GetC(i)

#if FLOW_COMPUTED_GOTO
  static const void* const kLabels[] = {
#define FLOW_OP(name, fmt, a, b, c, effect) &&L_##name,
#include "vm/bytecode/opcodes.def"
#undef FLOW_OP
  };
  static_assert(sizeof(kLabels) / sizeof(kLabels[0]) == bytecode::kOpCount);
#define VM_CASE(name) L_##name:
#define VM_NEXT()                                    \
  do {                                               \
    i = *pc++;                                       \
    goto* kLabels[static_cast<uint8_t>(i)];          \
  } while (0)
#else
#define VM_CASE(name) case Op::name:
#define VM_NEXT() goto dispatch
#endif

// The instruction budget (vm.h) is charged where execution can go back:
// a backward Jmp (the only backward jump the verifier allows) by the
// length of the code it jumps back over, a call by one unit. Between two
// charges the VM runs at most one function's straight-line code, so the
// units bound the instructions executed within the length of the longest
// function, at no cost per instruction. When the window's
// units run out, pc is rewound to the charging instruction `at` (it is
// executed again afterwards, or the run is interrupted there) and Tick
// looks at the budget, the memory and the host.
#define VM_CHARGE(units, at)                                   \
  do {                                                         \
    if (__builtin_expect((tick -= (units)) <= 0, 0)) {         \
      charge = (units);                                        \
      pc = (at);                                               \
      goto tick;                                               \
    }                                                          \
  } while (0)
#define VM_BACK_EDGE(offset, at)                               \
  do {                                                         \
    if ((offset) < 0) VM_CHARGE(1 - (offset), at);             \
  } while (0)

// A comparison's bool result; when the next instruction is `JmpF` on that
// register (an `if`/`while` condition), that jump is taken or skipped here,
// saving its dispatch (Lua's "donextjump"). R[A] is still written, so the
// state is the same as executing both instructions.
#define VM_BOOL_RESULT(value)                                          \
  do {                                                                 \
    bool r_ = (value);                                                 \
    R[A].SetBool(r_);                                                  \
    Instr n_ = *pc;                                                    \
    if ((n_ & 0xFFFFFF) == ((Instr{A} << 8) | static_cast<uint8_t>(Op::JmpF))) { \
      pc += 1 + (r_ ? 0 : GetSBx(n_));                                 \
    }                                                                  \
    VM_NEXT();                                                         \
  } while (0)

// Binary arithmetic: int fast path, generic helper otherwise. `rhs` is the
// right operand, `fails` a __builtin_*_overflow-style function.
#define VM_ARITH(name, rhs, fails)                               \
  VM_CASE(name) {                                                \
    const Value& b_ = R[B];                                      \
    const Value& c_ = rhs;                                       \
    int64_t r_;                                                  \
    if (b_.is_int() && c_.is_int() && !fails(b_.as_int(), c_.as_int(), &r_)) { \
      R[A].SetInt(r_);                                           \
      VM_NEXT();                                                 \
    }                                                            \
    if (!Arith(Op::name, R[A], b_, c_)) goto raise;              \
    VM_NEXT();                                                   \
  }
#define VM_CMP(name, cmp)                                        \
  VM_CASE(name) {                                                \
    const Value& b_ = R[B];                                      \
    const Value& c_ = R[C];                                      \
    if (b_.is_int() && c_.is_int()) VM_BOOL_RESULT(b_.as_int() cmp c_.as_int()); \
    if (!CompareOp(Op::name, R[A], b_, c_)) goto raise;          \
    VM_NEXT();                                                   \
  }

// Comparison with a constant; GtK/GeK reuse Lt/Le with swapped operands.
#define VM_CMPK(name, cmp, slow_op, x, y)                        \
  VM_CASE(name) {                                                \
    const Value& b_ = R[B];                                      \
    const Value& c_ = K[C];                                      \
    if (b_.is_int() && c_.is_int()) VM_BOOL_RESULT(b_.as_int() cmp c_.as_int()); \
    if (!CompareOp(slow_op, R[A], x, y)) goto raise;             \
    VM_NEXT();                                                   \
  }

  VM_LOAD();
#if FLOW_COMPUTED_GOTO
  VM_NEXT();
#else
dispatch:
  i = *pc++;
  switch (bytecode::GetOp(i)) {
#endif

  VM_CASE(Nop) VM_NEXT();
  VM_CASE(Move) { R[A] = R[B]; VM_NEXT(); }
  VM_CASE(LoadK) { R[A] = K[GetBx(i)]; VM_NEXT(); }
  VM_CASE(LoadI) { R[A].SetInt(GetSBx(i)); VM_NEXT(); }
  VM_CASE(LoadBool) { R[A].SetBool(B != 0); VM_NEXT(); }
  VM_CASE(LoadNull) { R[A].SetNull(); VM_NEXT(); }
  VM_ARITH(Add, R[C], __builtin_add_overflow)
  VM_ARITH(Sub, R[C], __builtin_sub_overflow)
  VM_ARITH(Mul, R[C], __builtin_mul_overflow)
  VM_ARITH(Div, R[C], IntDivFails)
  VM_ARITH(Mod, R[C], IntModFastFails)
  VM_ARITH(AddK, K[C], __builtin_add_overflow)
  VM_ARITH(SubK, K[C], __builtin_sub_overflow)
  VM_ARITH(MulK, K[C], __builtin_mul_overflow)
  VM_ARITH(DivK, K[C], IntDivFails)
  VM_ARITH(ModK, K[C], IntModFastFails)
  VM_CASE(AddI) {
    const Value& b_ = R[B];
    int64_t r_;
    if (b_.is_int() && !__builtin_add_overflow(b_.as_int(), int64_t{GetSC(i)}, &r_)) {
      R[A].SetInt(r_);
      VM_NEXT();
    }
    if (!Arith(Op::AddI, R[A], b_, Value::Int(GetSC(i)))) goto raise;
    VM_NEXT();
  }
  VM_CASE(Neg) {
    if (!Negate(R[A], R[B])) goto raise;
    VM_NEXT();
  }
  VM_CASE(Not) { R[A].SetBool(!R[B].truthy()); VM_NEXT(); }
  VM_CASE(Eq) {
    const Value& b_ = R[B];
    const Value& c_ = R[C];
    R[A].SetBool(b_.is_int() && c_.is_int() ? b_.as_int() == c_.as_int() : value::Equal(b_, c_));
    VM_NEXT();
  }
  VM_CASE(Ne) {
    const Value& b_ = R[B];
    const Value& c_ = R[C];
    R[A].SetBool(b_.is_int() && c_.is_int() ? b_.as_int() != c_.as_int() : !value::Equal(b_, c_));
    VM_NEXT();
  }
  VM_CMP(Lt, <)
  VM_CMP(Le, <=)
  VM_CASE(EqK) {
    const Value& b_ = R[B];
    const Value& c_ = K[C];
    R[A].SetBool(b_.is_int() && c_.is_int() ? b_.as_int() == c_.as_int() : value::Equal(b_, c_));
    VM_NEXT();
  }
  VM_CASE(NeK) {
    const Value& b_ = R[B];
    const Value& c_ = K[C];
    R[A].SetBool(b_.is_int() && c_.is_int() ? b_.as_int() != c_.as_int() : !value::Equal(b_, c_));
    VM_NEXT();
  }
  VM_CMPK(LtK, <, Op::Lt, b_, c_)
  VM_CMPK(LeK, <=, Op::Le, b_, c_)
  VM_CMPK(GtK, >, Op::Lt, c_, b_)
  VM_CMPK(GeK, >=, Op::Le, c_, b_)
  VM_CASE(Jmp) {
    VM_BACK_EDGE(GetSBx(i), pc - 1);
    pc += GetSBx(i);
    VM_NEXT();
  }
  VM_CASE(JmpF) {  // forward only (the verifier): no budget charge
    if (!R[A].truthy()) pc += GetSBx(i);
    VM_NEXT();
  }
  VM_CASE(JmpT) {
    if (R[A].truthy()) pc += GetSBx(i);
    VM_NEXT();
  }
  VM_CASE(JmpNN) {
    if (!R[A].is_null()) pc += GetSBx(i);
    VM_NEXT();
  }
  VM_CASE(NewList) {
    std::vector<Value> items(R + B, R + B + C);
    R[A] = Value::List(std::move(items));
    if (R[A].depth() > value::kMaxValueDepth) {
      DepthLimit();
      goto raise;
    }
    VM_NEXT();
  }
  VM_CASE(Append) {
    if (!Append(R[A], R[B])) goto raise;
    VM_NEXT();
  }
  VM_CASE(NewRecord) {
    const value::Shape* shape = shapes_[C];
    std::vector<Value> fields(R + B, R + B + shape->names.size());
    R[A] = Value::Record(shape, std::move(fields));
    if (R[A].depth() > value::kMaxValueDepth) {
      DepthLimit();
      goto raise;
    }
    VM_NEXT();
  }
  VM_CASE(GetField) {
    if (!GetField(R[A], R[B], C, ic[pc - code - 1])) goto raise;
    VM_NEXT();
  }
  VM_CASE(GetIndex) {
    if (!GetIndex(R[A], R[B], R[C])) goto raise;
    VM_NEXT();
  }
  VM_CASE(Call) {
    // Fast path: depth and stack room are fine (frames_ never reallocates:
    // Execute reserved kMaxCallDepth). PushFrame handles the rest.
    const Function* target = fns + B;
    VM_CHARGE(1, pc - 1);
    Value* callee = R + fn->num_regs;
    uint32_t caller_base = static_cast<uint32_t>(R - S);
    VM_SAVE();
    if (frames_.size() < kMaxCallDepth && callee + target->num_regs <= stack_end) {
      frames_.push_back(Frame{B, 0, static_cast<uint32_t>(callee - S), caller_base + A});
    } else {
      if (!PushFrame(B, static_cast<uint32_t>(callee - S), caller_base + A)) goto raise;
      S = stack_.data();
      stack_end = S + stack_.size();
      R = S + caller_base;
      callee = R + fn->num_regs;
    }
    // Everything above the top frame is null (Ret and PopFrame clear their
    // window), so the arguments are constructed in place: no release checks.
    const Value* args = R + A + 1;
    if (uint32_t n = C; n == 1) {  // the common case, without the loop
      new (callee) Value(*args);
    } else {
      for (uint32_t k = 0; k < n; ++k) new (callee + k) Value(args[k]);
    }
    fn = target;
    code = fn->code.data();
    pc = code;
    R = callee;
    ic = caches[B].data();
    VM_NEXT();
  }
  VM_CASE(CallB) {
    Value out;
    if (!CallBuiltin(static_cast<bytecode::BuiltinId>(B), R + A + 1, C, out, value::Symbols::Global(), error_,
                     options_.memory_limit - value::HeapBytes())) {
      error_.step.reset();
      goto raise;
    }
    R[A] = std::move(out);
    if (OverMemory()) goto raise;
    VM_NEXT();
  }
  VM_CASE(Ret) {
    Value result = std::move(R[A]);
    uint32_t ret = frames_.back().ret;
    if (handlers_.empty()) {  // fast path of PopFrame
      for (Value *r = R, *end = R + fn->num_regs; r != end; ++r) r->SetNull();
      frames_.pop_back();
    } else {
      PopFrame();
    }
    if (frames_.empty()) {
      phase_ = Phase::Done;
      Outcome o;
      o.status = RunStatus::Completed;
      o.result = std::move(result);
      return o;
    }
    const Frame& f = frames_.back();
    fn = fns + f.fn;
    code = fn->code.data();
    pc = code + f.pc;
    R = S + f.base;
    ic = caches[f.fn].data();
    S[ret] = std::move(result);
    VM_NEXT();
  }
  VM_CASE(Try) {
    uint32_t catch_pc = static_cast<uint32_t>(pc - code) + GetSBx(i);
    handlers_.push_back(Handler{static_cast<uint32_t>(frames_.size() - 1), catch_pc, A});
    VM_NEXT();
  }
  VM_CASE(EndTry) {
    if (!handlers_.empty() && handlers_.back().frame == frames_.size() - 1) handlers_.pop_back();
    VM_NEXT();
  }
  VM_CASE(Fail) {
    Fail(kKindFail, value::ToDisplayString(R[A]));
    goto raise;
  }
  VM_CASE(Raise) {
    const Value& e = R[A];
    value::Symbols& symbols = value::Symbols::Global();
    auto field = [&](const char* name) -> std::string {
      const Value* v = e.is_record() ? e.FindField(symbols.Name(name)) : nullptr;
      return v != nullptr && v->is_string() ? v->str() : "";
    };
    Fail(kKindFail, "");
    error_.kind = field("kind");
    error_.message = field("message");
    if (error_.kind.empty()) error_.kind = kKindFail;
    const Value* step = e.is_record() ? e.FindField(symbols.Name("step")) : nullptr;
    if (step != nullptr && step->is_string()) error_.step = step->str();
    goto raise;
  }
  VM_CASE(Concat) {
    if (!Concat(R, A, B, C)) goto raise;
    VM_NEXT();
  }
  VM_CASE(CheckAs) {
    auto v = value::ConvertTo(R[B], module_, C);
    if (!v) {
      Fail(kKindConversion, v.error().message);
      goto raise;
    }
    R[A] = std::move(*v);
    if (OverMemory()) goto raise;
    VM_NEXT();
  }
  VM_CASE(ForNext) {
    Value* loop = R + A;
    if (!loop[0].is_list()) {
      Fail(kKindType, fmt::format("cannot iterate over a {}", value::TagName(loop[0].tag())));
      goto raise;
    }
    int64_t index = loop[1].is_int() ? loop[1].as_int() : 0;
    const auto& items = loop[0].list();
    if (index >= 0 && static_cast<uint64_t>(index) < items.size()) {
      loop[2] = items[index];
      loop[1].SetInt(index + 1);
    } else {
      pc += GetSBx(i);
    }
    VM_NEXT();
  }
  VM_CASE(ForRange) {
    Value* loop = R + A;
    if (!loop[0].is_int() || !loop[1].is_int()) {
      Fail(kKindType, "range bounds must be int");
      goto raise;
    }
    int64_t next = loop[1].as_int();
    if (next < loop[0].as_int()) {  // so next + 1 cannot overflow
      loop[2] = Value::Int(next);
      loop[1].SetInt(next + 1);
    } else {
      pc += GetSBx(i);
    }
    VM_NEXT();
  }
  VM_CASE(Effect) {
    auto v = options_.host->Effect(static_cast<bytecode::EffectId>(B), ++effect_seq_, branch_);
    if (!v) {
      Fail(kKindInternal, v.error().message);
      goto raise;
    }
    R[A] = std::move(*v);
    VM_NEXT();
  }
  VM_CASE(Compensate) {
    compensations_.push_back(Compensation{B, R[A]});
    VM_NEXT();
  }
  VM_CASE(Step)
  VM_CASE(Child)
  VM_CASE(Approve)
  VM_CASE(Wait)
  VM_CASE(Sleep)
  VM_CASE(Checkpoint) {
    VM_SAVE();
    SuspendReason reason;
    if (!StepReason(i, R, reason)) goto raise;
    Op op = bytecode::GetOp(i);
    bool has_value = op == Op::Step || op == Op::Child || op == Op::Approve || op == Op::Wait;
    return Suspend(std::move(reason), has_value ? A : kNoSlot);
  }

  VM_CASE(Spawn) {
    // The branch starts after the Jmp that follows (the verifier).
    spawns_.push_back(static_cast<uint32_t>(pc - code) + 1);
    VM_NEXT();
  }
  VM_CASE(ParJoin)
  VM_CASE(ParFor) {
    VM_SAVE();
    Op op = bytecode::GetOp(i);
    if (!OpenGroup(A, B, C, op == Op::ParFor, static_cast<uint32_t>(pc - code))) goto raise;
    if (yield_ == YieldKind::None) VM_NEXT();  // nothing to run: R[A] is set
    Outcome o;
    o.status = RunStatus::Yield;
    return o;
  }
  VM_CASE(BranchEnd) {
    VM_SAVE();
    if (branch_.empty()) {
      Fail(kKindInternal, "BranchEnd outside a branch");
      goto raise;
    }
    branch_output_ = R[A];
    yield_ = YieldKind::End;
    Outcome o;
    o.status = RunStatus::Yield;
    return o;
  }

#if !FLOW_COMPUTED_GOTO
  }
  FLOW_CHECK(false, "unknown opcode (the verifier rejects these)");
#endif

tick:
  // A window of budget units is spent (VM_CHARGE): pc is the charging
  // instruction, executed again when the run goes on.
  VM_SAVE();
  budget_left_ -= window - tick;
  if (!Tick()) {
    if (!stop_requested_) goto raise;
    Outcome o;
    o.status = RunStatus::Interrupted;
    return o;
  }
  window = std::clamp<int64_t>(budget_left_, 1, kTickInstructions);
  tick = window + charge;  // the charging instruction charges again: not twice into the new window
  VM_NEXT();

raise:
  VM_SAVE();
  if (!Raise()) {
    Outcome o;
    o.status = RunStatus::Failed;
    o.error = error_;
    return o;
  }
  VM_LOAD();
  VM_NEXT();

#undef VM_LOAD
#undef VM_SAVE
#undef VM_CASE
#undef VM_NEXT
#undef VM_CHARGE
#undef VM_BACK_EDGE
#undef VM_ARITH
#undef VM_CMP
#undef VM_CMPK
#undef VM_BOOL_RESULT
#undef A
#undef B
#undef C
}

}  // namespace flow::interp
