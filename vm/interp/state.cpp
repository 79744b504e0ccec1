// Vm::SaveState / Vm::LoadState: the complete VM state as bytes.
//
//   magic      8 bytes  7F 'F' 'S' 'T' 'A' 'T' 'E' '\n'
//   version    u32      kStateFormatVersion
//   checksum   u64      FNV-1a 64 of every byte after it (version 2 on)
//   program    64 hex chars: the hash of the module the state belongs to
//   phase u8, pending register u32, effect sequence u64,
//   pending error: u8 present, then kind, message, u8 has-step, step
//   frames:    u32 count, then (function, pc, base, return slot) as u32
//   handlers:  u32 count, then (frame, catch pc, register) as u32
//   stack:     u32 slot count, then one value per slot
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
constexpr uint32_t kStateFormatVersion = 2;
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

auto Vm::SaveState() const -> std::string {
  bytecode::ByteWriter w;
  w.Bytes(std::string_view(kStateMagic, sizeof(kStateMagic)));
  w.U32(kStateFormatVersion);
  w.U64(0);  // the checksum, filled in below
  w.Bytes(module_hash_);
  w.U8(static_cast<uint8_t>(phase_));
  w.U32(pending_reg_);
  w.U64(effect_seq_);
  w.U8(pending_error_.has_value());
  if (pending_error_) {
    w.Str(pending_error_->kind);
    w.Str(pending_error_->message);
    w.U8(pending_error_->step.has_value());
    if (pending_error_->step) w.Str(*pending_error_->step);
  }
  w.U32(static_cast<uint32_t>(frames_.size()));
  for (const Frame& f : frames_) { w.U32(f.fn); w.U32(f.pc); w.U32(f.base); w.U32(f.ret); }
  w.U32(static_cast<uint32_t>(handlers_.size()));
  for (const Handler& h : handlers_) { w.U32(h.frame); w.U32(h.catch_pc); w.U32(h.reg); }
  uint32_t used = 0;
  if (!frames_.empty()) used = frames_.back().base + module_.functions[frames_.back().fn].num_regs;
  w.U32(used);
  for (uint32_t k = 0; k < used; ++k) StateCodec::WriteValue(w, stack_[k]);
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

namespace {

auto Corrupt(const std::string& what) -> Status { return Error{"corrupt VM state: " + what, ErrorCode::kCorrupt}; }

}  // namespace

auto Vm::LoadState(std::string_view bytes) -> Status {
  if (phase_ != Phase::Idle) return Error{"cannot load a VM state into a VM that has started"};
  if (bytes.size() < sizeof(kStateMagic) || std::memcmp(bytes.data(), kStateMagic, sizeof(kStateMagic)) != 0) {
    return Error{"not a flow VM state (bad magic)"};
  }
  bytecode::ByteReader r(bytes.substr(sizeof(kStateMagic)));
  uint32_t version = 0;
  if (!r.U32(version)) return Corrupt("truncated header");
  if (version != kStateFormatVersion && version != kUncheckedStateVersion) {
    return Error{fmt::format("VM state format version {}, this flow reads versions {} and {}", version,
                             kUncheckedStateVersion, kStateFormatVersion)};
  }
  if (version == kStateFormatVersion) {
    uint64_t sum = 0;
    if (!r.U64(sum) || bytes.size() < kBodyAt) return Corrupt("truncated header");
    if (sum != Fnv1a64(bytes.substr(kBodyAt))) return Corrupt("checksum mismatch (the saved state was damaged)");
  }
  std::string hash;
  if (!r.Bytes(64, hash)) return Corrupt("truncated header");
  if (hash != module_hash_) return Error{"VM state belongs to program " + hash.substr(0, 12) + ", not this one"};
  uint8_t phase = 0, has_error = 0;
  uint32_t pending = 0;
  uint64_t effects = 0;
  r.U8(phase); r.U32(pending); r.U64(effects); r.U8(has_error);
  if (!r.ok()) return Corrupt("truncated header");
  if (phase != static_cast<uint8_t>(Phase::Ready) && phase != static_cast<uint8_t>(Phase::Suspended)) {
    return Corrupt("the run is neither ready nor suspended");
  }
  std::optional<WorkflowError> perr;
  if (has_error) {
    WorkflowError e;
    uint8_t has_step = 0;
    r.Str(e.kind); r.Str(e.message); r.U8(has_step);
    if (has_step) { std::string s; r.Str(s); e.step = s; }
    if (!r.ok()) return Corrupt("truncated pending error");
    perr = std::move(e);
  }
  uint32_t n = 0;
  if (!r.Count(n, 16) || n == 0 || n > kMaxCallDepth) return Corrupt("bad frame count");
  std::vector<Frame> frames(n);
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
  if (pending != kNoSlot && (phase != static_cast<uint8_t>(Phase::Suspended) || pending >= top.num_regs)) {
    return Corrupt("bad pending register");
  }
  if (!r.Count(n, 12)) return Corrupt("bad handler count");
  std::vector<Handler> handlers(n);
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
  std::vector<Value> stack(used);
  for (Value& v : stack) {
    if (!StateCodec::ReadValue(r, v, 0)) return Corrupt("malformed value on the stack");
  }
  if (!r.Count(n, 5)) return Corrupt("bad compensation count");
  std::vector<Compensation> compensations(n);
  for (Compensation& c : compensations) {
    if (!r.U32(c.step) || c.step >= module_.steps.size() || !StateCodec::ReadValue(r, c.args, 0)) {
      return Corrupt("malformed compensation");
    }
  }
  if (!r.at_end()) return Corrupt("trailing bytes");
  stack_ = std::move(stack);
  frames_ = std::move(frames);
  handlers_ = std::move(handlers);
  phase_ = static_cast<Phase>(phase);
  pending_reg_ = pending;
  pending_error_ = std::move(perr);
  effect_seq_ = effects;
  compensations_ = std::move(compensations);
  return Ok{};
}

}  // namespace flow::interp
