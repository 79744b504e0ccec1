#include "vm/bytecode/builder.h"

#include <algorithm>
#include <cstring>

#include "vm/base/check.h"

namespace flow::bytecode {

ModuleBuilder::ModuleBuilder(std::string source_name) { module_.source_name = std::move(source_name); }

auto ModuleBuilder::AddConstant(Constant k) -> uint32_t {
  for (size_t i = 0; i < module_.constants.size(); ++i) {
    const Constant& c = module_.constants[i];
    // Compare floats by bits so 0.0 and -0.0 stay distinct constants.
    if (c.index() == k.index()) {
      if (auto* d = std::get_if<double>(&c)) {
        if (std::memcmp(d, &std::get<double>(k), sizeof(double)) == 0) return static_cast<uint32_t>(i);
      } else if (c == k) {
        return static_cast<uint32_t>(i);
      }
    }
  }
  module_.constants.push_back(std::move(k));
  return static_cast<uint32_t>(module_.constants.size() - 1);
}

auto ModuleBuilder::Int(int64_t v) -> uint32_t { return AddConstant(v); }
auto ModuleBuilder::Float(double v) -> uint32_t { return AddConstant(v); }
auto ModuleBuilder::String(const std::string& v) -> uint32_t { return AddConstant(v); }
auto ModuleBuilder::Duration(int64_t ms) -> uint32_t { return AddConstant(DurationMs{ms}); }

auto ModuleBuilder::Name(const std::string& name) -> uint32_t {
  auto [it, inserted] = names_.emplace(name, static_cast<uint32_t>(module_.names.size()));
  if (inserted) module_.names.push_back(name);
  return it->second;
}

auto ModuleBuilder::Shape(std::vector<std::string> fields) -> uint32_t {
  std::sort(fields.begin(), fields.end());
  FLOW_CHECK(std::adjacent_find(fields.begin(), fields.end()) == fields.end(), "duplicate field in a shape");
  std::vector<uint32_t> ids;
  for (const auto& f : fields) ids.push_back(Name(f));
  for (size_t i = 0; i < module_.shapes.size(); ++i) {
    if (module_.shapes[i] == ids) return static_cast<uint32_t>(i);
  }
  module_.shapes.push_back(std::move(ids));
  return static_cast<uint32_t>(module_.shapes.size() - 1);
}

auto ModuleBuilder::Type(TypeDesc desc) -> uint32_t {
  for (size_t i = 0; i < module_.types.size(); ++i) {
    if (module_.types[i] == desc) return static_cast<uint32_t>(i);
  }
  module_.types.push_back(std::move(desc));
  return static_cast<uint32_t>(module_.types.size() - 1);
}

auto ModuleBuilder::ScalarType(TypeKind kind) -> uint32_t { return Type(TypeDesc{kind, 0, {}, {}}); }

void ModuleBuilder::Wait(WaitDesc desc) { module_.waits.push_back(std::move(desc)); }

auto ModuleBuilder::Step(StepDesc desc) -> uint32_t {
  module_.steps.push_back(std::move(desc));
  return static_cast<uint32_t>(module_.steps.size() - 1);
}

auto ModuleBuilder::DeclareFunction(const std::string& name, uint32_t arity, FunctionKind kind) -> uint32_t {
  Function f;
  f.name = name;
  f.arity = arity;
  f.kind = kind;
  f.num_regs = arity;
  module_.functions.push_back(std::move(f));
  return static_cast<uint32_t>(module_.functions.size() - 1);
}

FunctionBuilder::FunctionBuilder(ModuleBuilder& mb, uint32_t function_index)
    : mb_(mb), index_(function_index) {
  FLOW_CHECK(function_index < mb.module().functions.size(), "function not declared");
}

void FunctionBuilder::ABC(Op op, uint32_t a, uint32_t b, uint32_t c) {
  FLOW_CHECK(a <= kMaxOperand && b <= kMaxOperand && c <= kMaxOperand, "operand does not fit 16 bits");
  code_.push_back(EncodeABC(op, a, b, c));
  positions_.push_back(pos_);
}

void FunctionBuilder::ABx(Op op, uint32_t a, uint32_t bx) {
  FLOW_CHECK(a <= kMaxOperand, "operand does not fit 16 bits");
  code_.push_back(EncodeABx(op, a, bx));
  positions_.push_back(pos_);
}

void FunctionBuilder::AsBx(Op op, uint32_t a, int32_t sbx) { ABx(op, a, static_cast<uint32_t>(sbx)); }

void FunctionBuilder::Jump(Op op, uint32_t a, Label target) {
  fixups_.emplace_back(pc(), target.id);
  AsBx(op, a, 0);
}

auto FunctionBuilder::NewLabel() -> Label {
  labels_.push_back(-1);
  return Label{static_cast<uint32_t>(labels_.size() - 1)};
}

void FunctionBuilder::Bind(Label label) {
  FLOW_CHECK(labels_[label.id] < 0, "label bound twice");
  labels_[label.id] = pc();
}

void FunctionBuilder::Finish(uint32_t num_regs) {
  for (auto [at, label] : fixups_) {
    FLOW_CHECK(labels_[label] >= 0, "jump to an unbound label");
    int64_t offset = labels_[label] - (static_cast<int64_t>(at) + 1);
    Instr& i = code_[at];
    i = EncodeAsBx(GetOp(i), GetA(i), static_cast<int32_t>(offset));
  }
  Function& f = mb_.module().functions[index_];
  f.code = std::move(code_);
  f.positions = std::move(positions_);
  f.num_regs = std::max(num_regs, f.arity);
}

}  // namespace flow::bytecode
