#include "vm/bytecode/disasm.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace flow::bytecode {

namespace {

auto Quote(const std::string& s) -> std::string {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

auto OperandText(const Module& m, Operand kind, int64_t v, int64_t target) -> std::string {
  switch (kind) {
    case Operand::_: return "";
    case Operand::R: return fmt::format("R{}", v);
    case Operand::K:
      return v < static_cast<int64_t>(m.constants.size())
                 ? fmt::format("K{}({})", v, ConstantToString(m.constants[v]))
                 : fmt::format("K{}", v);
    case Operand::I: case Operand::U: return fmt::format("{}", v);
    case Operand::J: return fmt::format("->{}", target);
    case Operand::F:
      return v < static_cast<int64_t>(m.functions.size()) ? m.functions[v].name : fmt::format("F{}", v);
    case Operand::B:
      return v < static_cast<int64_t>(BuiltinId::kCount) ? GetBuiltinInfo(static_cast<BuiltinId>(v)).name
                                                         : fmt::format("B{}", v);
    case Operand::E:
      return v < static_cast<int64_t>(EffectId::kCount) ? GetEffectName(static_cast<EffectId>(v))
                                                        : fmt::format("E{}", v);
    case Operand::N:
      return v < static_cast<int64_t>(m.names.size()) ? "." + m.names[v] : fmt::format("N{}", v);
    case Operand::S: return fmt::format("S{}", v);
    case Operand::T: return fmt::format("T{}", v);
    case Operand::D:
      return v < static_cast<int64_t>(m.steps.size())
                 ? (m.steps[v].IsChild() ? "workflow " : m.steps[v].connector + ".") + m.steps[v].operation
                 : fmt::format("D{}", v);
  }
  return "?";
}

auto TypeText(const Module& m, const TypeDesc& t) -> std::string {
  static const char* kNames[] = {"null", "int", "float", "bool", "string", "duration",
                                 "time", "json", "list", "record", "optional", "literal"};
  std::string out = kNames[static_cast<int>(t.kind)];
  if (t.kind == TypeKind::List || t.kind == TypeKind::Optional) out += fmt::format(" T{}", t.element);
  for (const auto& f : t.fields) {
    out += fmt::format(" {}:T{}", f.name < m.names.size() ? m.names[f.name] : "?", f.type);
  }
  for (const auto& l : t.literals) out += " " + Quote(l);
  return out;
}

}  // namespace

auto ConstantToString(const Constant& k) -> std::string {
  if (auto* i = std::get_if<int64_t>(&k)) return fmt::format("{}", *i);
  if (auto* d = std::get_if<double>(&k)) return fmt::format("{}", *d);
  if (auto* s = std::get_if<std::string>(&k)) return Quote(*s);
  return fmt::format("{}ms", std::get<DurationMs>(k).ms);
}

auto DisassembleInstr(const Module& m, const Function& fn, size_t pc) -> std::string {
  Instr i = fn.code[pc];
  if (static_cast<int>(GetOp(i)) >= kOpCount) return fmt::format("{:4} ???? {:#x}", pc, i);
  const OpInfo& info = GetOpInfo(GetOp(i));
  int64_t target = static_cast<int64_t>(pc) + 1 + GetSBx(i);
  std::string ops;
  auto add = [&](Operand kind, int64_t v) {
    std::string t = OperandText(m, kind, v, target);
    if (t.empty()) return;
    if (!ops.empty()) ops += ' ';
    ops += t;
  };
  add(info.a, GetA(i));
  if (info.format == Format::ABC) {
    add(info.b, info.b == Operand::I ? static_cast<int64_t>(static_cast<int16_t>(GetB(i))) : int64_t{GetB(i)});
    add(info.c, info.c == Operand::I ? static_cast<int64_t>(GetSC(i)) : int64_t{GetC(i)});
  } else {
    add(info.b, info.format == Format::AsBx ? GetSBx(i) : static_cast<int64_t>(GetBx(i)));
  }
  SourcePos pos = PositionAt(fn, pc);
  return fmt::format("{:4} {:<9} {:<10} {}", pc, fmt::format("[{}:{}]", pos.line, pos.column), info.name, ops);
}

auto Disassemble(const Module& m) -> std::string {
  std::string out = fmt::format("module {}\n", Quote(m.source_name));
  for (size_t k = 0; k < m.constants.size(); ++k) out += fmt::format("  K{} = {}\n", k, ConstantToString(m.constants[k]));
  for (size_t s = 0; s < m.shapes.size(); ++s) {
    out += fmt::format("  S{} = {{", s);
    for (size_t f = 0; f < m.shapes[s].size(); ++f) out += (f ? ", " : " ") + m.names[m.shapes[s][f]];
    out += " }\n";
  }
  for (size_t t = 0; t < m.types.size(); ++t) out += fmt::format("  T{} = {}\n", t, TypeText(m, m.types[t]));
  for (size_t s = 0; s < m.steps.size(); ++s) {
    const StepDesc& d = m.steps[s];
    out += fmt::format("  D{} = {}{} retry {} backoff {} max {} timeout {} compensate {}\n", s,
                       d.IsChild() ? "workflow " : d.connector + ".", d.operation, d.retry_attempts, d.backoff_ms, d.backoff_max_ms, d.timeout_ms,
                       d.compensate_step);
  }
  for (size_t w = 0; w < m.waits.size(); ++w) {
    const WaitDesc& d = m.waits[w];
    const std::string fn = d.function < m.functions.size() ? m.functions[d.function].name : "?";
    out += fmt::format("  W{} = wait {} as {} at {} pc {}\n", w, d.computed ? "(computed)" : Quote(d.event),
                       d.type == kNone ? "json" : fmt::format("T{}", d.type), fn, d.pc);
  }
  static const char* kKinds[] = {"fn", "workflow", "helper"};
  for (const Function& f : m.functions) {
    out += fmt::format("\n{} {} (arity {}, {} registers)\n", kKinds[static_cast<int>(f.kind)], f.name, f.arity,
                       f.num_regs);
    for (size_t pc = 0; pc < f.code.size(); ++pc) out += DisassembleInstr(m, f, pc) + "\n";
  }
  return out;
}

}  // namespace flow::bytecode
