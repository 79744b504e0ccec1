// Lowering of expressions: constant folding, operators with constant
// operands, calls (built-in, fn, step), literals, approve and wait.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "compiler/check/builtins.h"
#include "compiler/codegen/lowering.h"
#include "vm/bytecode/arith.h"

namespace flow::codegen {

using bytecode::Op;

namespace {

// Folds int op int; nullopt when the result would be a run-time error.
auto FoldInt(ast::BinaryOp op, int64_t a, int64_t b) -> std::optional<Folded> {
  int64_t r = 0;
  switch (op) {
    case ast::BinaryOp::Add: if (__builtin_add_overflow(a, b, &r)) return std::nullopt; return r;
    case ast::BinaryOp::Sub: if (__builtin_sub_overflow(a, b, &r)) return std::nullopt; return r;
    case ast::BinaryOp::Mul: if (__builtin_mul_overflow(a, b, &r)) return std::nullopt; return r;
    case ast::BinaryOp::Div: if (bytecode::IntDivFails(a, b, &r)) return std::nullopt; return r;
    case ast::BinaryOp::Mod: if (bytecode::IntModFails(a, b, &r)) return std::nullopt; return r;
    case ast::BinaryOp::Eq: return a == b;
    case ast::BinaryOp::Ne: return a != b;
    case ast::BinaryOp::Lt: return a < b;
    case ast::BinaryOp::Le: return a <= b;
    case ast::BinaryOp::Gt: return a > b;
    case ast::BinaryOp::Ge: return a >= b;
    default: return std::nullopt;
  }
}

auto FoldFloat(ast::BinaryOp op, double a, double b) -> std::optional<Folded> {
  switch (op) {
    case ast::BinaryOp::Add: return a + b;
    case ast::BinaryOp::Sub: return a - b;
    case ast::BinaryOp::Mul: return a * b;
    case ast::BinaryOp::Div: if (double r = 0; !bytecode::FloatDivFails(a, b, &r)) return r; return std::nullopt;
    case ast::BinaryOp::Mod: if (double r = 0; !bytecode::FloatModFails(a, b, &r)) return r; return std::nullopt;
    case ast::BinaryOp::Eq: return a == b;
    case ast::BinaryOp::Ne: return a != b;
    case ast::BinaryOp::Lt: return a < b;
    case ast::BinaryOp::Le: return a <= b;
    case ast::BinaryOp::Gt: return a > b;
    case ast::BinaryOp::Ge: return a >= b;
    default: return std::nullopt;
  }
}

auto FoldBinary(ast::BinaryOp op, const Folded& l, const Folded& r) -> std::optional<Folded> {
  using ast::BinaryOp;
  if (op == BinaryOp::Coalesce) return std::holds_alternative<std::monostate>(l) ? r : l;
  auto* li = std::get_if<int64_t>(&l);
  auto* ri = std::get_if<int64_t>(&r);
  if (li && ri) return FoldInt(op, *li, *ri);
  auto* lf = std::get_if<double>(&l);
  auto* rf = std::get_if<double>(&r);
  if ((li || lf) && (ri || rf)) {
    return FoldFloat(op, li ? static_cast<double>(*li) : *lf, ri ? static_cast<double>(*ri) : *rf);
  }
  auto* ls = std::get_if<std::string>(&l);
  auto* rs = std::get_if<std::string>(&r);
  if (ls && rs) {
    switch (op) {
      case BinaryOp::Add: return *ls + *rs;
      case BinaryOp::Eq: return *ls == *rs;
      case BinaryOp::Ne: return *ls != *rs;
      case BinaryOp::Lt: return *ls < *rs;
      case BinaryOp::Le: return *ls <= *rs;
      case BinaryOp::Gt: return *ls > *rs;
      case BinaryOp::Ge: return *ls >= *rs;
      default: return std::nullopt;
    }
  }
  auto* lb = std::get_if<bool>(&l);
  auto* rb = std::get_if<bool>(&r);
  if (lb && rb) {
    switch (op) {
      case BinaryOp::And: return *lb && *rb;
      case BinaryOp::Or: return *lb || *rb;
      case BinaryOp::Eq: return *lb == *rb;
      case BinaryOp::Ne: return *lb != *rb;
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

auto ArithOp(ast::BinaryOp op, bool constant) -> Op {
  switch (op) {
    case ast::BinaryOp::Add: return constant ? Op::AddK : Op::Add;
    case ast::BinaryOp::Sub: return constant ? Op::SubK : Op::Sub;
    case ast::BinaryOp::Mul: return constant ? Op::MulK : Op::Mul;
    case ast::BinaryOp::Div: return constant ? Op::DivK : Op::Div;
    default: return constant ? Op::ModK : Op::Mod;
  }
}

// Both id spaces expand from vm/bytecode/builtins.def: the checker's lists
// the pure built-ins, then the effects.
auto ToVmBuiltin(check::BuiltinId id, bool& is_effect, uint32_t& vm_id) -> void {
  constexpr auto kPure = static_cast<uint32_t>(bytecode::BuiltinId::kCount);
  constexpr auto kEffects = static_cast<uint32_t>(bytecode::EffectId::kCount);
  auto index = static_cast<uint32_t>(id);
  FLOW_CHECK(index < kPure + kEffects, "a checker BuiltinId outside builtins.def");
  is_effect = index >= kPure;
  vm_id = is_effect ? index - kPure : index;
}

}  // namespace

auto FunctionLowering::Fold(ast::ExprId e) const -> std::optional<Folded> {
  if (!e.valid()) return std::nullopt;
  return std::visit(
      ast::Overload{
          [](const ast::IntLit& n) -> std::optional<Folded> { return n.value; },
          [](const ast::FloatLit& n) -> std::optional<Folded> { return n.value; },
          [](const ast::BoolLit& n) -> std::optional<Folded> { return n.value; },
          [](const ast::NullLit&) -> std::optional<Folded> { return std::monostate{}; },
          [](const ast::DurationLit& n) -> std::optional<Folded> { return bytecode::DurationMs{n.millis}; },
          [](const ast::StringLit& n) -> std::optional<Folded> {
            if (!n.is_plain()) return std::nullopt;
            return n.parts.empty() ? std::string() : n.parts[0].text;
          },
          [&](const ast::UnaryExpr& n) -> std::optional<Folded> {
            auto v = Fold(n.operand);
            if (!v) return std::nullopt;
            if (n.op == ast::UnaryOp::Not) {
              if (auto* b = std::get_if<bool>(&*v)) return !*b;
              return std::nullopt;
            }
            if (auto* i = std::get_if<int64_t>(&*v); i && *i != INT64_MIN) return -*i;
            if (auto* d = std::get_if<double>(&*v)) return -*d;
            return std::nullopt;
          },
          [&](const ast::BinaryExpr& n) -> std::optional<Folded> {
            auto l = Fold(n.lhs);
            if (!l) return std::nullopt;
            auto r = Fold(n.rhs);
            if (!r) return std::nullopt;
            return FoldBinary(n.op, *l, *r);
          },
          []<class N>(const N&) -> std::optional<Folded>
            requires ast::OneOf<N, ast::ErrorExpr, ast::ListLit, ast::RecordLit, ast::NameRef,
                                ast::MemberExpr, ast::IndexExpr, ast::CallExpr, ast::CastExpr,
                                ast::ApproveExpr, ast::WaitExpr, ast::ParallelForExpr>
          { return std::nullopt; },  // computed at run time
      },
      ast().expr(e).node);
}

void FunctionLowering::LoadFolded(const Folded& v, uint32_t dst) {
  std::visit(ast::Overload{
                 [&](std::monostate) { f_.ABC(Op::LoadNull, dst); },
                 [&](int64_t i) {
                   if (i >= INT32_MIN && i <= INT32_MAX) f_.AsBx(Op::LoadI, dst, static_cast<int32_t>(i));
                   else f_.ABx(Op::LoadK, dst, mb().Int(i));
                 },
                 [&](double d) { f_.ABx(Op::LoadK, dst, mb().Float(d)); },
                 [&](bool b) { f_.ABC(Op::LoadBool, dst, b ? 1 : 0); },
                 [&](const std::string& s) { f_.ABx(Op::LoadK, dst, mb().String(s)); },
                 [&](bytecode::DurationMs d) { f_.ABx(Op::LoadK, dst, mb().Duration(d.ms)); },
             },
             v);
}

auto FunctionLowering::ExprReg(ast::ExprId e) -> uint32_t {
  if (std::holds_alternative<ast::NameRef>(ast().expr(e).node)) {
    const check::NameTarget& t = prog().names[e.index];
    if (t.kind == check::NameKind::Local) return static_cast<uint32_t>(t.index);
  }
  uint32_t r = Temp();
  ExprInto(e, r);
  return r;
}

auto NeedsWidening(const types::TypeTable& tt, types::TypeId from, types::TypeId to) -> bool {
  if (!from.valid() || !to.valid()) return false;
  from = tt.StripOptional(from);
  to = tt.StripOptional(to);
  const types::Kind kf = tt.kind(from), kt = tt.kind(to);
  if (kf == types::Kind::Int && kt == types::Kind::Float) return true;
  if (kf == types::Kind::List && kt == types::Kind::List) return NeedsWidening(tt, tt.get(from).element, tt.get(to).element);
  if (kf != types::Kind::Record || kt != types::Kind::Record) return false;
  for (const types::Field& f : tt.get(to).fields) {
    if (NeedsWidening(tt, tt.FieldType(from, f.name), f.type)) return true;
  }
  return false;
}

// Applies int -> float widening to the value of `e` in `reg` where `target`
// needs it: a plain int by the `float` built-in, an int nested in a record
// or list by converting the whole value to `target` (CheckAs).
void FunctionLowering::CoerceInto(ast::ExprId e, types::TypeId target, uint32_t reg) {
  if (!target.valid() || !e.valid()) return;
  const types::TypeTable& tt = prog().types;
  types::TypeId from = prog().expr_types[e.index];
  if (!NeedsWidening(tt, from, target)) return;
  if (tt.kind(tt.StripOptional(from)) != types::Kind::Int) {
    f_.ABC(Op::CheckAs, reg, reg, m_.TypeId(target));
    return;
  }
  auto skip = f_.NewLabel();
  uint32_t w = Temp(2);
  if (tt.is_optional(from)) {  // null stays null
    f_.ABC(Op::LoadNull, w);
    f_.ABC(Op::Eq, w, reg, w);
    f_.Jump(Op::JmpT, w, skip);
  }
  f_.ABC(Op::Move, w + 1, reg);
  f_.ABC(Op::CallB, w, static_cast<uint32_t>(bytecode::BuiltinId::Float), 1);
  f_.ABC(Op::Move, reg, w);
  f_.Bind(skip);
}

void FunctionLowering::ExprInto(ast::ExprId e, uint32_t dst) {
  uint32_t saved = top_;
  const ast::Expr& ex = ast().expr(e);
  // The expression's own instructions, emitted after its operands', carry
  // its position: a run-time error names the expression that raised it
  // (SPEC §2.4), not its last operand.
  const bytecode::SourcePos outer = f_.position();
  At(ex.range);
  if (auto folded = Fold(e)) {
    LoadFolded(*folded, dst);
    f_.SetPosition(outer);
    return;
  }
  std::visit(
      ast::Overload{
          [&](const ast::StringLit& n) { Interpolate(n, dst); },
          [&](const ast::ListLit& n) {
            uint32_t base = Temp(static_cast<uint32_t>(n.items.size()));
            const types::TypeTable& tt = prog().types;
            types::TypeId list = prog().expr_types[e.index];
            types::TypeId item = list.valid() && tt.kind(list) == types::Kind::List ? tt.get(list).element : list;
            for (size_t k = 0; k < n.items.size(); ++k) {
              ExprInto(n.items[k], base + static_cast<uint32_t>(k));
              CoerceInto(n.items[k], item, base + static_cast<uint32_t>(k));  // [1, 2.5] is [float]
            }
            f_.ABC(Op::NewList, dst, base, static_cast<uint32_t>(n.items.size()));
          },
          [&](const ast::RecordLit& n) { Record(n, dst); },
          [&](const ast::NameRef&) {
            const check::NameTarget& t = prog().names[e.index];
            if (t.kind == check::NameKind::Local && static_cast<uint32_t>(t.index) != dst) {
              f_.ABC(Op::Move, dst, static_cast<uint32_t>(t.index));
            }
          },
          [&](const ast::MemberExpr& n) { f_.ABC(Op::GetField, dst, ExprReg(n.object), mb().Name(n.name)); },
          [&](const ast::IndexExpr& n) {
            uint32_t o = ExprReg(n.object);
            types::TypeId object = prog().expr_types[n.object.index];
            const auto* key = std::get_if<ast::StringLit>(&ast().expr(n.index).node);
            if (object.valid() && prog().types.kind(object) == types::Kind::Record && key != nullptr) {
              // r["X-Api-Key"] is a field read (the checker allows only a literal).
              f_.ABC(Op::GetField, dst, o, mb().Name(key->parts.empty() ? "" : key->parts[0].text));
              return;
            }
            f_.ABC(Op::GetIndex, dst, o, ExprReg(n.index));
          },
          [&](const ast::CallExpr& n) { Call(e, n, dst); },
          [&](const ast::UnaryExpr& n) {
            f_.ABC(n.op == ast::UnaryOp::Neg ? Op::Neg : Op::Not, dst, ExprReg(n.operand));
          },
          [&](const ast::BinaryExpr& n) { Binary(e, n, dst); },
          [&](const ast::CastExpr& n) {
            f_.ABC(Op::CheckAs, dst, ExprReg(n.value), m_.TypeId(prog().type_exprs[n.type.index]));
          },
          [&](const ast::ApproveExpr& n) {
            uint32_t w = Temp(3);
            ExprInto(n.prompt, w);
            if (n.from.valid()) ExprInto(n.from, w + 1); else f_.ABC(Op::LoadNull, w + 1);
            if (n.timeout.valid()) ExprInto(n.timeout, w + 2); else f_.ABC(Op::LoadNull, w + 2);
            At(ex.range);
            f_.ABC(Op::Approve, dst, w);
          },
          [&](const ast::WaitExpr& n) {
            uint32_t w = Temp(2);
            ExprInto(n.event, w);
            if (n.timeout.valid()) ExprInto(n.timeout, w + 1); else f_.ABC(Op::LoadNull, w + 1);
            At(ex.range);
            bytecode::WaitDesc desc;
            desc.function = index_;
            desc.pc = f_.pc();
            f_.ABC(Op::Wait, dst, w);
            // The wait table (for `flow signal`): the event when it folds to
            // a constant string, the type its payload is checked against.
            auto event = Fold(n.event);
            if (event && std::holds_alternative<std::string>(*event)) desc.event = std::get<std::string>(*event);
            else desc.computed = true;
            if (n.type.valid()) {
              desc.type = m_.TypeId(prog().type_exprs[n.type.index]);
              f_.ABC(Op::CheckAs, dst, dst, static_cast<uint32_t>(desc.type));
            }
            mb().Wait(std::move(desc));
          },
          [&](const ast::ParallelForExpr& n) { ParallelFor(e, n, dst); },
          // Fold() above answered for every literal; a program with an
          // ErrorExpr has errors and is never lowered.
          []<class N>(const N&)
            requires ast::OneOf<N, ast::ErrorExpr, ast::IntLit, ast::FloatLit, ast::BoolLit,
                                ast::NullLit, ast::DurationLit>
          { FLOW_CHECK(false, "ExprInto: a literal that did not fold, or an ErrorExpr"); },
      },
      ex.node);
  ReleaseTo(saved);
  f_.SetPosition(outer);
}

void FunctionLowering::Binary(ast::ExprId id, const ast::BinaryExpr& b, uint32_t dst) {
  using ast::BinaryOp;
  switch (b.op) {
    case BinaryOp::And: case BinaryOp::Or: Logical(b, dst); return;
    case BinaryOp::Coalesce:
      Logical(b, dst);
      // `x ?? 1` with x: float?, or `i ?? 2.5` with i: int?: both sides are
      // widened to the result (a float stays a float).
      CoerceInto(b.lhs, prog().expr_types[id.index], dst);
      CoerceInto(b.rhs, prog().expr_types[id.index], dst);
      return;
    case BinaryOp::Eq: case BinaryOp::Ne: case BinaryOp::Lt: case BinaryOp::Le: case BinaryOp::Gt:
    case BinaryOp::Ge:
      if (auto k = ConstantOperand(b.rhs)) {
        uint32_t l = ExprReg(b.lhs);
        Op op = b.op == BinaryOp::Eq ? Op::EqK : b.op == BinaryOp::Ne ? Op::NeK : b.op == BinaryOp::Lt ? Op::LtK
              : b.op == BinaryOp::Le ? Op::LeK : b.op == BinaryOp::Gt ? Op::GtK : Op::GeK;
        f_.ABC(op, dst, l, *k);
        return;
      }
      break;
    default: break;
  }
  switch (b.op) {
    case BinaryOp::Eq: case BinaryOp::Ne: case BinaryOp::Lt: case BinaryOp::Le: {
      uint32_t l = ExprReg(b.lhs);
      uint32_t r = ExprReg(b.rhs);
      Op op = b.op == BinaryOp::Eq ? Op::Eq : b.op == BinaryOp::Ne ? Op::Ne : b.op == BinaryOp::Lt ? Op::Lt : Op::Le;
      f_.ABC(op, dst, l, r);
      return;
    }
    case BinaryOp::Gt: case BinaryOp::Ge: {  // a > b is b < a
      uint32_t l = ExprReg(b.lhs);
      uint32_t r = ExprReg(b.rhs);
      f_.ABC(b.op == BinaryOp::Gt ? Op::Lt : Op::Le, dst, r, l);
      return;
    }
    default: break;
  }
  if (b.op == BinaryOp::Add && ConcatNeedsWidening(id, b)) {  // [1.5] + [2] is [float]
    const types::TypeId result = prog().expr_types[id.index];
    uint32_t w = Temp(2);
    ExprInto(b.lhs, w);
    CoerceInto(b.lhs, result, w);
    ExprInto(b.rhs, w + 1);
    CoerceInto(b.rhs, result, w + 1);
    f_.ABC(Op::Add, dst, w, w + 1);
    return;
  }
  uint32_t l = ExprReg(b.lhs);
  auto k = Fold(b.rhs);
  if (auto* i = k ? std::get_if<int64_t>(&*k) : nullptr; i && (b.op == BinaryOp::Add || b.op == BinaryOp::Sub)) {
    int64_t v = b.op == BinaryOp::Add ? *i : -*i;
    if (*i != INT64_MIN && v >= INT16_MIN && v <= INT16_MAX) {
      f_.ABC(Op::AddI, dst, l, static_cast<uint16_t>(static_cast<int16_t>(v)));
      return;
    }
  }
  if (auto kid = ConstantOperand(b.rhs)) {
    f_.ABC(ArithOp(b.op, true), dst, l, *kid);
    return;
  }
  f_.ABC(ArithOp(b.op, false), dst, l, ExprReg(b.rhs));
  (void)id;
}

auto FunctionLowering::ConcatNeedsWidening(ast::ExprId id, const ast::BinaryExpr& b) -> bool {
  const types::TypeTable& tt = prog().types;
  const types::TypeId result = prog().expr_types[id.index];
  if (!result.valid() || tt.kind(result) != types::Kind::List) return false;
  return NeedsWidening(tt, prog().expr_types[b.lhs.index], result) ||
         NeedsWidening(tt, prog().expr_types[b.rhs.index], result);
}

auto FunctionLowering::ConstantOperand(ast::ExprId e) -> std::optional<uint32_t> {
  auto k = Fold(e);
  if (!k) return std::nullopt;
  uint32_t id = 0;
  if (auto* i = std::get_if<int64_t>(&*k)) id = mb().Int(*i);
  else if (auto* d = std::get_if<double>(&*k)) id = mb().Float(*d);
  else if (auto* s = std::get_if<std::string>(&*k)) id = mb().String(*s);
  else if (auto* du = std::get_if<bytecode::DurationMs>(&*k)) id = mb().Duration(du->ms);
  else return std::nullopt;
  if (id > bytecode::kMaxOperand) return std::nullopt;
  return id;
}

auto FunctionLowering::CallBase(uint32_t dst, uint32_t args) -> uint32_t {
  // When dst is the newest temporary, the call window can start at it and
  // the result needs no Move.
  if (dst >= locals_ && dst + 1 == top_) {
    Temp(args);
    return dst;
  }
  return Temp(args + 1);
}

void FunctionLowering::Logical(const ast::BinaryExpr& b, uint32_t dst) {
  auto end = f_.NewLabel();
  ExprInto(b.lhs, dst);
  Op jump = b.op == ast::BinaryOp::And ? Op::JmpF : b.op == ast::BinaryOp::Or ? Op::JmpT : Op::JmpNN;
  f_.Jump(jump, dst, end);
  ExprInto(b.rhs, dst);
  f_.Bind(end);
}

void FunctionLowering::Interpolate(const ast::StringLit& s, uint32_t dst) {
  uint32_t n = static_cast<uint32_t>(s.parts.size());
  uint32_t base = Temp(n);
  for (uint32_t k = 0; k < n; ++k) {
    const ast::StringPart& part = s.parts[k];
    if (part.expr.valid()) ExprInto(part.expr, base + k);
    else f_.ABx(Op::LoadK, base + k, mb().String(part.text));
  }
  f_.ABC(Op::Concat, dst, base, n);
}

void FunctionLowering::Record(const ast::RecordLit& r, uint32_t dst) {
  std::vector<std::string> names;
  for (const auto& f : r.fields) names.push_back(f.name);
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  uint32_t shape = mb().Shape(names);
  uint32_t base = Temp(static_cast<uint32_t>(names.size()));
  for (const auto& f : r.fields) {  // source order: effects happen as written
    auto pos = std::lower_bound(sorted.begin(), sorted.end(), f.name) - sorted.begin();
    ExprInto(f.value, base + static_cast<uint32_t>(pos));
  }
  f_.ABC(Op::NewRecord, dst, base, shape);
}

void FunctionLowering::Call(ast::ExprId id, const ast::CallExpr& c, uint32_t dst) {
  const check::CallTarget& t = prog().calls[id.index];
  uint32_t n = static_cast<uint32_t>(c.args.size());
  switch (t.kind) {
    case check::CallKind::Builtin: {
      bool effect = false;
      uint32_t vm_id = 0;
      ToVmBuiltin(t.builtin, effect, vm_id);
      if (effect) {
        f_.ABC(Op::Effect, dst, vm_id);
        return;
      }
      uint32_t base = CallBase(dst, n);
      for (uint32_t k = 0; k < n; ++k) ExprInto(c.args[k].value, base + 1 + k);
      At(ast().expr(id).range);
      f_.ABC(Op::CallB, base, vm_id, n);
      if (base != dst) f_.ABC(Op::Move, dst, base);
      return;
    }
    case check::CallKind::Function: {
      const check::FunctionInfo& callee = prog().functions[t.function];
      uint32_t arity = static_cast<uint32_t>(ast().functions[t.function].params.size());
      uint32_t base = CallBase(dst, arity);
      for (uint32_t k = 0; k < n; ++k) {
        int32_t param = k < t.arg_params.size() ? t.arg_params[k] : static_cast<int32_t>(k);
        ExprInto(c.args[k].value, base + 1 + param);
        if (static_cast<size_t>(param) < callee.param_types.size()) {
          CoerceInto(c.args[k].value, callee.param_types[param], base + 1 + param);
        }
      }
      At(ast().expr(id).range);
      f_.ABC(Op::Call, base, static_cast<uint32_t>(t.function), arity);
      if (base != dst) f_.ABC(Op::Move, dst, base);
      return;
    }
    case check::CallKind::Step: StepInto(id, nullptr, dst); return;
    case check::CallKind::Workflow: ChildInto(id, nullptr, dst); return;
    case check::CallKind::None: break;
  }
  FLOW_CHECK(false, "a call the checker did not resolve, in a program without errors");
}

void FunctionLowering::StepInto(ast::ExprId call, const ast::StepClauses* clauses, uint32_t dst) {
  const ast::Expr& e = ast().expr(call);
  const auto* c = std::get_if<ast::CallExpr>(&e.node);
  const check::CallTarget& t = prog().calls[call.index];
  if (c != nullptr && t.kind == check::CallKind::Workflow) {
    ChildInto(call, clauses, dst);
    return;
  }
  if (c == nullptr || t.kind != check::CallKind::Step) {  // clauses on a non-step: reported
    ExprInto(call, dst);
    return;
  }
  uint32_t saved = top_;
  uint32_t desc = StepDescFor(call, clauses);
  uint32_t args = ArgsRecord(*c, t);
  At(e.range);
  f_.ABC(Op::Step, dst, desc, args);
  ReleaseTo(saved);
}

void FunctionLowering::ChildInto(ast::ExprId call, const ast::StepClauses* clauses, uint32_t dst) {
  const ast::Expr& e = ast().expr(call);
  const auto& c = std::get<ast::CallExpr>(e.node);
  const check::CallTarget& t = prog().calls[call.index];
  const ast::FunctionDecl& callee = ast().functions[t.function];
  const check::FunctionInfo& info = prog().functions[t.function];
  uint32_t saved = top_;
  bytecode::StepDesc d;
  d.operation = callee.name;  // connector "": a child descriptor
  d.line = m_.LineOf(e.range);
  if (info.result.valid()) d.output_type = m_.TypeId(info.result);
  ApplyClauses(d, clauses);
  uint32_t desc = mb().Step(std::move(d));
  std::vector<std::string> names;
  std::vector<ast::ExprId> values;
  std::vector<types::TypeId> param_types;
  for (size_t k = 0; k < c.args.size(); ++k) {
    int32_t p = k < t.arg_params.size() ? t.arg_params[k] : static_cast<int32_t>(k);
    names.push_back(callee.params[p].name);
    values.push_back(c.args[k].value);
    param_types.push_back(static_cast<size_t>(p) < info.param_types.size() ? info.param_types[p] : types::TypeId());
  }
  uint32_t args = NamedRecord(names, values, param_types);
  At(e.range);
  f_.ABC(Op::Child, dst, desc, args);
  ReleaseTo(saved);
}

auto FunctionLowering::ArgsRecord(const ast::CallExpr& c, const check::CallTarget& t) -> uint32_t {
  const schema::OperationSig& op = prog().connectors[t.connector].operations[t.operation];
  std::vector<std::string> names;
  std::vector<ast::ExprId> values;
  for (size_t k = 0; k < c.args.size(); ++k) {
    int32_t a = k < t.arg_params.size() ? t.arg_params[k] : -1;
    names.push_back(a >= 0 ? op.args[a].name : c.args[k].name);
    values.push_back(c.args[k].value);
  }
  return NamedRecord(names, values, {});
}

auto FunctionLowering::NamedRecord(const std::vector<std::string>& names, const std::vector<ast::ExprId>& values,
                                   const std::vector<types::TypeId>& types) -> uint32_t {
  std::vector<size_t> order(names.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return names[x] < names[y]; });
  uint32_t shape = mb().Shape(names);
  uint32_t base = Temp(static_cast<uint32_t>(names.size()));
  for (size_t k = 0; k < values.size(); ++k) {  // source order
    size_t pos = std::find(order.begin(), order.end(), k) - order.begin();
    ExprInto(values[k], base + static_cast<uint32_t>(pos));
    if (k < types.size() && types[k].valid()) CoerceInto(values[k], types[k], base + static_cast<uint32_t>(pos));
  }
  uint32_t rec = Temp();
  f_.ABC(Op::NewRecord, rec, base, shape);
  return rec;
}

auto FunctionLowering::StepDescFor(ast::ExprId call, const ast::StepClauses* clauses) -> uint32_t {
  const check::CallTarget& t = prog().calls[call.index];
  const schema::OperationSig& op = prog().connectors[t.connector].operations[t.operation];
  bytecode::StepDesc d;
  d.connector = op.connector.empty() ? prog().connectors[t.connector].name : op.connector;
  d.operation = op.name;
  d.line = m_.LineOf(ast().expr(call).range);
  if (op.output.valid()) d.output_type = m_.TypeId(op.output);
  ApplyClauses(d, clauses);
  return mb().Step(std::move(d));
}

void FunctionLowering::ApplyClauses(bytecode::StepDesc& d, const ast::StepClauses* clauses) {
  auto int_of = [&](ast::ExprId e) -> int64_t {
    auto v = Fold(e);
    if (!v) return bytecode::kNone;
    if (auto* i = std::get_if<int64_t>(&*v)) return *i;
    if (auto* du = std::get_if<bytecode::DurationMs>(&*v)) return du->ms;
    return bytecode::kNone;
  };
  comp_step_.reset();
  if (clauses != nullptr) {
    if (clauses->retry) {
      d.retry_attempts = int_of(clauses->retry->attempts);
      if (clauses->retry->backoff.valid()) d.backoff_ms = int_of(clauses->retry->backoff);
      if (clauses->retry->max.valid()) d.backoff_max_ms = int_of(clauses->retry->max);
      d.retry_on = clauses->retry->on;
    }
    if (clauses->timeout) d.timeout_ms = int_of(clauses->timeout->duration);
    if (clauses->compensate && prog().calls[clauses->compensate->step.index].kind == check::CallKind::Step) {
      ast::StepClauses own;
      own.retry = clauses->compensate->retry;
      own.timeout = clauses->compensate->timeout;
      uint32_t comp = StepDescFor(clauses->compensate->step, &own);
      d.compensate_step = comp;
      comp_step_ = comp;
    }
  }
}

}  // namespace flow::codegen

namespace flow::codegen {

// parallel for x in xs [limit N] { BODY }: `ParFor dst, [xs, N], x; Jmp
// over; BODY; BranchEnd [value]`, where the value is the body's last
// expression statement and `continue` ends the item with [] (no value).
void FunctionLowering::ParallelFor(ast::ExprId id, const ast::ParallelForExpr& n, uint32_t dst) {
  const uint32_t slot = static_cast<uint32_t>(prog().expr_slots[id.index]);
  const uint32_t saved = top_;
  uint32_t w = Temp(2);
  ExprInto(n.iterable, w);
  if (n.limit.valid()) {
    ExprInto(n.limit, w + 1);
    At(ast().expr(n.limit).range);  // a limit below 1 is raised there
  } else {
    f_.ABC(Op::LoadNull, w + 1);
  }
  auto after = f_.NewLabel(), empty = f_.NewLabel();
  f_.ABC(Op::ParFor, dst, w, slot);
  f_.Jump(Op::Jmp, 0, after);
  const auto& stmts = n.body.stmts;
  const ast::ExprStmt* last = stmts.empty() ? nullptr : std::get_if<ast::ExprStmt>(&ast().stmt(stmts.back()).node);
  loops_.push_back(LoopLabels{empty, empty, try_depth_});  // `continue` ends the item
  for (size_t k = 0; k + (last != nullptr ? 1 : 0) < stmts.size(); ++k) Stmt(stmts[k]);
  if (last != nullptr) {
    At(ast().stmt(stmts.back()).range);
    uint32_t inner = top_;
    uint32_t v = Temp(2);
    if (!last->clauses.empty()) StepInto(last->expr, &last->clauses, v);
    else ExprInto(last->expr, v);
    if (last->clauses.compensate) Compensate(*last->clauses.compensate);
    f_.ABC(Op::NewList, v + 1, v, 1);
    f_.ABC(Op::BranchEnd, v + 1);
    ReleaseTo(inner);
  }
  loops_.pop_back();
  f_.Bind(empty);
  uint32_t l = Temp();
  f_.ABC(Op::NewList, l, l, 0);
  f_.ABC(Op::BranchEnd, l);
  f_.Bind(after);
  ReleaseTo(saved);
}

}  // namespace flow::codegen
