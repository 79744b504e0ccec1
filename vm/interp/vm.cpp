// The interpreter loop and its helpers. The loop is the one function here
// that is longer than a screen, on purpose: one case per opcode, each a few
// lines that call a named helper for anything but the fast path (STYLE §5).
#include "vm/interp/vm.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "vm/bytecode/arith.h"
#include "vm/bytecode/serialize.h"
#include "vm/interp/builtins.h"
#include "vm/value/convert.h"

namespace flow::interp {

using bytecode::Function;
using bytecode::Instr;
using bytecode::Op;
using value::Tag;

namespace {

auto RandomUuid(std::mt19937_64& rng) -> std::string {
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                     lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

auto OpSymbol(Op op) -> const char* {
  switch (op) {
    case Op::Add: case Op::AddK: case Op::AddI: return "+";
    case Op::Sub: case Op::SubK: return "-";
    case Op::Mul: case Op::MulK: return "*";
    case Op::Div: case Op::DivK: return "/";
    case Op::Mod: case Op::ModK: return "%";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    default: return "?";
  }
}

auto BaseOp(Op op) -> Op {
  switch (op) {
    case Op::AddK: case Op::AddI: return Op::Add;
    case Op::SubK: return Op::Sub;
    case Op::MulK: return Op::Mul;
    case Op::DivK: return Op::Div;
    case Op::ModK: return Op::Mod;
    default: return op;
  }
}

}  // namespace

auto Host::Effect(bytecode::EffectId id, uint64_t seq, std::string_view branch) -> Result<Value> {
  return FreshEffect(id);
}

auto Host::NowMs() const -> int64_t {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

auto Host::FreshEffect(bytecode::EffectId id) const -> Value {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  switch (id) {
    case bytecode::EffectId::Now: return Value::Time(NowMs());
    case bytecode::EffectId::Uuid: return Value::String(RandomUuid(rng));
    case bytecode::EffectId::Random: return Value::Float(std::uniform_real_distribution<double>(0, 1)(rng));
    case bytecode::EffectId::kCount: break;
  }
  FLOW_CHECK(false, "unknown effect");
  return Value();
}

Vm::Vm(const bytecode::Module& module, VmOptions options) : module_(module), options_(options) {
  if (options_.host == nullptr) {
    default_host_ = std::make_unique<Host>();
    options_.host = default_host_.get();
  }
  value::Symbols& symbols = value::Symbols::Global();
  for (const auto& n : module_.names) name_map_.push_back(symbols.Name(n));
  for (const auto& s : module_.shapes) {
    std::vector<uint32_t> ids;  // still sorted by text: the mapping keeps names
    for (uint32_t n : s) ids.push_back(name_map_[n]);
    shapes_.push_back(symbols.ShapeOf(ids));
  }
  for (const auto& k : module_.constants) {
    if (auto* i = std::get_if<int64_t>(&k)) constants_.push_back(Value::Int(*i));
    else if (auto* d = std::get_if<double>(&k)) constants_.push_back(Value::Float(*d));
    else if (auto* s = std::get_if<std::string>(&k)) constants_.push_back(Value::String(*s));
    else constants_.push_back(Value::Duration(std::get<bytecode::DurationMs>(k).ms));
  }
  for (const auto& f : module_.functions) field_caches_.emplace_back(f.code.size());
  module_hash_ = bytecode::ModuleHash(module_);
}

Vm::~Vm() = default;

void Vm::Reset() {
  stack_.clear();
  frames_.clear();
  handlers_.clear();
  phase_ = Phase::Idle;
  pending_reg_ = kNoSlot;
  pending_error_.reset();
  effect_seq_ = 0;
  compensations_.clear();
  fibers_.clear();
  groups_.clear();
  branch_.clear();
  branch_steps_ = 0;
  branch_groups_ = 0;
  spawns_.clear();
  yield_ = YieldKind::None;
  current_ = -1;
}

void Vm::EnsureStack(size_t slots) {
  if (stack_.size() < slots) stack_.resize(std::max(slots, stack_.size() * 2));
}

auto Vm::PushFrame(uint32_t fn, uint32_t base, uint32_t ret) -> bool {
  if (frames_.size() >= kMaxCallDepth) {
    return Fail(kKindLimit, fmt::format("call depth exceeds the limit of {}", kMaxCallDepth));
  }
  EnsureStack(size_t{base} + module_.functions[fn].num_regs);
  frames_.push_back(Frame{fn, 0, base, ret});
  return true;
}

void Vm::PopFrame() {
  const Frame& f = frames_.back();
  uint32_t index = static_cast<uint32_t>(frames_.size() - 1);
  while (!handlers_.empty() && handlers_.back().frame == index) handlers_.pop_back();
  uint32_t end = f.base + module_.functions[f.fn].num_regs;
  for (uint32_t k = f.base; k < end; ++k) stack_[k].SetNull();
  frames_.pop_back();
}

auto Vm::Start(uint32_t fn, std::vector<Value> args) -> Status {
  if (fn >= module_.functions.size()) return Error{"no function with index " + std::to_string(fn)};
  const Function& f = module_.functions[fn];
  if (args.size() != f.arity) {
    return Error{fmt::format("'{}' takes {} arguments, got {}", f.name, f.arity, args.size())};
  }
  Reset();
  FLOW_CHECK(PushFrame(fn, 0, kNoSlot), "the entry frame always fits");
  for (size_t k = 0; k < args.size(); ++k) stack_[k] = std::move(args[k]);
  phase_ = Phase::Ready;
  return Ok{};
}

auto Vm::StartWorkflow(uint32_t fn, const nlohmann::json& input) -> Status {
  if (fn >= module_.functions.size()) return Error{"no function with index " + std::to_string(fn)};
  const Function& f = module_.functions[fn];
  if (!input.is_object()) return Error{fmt::format("input: expected a JSON object, got {}", input.type_name())};
  if (f.param_names.size() != f.arity || f.param_types.size() != f.arity) {
    return Error{fmt::format("'{}' has no parameter descriptions", f.name)};
  }
  std::vector<Value> args;
  for (uint32_t k = 0; k < f.arity; ++k) {
    const std::string& name = module_.names[f.param_names[k]];
    auto it = input.find(name);
    auto v = value::FromJson(it == input.end() ? nlohmann::json() : *it, module_, f.param_types[k], "$." + name);
    if (!v) {
      if (it == input.end()) return Error{fmt::format("input: missing required field '{}'", name)};
      return Error{"input: " + v.error().message};
    }
    args.push_back(std::move(*v));
  }
  return Start(fn, std::move(args));
}

auto Vm::Fail(const char* kind, std::string message) -> bool {
  error_ = WorkflowError{kind, std::move(message), std::nullopt, "", {}};
  return false;
}

auto Vm::ErrorRecord(const WorkflowError& e) -> Value {
  return Value::Record(value::Symbols::Global().ErrorShape(),
                       {Value::String(e.kind), Value::String(e.message), e.step ? Value::String(*e.step) : Value()});
}

auto Vm::Raise() -> bool {
  // An error that already has its place (a branch's, raised again at its
  // join) keeps it.
  if (!frames_.empty() && error_.function.empty()) {
    const Frame& f = frames_.back();
    const Function& fn = module_.functions[f.fn];
    error_.function = fn.name;
    // pc has moved past the instruction that raised.
    error_.pos = f.pc > 0 ? bytecode::PositionAt(fn, f.pc - 1) : bytecode::SourcePos{};
  }
  if (handlers_.empty() || fatal_) {
    while (!frames_.empty()) PopFrame();
    handlers_.clear();
    phase_ = Phase::Done;
    return false;
  }
  Handler h = handlers_.back();
  handlers_.pop_back();
  while (frames_.size() > h.frame + 1) PopFrame();
  Frame& f = frames_.back();
  f.pc = h.catch_pc;
  stack_[f.base + h.reg] = ErrorRecord(error_);
  return true;
}

auto Vm::Suspend(SuspendReason reason, uint32_t dst) -> Outcome {
  phase_ = Phase::Suspended;
  pending_reg_ = dst;
  if (options_.resume_stress && fibers_.empty()) {  // with branches: Schedule's

    std::string bytes = SaveState();
    Reset();
    Status loaded = LoadState(bytes);
    FLOW_CHECK(loaded.ok(), "resume stress: the VM could not reload its own state");
    FLOW_CHECK(SaveState() == bytes, "resume stress: reloaded state differs");
  }
  Outcome o;
  o.status = RunStatus::Suspended;
  o.suspend = std::move(reason);
  return o;
}

auto Vm::Run() -> Outcome { return Run(options_.instruction_budget); }

auto Vm::Run(int64_t budget) -> Outcome {
  FLOW_CHECK(phase_ == Phase::Ready || phase_ == Phase::Branches, "Run() needs a started or delivered VM");
  budget_left_ = budget;
  stop_requested_ = false;
  fatal_ = false;
  if (fibers_.empty()) {
    Outcome o = RunCurrent();
    if (o.status != RunStatus::Yield) return o;
  }
  return Schedule();  // fibers.cpp
}

auto Vm::RunCurrent() -> Outcome {
  if (pending_error_) {
    error_ = std::move(*pending_error_);
    pending_error_.reset();
    if (!Raise()) {
      Outcome o;
      o.status = RunStatus::Failed;
      o.error = error_;
      return o;
    }
  }
  return ExecuteGuarded();
}

// An allocation the machine refuses (or a container asked to exceed its
// maximum size) fails the run like the memory cap does, instead of
// escaping as an exception that would end the process: a later process
// resuming the run would only die the same way. The state left behind is
// not saved (the run failed), only its registered compensations are used.
auto Vm::ExecuteGuarded() -> Outcome {
  try {
    return Execute();
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  FatalLimit(fmt::format("out of memory (the run's values hold {} MiB)", value::HeapBytes() >> 20));
  Outcome o;
  o.status = RunStatus::Failed;
  (void)Raise();
  o.error = error_;
  return o;
}

auto Vm::Tick() -> bool {
  if (budget_left_ <= 0) {
    return FatalLimit(fmt::format("the run computed {} instructions without reaching a durable point "
                                  "(the instruction budget)",
                                  options_.instruction_budget));
  }
  if (OverMemory()) return false;
  if (options_.host->ShouldStop()) {
    stop_requested_ = true;
    return false;
  }
  return true;
}

auto Vm::OverMemory() -> bool {
  if (value::HeapBytes() <= options_.memory_limit) return false;
  FatalLimit(fmt::format("the run's values exceed the memory limit of {} MiB", options_.memory_limit >> 20));
  return true;
}

auto Vm::FatalLimit(std::string message) -> bool {
  Fail(kKindLimit, std::move(message));
  fatal_ = true;
  return false;
}

auto Vm::Deliver(Value v) -> Status {
  if (phase_ != Phase::Suspended) return Error{"the run is not suspended"};
  if (pending_reg_ != kNoSlot) stack_[frames_.back().base + pending_reg_] = std::move(v);
  pending_reg_ = kNoSlot;
  phase_ = Phase::Ready;
  return Ok{};
}

auto Vm::DeliverError(std::string kind, std::string message, std::optional<std::string> step) -> Status {
  if (phase_ != Phase::Suspended) return Error{"the run is not suspended"};
  pending_error_ = WorkflowError{std::move(kind), std::move(message), std::move(step), "", {}};
  pending_reg_ = kNoSlot;
  phase_ = Phase::Ready;
  return Ok{};
}

// ---------------------------------------------------------------- helpers

auto Vm::Arith(Op op, Value& dst, const Value& b, const Value& c) -> bool {
  op = BaseOp(op);
  Tag tb = b.tag(), tc = c.tag();
  if (tb == Tag::Int && tc == Tag::Int) {
    int64_t r = 0;
    bool bad = false;
    switch (op) {
      case Op::Add: bad = __builtin_add_overflow(b.as_int(), c.as_int(), &r); break;
      case Op::Sub: bad = __builtin_sub_overflow(b.as_int(), c.as_int(), &r); break;
      case Op::Mul: bad = __builtin_mul_overflow(b.as_int(), c.as_int(), &r); break;
      case Op::Div: bad = bytecode::IntDivFails(b.as_int(), c.as_int(), &r); break;
      case Op::Mod: bad = bytecode::IntModFails(b.as_int(), c.as_int(), &r); break;
      default: break;
    }
    if (bad) {
      if (c.as_int() == 0 && (op == Op::Div || op == Op::Mod)) return Fail(kKindArithmetic, op == Op::Mod ? "modulo by zero" : "division by zero");
      return Fail(kKindArithmetic, fmt::format("integer overflow in {}", OpSymbol(op)));
    }
    dst.SetInt(r);
    return true;
  }
  bool nb = tb == Tag::Int || tb == Tag::Float, nc = tc == Tag::Int || tc == Tag::Float;
  if (nb && nc) {
    double x = tb == Tag::Int ? static_cast<double>(b.as_int()) : b.as_float();
    double y = tc == Tag::Int ? static_cast<double>(c.as_int()) : c.as_float();
    double r = 0;
    bool bad = false;
    switch (op) {
      case Op::Add: r = x + y; break;
      case Op::Sub: r = x - y; break;
      case Op::Mul: r = x * y; break;
      case Op::Div: bad = bytecode::FloatDivFails(x, y, &r); break;
      default: bad = bytecode::FloatModFails(x, y, &r); break;
    }
    if (bad) return Fail(kKindArithmetic, op == Op::Mod ? "modulo by zero" : "division by zero");
    dst.SetFloat(r);
    return true;
  }
  if (op == Op::Add && tb == Tag::String && tc == Tag::String) {
    if (&dst == &b && &dst != &c) {
      dst.MutableString() += c.str();
      dst.Recharge();
    } else {
      dst = Value::String(b.str() + c.str());
    }
    return !OverMemory();
  }
  if (op == Op::Add && tb == Tag::List && tc == Tag::List) {
    if (&dst == &b && &dst != &c) {
      auto& items = dst.MutableList();
      items.insert(items.end(), c.list().begin(), c.list().end());
      dst.Recharge();
      for (const Value& x : c.list()) dst.NoteChild(x);
    } else {
      std::vector<Value> items = b.list();
      items.insert(items.end(), c.list().begin(), c.list().end());
      dst = Value::List(std::move(items));
    }
    if (OverMemory()) return false;
    return dst.depth() <= value::kMaxValueDepth || DepthLimit();
  }
  // duration +- duration, time +- duration, duration + time, time - time.
  bool time_math = (op == Op::Add || op == Op::Sub) &&
                   ((tb == Tag::Duration && tc == Tag::Duration) || (tb == Tag::Time && tc == Tag::Duration) ||
                    (op == Op::Add && tb == Tag::Duration && tc == Tag::Time) ||
                    (op == Op::Sub && tb == Tag::Time && tc == Tag::Time));
  if (time_math) {
    int64_t r = 0;
    bool bad = op == Op::Add ? __builtin_add_overflow(b.as_int(), c.as_int(), &r)
                             : __builtin_sub_overflow(b.as_int(), c.as_int(), &r);
    if (bad) return Fail(kKindArithmetic, fmt::format("overflow in {} on {}", OpSymbol(op), value::TagName(tb)));
    Tag t = (tb == Tag::Time) != (tc == Tag::Time) ? Tag::Time : Tag::Duration;
    dst = t == Tag::Time ? Value::Time(r) : Value::Duration(r);
    return true;
  }
  if (op == Op::Mul && ((tb == Tag::Duration && tc == Tag::Int) || (tb == Tag::Int && tc == Tag::Duration))) {
    int64_t r = 0;
    if (__builtin_mul_overflow(b.as_int(), c.as_int(), &r)) return Fail(kKindArithmetic, "overflow in * on duration");
    dst = Value::Duration(r);
    return true;
  }
  return Fail(kKindType, fmt::format("cannot apply {} to {} and {}", OpSymbol(op), value::TagName(tb), value::TagName(tc)));
}

auto Vm::CompareOp(Op op, Value& dst, const Value& b, const Value& c) -> bool {
  bool less = false, equal = false;
  if (!value::Compare(b, c, less, equal)) {
    return Fail(kKindType, fmt::format("cannot compare {} and {}", value::TagName(b.tag()), value::TagName(c.tag())));
  }
  dst.SetBool(op == Op::Lt ? less : (less || equal));
  return true;
}

auto Vm::Negate(Value& dst, const Value& b) -> bool {
  if (b.is_int() || b.tag() == Tag::Duration) {
    if (b.as_int() == INT64_MIN) return Fail(kKindArithmetic, "integer overflow in negation");
    dst = b.is_int() ? Value::Int(-b.as_int()) : Value::Duration(-b.as_int());
    return true;
  }
  if (b.is_float()) {
    dst.SetFloat(-b.as_float());
    return true;
  }
  return Fail(kKindType, fmt::format("cannot negate a {}", value::TagName(b.tag())));
}

auto Vm::GetField(Value& dst, const Value& obj, uint32_t name, FieldCache& cache) -> bool {
  if (obj.is_record()) {
    const value::Shape& shape = obj.record_shape();
    if (cache.shape != &shape) {
      cache.shape = &shape;
      cache.slot = shape.Find(name_map_[name]);
    }
    if (cache.slot < 0) dst.SetNull();
    else dst = obj.record_fields()[cache.slot];
    return true;
  }
  if (obj.is_json()) {
    const auto& j = obj.json();
    auto it = j.is_object() ? j.find(module_.names[name]) : j.end();
    if (it == j.end()) dst.SetNull();
    else dst = Value::Json(*it);
    return !OverMemory();
  }
  if (obj.is_null()) {
    return Fail(kKindType, fmt::format("cannot read field '{}' of null", module_.names[name]));
  }
  return Fail(kKindType, fmt::format("cannot read field '{}' of a {}", module_.names[name], value::TagName(obj.tag())));
}

auto Vm::GetIndex(Value& dst, const Value& obj, const Value& index) -> bool {
  if (obj.is_list() && index.is_int()) {
    const auto& items = obj.list();
    int64_t i = index.as_int();
    if (i < 0 || static_cast<uint64_t>(i) >= items.size()) {
      return Fail(kKindIndex, fmt::format("index {} out of range for a list of {}", i, items.size()));
    }
    Value v = items[i];  // copy first: dst may be obj's register
    dst = std::move(v);
    return true;
  }
  if (obj.is_json()) {
    const auto& j = obj.json();
    if (j.is_array() && index.is_int()) {
      int64_t i = index.as_int();
      if (i < 0 || static_cast<uint64_t>(i) >= j.size()) {
        return Fail(kKindIndex, fmt::format("index {} out of range for a json array of {}", i, j.size()));
      }
      dst = Value::Json(j[i]);
      return !OverMemory();
    }
    if (j.is_object() && index.is_string()) {
      auto it = j.find(index.str());
      if (it == j.end()) dst.SetNull();
      else dst = Value::Json(*it);
      return !OverMemory();
    }
  }
  return Fail(kKindType, fmt::format("cannot index a {} with a {}", value::TagName(obj.tag()), value::TagName(index.tag())));
}

auto Vm::Concat(Value* regs, uint32_t a, uint32_t b, uint32_t n) -> bool {
  if (n > 0 && a == b && regs[a].is_string()) {
    bool aliased = false;
    for (uint32_t k = 1; k < n; ++k) aliased |= regs[b + k].is_string() && &regs[b + k].str() == &regs[a].str();
    if (!aliased) {
      std::string& s = regs[a].MutableString();
      for (uint32_t k = 1; k < n; ++k) value::AppendDisplay(s, regs[b + k]);
      regs[a].Recharge();
      return !OverMemory();
    }
  }
  std::string s;
  for (uint32_t k = 0; k < n; ++k) value::AppendDisplay(s, regs[b + k]);
  regs[a] = Value::String(std::move(s));
  return !OverMemory();
}

auto Vm::Append(Value& list, const Value& item) -> bool {
  if (!list.is_list()) return Fail(kKindType, fmt::format("cannot append to a {}", value::TagName(list.tag())));
  if (item.depth() + 1 > value::kMaxValueDepth) return DepthLimit();
  Value copy = item;  // item may live inside the list
  list.MutableList().push_back(std::move(copy));
  list.Recharge();
  list.NoteChild(list.list().back());
  return !OverMemory();
}

auto Vm::DepthLimit() -> bool {
  return Fail(kKindLimit, fmt::format("values nest deeper than {} levels", value::kMaxValueDepth));
}

auto Vm::StepReason(Instr i, const Value* R, SuspendReason& out) -> bool {
  auto opt_duration = [&](const Value& v, int64_t& ms) -> bool {
    if (v.is_null()) { ms = -1; return true; }
    if (v.tag() != Tag::Duration) return Fail(kKindType, "timeout must be a duration");
    ms = v.as_int();
    return true;
  };
  auto text = [&](const Value& v, std::string& s) -> bool {
    if (!v.is_string()) return Fail(kKindType, fmt::format("expected a string, got a {}", value::TagName(v.tag())));
    s = v.str();
    return true;
  };
  uint32_t a = bytecode::GetA(i), b = bytecode::GetB(i), c = bytecode::GetC(i);
  switch (bytecode::GetOp(i)) {
    case Op::Child:
    case Op::Step:
      out.kind = bytecode::GetOp(i) == Op::Child ? SuspendKind::Child : SuspendKind::Step;
      out.step = b;
      out.args = R[c];
      return true;
    case Op::Approve:
      out.kind = SuspendKind::Approval;
      if (!text(R[b], out.text)) return false;
      if (!R[b + 1].is_null()) {
        std::string from;
        if (!text(R[b + 1], from)) return false;
        out.from = from;
      }
      return opt_duration(R[b + 2], out.timeout_ms);
    case Op::Wait:
      out.kind = SuspendKind::Signal;
      return text(R[b], out.text) && opt_duration(R[b + 1], out.timeout_ms);
    case Op::Sleep:
      out.kind = SuspendKind::Timer;
      if (R[a].tag() != Tag::Duration) return Fail(kKindType, "sleep needs a duration");
      out.duration_ms = R[a].as_int();
      return true;
    case Op::Checkpoint:
      out.kind = SuspendKind::Checkpoint;
      return text(R[a], out.text);
    default: FLOW_CHECK(false, "not a suspending opcode");
  }
  return false;
}

}  // namespace flow::interp
