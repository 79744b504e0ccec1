// Vm::SaveState / Vm::LoadState: the complete VM state as bytes.
//
//   magic      8 bytes  7F 'F' 'S' 'T' 'A' 'T' 'E' '\n'
//   version    u32      kStateFormatVersion
//   checksum   u64      FNV-1a 64 of every byte after it (version 2 on)
//   program    64 hex chars: the hash of the module the state belongs to
//   phase u8
//   fibers:    u32 count (1: the root alone), then per fiber (version 3 on;
//              version 1 and 2 states hold the root's fields only, without
//              branch, state, steps, groups and spawns):
//     branch str, state u8, pending register u32, effect sequence u64,
//     pending error: u8 present, then kind, message, u8 has-step, step,
//     function, u32 line, u32 column (version 3: errors of branches keep
//     their place), steps i64, groups u32, spawns (u32 count, u32 pcs),
//     a suspended fiber's step (u32 descriptor, value arguments); from
//     version 4 preceded by u8 kind (SuspendKind): Step is followed by the
//     step as above, a wait (Approval, Signal, Timer) by its text str,
//     u8 has-from + from str, i64 timeout ms, i64 duration ms instead,
//     frames:    u32 count, then (function, pc, base, return slot) as u32
//     handlers:  u32 count, then (frame, catch pc, register) as u32
//     stack:     u32 slot count, then one value per slot
//   groups:    u32 count (version 3), then per group: prefix str, parent
//              str, u8 is-for, u32 function, u32 result register, starts
//              (u32 count, u32 pcs), u32 body pc, u32 item register, items
//              value, i64 limit, u32 next item, outputs (u32 count, values),
//              u32 live, pending error as above
//   compensations: u32 count, then (u32 step, value) each
//   value:     u8 tag, then: bool u8 | int/duration/time i64 | float f64 |
//              string str | list u32 n + values | record u32 n + (name str,
//              value) | json str (its compact JSON text) | secret str (the
//              environment variable's name: a state never holds a secret's value)
//
// Only indices and offsets, never an address: records carry their field
// names and are re-interned into the loading VM's shapes. LoadState checks
// the checksum first and then every index against the module, so a corrupt
// state is a Result error, never a run that goes on with a changed value:
// the index checks alone let a flipped byte inside a number or a string
// through. Why FNV-1a 64 and not SHA-256 (the program's hash): it catches
// every change of one byte for certain (each step of it is a bijection)
// and other corruption with odds of 2^-64, at a tenth of the cost on the
// path of every durable point; nobody forges a state in their own database.
// A version 1 state (no checksum) still loads: runs saved by an older flow.
#include <fmt/format.h>

#include <cstring>

#include "vm/bytecode/binary_io.h"
#include "vm/base/json_text.h"
#include "vm/interp/vm.h"

namespace flow::interp {

using bytecode::Function;

namespace {
constexpr char kStateMagic[8] = {'\x7f', 'F', 'S', 'T', 'A', 'T', 'E', '\n'};
constexpr uint32_t kStateFormatVersion = 4;  // 3: branch fibers, 4: waits in branches (docs/composition.md)
constexpr uint32_t kBranchWaitsVersion = 4;
constexpr uint32_t kChecksummedRootOnlyVersion = 2;
constexpr uint32_t kUncheckedStateVersion = 1;  // before the checksum
constexpr size_t kChecksumAt = sizeof(kStateMagic) + 4;
constexpr size_t kBodyAt = kChecksumAt + 8;

auto Fnv1a64(std::string_view bytes) -> uint64_t {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

class StateCodec {
 public:
  static void WriteValue(bytecode::ByteWriter& w, const Value& v) {
    w.U8(static_cast<uint8_t>(v.tag()));
    switch (v.tag()) {
      case value::Tag::Null: break;
      case value::Tag::Bool: w.U8(v.as_bool()); break;
      case value::Tag::Int: case value::Tag::Duration: case value::Tag::Time: w.I64(v.as_int()); break;
      case value::Tag::Float: w.F64(v.as_float()); break;
      case value::Tag::String: w.Str(v.str()); break;
      case value::Tag::List:
        w.U32(static_cast<uint32_t>(v.list().size()));
        for (const Value& x : v.list()) WriteValue(w, x);
        break;
      case value::Tag::Record: {
        const auto& shape = v.record_shape();
        w.U32(static_cast<uint32_t>(shape.texts.size()));
        for (size_t k = 0; k < shape.texts.size(); ++k) {
          w.Str(shape.texts[k]);
          WriteValue(w, v.record_fields()[k]);
        }
        break;
      }
      case value::Tag::Json: w.Str(v.json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)); break;
      case value::Tag::Secret: w.Str(v.secret_name()); break;  // the name only, never the value
    }
  }

  static auto ReadValue(bytecode::ByteReader& r, Value& out, int depth) -> bool {
    uint8_t tag = 0;
    if (depth > value::kMaxValueDepth || !r.U8(tag) || tag > static_cast<uint8_t>(value::Tag::Secret)) return false;
    int64_t i = 0;
    double d = 0;
    std::string s;
    uint32_t n = 0;
    switch (static_cast<value::Tag>(tag)) {
      case value::Tag::Null: out = Value(); return true;
      case value::Tag::Bool: { uint8_t b = 0; if (!r.U8(b) || b > 1) return false; out = Value::Bool(b); return true; }
      case value::Tag::Int: if (!r.I64(i)) return false; out = Value::Int(i); return true;
      case value::Tag::Duration: if (!r.I64(i)) return false; out = Value::Duration(i); return true;
      case value::Tag::Time: if (!r.I64(i)) return false; out = Value::Time(i); return true;
      case value::Tag::Float: if (!r.F64(d)) return false; out = Value::Float(d); return true;
      case value::Tag::String: if (!r.Str(s)) return false; out = Value::String(std::move(s)); return true;
      case value::Tag::List: {
        if (!r.Count(n, 1)) return false;
        std::vector<Value> items(n);
        for (auto& x : items) if (!ReadValue(r, x, depth + 1)) return false;
        out = Value::List(std::move(items));
        return true;
      }
      case value::Tag::Record: {
        if (!r.Count(n, 5)) return false;
        std::vector<std::string> names(n);
        std::vector<Value> fields(n);
        for (uint32_t k = 0; k < n; ++k) {
          if (!r.Str(names[k]) || !ReadValue(r, fields[k], depth + 1)) return false;
          if (k > 0 && !(names[k - 1] < names[k])) return false;  // sorted, unique
        }
        out = Value::Record(value::Symbols::Global().ShapeOfTexts(std::move(names)), std::move(fields));
        return true;
      }
      case value::Tag::Json: {
        if (!r.Str(s)) return false;
        // No value nests deeper than kMaxValueDepth; a damaged state that
        // does must not reach a recursive walk (vm/base/json_text.h).
        if (FindTooDeep(s, value::kMaxValueDepth) != std::string::npos) return false;
        auto j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded()) return false;
        out = Value::Json(std::move(j));
        return true;
      }
      case value::Tag::Secret:
        if (!r.Str(s)) return false;
        out = Value::Secret(std::move(s));
        return true;
    }
    return false;
  }
};

namespace {

void WriteError(bytecode::ByteWriter& w, const std::optional<WorkflowError>& e) {
  w.U8(e.has_value());
  if (!e) return;
  w.Str(e->kind);
  w.Str(e->message);
  w.U8(e->step.has_value());
  if (e->step) w.Str(*e->step);
  w.Str(e->function);
  w.U32(e->pos.line);
  w.U32(e->pos.column);
}

auto ReadError(bytecode::ByteReader& r, bool with_place, std::optional<WorkflowError>& out) -> bool {
  uint8_t has = 0;
  if (!r.U8(has)) return false;
  if (!has) return true;
  WorkflowError e;
  uint8_t has_step = 0;
  r.Str(e.kind); r.Str(e.message); r.U8(has_step);
  if (has_step) { std::string s; r.Str(s); e.step = s; }
  if (with_place) { r.Str(e.function); r.U32(e.pos.line); r.U32(e.pos.column); }
  if (!r.ok()) return false;
  out = std::move(e);
  return true;
}

auto Corrupt(const std::string& what) -> Status { return Error{"corrupt VM state: " + what, ErrorCode::kCorrupt}; }

}  // namespace

auto Vm::SaveState() const -> std::string {
  bytecode::ByteWriter w;
  w.Bytes(std::string_view(kStateMagic, sizeof(kStateMagic)));
  w.U32(kStateFormatVersion);
  w.U64(0);  // the checksum, filled in below
  w.Bytes(module_hash_);
  w.U8(static_cast<uint8_t>(phase_));
  auto fiber = [&](const std::string& branch, FiberState state, uint32_t pending, uint64_t effects,
                   const std::optional<WorkflowError>& perr, int64_t steps, uint32_t groups,
                   const std::vector<uint32_t>& spawns, uint32_t desc, const Value& args, const SuspendReason& wait,
                   const std::vector<Frame>& frames, const std::vector<Handler>& handlers,
                   const std::vector<Value>& stack) {
    w.Str(branch);
    // In flight is the host's business: a reloaded fiber's step is sent again.
    w.U8(static_cast<uint8_t>(state == FiberState::Taken ? FiberState::Suspended : state));
    w.U32(pending);
    w.U64(effects);
    WriteError(w, perr);
    w.I64(steps);
    w.U32(groups);
    w.U32(static_cast<uint32_t>(spawns.size()));
    for (uint32_t pc : spawns) w.U32(pc);
    if (state == FiberState::Suspended || state == FiberState::Taken) {
      w.U8(static_cast<uint8_t>(wait.kind));
      if (wait.kind == SuspendKind::Step) {
        w.U32(desc);
        StateCodec::WriteValue(w, args);
      } else {
        w.Str(wait.text);
        w.U8(wait.from.has_value());
        w.Str(wait.from.value_or(""));
        w.I64(wait.timeout_ms);
        w.I64(wait.duration_ms);
      }
    }
    w.U32(static_cast<uint32_t>(frames.size()));
    for (const Frame& f : frames) { w.U32(f.fn); w.U32(f.pc); w.U32(f.base); w.U32(f.ret); }
    w.U32(static_cast<uint32_t>(handlers.size()));
    for (const Handler& h : handlers) { w.U32(h.frame); w.U32(h.catch_pc); w.U32(h.reg); }
    uint32_t used = 0;
    if (!frames.empty()) used = frames.back().base + module_.functions[frames.back().fn].num_regs;
    w.U32(used);
    for (uint32_t k = 0; k < used; ++k) StateCodec::WriteValue(w, stack[k]);
  };
  if (fibers_.empty()) {
    w.U32(1);
    fiber("", FiberState::Ready, pending_reg_, effect_seq_, pending_error_, 0, branch_groups_, spawns_, 0, Value(),
          SuspendReason{}, frames_, handlers_, stack_);
  } else {
    FLOW_CHECK(current_ < 0, "SaveState between runs only");
    w.U32(static_cast<uint32_t>(fibers_.size()));
    for (const Fiber& f : fibers_) {
      fiber(f.branch, f.state, f.pending_reg, f.effect_seq, f.pending_error, f.steps, f.groups, f.spawns, f.step_desc,
            f.step_args, f.wait, f.frames, f.handlers, f.stack);
    }
  }
  w.U32(static_cast<uint32_t>(groups_.size()));
  for (const Group& g : groups_) {
    w.Str(g.prefix);
    w.Str(g.parent);
    w.U8(g.is_for);
    w.U32(g.fn);
    w.U32(g.result_reg);
    w.U32(static_cast<uint32_t>(g.starts.size()));
    for (uint32_t pc : g.starts) w.U32(pc);
    w.U32(g.body_pc);
    w.U32(g.item_reg);
    StateCodec::WriteValue(w, g.items);
    w.I64(g.limit);
    w.U32(g.next);
    w.U32(static_cast<uint32_t>(g.outputs.size()));
    for (const Value& v : g.outputs) StateCodec::WriteValue(w, v);
    w.U32(g.live);
    WriteError(w, g.error);
  }
  w.U32(static_cast<uint32_t>(compensations_.size()));
  for (const Compensation& c : compensations_) {
    w.U32(c.step);
    StateCodec::WriteValue(w, c.args);
  }
  std::string bytes = w.take();
  const uint64_t sum = Fnv1a64(std::string_view(bytes).substr(kBodyAt));
  std::memcpy(bytes.data() + kChecksumAt, &sum, sizeof sum);
  return bytes;
}

// One fiber's frames, handlers and stack, checked against the module.
auto Vm::ReadFiberBody(bytecode::ByteReader& r, std::vector<Frame>& frames, std::vector<Handler>& handlers,
                       std::vector<Value>& stack, uint32_t pending, bool suspended) -> Status {
  uint32_t n = 0;
  if (!r.Count(n, 16) || n == 0 || n > kMaxCallDepth) return Corrupt("bad frame count");
  frames.resize(n);
  for (Frame& f : frames) { r.U32(f.fn); r.U32(f.pc); r.U32(f.base); r.U32(f.ret); }
  if (!r.ok()) return Corrupt("truncated frames");
  uint64_t expect_base = 0;
  for (size_t k = 0; k < frames.size(); ++k) {
    const Frame& f = frames[k];
    if (f.fn >= module_.functions.size()) return Corrupt(fmt::format("frame {} names function {}", k, f.fn));
    const Function& fn = module_.functions[f.fn];
    if (f.pc >= fn.code.size()) return Corrupt(fmt::format("frame {} pc {} is outside '{}'", k, f.pc, fn.name));
    if (f.base != expect_base) return Corrupt(fmt::format("frame {} base {} is misplaced", k, f.base));
    if (k == 0 ? f.ret != kNoSlot : f.ret < frames[k - 1].base || f.ret >= f.base) {
      return Corrupt(fmt::format("frame {} returns to a bad slot", k));
    }
    expect_base += fn.num_regs;
  }
  const Function& top = module_.functions[frames.back().fn];
  if (pending != kNoSlot && (!suspended || pending >= top.num_regs)) return Corrupt("bad pending register");
  if (!r.Count(n, 12)) return Corrupt("bad handler count");
  handlers.resize(n);
  for (Handler& h : handlers) { r.U32(h.frame); r.U32(h.catch_pc); r.U32(h.reg); }
  if (!r.ok()) return Corrupt("truncated handlers");
  for (size_t k = 0; k < handlers.size(); ++k) {
    const Handler& h = handlers[k];
    if (h.frame >= frames.size() || (k > 0 && h.frame < handlers[k - 1].frame)) return Corrupt("bad handler frame");
    const Function& fn = module_.functions[frames[h.frame].fn];
    if (h.catch_pc >= fn.code.size() || h.reg >= fn.num_regs) return Corrupt("bad handler target");
  }
  uint32_t used = 0;
  if (!r.U32(used) || used != expect_base) return Corrupt("stack size does not match the frames");
  if (used > r.left()) return Corrupt("truncated stack");
  stack.assign(used, Value());
  for (Value& v : stack) {
    if (!StateCodec::ReadValue(r, v, 0)) return Corrupt("malformed value on the stack");
  }
  return Ok{};
}

auto Vm::LoadState(std::string_view bytes) -> Status {
  if (phase_ != Phase::Idle) return Error{"cannot load a VM state into a VM that has started"};
  if (bytes.size() < sizeof(kStateMagic) || std::memcmp(bytes.data(), kStateMagic, sizeof(kStateMagic)) != 0) {
    return Error{"not a flow VM state (bad magic)"};
  }
  bytecode::ByteReader r(bytes.substr(sizeof(kStateMagic)));
  uint32_t version = 0;
  if (!r.U32(version)) return Corrupt("truncated header");
  if (version > kStateFormatVersion || version < kUncheckedStateVersion) {
    return Error{fmt::format("VM state format version {}, this flow reads versions {} to {}", version,
                             kUncheckedStateVersion, kStateFormatVersion)};
  }
  if (version >= kChecksummedRootOnlyVersion) {
    uint64_t sum = 0;
    if (!r.U64(sum) || bytes.size() < kBodyAt) return Corrupt("truncated header");
    if (sum != Fnv1a64(bytes.substr(kBodyAt))) return Corrupt("checksum mismatch (the saved state was damaged)");
  }
  std::string hash;
  if (!r.Bytes(64, hash)) return Corrupt("truncated header");
  if (hash != module_hash_) return Error{"VM state belongs to program " + hash.substr(0, 12) + ", not this one"};
  uint8_t phase = 0;
  if (!r.U8(phase)) return Corrupt("truncated header");
  const bool branches = phase == static_cast<uint8_t>(Phase::Branches);
  if (phase != static_cast<uint8_t>(Phase::Ready) && phase != static_cast<uint8_t>(Phase::Suspended) &&
      !(branches && version >= 3)) {
    return Corrupt("the run is neither ready nor suspended");
  }
  std::vector<Fiber> fibers;
  uint32_t count = 1;
  if (version >= 3 && (!r.Count(count, 20) || count == 0)) return Corrupt("bad fiber count");
  for (uint32_t k = 0; k < count; ++k) {
    Fiber f;
    if (version >= 3) {
      uint8_t state = 0;
      r.Str(f.branch); r.U8(state); r.U32(f.pending_reg); r.U64(f.effect_seq);
      if (!r.ok() || state > static_cast<uint8_t>(FiberState::Joining) || state == static_cast<uint8_t>(FiberState::Taken)) {
        return Corrupt("bad fiber");
      }
      f.state = static_cast<FiberState>(state);
      if (!ReadError(r, true, f.pending_error)) return Corrupt("truncated pending error");
      uint32_t n = 0;
      r.I64(f.steps); r.U32(f.groups);
      if (!r.Count(n, 4)) return Corrupt("bad spawn count");
      f.spawns.resize(n);
      for (uint32_t& pc : f.spawns) r.U32(pc);
      if (f.state == FiberState::Suspended) {
        uint8_t kind = static_cast<uint8_t>(SuspendKind::Step);
        if (version >= kBranchWaitsVersion && !r.U8(kind)) return Corrupt("malformed suspended fiber");
        f.wait.kind = static_cast<SuspendKind>(kind);
        if (f.wait.kind == SuspendKind::Step) {
          if (!r.U32(f.step_desc) || f.step_desc >= module_.steps.size() || !StateCodec::ReadValue(r, f.step_args, 0)) {
            return Corrupt("malformed suspended step");
          }
        } else if (f.wait.kind == SuspendKind::Approval || f.wait.kind == SuspendKind::Signal ||
                   f.wait.kind == SuspendKind::Timer) {
          uint8_t has_from = 0;
          std::string from;
          r.Str(f.wait.text); r.U8(has_from); r.Str(from); r.I64(f.wait.timeout_ms); r.I64(f.wait.duration_ms);
          if (!r.ok()) return Corrupt("malformed suspended wait");
          if (has_from != 0) f.wait.from = std::move(from);
        } else {
          return Corrupt("malformed suspended fiber");
        }
      }
      if (!r.ok() || (k == 0) != f.branch.empty()) return Corrupt("bad fiber");
    } else {
      r.U32(f.pending_reg); r.U64(f.effect_seq);
      if (!r.ok()) return Corrupt("truncated header");
      if (!ReadError(r, false, f.pending_error)) return Corrupt("truncated pending error");
    }
    const bool suspended = count == 1 ? phase == static_cast<uint8_t>(Phase::Suspended)
                                      : f.state == FiberState::Suspended;
    if (auto s = ReadFiberBody(r, f.frames, f.handlers, f.stack, f.pending_reg, suspended); !s) return s;
    for (uint32_t pc : f.spawns) {
      if (pc >= module_.functions[f.frames.back().fn].code.size()) return Corrupt("bad spawn");
    }
    fibers.push_back(std::move(f));
  }
  std::vector<Group> groups;
  uint32_t n = 0;
  if (version >= 3) {
    if (!r.Count(n, 40)) return Corrupt("bad group count");
    for (uint32_t k = 0; k < n; ++k) {
      Group g;
      uint8_t is_for = 0;
      uint32_t m = 0;
      r.Str(g.prefix); r.Str(g.parent); r.U8(is_for); r.U32(g.fn); r.U32(g.result_reg);
      if (!r.Count(m, 4)) return Corrupt("bad group");
      g.starts.resize(m);
      for (uint32_t& pc : g.starts) r.U32(pc);
      g.is_for = is_for != 0;
      r.U32(g.body_pc); r.U32(g.item_reg);
      if (!r.ok() || !StateCodec::ReadValue(r, g.items, 0)) return Corrupt("bad group");
      r.I64(g.limit); r.U32(g.next);
      if (!r.Count(m, 1)) return Corrupt("bad group");
      g.outputs.resize(m);
      for (Value& v : g.outputs) {
        if (!StateCodec::ReadValue(r, v, 0)) return Corrupt("bad group output");
      }
      r.U32(g.live);
      if (!r.ok() || !ReadError(r, true, g.error)) return Corrupt("bad group");
      if (g.fn >= module_.functions.size()) return Corrupt("bad group function");
      const Function& fn = module_.functions[g.fn];
      bool bad = g.result_reg >= fn.num_regs || g.item_reg >= fn.num_regs || g.limit < 1 ||
                 (g.is_for && (!g.items.is_list() || g.body_pc >= fn.code.size() ||
                               g.next > g.items.list().size() || m != g.items.list().size())) ||
                 (!g.is_for && m != g.starts.size());
      for (uint32_t pc : g.starts) bad |= pc >= fn.code.size();
      if (bad) return Corrupt("bad group");
      groups.push_back(std::move(g));
    }
  }
  if (!r.Count(n, 5)) return Corrupt("bad compensation count");
  std::vector<Compensation> compensations(n);
  for (Compensation& c : compensations) {
    if (!r.U32(c.step) || c.step >= module_.steps.size() || !StateCodec::ReadValue(r, c.args, 0)) {
      return Corrupt("malformed compensation");
    }
  }
  if (!r.at_end()) return Corrupt("trailing bytes");
  if ((fibers.size() == 1) != groups.empty() || (fibers.size() == 1 && branches)) {
    return Corrupt("fibers and groups do not match");
  }
  phase_ = static_cast<Phase>(phase);
  compensations_ = std::move(compensations);
  if (fibers.size() == 1) {  // the root alone: its vectors are the Vm's
    Fiber& f = fibers[0];
    stack_ = std::move(f.stack);
    frames_ = std::move(f.frames);
    handlers_ = std::move(f.handlers);
    pending_reg_ = f.pending_reg;
    pending_error_ = std::move(f.pending_error);
    effect_seq_ = f.effect_seq;
    branch_groups_ = f.groups;
    spawns_ = std::move(f.spawns);
    return Ok{};
  }
  fibers_ = std::move(fibers);
  groups_ = std::move(groups);
  return Ok{};
}

}  // namespace flow::interp
