#include "vm/bytecode/serialize.h"

#include <algorithm>
#include <cstring>

#include "vm/bytecode/binary_io.h"
#include "vm/bytecode/sha256.h"
#include "vm/bytecode/verify.h"

namespace flow::bytecode {

namespace {

constexpr char kMagic[8] = {'\x7f', 'F', 'L', 'O', 'W', 'C', '\r', '\n'};
constexpr uint64_t kByteOrderProbe = 0x0102030405060708ULL;
constexpr double kFloatProbe = 370.5;
constexpr Instr kInstrProbe = EncodeABC(Op::Move, 1, 2, 3);
constexpr size_t kHashChars = 64;

// Constant tags in the payload.
enum : uint8_t { kKInt = 1, kKFloat = 2, kKString = 3, kKDuration = 4 };

void WriteType(ByteWriter& w, const TypeDesc& t) {
  w.U8(static_cast<uint8_t>(t.kind));
  w.U32(t.element);
  w.U32(static_cast<uint32_t>(t.fields.size()));
  for (const auto& f : t.fields) { w.U32(f.name); w.U32(f.type); }
  w.U32(static_cast<uint32_t>(t.literals.size()));
  for (const auto& l : t.literals) w.Str(l);
}

void WriteStep(ByteWriter& w, const StepDesc& s) {
  w.Str(s.connector);
  w.Str(s.operation);
  w.I64(s.retry_attempts);
  w.I64(s.backoff_ms);
  w.I64(s.backoff_max_ms);
  w.U32(static_cast<uint32_t>(s.retry_on.size()));
  for (const auto& k : s.retry_on) w.Str(k);
  w.I64(s.timeout_ms);
  w.I64(s.compensate_step);
  w.I64(s.compensate_args_fn);
  w.I64(s.output_type);
  w.U32(s.line);
}

void WriteFunction(ByteWriter& w, const Function& f, uint32_t version) {
  w.Str(f.name);
  w.U8(static_cast<uint8_t>(f.kind));
  w.U32(f.arity);
  w.U32(f.num_regs);
  w.U32(static_cast<uint32_t>(f.param_names.size()));
  for (uint32_t n : f.param_names) w.U32(n);
  w.U32(static_cast<uint32_t>(f.param_types.size()));
  for (uint32_t t : f.param_types) w.U32(t);
  w.U32(f.result_type);
  w.U32(static_cast<uint32_t>(f.code.size()));
  for (Instr i : f.code) w.U64(i);
  for (size_t pc = 0; pc < f.code.size(); ++pc) {
    SourcePos pos = PositionAt(f, pc);
    w.U32(pos.line);
    if (version >= kFirstVersionWithColumns) w.U32(pos.column);
  }
}

// The version a module is written in: its own, or the last one without a
// wait table when it has none (a program read from such a version, or one a
// test builds so).
auto WrittenVersion(const Module& m) -> uint32_t {
  return m.waits_known ? m.format_version : std::min(m.format_version, kFirstVersionWithWaits - 1);
}

auto Payload(const Module& m) -> std::string {
  const uint32_t version = WrittenVersion(m);
  ByteWriter w;
  w.Str(m.source_name);
  w.U32(static_cast<uint32_t>(m.constants.size()));
  for (const auto& k : m.constants) {
    if (auto* i = std::get_if<int64_t>(&k)) { w.U8(kKInt); w.I64(*i); }
    else if (auto* f = std::get_if<double>(&k)) { w.U8(kKFloat); w.F64(*f); }
    else if (auto* s = std::get_if<std::string>(&k)) { w.U8(kKString); w.Str(*s); }
    else { w.U8(kKDuration); w.I64(std::get<DurationMs>(k).ms); }
  }
  w.U32(static_cast<uint32_t>(m.names.size()));
  for (const auto& n : m.names) w.Str(n);
  w.U32(static_cast<uint32_t>(m.shapes.size()));
  for (const auto& s : m.shapes) {
    w.U32(static_cast<uint32_t>(s.size()));
    for (uint32_t n : s) w.U32(n);
  }
  w.U32(static_cast<uint32_t>(m.types.size()));
  for (const auto& t : m.types) WriteType(w, t);
  w.U32(static_cast<uint32_t>(m.steps.size()));
  for (const auto& s : m.steps) WriteStep(w, s);
  w.U32(static_cast<uint32_t>(m.functions.size()));
  for (const auto& f : m.functions) WriteFunction(w, f, version);
  w.U32(static_cast<uint32_t>(m.connectors.size()));
  for (const auto& c : m.connectors) { w.Str(c.name); w.Str(c.path); w.Str(c.text); }
  // A program read from an older version has no table: its payload, and
  // so its hash (the content address), stays what it was.
  if (version < kFirstVersionWithWaits) return w.take();
  w.U32(static_cast<uint32_t>(m.waits.size()));
  for (const auto& x : m.waits) {
    w.U32(x.function);
    w.U32(x.pc);
    w.Str(x.event);
    w.U8(x.computed ? 1 : 0);
    w.I64(x.type);
  }
  return w.take();
}

auto ReadU32List(ByteReader& r, std::vector<uint32_t>& out) -> bool {
  uint32_t n = 0;
  if (!r.Count(n, 4)) return false;
  out.resize(n);
  for (auto& v : out) r.U32(v);
  return r.ok();
}

auto ReadStrList(ByteReader& r, std::vector<std::string>& out) -> bool {
  uint32_t n = 0;
  if (!r.Count(n, 4)) return false;
  out.resize(n);
  for (auto& s : out) r.Str(s);
  return r.ok();
}

auto ReadType(ByteReader& r, TypeDesc& t) -> bool {
  uint8_t kind = 0;
  r.U8(kind);
  if (kind > static_cast<uint8_t>(TypeKind::Literal)) return false;
  t.kind = static_cast<TypeKind>(kind);
  r.U32(t.element);
  uint32_t n = 0;
  if (!r.Count(n, 8)) return false;
  t.fields.resize(n);
  for (auto& f : t.fields) { r.U32(f.name); r.U32(f.type); }
  return ReadStrList(r, t.literals);
}

auto ReadStep(ByteReader& r, StepDesc& s) -> bool {
  r.Str(s.connector);
  r.Str(s.operation);
  r.I64(s.retry_attempts);
  r.I64(s.backoff_ms);
  r.I64(s.backoff_max_ms);
  ReadStrList(r, s.retry_on);
  r.I64(s.timeout_ms);
  r.I64(s.compensate_step);
  r.I64(s.compensate_args_fn);
  r.I64(s.output_type);
  r.U32(s.line);
  return r.ok();
}

// `version` is the file's format version: before kFirstVersionWithColumns
// the position table holds lines only.
auto ReadFunction(ByteReader& r, Function& f, uint32_t version) -> bool {
  r.Str(f.name);
  uint8_t kind = 0;
  r.U8(kind);
  if (kind > static_cast<uint8_t>(FunctionKind::Helper)) return false;
  f.kind = static_cast<FunctionKind>(kind);
  r.U32(f.arity);
  r.U32(f.num_regs);
  ReadU32List(r, f.param_names);
  ReadU32List(r, f.param_types);
  r.U32(f.result_type);
  uint32_t n = 0;
  const bool columns = version >= kFirstVersionWithColumns;
  if (!r.Count(n, columns ? 16 : 12)) return false;
  f.code.resize(n);
  for (auto& i : f.code) r.U64(i);
  f.positions.resize(n);
  for (auto& pos : f.positions) {
    r.U32(pos.line);
    if (columns) r.U32(pos.column);
  }
  return r.ok();
}

auto ReadConstant(ByteReader& r, Constant& k) -> bool {
  uint8_t tag = 0;
  if (!r.U8(tag)) return false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  switch (tag) {
    case kKInt: r.I64(i); k = i; break;
    case kKFloat: r.F64(d); k = d; break;
    case kKString: r.Str(s); k = std::move(s); break;
    case kKDuration: r.I64(i); k = DurationMs{i}; break;
    default: return false;
  }
  return r.ok();
}

// The wait table (version 3 on): function, pc, event, computed, type.
auto ReadWaits(ByteReader& r, std::vector<WaitDesc>& out) -> bool {
  uint32_t n = 0;
  if (!r.Count(n, 21)) return false;
  out.resize(n);
  for (auto& x : out) {
    uint8_t computed = 0;
    r.U32(x.function);
    r.U32(x.pc);
    r.Str(x.event);
    r.U8(computed);
    r.I64(x.type);
    if (computed > 1) return false;
    x.computed = computed == 1;
  }
  return r.ok();
}

auto DecodePayload(std::string_view payload, uint32_t version) -> Result<Module> {
  ByteReader r(payload);
  Module m;
  m.format_version = version;
  const Error corrupt{"corrupt bytecode: malformed payload"};
  r.Str(m.source_name);
  uint32_t n = 0;
  if (!r.Count(n, 5)) return corrupt;  // an empty string constant
  m.constants.resize(n);
  for (auto& k : m.constants) if (!ReadConstant(r, k)) return corrupt;
  if (!ReadStrList(r, m.names) || !r.Count(n, 4)) return corrupt;
  m.shapes.resize(n);
  for (auto& s : m.shapes) if (!ReadU32List(r, s)) return corrupt;
  if (!r.Count(n, 13)) return corrupt;
  m.types.resize(n);
  for (auto& t : m.types) if (!ReadType(r, t)) return corrupt;
  if (!r.Count(n, 68)) return corrupt;
  m.steps.resize(n);
  for (auto& s : m.steps) if (!ReadStep(r, s)) return corrupt;
  if (!r.Count(n, 29)) return corrupt;
  m.functions.resize(n);
  for (auto& f : m.functions) if (!ReadFunction(r, f, version)) return corrupt;
  if (!r.Count(n, 12)) return corrupt;
  m.connectors.resize(n);
  for (auto& c : m.connectors) { r.Str(c.name); r.Str(c.path); r.Str(c.text); }
  if (!r.ok()) return corrupt;
  m.waits_known = version >= kFirstVersionWithWaits;
  if (m.waits_known && !ReadWaits(r, m.waits)) return corrupt;
  if (!r.at_end()) return Error{"corrupt bytecode: trailing bytes after the payload", ErrorCode::kCorrupt};
  return m;
}

struct Header {
  uint32_t version = 0;
  std::string hash;
  uint64_t payload_len = 0;
  size_t payload_offset = 0;
};

auto ReadHeader(std::string_view bytes) -> Result<Header> {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Error{"not a flow bytecode file (bad magic)"};
  }
  ByteReader r(bytes.substr(sizeof(kMagic)));
  uint32_t version = 0;
  if (!r.U32(version)) return Error{"truncated bytecode header"};
  if (version < kOldestReadableBytecodeVersion || version > kBytecodeFormatVersion) {
    return Error{"bytecode format version " + std::to_string(version) + ", this flow reads versions " +
                 std::to_string(kOldestReadableBytecodeVersion) + " to " + std::to_string(kBytecodeFormatVersion) +
                 "; recompile the program"};
  }
  uint8_t instr_size = 0, int_size = 0, float_size = 0;
  uint64_t order = 0, instr = 0;
  double fprobe = 0;
  r.U8(instr_size); r.U8(int_size); r.U8(float_size);
  r.U64(order); r.F64(fprobe); r.U64(instr);
  if (!r.ok()) return Error{"truncated bytecode header"};
  if (instr_size != sizeof(Instr)) return Error{"bytecode has a different instruction size"};
  if (int_size != sizeof(int64_t)) return Error{"bytecode has a different integer size"};
  if (float_size != sizeof(double)) return Error{"bytecode has a different float size"};
  if (order != kByteOrderProbe) return Error{"bytecode was written with a different byte order"};
  if (fprobe != kFloatProbe) return Error{"bytecode has a different float format"};
  if (instr != kInstrProbe) return Error{"bytecode has a different instruction layout"};
  Header h;
  h.version = version;
  if (!r.Bytes(kHashChars, h.hash) || !r.U64(h.payload_len)) return Error{"truncated bytecode header"};
  h.payload_offset = sizeof(kMagic) + r.pos();
  if (h.payload_len != r.left()) {
    return Error{h.payload_len > r.left() ? "truncated bytecode payload"
                                          : "corrupt bytecode: trailing bytes after the payload"};
  }
  return h;
}

}  // namespace

auto SerializeModule(const Module& module) -> std::string {
  FLOW_CHECK(module.format_version >= kOldestReadableBytecodeVersion &&
                 module.format_version <= kBytecodeFormatVersion,
             "a module's format version is one this flow reads");
  std::string payload = Payload(module);
  ByteWriter w;
  w.Bytes(std::string_view(kMagic, sizeof(kMagic)));
  w.U32(WrittenVersion(module));
  w.U8(sizeof(Instr)); w.U8(sizeof(int64_t)); w.U8(sizeof(double));
  w.U64(kByteOrderProbe); w.F64(kFloatProbe); w.U64(kInstrProbe);
  w.Bytes(Sha256Hex(payload));
  w.U64(payload.size());
  w.Bytes(payload);
  return w.take();
}

auto ModuleHash(const Module& module) -> std::string { return Sha256Hex(Payload(module)); }

auto ReadModuleHash(std::string_view bytes) -> Result<std::string> {
  auto h = ReadHeader(bytes);
  if (!h) return h.error();
  return h->hash;
}

auto DeserializeModule(std::string_view bytes) -> Result<Module> {
  auto h = ReadHeader(bytes);
  if (!h) return h.error();
  std::string_view payload = bytes.substr(h->payload_offset);
  if (Sha256Hex(payload) != h->hash) return Error{"corrupt bytecode: content hash mismatch", ErrorCode::kCorrupt};
  auto m = DecodePayload(payload, h->version);
  if (!m) return m;
  if (auto v = Verify(*m); !v) return v.error();
  return m;
}

}  // namespace flow::bytecode
