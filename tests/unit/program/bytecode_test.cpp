// Module building, binary round trips, every header mismatch message, the
// verifier, the disassembler, and a small mutation fuzz of the decoder.
#include <gtest/gtest.h>

#include <random>

#include "vm/bytecode/builder.h"
#include "vm/bytecode/disasm.h"
#include "vm/bytecode/serialize.h"
#include "vm/bytecode/sha256.h"
#include "vm/bytecode/verify.h"

namespace flow::bytecode {
namespace {

// fn add1(x) { return x + 1 } and a workflow calling it in a loop.
auto SampleModule() -> Module {
  ModuleBuilder mb("sample.flow");
  uint32_t add1 = mb.DeclareFunction("add1", 1);
  uint32_t main = mb.DeclareFunction("main", 0, FunctionKind::Workflow);
  {
    FunctionBuilder f(mb, add1);
    f.SetLine(1);
    f.ABC(Op::AddI, 1, 0, 1);
    f.ABC(Op::Ret, 1);
    f.Finish(2);
  }
  {
    FunctionBuilder f(mb, main);
    f.SetLine(3);
    f.AsBx(Op::LoadI, 0, 0);
    f.ABx(Op::LoadK, 1, mb.Int(10));
    auto top = f.NewLabel(), done = f.NewLabel();
    f.Bind(top);
    f.ABC(Op::Lt, 2, 0, 1);
    f.Jump(Op::JmpF, 2, done);
    f.ABC(Op::Move, 4, 0);
    f.ABC(Op::Call, 3, add1, 1);
    f.ABC(Op::Move, 0, 3);
    f.Jump(Op::Jmp, 0, top);
    f.Bind(done);
    f.ABx(Op::LoadK, 5, mb.String("done"));
    f.ABx(Op::LoadK, 6, mb.Duration(1500));
    f.ABC(Op::NewRecord, 7, 5, mb.Shape({"b", "a"}));
    f.ABC(Op::Ret, 0);
    f.Finish(8);
  }
  mb.Type(TypeDesc{TypeKind::Literal, 0, {}, {"free", "pro"}});
  StepDesc step;
  step.connector = "billing";
  step.operation = "charge";
  step.retry_attempts = 5;
  mb.Step(step);
  return std::move(mb).Finish();
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(Bytecode, EncodeDecodeFields) {
  Instr i = EncodeABC(Op::Add, 0xFFFF, 7, 0x1234);
  EXPECT_EQ(GetOp(i), Op::Add);
  EXPECT_EQ(GetA(i), 0xFFFFu);
  EXPECT_EQ(GetB(i), 7u);
  EXPECT_EQ(GetC(i), 0x1234u);
  EXPECT_EQ(GetSBx(EncodeAsBx(Op::Jmp, 0, -123456)), -123456);
  EXPECT_EQ(GetSC(EncodeABC(Op::AddI, 0, 0, static_cast<uint16_t>(-5))), -5);
  EXPECT_STREQ(GetOpInfo(Op::Checkpoint).name, "Checkpoint");
}

TEST(Bytecode, RoundTripAndHash) {
  Module m = SampleModule();
  ASSERT_TRUE(Verify(m).ok()) << Verify(m).error().message;
  std::string bytes = SerializeModule(m);
  auto back = DeserializeModule(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(ModuleHash(*back), ModuleHash(m));
  EXPECT_EQ(*ReadModuleHash(bytes), ModuleHash(m));
  Module changed = m;
  changed.functions[0].code[0] = EncodeABC(Op::AddI, 1, 0, 2);
  EXPECT_NE(ModuleHash(changed), ModuleHash(m));
}

// A version 3 program (lines only in its position table) still loads, with
// column 0, keeps its content address, and is written back as version 3:
// a run stored before the upgrade resumes on the same program.
TEST(Bytecode, OlderProgramsKeepTheirLayout) {
  Module m = SampleModule();
  m.format_version = 3;
  m.functions[0].positions.assign(m.functions[0].code.size(), SourcePos{7, 0});
  std::string bytes = SerializeModule(m);
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x03\x00\x00\x00", 4));
  auto back = DeserializeModule(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->format_version, 3u);
  EXPECT_TRUE(back->waits_known);
  EXPECT_EQ(PositionAt(back->functions[0], 0), (SourcePos{7, 0}));
  EXPECT_EQ(*ReadModuleHash(bytes), ModuleHash(*back));
  EXPECT_EQ(SerializeModule(*back), bytes);
  // Version 4 keeps the column, and its layout (so its hash) differs.
  Module now = SampleModule();
  now.functions[0].positions.assign(now.functions[0].code.size(), SourcePos{7, 12});
  auto current = DeserializeModule(SerializeModule(now));
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_EQ(PositionAt(current->functions[0], 1), (SourcePos{7, 12}));
  EXPECT_EQ(FormatPosition("a.flow", SourcePos{7, 12}), "a.flow:7:12");
  EXPECT_EQ(FormatPosition("a.flow", SourcePos{7, 0}), "a.flow:7");
  EXPECT_EQ(FormatPosition("a.flow", SourcePos{}), "");
  EXPECT_EQ(PositionAt(current->functions[0], 999), SourcePos{});
}

// A workflow `w` waiting for "ack" as int: the wait table's one entry.
auto WaitingModule() -> Module {
  ModuleBuilder mb("wait.flow");
  uint32_t w = mb.DeclareFunction("w", 0, FunctionKind::Workflow);
  FunctionBuilder f(mb, w);
  f.SetLine(1);
  f.ABx(Op::LoadK, 1, mb.String("ack"));
  f.ABC(Op::LoadNull, 2);
  WaitDesc d;
  d.function = w;
  d.pc = f.pc();
  f.ABC(Op::Wait, 0, 1);
  f.ABC(Op::Ret, 0);
  f.Finish(3);
  d.event = "ack";
  d.type = mb.ScalarType(TypeKind::Int);
  mb.Wait(d);
  return std::move(mb).Finish();
}

TEST(Bytecode, WaitTableRoundTrips) {
  Module m = WaitingModule();
  ASSERT_TRUE(Verify(m).ok()) << Verify(m).error().message;
  auto back = DeserializeModule(SerializeModule(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
  ASSERT_EQ(back->waits.size(), 1u);
  EXPECT_EQ(back->waits[0].event, "ack");
  EXPECT_TRUE(back->waits_known);
  EXPECT_NE(Disassemble(m).find("W0 = wait \"ack\" as T0 at w pc 2"), std::string::npos) << Disassemble(m);
}

// A program stored before the wait table (version 2) is read as it was
// written, keeps its hash (the content address in every database), and
// says that its waits are unknown.
TEST(Bytecode, ProgramsBeforeTheWaitTableStillLoad) {
  Module before = SampleModule();
  before.waits_known = false;
  std::string v2 = SerializeModule(before);
  EXPECT_EQ(v2[8], 2) << "written as the version that had no wait table";
  EXPECT_EQ(SerializeModule(SampleModule())[8], static_cast<char>(kBytecodeFormatVersion));
  Module after = SampleModule();
  after.format_version = kFirstVersionWithWaits;  // the wait table, lines only
  std::string v3 = SerializeModule(after);
  EXPECT_EQ(v3[8], static_cast<char>(kFirstVersionWithWaits));
  // The same payload, plus the table's count (zero) at the end. The header:
  // magic 8, version 4, sizes 3, three probes 24, hash 64, length 8.
  constexpr size_t kHeaderBytes = 8 + 4 + 3 + 24 + 64 + 8;
  EXPECT_EQ(v3.substr(kHeaderBytes), v2.substr(kHeaderBytes) + std::string(4, '\0'));
  auto old = DeserializeModule(v2);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_FALSE(old->waits_known);
  EXPECT_TRUE(old->waits.empty());
  EXPECT_EQ(*ReadModuleHash(v2), ModuleHash(*old));
  EXPECT_EQ(SerializeModule(*old), v2);
  EXPECT_NE(ModuleHash(*old), ModuleHash(SampleModule()));
}

TEST(Bytecode, VerifierRejectsABadWaitTable) {
  Module m = WaitingModule();
  m.waits[0].pc = 0;
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: wait 0 does not name a Wait instruction");
  m = WaitingModule();
  m.waits[0].function = 7;
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: wait 0 does not name a Wait instruction");
  m = WaitingModule();
  m.waits[0].type = 5;
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: wait 0 type out of range");
}

auto ErrorOf(std::string bytes) -> std::string {
  auto r = DeserializeModule(bytes);
  return r.ok() ? "ok" : r.error().message;
}

TEST(Bytecode, EachHeaderMismatchHasItsOwnMessage) {
  std::string good = SerializeModule(SampleModule());
  EXPECT_EQ(ErrorOf(""), "not a flow bytecode file (bad magic)");
  EXPECT_EQ(ErrorOf("SQLite format 3"), "not a flow bytecode file (bad magic)");
  EXPECT_EQ(ErrorOf(good.substr(0, 10)), "truncated bytecode header");
  std::string v = good;
  v[8] = 99;
  EXPECT_EQ(ErrorOf(v), "bytecode format version 99, this flow reads versions 1 to 6; recompile the program");
  std::string s = good;
  s[12] = 4;
  EXPECT_EQ(ErrorOf(s), "bytecode has a different instruction size");
  std::string o = good;
  std::swap(o[15], o[16]);
  EXPECT_EQ(ErrorOf(o), "bytecode was written with a different byte order");
  EXPECT_EQ(ErrorOf(good.substr(0, good.size() - 1)), "truncated bytecode payload");
  EXPECT_EQ(ErrorOf(good + "x"), "corrupt bytecode: trailing bytes after the payload");
  std::string p = good;
  p[p.size() - 3] ^= 0x40;
  EXPECT_EQ(ErrorOf(p), "corrupt bytecode: content hash mismatch");
}

TEST(Bytecode, VerifierRejectsBadOperands) {
  Module m = SampleModule();
  m.functions[0].code[0] = EncodeABC(Op::AddI, 9, 0, 1);
  EXPECT_EQ(Verify(m).error().message,
            "invalid bytecode: function 'add1' pc 0: register 9 out of range (2 defined)");
  m = SampleModule();
  m.functions[1].code[3] = EncodeAsBx(Op::JmpF, 2, 100);
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: function 'main' pc 3: jump target 104 outside the function");
  m = SampleModule();
  m.functions[0].code[1] = EncodeABC(Op::Move, 0, 1, 0);
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: function 'add1' pc 1: code can run off the end of the function");
  m = SampleModule();
  m.functions[1].code[5] = EncodeABC(Op::Call, 3, 0, 2);
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: function 'main' pc 5: call of 'add1' with 2 arguments, it takes 1");
  m = SampleModule();
  m.functions[0].code[0] |= Instr{1} << 60;
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: function 'add1' pc 0: reserved instruction bits are not zero");
  m = SampleModule();
  m.functions[0].code[0] = 200;
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: function 'add1' pc 0: unknown opcode 200");
  m = SampleModule();
  std::swap(m.shapes[0][0], m.shapes[0][1]);
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: shape 0 is not sorted by field name");
}

TEST(Bytecode, TypeNestingIsBounded) {
  ModuleBuilder mb;
  uint32_t t = mb.ScalarType(TypeKind::Int);
  for (uint32_t k = 0; k < kMaxTypeDepth; ++k) t = mb.Type(TypeDesc{TypeKind::List, t, {}, {}});
  Module m = std::move(mb).Finish();
  EXPECT_EQ(Verify(m).error().message, "invalid bytecode: type 256 nests deeper than 256 levels");
  m.types.pop_back();
  EXPECT_TRUE(Verify(m).ok());
}

TEST(Bytecode, Disassembly) {
  Module m = SampleModule();
  std::string text = Disassemble(m);
  EXPECT_NE(text.find("fn add1 (arity 1, 2 registers)"), std::string::npos) << text;
  EXPECT_NE(text.find("   0 [1:0]     AddI       R1 R0 1"), std::string::npos) << text;
  EXPECT_NE(text.find("JmpF       R2 ->8"), std::string::npos) << text;
  EXPECT_NE(text.find("LoadK      R6 K2(1500ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("Call       R3 add1 1"), std::string::npos) << text;
  EXPECT_NE(text.find("S0 = { a, b }"), std::string::npos) << text;
}

// Random byte flips, truncations and insertions must give either a Result
// error or (rarely, when the hash is hit) a verified module -- never a crash.
TEST(Bytecode, DecoderSurvivesMutations) {
  std::string good = SerializeModule(SampleModule());
  std::mt19937 rng(12345);
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string b = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0: b[at] = static_cast<char>(rng()); break;
        case 1: b.resize(at); break;
        case 2: b.insert(at, 1, static_cast<char>(rng())); break;
      }
      if (b.empty()) break;
    }
    auto r = DeserializeModule(b);
    if (!r.ok()) ++errors;
  }
  EXPECT_GT(errors, 2900);
}

// With the hash recomputed, payload corruption must still be caught by the
// decoder or the verifier (a valid module may rarely come out; fine).
TEST(Bytecode, PayloadMutationsBehindAValidHash) {
  std::string good = SerializeModule(SampleModule());
  constexpr size_t kHeaderBeforeHash = 8 + 4 + 3 + 8 + 8 + 8;
  constexpr size_t kPayloadStart = kHeaderBeforeHash + 64 + 8;
  std::mt19937 rng(777);
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string payload = good.substr(kPayloadStart);
    for (int e = 0; e < 3; ++e) {
      size_t at = rng() % payload.size();
      if (rng() % 4 == 0) payload.resize(at); else payload[at] = static_cast<char>(rng());
      if (payload.empty()) break;
    }
    std::string b = good.substr(0, kHeaderBeforeHash) + Sha256Hex(payload);
    uint64_t len = payload.size();
    b.append(reinterpret_cast<const char*>(&len), 8);
    b += payload;
    if (!DeserializeModule(b).ok()) ++errors;
  }
  EXPECT_GT(errors, 1000);
}

}  // namespace
}  // namespace flow::bytecode
