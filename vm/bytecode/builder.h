// A small assembler for Modules, used by codegen and by the unit tests to
// write programs by hand. It interns constants, field names, shapes and type
// descriptors (so equal ones share an index), tracks the current source
// position for the position table, and resolves forward jumps through labels.
//
//   ModuleBuilder mb("t.flow");
//   uint32_t fib = mb.DeclareFunction("fib", 1);
//   FunctionBuilder f(mb, fib);
//   auto done = f.NewLabel();
//   f.ABC(Op::Lt, 1, 0, 2); f.Jump(Op::JmpF, 1, done); ... f.Bind(done);
//   f.Finish(/*num_regs=*/4);
//   Module m = std::move(mb).Finish();
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vm/bytecode/module.h"

namespace flow::bytecode {

class ModuleBuilder {
 public:
  explicit ModuleBuilder(std::string source_name = "");

  auto Int(int64_t v) -> uint32_t;
  auto Float(double v) -> uint32_t;
  auto String(const std::string& v) -> uint32_t;
  auto Duration(int64_t ms) -> uint32_t;
  auto Name(const std::string& name) -> uint32_t;
  // The shape with these field names (any order, no duplicates).
  auto Shape(std::vector<std::string> fields) -> uint32_t;
  // Type descriptors; element/field types must be built first.
  auto Type(TypeDesc desc) -> uint32_t;
  auto ScalarType(TypeKind kind) -> uint32_t;
  auto Step(StepDesc desc) -> uint32_t;
  // Lists a Wait instruction in the wait table (emit it first; in pc order).
  void Wait(WaitDesc desc);
  // Reserves a function index so calls can be emitted before its body.
  auto DeclareFunction(const std::string& name, uint32_t arity,
                       FunctionKind kind = FunctionKind::Fn) -> uint32_t;

  auto module() -> Module& { return module_; }
  auto Finish() && -> Module { return std::move(module_); }

 private:
  auto AddConstant(Constant k) -> uint32_t;
  Module module_;
  std::map<std::string, uint32_t> names_;
};

class FunctionBuilder {
 public:
  struct Label { uint32_t id; };

  FunctionBuilder(ModuleBuilder& mb, uint32_t function_index);

  // The position recorded for the instructions emitted from now on.
  void SetPosition(SourcePos pos) { pos_ = pos; }
  void SetLine(uint32_t line) { pos_ = SourcePos{line, 0}; }
  auto position() const -> SourcePos { return pos_; }
  auto pc() const -> uint32_t { return static_cast<uint32_t>(code_.size()); }

  void ABC(Op op, uint32_t a, uint32_t b = 0, uint32_t c = 0);
  void ABx(Op op, uint32_t a, uint32_t bx);
  void AsBx(Op op, uint32_t a, int32_t sbx);
  // A jump (Jmp, JmpF, JmpT, JmpNN, Try, ForNext, ForRange) to a label bound before
  // or after.
  void Jump(Op op, uint32_t a, Label target);

  auto NewLabel() -> Label;
  void Bind(Label label);

  // Resolves jumps and stores the function into the module.
  void Finish(uint32_t num_regs);

 private:
  ModuleBuilder& mb_;
  uint32_t index_;
  SourcePos pos_;
  std::vector<Instr> code_;
  std::vector<SourcePos> positions_;
  std::vector<int64_t> labels_;  // bound pc or -1
  std::vector<std::pair<uint32_t, uint32_t>> fixups_;  // (pc, label)
};

}  // namespace flow::bytecode
