// Lowering: module level (types, functions) and statements. Expressions
// are in lower_expr.cpp.
#include "compiler/codegen/lower.h"

#include <algorithm>

#include "compiler/codegen/lowering.h"

namespace flow::codegen {

using bytecode::Op;
using bytecode::TypeDesc;
using bytecode::TypeKind;

ModuleLowering::ModuleLowering(const check::CheckedProgram& p, const SourceFile* source)
    : p_(p), source_(source), mb_(source != nullptr ? source->path() : "") {}

auto ModuleLowering::LineOf(SourceRange r) const -> uint32_t {
  if (source_ == nullptr || !r.valid()) return 0;
  return source_->Locate(r.begin).line;
}

auto ModuleLowering::PosOf(SourceRange r) const -> bytecode::SourcePos {
  if (source_ == nullptr || !r.valid()) return {};
  LineCol at = source_->Locate(r.begin);
  return {static_cast<uint32_t>(at.line), static_cast<uint32_t>(at.column)};
}

auto ModuleLowering::TypeId(types::TypeId t) -> uint32_t {
  auto it = type_ids_.find(t.index);
  if (it != type_ids_.end()) return it->second;
  TypeDesc d;
  if (!t.valid()) {
    d.kind = TypeKind::Null;
  } else {
    const types::Type& ty = p_.types.get(t);
    switch (ty.kind) {
      case types::Kind::Error: case types::Kind::Never: case types::Kind::Json: d.kind = TypeKind::Json; break;
      // Never a parameter, result or cast target (the checker forbids it).
      case types::Kind::Secret: d.kind = TypeKind::Json; break;
      case types::Kind::Null: d.kind = TypeKind::Null; break;
      case types::Kind::Int: d.kind = TypeKind::Int; break;
      case types::Kind::Float: d.kind = TypeKind::Float; break;
      case types::Kind::Bool: d.kind = TypeKind::Bool; break;
      case types::Kind::String: d.kind = TypeKind::String; break;
      case types::Kind::Duration: d.kind = TypeKind::Duration; break;
      case types::Kind::Time: d.kind = TypeKind::Time; break;
      case types::Kind::List: d.kind = TypeKind::List; d.element = TypeId(ty.element); break;
      case types::Kind::Optional: d.kind = TypeKind::Optional; d.element = TypeId(ty.element); break;
      case types::Kind::Literal: d.kind = TypeKind::Literal; d.literals = ty.literals; break;
      case types::Kind::Record:
        d.kind = TypeKind::Record;
        for (const auto& f : ty.fields) {  // sorted by name in the TypeTable
          uint32_t field_type = TypeId(f.type);
          d.fields.push_back({mb_.Name(f.name), field_type});
        }
        break;
    }
  }
  uint32_t id = mb_.Type(std::move(d));
  type_ids_.emplace(t.index, id);
  return id;
}

auto ModuleLowering::Run() -> bytecode::Module {
  const ast::Ast& ast = p_.ast;
  for (const schema::ConnectorSig& c : p_.connectors) {
    mb_.module().connectors.push_back(bytecode::ConnectorDesc{c.name, c.path, c.text});
  }
  for (size_t i = 0; i < ast.functions.size(); ++i) {
    const ast::FunctionDecl& fd = ast.functions[i];
    mb_.DeclareFunction(fd.name, static_cast<uint32_t>(fd.params.size()),
                        fd.is_workflow ? bytecode::FunctionKind::Workflow : bytecode::FunctionKind::Fn);
  }
  for (size_t i = 0; i < ast.functions.size(); ++i) {
    const ast::FunctionDecl& fd = ast.functions[i];
    const check::FunctionInfo& info = p_.functions[i];
    bytecode::Function& f = mb_.module().functions[i];
    for (size_t k = 0; k < fd.params.size(); ++k) {
      f.param_names.push_back(mb_.Name(fd.params[k].name));
      f.param_types.push_back(TypeId(k < info.param_types.size() ? info.param_types[k] : types::TypeId{}));
    }
    mb_.module().functions[i].result_type = TypeId(info.result);
  }
  for (size_t i = 0; i < ast.functions.size(); ++i) {
    FunctionLowering(*this, static_cast<uint32_t>(i)).Run();
  }
  return std::move(mb_).Finish();
}

FunctionLowering::FunctionLowering(ModuleLowering& m, uint32_t index)
    : m_(m), index_(index), f_(m.builder(), index) {
  locals_ = static_cast<uint32_t>(prog().functions[index].locals.size());
  top_ = max_regs_ = locals_;
}

auto FunctionLowering::Temp(uint32_t n) -> uint32_t {
  uint32_t base = top_;
  top_ += n;
  if (top_ > max_regs_) max_regs_ = top_;
  return base;
}

void FunctionLowering::Run() {
  const ast::FunctionDecl& fd = ast().functions[index_];
  Block(fd.body);
  // Falling off the end returns null (the checker rejects it where a
  // result is declared, so this is only reached by result-less bodies).
  At(fd.body.range);
  uint32_t t = Temp();
  f_.ABC(Op::LoadNull, t);
  f_.ABC(Op::Ret, t);
  f_.Finish(max_regs_);
}

void FunctionLowering::Block(const ast::Block& b) {
  for (ast::StmtId s : b.stmts) Stmt(s);
}

void FunctionLowering::Stmt(ast::StmtId id) {
  const ast::Stmt& s = ast().stmt(id);
  At(s.range);
  uint32_t saved = top_;
  std::visit(
      [&](const auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, ast::LetStmt>) {
          uint32_t slot = static_cast<uint32_t>(prog().stmt_slots[id.index]);
          // The slot is fresh (a let's name is not in scope in its own
          // initialiser), so the value can land in it directly.
          if (!n.clauses.empty()) StepInto(n.init, &n.clauses, slot);
          else ExprInto(n.init, slot);
          CoerceInto(n.init, prog().functions[index_].locals[slot].type, slot);
          if (n.clauses.compensate) Compensate(*n.clauses.compensate);
        } else if constexpr (std::is_same_v<N, ast::AssignStmt>) {
          Assign(n);
        } else if constexpr (std::is_same_v<N, ast::ExprStmt>) {
          uint32_t t = Temp();
          if (!n.clauses.empty()) StepInto(n.expr, &n.clauses, t);
          else ExprInto(n.expr, t);
          if (n.clauses.compensate) Compensate(*n.clauses.compensate);
        } else if constexpr (std::is_same_v<N, ast::IfStmt>) {
          auto else_label = f_.NewLabel(), end = f_.NewLabel();
          uint32_t c = ExprReg(n.cond);
          f_.Jump(Op::JmpF, c, else_label);
          ReleaseTo(saved);
          Block(n.then_block);
          if (n.else_block) f_.Jump(Op::Jmp, 0, end);
          f_.Bind(else_label);
          if (n.else_block) Block(*n.else_block);
          f_.Bind(end);
        } else if constexpr (std::is_same_v<N, ast::ForStmt>) {
          For(id, n);
        } else if constexpr (std::is_same_v<N, ast::WhileStmt>) {
          auto top = f_.NewLabel(), end = f_.NewLabel();
          f_.Bind(top);
          uint32_t c = ExprReg(n.cond);
          f_.Jump(Op::JmpF, c, end);
          ReleaseTo(saved);
          LoopBody(n.body, top, end);
          f_.Jump(Op::Jmp, 0, top);
          f_.Bind(end);
        } else if constexpr (std::is_same_v<N, ast::ReturnStmt>) {
          uint32_t r = Temp();
          if (!n.value.valid()) {
            f_.ABC(Op::LoadNull, r);
          } else {
            const auto* name = std::get_if<ast::NameRef>(&ast().expr(n.value).node);
            const check::NameTarget& target = prog().names[n.value.index];
            bool is_local = name != nullptr && target.kind == check::NameKind::Local;
            const types::TypeTable& tt = prog().types;
            types::TypeId result = prog().functions[index_].result;
            bool to_float = result.valid() && tt.kind(tt.StripOptional(result)) == types::Kind::Float;
            if (is_local && n.clauses.empty() && !to_float) {  // return x: no copy
              f_.ABC(Op::Ret, static_cast<uint32_t>(target.index));
              return;
            }
            if (!n.clauses.empty()) StepInto(n.value, &n.clauses, r);
            else ExprInto(n.value, r);
            CoerceInto(n.value, prog().functions[index_].result, r);
          }
          f_.ABC(Op::Ret, r);
        } else if constexpr (std::is_same_v<N, ast::FailStmt>) {
          f_.ABC(Op::Fail, ExprReg(n.message));
        } else if constexpr (std::is_same_v<N, ast::TryStmt>) {
          Try(id, n);
        } else if constexpr (std::is_same_v<N, ast::CheckpointStmt>) {
          f_.ABC(Op::Checkpoint, ExprReg(n.label));
        } else if constexpr (std::is_same_v<N, ast::SleepStmt>) {
          f_.ABC(Op::Sleep, ExprReg(n.duration));
        } else if constexpr (std::is_same_v<N, ast::ParallelStmt>) {
          Parallel(n);
        } else if constexpr (std::is_same_v<N, ast::BreakStmt>) {
          Jump(true);
        } else if constexpr (std::is_same_v<N, ast::ContinueStmt>) {
          Jump(false);
        } else if constexpr (std::is_same_v<N, ast::ErrorStmt>) {
          FLOW_CHECK(false, "an ErrorStmt in a program without errors");
        } else {
          static_assert(ast::kUnhandled<N>, "FunctionLowering::Stmt: a statement kind is not handled");
        }
      },
      s.node);
  ReleaseTo(saved);
}

void FunctionLowering::Assign(const ast::AssignStmt& a) {
  int32_t slot_index = prog().names[a.target.index].index;
  uint32_t slot = static_cast<uint32_t>(slot_index);
  if (!a.clauses.empty()) {
    uint32_t t = Temp();
    StepInto(a.value, &a.clauses, t);
    f_.ABC(Op::Move, slot, t);
    if (a.clauses.compensate) Compensate(*a.clauses.compensate);
    return;
  }
  const ast::Expr& v = ast().expr(a.value);
  if (const auto* b = std::get_if<ast::BinaryExpr>(&v.node)) {
    // x = x + [e]: append in place (amortised O(1) in a loop).
    const auto* lhs = std::get_if<ast::NameRef>(&ast().expr(b->lhs).node);
    const auto* rhs = std::get_if<ast::ListLit>(&ast().expr(b->rhs).node);
    bool same = lhs != nullptr && prog().names[b->lhs.index].kind == check::NameKind::Local &&
                prog().names[b->lhs.index].index == slot_index;
    if (b->op == ast::BinaryOp::Add && same && rhs != nullptr && rhs->items.size() == 1) {
      const types::TypeTable& tt = prog().types;
      const types::TypeId list = prog().functions[index_].locals[slot].type;
      const ast::ExprId e = rhs->items[0];
      if (tt.kind(list) == types::Kind::List && NeedsWidening(tt, prog().expr_types[e.index], tt.get(list).element)) {
        uint32_t item = Temp();  // xs: [float] = xs + [1]
        ExprInto(e, item);
        CoerceInto(e, tt.get(list).element, item);
        f_.ABC(Op::Append, slot, item);
      } else {
        f_.ABC(Op::Append, slot, ExprReg(e));
      }
      return;
    }
    // One instruction reads its operands before writing: safe in place,
    // and lets `s = s + t` extend s without a copy. Logical operators
    // write the destination early, so they go through a temporary.
    if (b->op != ast::BinaryOp::And && b->op != ast::BinaryOp::Or && b->op != ast::BinaryOp::Coalesce) {
      ExprInto(a.value, slot);
      CoerceInto(a.value, prog().functions[index_].locals[slot].type, slot);
      return;
    }
  }
  uint32_t t = Temp();
  ExprInto(a.value, t);
  f_.ABC(Op::Move, slot, t);
  CoerceInto(a.value, prog().functions[index_].locals[slot].type, slot);
}

// `for x in range(...)` counts in registers (ForRange): no list is built,
// and none is saved with the VM state at every durable point in the loop.
auto FunctionLowering::RangeInto(ast::ExprId iterable, uint32_t w) -> bool {
  const auto* call = std::get_if<ast::CallExpr>(&ast().expr(iterable).node);
  if (call == nullptr) return false;
  const check::CallTarget& t = prog().calls[iterable.index];
  if (t.kind != check::CallKind::Builtin || t.builtin != check::BuiltinId::Range) return false;
  if (call->args.size() == 1) {
    ExprInto(call->args[0].value, w);
    f_.AsBx(Op::LoadI, w + 1, 0);
    return true;
  }
  if (call->args.size() != 2) return false;
  ExprInto(call->args[0].value, w + 1);  // source order: effects happen as written
  ExprInto(call->args[1].value, w);
  return true;
}

void FunctionLowering::For(ast::StmtId id, const ast::ForStmt& n) {
  uint32_t slot = static_cast<uint32_t>(prog().stmt_slots[id.index]);
  uint32_t w = Temp(3);  // list, index, item; or end, next, item
  bool counted = RangeInto(n.iterable, w);
  if (!counted) {
    ExprInto(n.iterable, w);
    f_.AsBx(Op::LoadI, w + 1, 0);
  }
  auto top = f_.NewLabel(), end = f_.NewLabel();
  f_.Bind(top);
  f_.Jump(counted ? Op::ForRange : Op::ForNext, w, end);
  f_.ABC(Op::Move, slot, w + 2);
  LoopBody(n.body, top, end);
  f_.Jump(Op::Jmp, 0, top);
  f_.Bind(end);
}

void FunctionLowering::LoopBody(const ast::Block& body, bytecode::FunctionBuilder::Label next, bytecode::FunctionBuilder::Label end) {
  loops_.push_back(LoopLabels{next, end, try_depth_});
  Block(body);
  loops_.pop_back();
}

// `break` and `continue` leave every `try` body entered since the loop
// began (its handler would otherwise catch errors raised after the jump),
// then jump. A handler block is not counted: entering it popped its try.
void FunctionLowering::Jump(bool is_break) {
  FLOW_CHECK(!loops_.empty(), "the checker rejects break/continue outside a loop");
  const LoopLabels& loop = loops_.back();
  for (uint32_t k = loop.try_depth; k < try_depth_; ++k) f_.ABC(Op::EndTry, 0);
  f_.Jump(Op::Jmp, 0, is_break ? loop.end : loop.next);
}

void FunctionLowering::Try(ast::StmtId id, const ast::TryStmt& n) {
  uint32_t err = static_cast<uint32_t>(prog().stmt_slots[id.index]);
  auto handler = f_.NewLabel(), end = f_.NewLabel();
  f_.Jump(Op::Try, err, handler);
  ++try_depth_;
  Block(n.body);
  --try_depth_;
  f_.ABC(Op::EndTry, 0);
  f_.Jump(Op::Jmp, 0, end);
  f_.Bind(handler);
  Block(n.handler);
  f_.Bind(end);
}

void FunctionLowering::Compensate(const ast::CompensateClause& c) {
  const ast::Expr& e = ast().expr(c.step);
  const auto* call = std::get_if<ast::CallExpr>(&e.node);
  if (call == nullptr) return;  // the checker reported it
  const check::CallTarget& t = prog().calls[c.step.index];
  if (t.kind != check::CallKind::Step) return;
  uint32_t step = 0;
  if (comp_step_) {
    step = *comp_step_;
  } else {
    ast::StepClauses own;
    own.retry = c.retry;
    own.timeout = c.timeout;
    step = StepDescFor(c.step, &own);
  }
  comp_step_.reset();
  uint32_t saved = top_;
  uint32_t args = ArgsRecord(*call, t);
  At(c.range);
  f_.ABC(Op::Compensate, args, step);
  ReleaseTo(saved);
}

// The local slots a branch may write: its `let`s, loop and `catch`
// variables and the variables it assigns, nested blocks included. They are
// its output, copied into the parent after the join; the checker makes sure
// no two branches of a block write the same one (E093).
void FunctionLowering::WrittenSlots(ast::StmtId id, std::vector<uint32_t>& out) {
  auto block = [&](const ast::Block& b) {
    for (ast::StmtId s : b.stmts) WrittenSlots(s, out);
  };
  auto declared = [&] {
    int32_t slot = prog().stmt_slots[id.index];
    if (slot >= 0) out.push_back(static_cast<uint32_t>(slot));
  };
  std::visit(
      [&](const auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, ast::LetStmt>) {
          declared();
        } else if constexpr (std::is_same_v<N, ast::AssignStmt>) {
          const check::NameTarget& t = prog().names[n.target.index];
          if (t.kind == check::NameKind::Local && t.index >= 0) out.push_back(static_cast<uint32_t>(t.index));
        } else if constexpr (std::is_same_v<N, ast::IfStmt>) {
          block(n.then_block);
          if (n.else_block) block(*n.else_block);
        } else if constexpr (std::is_same_v<N, ast::ForStmt>) {
          declared();
          block(n.body);
        } else if constexpr (std::is_same_v<N, ast::WhileStmt>) {
          block(n.body);
        } else if constexpr (std::is_same_v<N, ast::TryStmt>) {
          declared();
          block(n.body);
          block(n.handler);
        } else if constexpr (std::is_same_v<N, ast::ParallelStmt>) {
          block(n.body);
        }
      },
      ast().stmt(id).node);
}

// parallel { S1 S2 ... }: per branch `Spawn; Jmp over; <branch>; BranchEnd
// [its written slots]`, then `ParJoin` and the outputs moved into their
// slots (docs/composition.md, "Lowering").
void FunctionLowering::Parallel(const ast::ParallelStmt& p) {
  std::vector<std::vector<uint32_t>> outputs;
  for (ast::StmtId branch : p.body.stmts) {
    At(ast().stmt(branch).range);
    auto after = f_.NewLabel();
    f_.ABC(Op::Spawn, 0);
    f_.Jump(Op::Jmp, 0, after);
    uint32_t saved = top_;
    Stmt(branch);
    std::vector<uint32_t> slots;
    WrittenSlots(branch, slots);
    std::sort(slots.begin(), slots.end());
    slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    uint32_t w = Temp(static_cast<uint32_t>(slots.size()) + 1);
    for (size_t k = 0; k < slots.size(); ++k) f_.ABC(Op::Move, w + 1 + static_cast<uint32_t>(k), slots[k]);
    f_.ABC(Op::NewList, w, w + 1, static_cast<uint32_t>(slots.size()));
    f_.ABC(Op::BranchEnd, w);
    ReleaseTo(saved);
    f_.Bind(after);
    outputs.push_back(std::move(slots));
  }
  uint32_t r = Temp(3);
  f_.ABC(Op::ParJoin, r);
  for (size_t j = 0; j < outputs.size(); ++j) {
    if (outputs[j].empty()) continue;
    f_.AsBx(Op::LoadI, r + 1, static_cast<int32_t>(j));
    f_.ABC(Op::GetIndex, r + 2, r, r + 1);
    for (size_t k = 0; k < outputs[j].size(); ++k) {
      f_.AsBx(Op::LoadI, r + 1, static_cast<int32_t>(k));
      f_.ABC(Op::GetIndex, outputs[j][k], r + 2, r + 1);
    }
  }
}

auto Lower(const check::CheckedProgram& program, const SourceFile* source) -> bytecode::Module {
  return ModuleLowering(program, source).Run();
}

}  // namespace flow::codegen
