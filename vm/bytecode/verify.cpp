#include "vm/bytecode/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace flow::bytecode {

namespace {

struct Ctx {
  const Module& m;
  const Function& f;
  size_t pc;
  auto Fail(const std::string& what) const -> Status {
    return Error{fmt::format("invalid bytecode: function '{}' pc {}: {}", f.name, pc, what)};
  }
};

// The register count a window opcode touches starting at its base operand.
auto CheckWindow(const Ctx& c, uint32_t base, uint64_t count) -> Status {
  if (base + count > c.f.num_regs) {
    return c.Fail(fmt::format("register window {}..{} exceeds {} registers", base, base + count,
                              c.f.num_regs));
  }
  return Ok{};
}

auto CheckOperand(const Ctx& c, Operand kind, uint32_t v, int64_t jump_target) -> Status {
  auto out = [&](const char* what, size_t size) -> Status {
    if (v < size) return Ok{};
    return c.Fail(fmt::format("{} {} out of range ({} defined)", what, v, size));
  };
  switch (kind) {
    case Operand::_: return v == 0 ? Status(Ok{}) : c.Fail("unused operand is not zero");
    case Operand::R: return out("register", c.f.num_regs);
    case Operand::K: return out("constant", c.m.constants.size());
    case Operand::F: return out("function", c.m.functions.size());
    case Operand::B: return out("built-in", static_cast<size_t>(BuiltinId::kCount));
    case Operand::N: return out("field name", c.m.names.size());
    case Operand::S: return out("shape", c.m.shapes.size());
    case Operand::T: return out("type", c.m.types.size());
    case Operand::D: return out("step", c.m.steps.size());
    case Operand::E: return out("effect", static_cast<size_t>(EffectId::kCount));
    case Operand::J:
      if (jump_target < 0 || jump_target >= static_cast<int64_t>(c.f.code.size())) {
        return c.Fail(fmt::format("jump target {} outside the function", jump_target));
      }
      return Ok{};
    case Operand::I: case Operand::U: return Ok{};
  }
  return Ok{};
}

auto CheckWindows(const Ctx& c, Instr i) -> Status {
  uint32_t a = GetA(i), b = GetB(i), cc = GetC(i);
  switch (GetOp(i)) {
    case Op::NewList: case Op::Concat: return CheckWindow(c, b, cc);
    case Op::Call: case Op::CallB: return CheckWindow(c, a, uint64_t{cc} + 1);
    case Op::NewRecord: return CheckWindow(c, b, c.m.shapes[cc].size());
    case Op::ForNext: case Op::ForRange: return CheckWindow(c, a, 3);
    case Op::Approve: return CheckWindow(c, b, 3);
    case Op::Wait: return CheckWindow(c, b, 2);
    case Op::ParFor: return CheckWindow(c, b, 2);
    default: break;
  }
  return Ok{};
}

auto CheckInstr(const Ctx& c) -> Status {
  Instr i = c.f.code[c.pc];
  if (static_cast<int>(GetOp(i)) >= kOpCount) return c.Fail(fmt::format("unknown opcode {}", static_cast<int>(GetOp(i))));
  if (GetReserved(i) != 0) return c.Fail("reserved instruction bits are not zero");
  const OpInfo& info = GetOpInfo(GetOp(i));
  int64_t target = static_cast<int64_t>(c.pc) + 1 + GetSBx(i);
  if (auto s = CheckOperand(c, info.a, GetA(i), target); !s) return s;
  if (info.format == Format::ABC) {
    if (auto s = CheckOperand(c, info.b, GetB(i), target); !s) return s;
    if (auto s = CheckOperand(c, info.c, GetC(i), target); !s) return s;
  } else {
    uint32_t bx = GetBx(i);
    if (info.b == Operand::K || info.b == Operand::_) {
      if (auto s = CheckOperand(c, info.b, bx, target); !s) return s;
    } else if (info.b == Operand::J) {
      if (auto s = CheckOperand(c, Operand::J, 0, target); !s) return s;
    }
  }
  if (auto s = CheckWindows(c, i); !s) return s;
  // Only Jmp may go back: the VM charges its instruction budget there
  // (interp/vm_loop.cpp), and codegen emits no other backward jump.
  const bool jumps = info.b == Operand::J || info.a == Operand::J;
  if (jumps && GetOp(i) != Op::Jmp && target <= static_cast<int64_t>(c.pc)) {
    return c.Fail(fmt::format("backward {} (only Jmp may jump back)", GetOpInfo(GetOp(i)).name));
  }
  if (GetOp(i) == Op::Call) {
    const Function& callee = c.m.functions[GetB(i)];
    if (callee.arity != GetC(i)) {
      return c.Fail(fmt::format("call of '{}' with {} arguments, it takes {}", callee.name, GetC(i),
                                callee.arity));
    }
  }
  if (GetOp(i) == Op::Step || GetOp(i) == Op::Child) {
    // A Child names a child descriptor of a workflow of the module; a Step
    // a connector step (the driver trusts both).
    const StepDesc& d = c.m.steps[GetB(i)];
    if (d.IsChild() != (GetOp(i) == Op::Child)) {
      return c.Fail(fmt::format("{} of descriptor D{}, which is not a {}", GetOpInfo(GetOp(i)).name, GetB(i),
                                GetOp(i) == Op::Child ? "child call" : "connector step"));
    }
    int callee = d.IsChild() ? c.m.FindFunction(d.operation) : -1;
    if (d.IsChild() && (callee < 0 || c.m.functions[callee].kind != FunctionKind::Workflow)) {
      return c.Fail(fmt::format("child call of '{}', which is not a workflow of the program", d.operation));
    }
  }
  if (GetOp(i) == Op::Spawn || GetOp(i) == Op::ParFor) {
    // The branch starts after the Jmp that follows: both must exist.
    if (c.pc + 2 >= c.f.code.size() || GetOp(c.f.code[c.pc + 1]) != Op::Jmp || GetSBx(c.f.code[c.pc + 1]) < 0) {
      return c.Fail(fmt::format("{} is not followed by a forward Jmp over its branch", GetOpInfo(GetOp(i)).name));
    }
  }
  if (GetOp(i) == Op::CallB) {
    const auto& b = GetBuiltinInfo(static_cast<BuiltinId>(GetB(i)));
    if (static_cast<int>(GetC(i)) < b.min_args || static_cast<int>(GetC(i)) > b.max_args) {
      return c.Fail(fmt::format("built-in '{}' called with {} arguments", b.name, GetC(i)));
    }
  }
  return Ok{};
}

auto VerifyFunction(const Module& m, const Function& f) -> Status {
  Ctx c{m, f, 0};
  if (f.num_regs > kMaxRegisters) return c.Fail(fmt::format("{} registers, the limit is {}", f.num_regs, kMaxRegisters));
  if (f.arity > f.num_regs) return c.Fail("more parameters than registers");
  if (f.code.empty()) return c.Fail("empty code");
  if (f.positions.size() != f.code.size()) return c.Fail("position table does not match the code");
  for (uint32_t t : f.param_types) if (t >= m.types.size()) return c.Fail("parameter type out of range");
  for (uint32_t n : f.param_names) if (n >= m.names.size()) return c.Fail("parameter name out of range");
  if (!f.param_types.empty() && f.param_types.size() != f.arity) return c.Fail("parameter types do not match the arity");
  if (!f.param_names.empty() && f.param_names.size() != f.arity) return c.Fail("parameter names do not match the arity");
  if (f.result_type >= m.types.size() && !m.types.empty()) return c.Fail("result type out of range");
  for (c.pc = 0; c.pc < f.code.size(); ++c.pc) {
    if (auto s = CheckInstr(c); !s) return s;
  }
  c.pc = f.code.size() - 1;
  Op last = GetOp(f.code.back());
  if (last != Op::Ret && last != Op::Jmp && last != Op::Fail && last != Op::Raise) {
    return c.Fail("code can run off the end of the function");
  }
  return Ok{};
}

auto VerifyTables(const Module& m) -> Status {
  auto bad = [](const std::string& what) -> Status { return Error{"invalid bytecode: " + what}; };
  for (size_t s = 0; s < m.shapes.size(); ++s) {
    const auto& shape = m.shapes[s];
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] >= m.names.size()) return bad(fmt::format("shape {} names field {} out of range", s, shape[i]));
      if (i > 0 && !(m.names[shape[i - 1]] < m.names[shape[i]])) {
        return bad(fmt::format("shape {} is not sorted by field name", s));
      }
    }
  }
  std::vector<uint32_t> depth(m.types.size(), 1);
  for (size_t t = 0; t < m.types.size(); ++t) {
    const TypeDesc& d = m.types[t];
    bool uses_element = d.kind == TypeKind::List || d.kind == TypeKind::Optional;
    // Element types must precede their users, which also rules out cycles.
    if (uses_element && d.element >= t) return bad(fmt::format("type {} element {} is not defined before it", t, d.element));
    for (const auto& f : d.fields) {
      if (f.name >= m.names.size() || f.type >= t) return bad(fmt::format("type {} has an invalid field", t));
      depth[t] = std::max(depth[t], depth[f.type] + 1);
    }
    if (uses_element) depth[t] = std::max(depth[t], depth[d.element] + 1);
    if (depth[t] > kMaxTypeDepth) return bad(fmt::format("type {} nests deeper than {} levels", t, kMaxTypeDepth));
  }
  for (size_t s = 0; s < m.steps.size(); ++s) {
    const StepDesc& d = m.steps[s];
    if (d.compensate_step != kNone && (d.compensate_step < 0 || static_cast<size_t>(d.compensate_step) >= m.steps.size())) {
      return bad(fmt::format("step {} compensation step out of range", s));
    }
    if (d.compensate_args_fn != kNone && (d.compensate_args_fn < 0 || static_cast<size_t>(d.compensate_args_fn) >= m.functions.size())) {
      return bad(fmt::format("step {} compensation function out of range", s));
    }
    if (d.output_type != kNone && (d.output_type < 0 || static_cast<size_t>(d.output_type) >= m.types.size())) {
      return bad(fmt::format("step {} output type out of range", s));
    }
  }
  for (size_t w = 0; w < m.waits.size(); ++w) {
    const WaitDesc& d = m.waits[w];
    if (d.function >= m.functions.size() || d.pc >= m.functions[d.function].code.size() ||
        GetOp(m.functions[d.function].code[d.pc]) != Op::Wait) {
      return bad(fmt::format("wait {} does not name a Wait instruction", w));
    }
    if (d.type != kNone && (d.type < 0 || static_cast<size_t>(d.type) >= m.types.size())) {
      return bad(fmt::format("wait {} type out of range", w));
    }
  }
  std::unordered_set<std::string_view> seen;
  for (const auto& n : m.names) {
    if (!seen.insert(n).second) return bad(fmt::format("field name '{}' is listed twice", n));
  }
  return Ok{};
}

}  // namespace

auto Verify(const Module& m) -> Status {
  if (auto s = VerifyTables(m); !s) return s;
  for (const Function& f : m.functions) {
    if (auto s = VerifyFunction(m, f); !s) return s;
  }
  return Ok{};
}

}  // namespace flow::bytecode
