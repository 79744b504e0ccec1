// Internal to codegen: the state of lowering one module (types, steps) and
// one function (registers, labels). lower.cpp holds the module and
// statement parts, lower_expr.cpp the expressions and folding.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/check/checked_program.h"
#include "compiler/source/source.h"
#include "vm/bytecode/builder.h"

namespace flow::codegen {

// A folded literal value.
using Folded = std::variant<std::monostate /*null*/, int64_t, double, bool, std::string, bytecode::DurationMs>;

class ModuleLowering {
 public:
  ModuleLowering(const check::CheckedProgram& p, const SourceFile* source);
  auto Run() -> bytecode::Module;

  auto program() const -> const check::CheckedProgram& { return p_; }
  auto builder() -> bytecode::ModuleBuilder& { return mb_; }
  // The module type descriptor of checker type `t`.
  auto TypeId(types::TypeId t) -> uint32_t;
  auto LineOf(SourceRange r) const -> uint32_t;
  // The line and byte column where `r` begins ({0, 0} without a source).
  auto PosOf(SourceRange r) const -> bytecode::SourcePos;

 private:
  const check::CheckedProgram& p_;
  const SourceFile* source_;
  bytecode::ModuleBuilder mb_;
  std::map<int32_t, uint32_t> type_ids_;
};

// Whether a value of static type `from` holds an int where `to` has a
// float: at the top, or inside optionals, lists and record fields. The one
// implicit conversion (docs/language.md) must then be applied, or
// `r.ratio / 2` would divide integers although `ratio` is a float.
auto NeedsWidening(const types::TypeTable& tt, types::TypeId from, types::TypeId to) -> bool;

class FunctionLowering {
 public:
  FunctionLowering(ModuleLowering& m, uint32_t index);
  void Run();

  // Statements (lower.cpp).
  void Block(const ast::Block& b);
  void Stmt(ast::StmtId id);

  // Expressions (lower_expr.cpp).
  // Evaluates `e` into register `dst`.
  void ExprInto(ast::ExprId e, uint32_t dst);
  // A register holding `e`: the local's own register for a local name,
  // else a fresh temporary.
  auto ExprReg(ast::ExprId e) -> uint32_t;
  // A step call: the step descriptor with `clauses`, result into `dst`.
  void StepInto(ast::ExprId call, const ast::StepClauses* clauses, uint32_t dst);
  auto Fold(ast::ExprId e) const -> std::optional<Folded>;

  auto Temp(uint32_t n = 1) -> uint32_t;
  auto temp_top() const -> uint32_t { return top_; }
  void ReleaseTo(uint32_t top) { top_ = top; }
  // Instructions emitted from now on come from `r` (the position table).
  void At(SourceRange r) { f_.SetPosition(m_.PosOf(r)); }

  auto ast() const -> const ast::Ast& { return m_.program().ast; }
  auto prog() const -> const check::CheckedProgram& { return m_.program(); }
  auto fb() -> bytecode::FunctionBuilder& { return f_; }
  auto mb() -> bytecode::ModuleBuilder& { return m_.builder(); }

 private:
  void LoadFolded(const Folded& v, uint32_t dst);
  void Binary(ast::ExprId id, const ast::BinaryExpr& b, uint32_t dst);
  void Logical(const ast::BinaryExpr& b, uint32_t dst);
  auto ConcatNeedsWidening(ast::ExprId id, const ast::BinaryExpr& b) -> bool;
  void Call(ast::ExprId id, const ast::CallExpr& c, uint32_t dst);
  void Interpolate(const ast::StringLit& s, uint32_t dst);
  void Record(const ast::RecordLit& r, uint32_t dst);
  void Assign(const ast::AssignStmt& a);
  auto RangeInto(ast::ExprId iterable, uint32_t w) -> bool;
  void For(ast::StmtId id, const ast::ForStmt& f);
  // A loop body: `continue` jumps to `next`, `break` to `end`.
  void LoopBody(const ast::Block& body, bytecode::FunctionBuilder::Label next, bytecode::FunctionBuilder::Label end);
  void Jump(bool is_break);
  void Try(ast::StmtId id, const ast::TryStmt& t);
  // Branches (docs/composition.md, "Lowering").
  void Parallel(const ast::ParallelStmt& p);
  void ParallelFor(ast::ExprId id, const ast::ParallelForExpr& p, uint32_t dst);
  void WrittenSlots(ast::StmtId id, std::vector<uint32_t>& out);
  void Compensate(const ast::CompensateClause& c);
  // The constant index of `e` when it folds to a number, string or duration.
  auto ConstantOperand(ast::ExprId e) -> std::optional<uint32_t>;
  // The base register of a call window with `args` arguments for a result
  // going to `dst`.
  auto CallBase(uint32_t dst, uint32_t args) -> uint32_t;
  auto StepDescFor(ast::ExprId call, const ast::StepClauses* clauses) -> uint32_t;
  // The retry, timeout and compensate clauses into `d` (comp_step_ set
  // when there is a compensation).
  void ApplyClauses(bytecode::StepDesc& d, const ast::StepClauses* clauses);
  auto ArgsRecord(const ast::CallExpr& c, const check::CallTarget& t) -> uint32_t;
  // A call of a workflow (docs/composition.md): Child with a child
  // descriptor and the record of the callee's parameters.
  void ChildInto(ast::ExprId call, const ast::StepClauses* clauses, uint32_t dst);
  // A record with the given field names (any order) and values.
  auto NamedRecord(const std::vector<std::string>& names, const std::vector<ast::ExprId>& values,
                   const std::vector<types::TypeId>& types) -> uint32_t;
  // int -> float where an int expression meets a float destination (the
  // one implicit conversion of SPEC §2.2), so string(x) prints "1.0".
  void CoerceInto(ast::ExprId e, types::TypeId target, uint32_t reg);

  ModuleLowering& m_;
  uint32_t index_;
  bytecode::FunctionBuilder f_;
  uint32_t locals_ = 0;
  uint32_t top_ = 0;
  uint32_t max_regs_ = 0;
  // The compensation step descriptor made by the last StepDescFor.
  std::optional<uint32_t> comp_step_;
  // The loops around the current statement, innermost last, each with the
  // number of `try` bodies open when it began.
  struct LoopLabels {
    bytecode::FunctionBuilder::Label next;
    bytecode::FunctionBuilder::Label end;
    uint32_t try_depth;
  };
  std::vector<LoopLabels> loops_;
  uint32_t try_depth_ = 0;  // `try` bodies open around the current statement
};

}  // namespace flow::codegen
