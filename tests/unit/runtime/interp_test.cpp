// The interpreter, driven by hand-assembled programs: arithmetic and its
// errors, calls and the depth limit, try/catch across frames, built-ins,
// conversions, effects, suspension and state round trips (including resume
// stress and a program suspended mid-loop inside a nested call).
#include <gtest/gtest.h>

#include <random>

#include "vm/bytecode/builder.h"
#include "vm/bytecode/verify.h"
#include "vm/interp/effect_log.h"
#include "vm/interp/vm.h"
#include "vm/value/convert.h"

namespace flow::interp {
namespace {

using bytecode::FunctionBuilder;
using bytecode::FunctionKind;
using bytecode::Module;
using bytecode::ModuleBuilder;
using bytecode::Op;

auto RunFn(const Module& m, uint32_t fn, std::vector<Value> args, VmOptions opts = {}) -> Outcome {
  auto v = bytecode::Verify(m);
  EXPECT_TRUE(v.ok()) << v.error().message;
  Vm vm(m, opts);
  EXPECT_TRUE(vm.Start(fn, std::move(args)).ok());
  return vm.Run();
}

auto Text(const Outcome& o) -> std::string {
  switch (o.status) {
    case RunStatus::Completed: return value::ToDisplayString(o.result);
    case RunStatus::Failed: return o.error.kind + ": " + o.error.message + " @" + std::to_string(o.error.pos.line);
    case RunStatus::Suspended: return "suspended";
    case RunStatus::Interrupted: return "interrupted";
    case RunStatus::Branches: return "branches";
    case RunStatus::Yield: return "yield";
  }
  return "?";
}

// fn bin(op)(a, b) { return a <op> b } on line 7.
auto BinaryModule(Op op) -> Module {
  ModuleBuilder mb;
  uint32_t f = mb.DeclareFunction("bin", 2);
  FunctionBuilder b(mb, f);
  b.SetLine(7);
  b.ABC(op, 2, 0, 1);
  b.ABC(Op::Ret, 2);
  b.Finish(3);
  return std::move(mb).Finish();
}

auto Bin(Op op, Value a, Value b) -> std::string { return Text(RunFn(BinaryModule(op), 0, {a, b})); }

TEST(Interp, ArithmeticAndItsErrors) {
  EXPECT_EQ(Bin(Op::Add, Value::Int(2), Value::Int(3)), "5");
  EXPECT_EQ(Bin(Op::Add, Value::Int(INT64_MAX), Value::Int(1)), "arithmetic: integer overflow in + @7");
  EXPECT_EQ(Bin(Op::Sub, Value::Int(INT64_MIN), Value::Int(1)), "arithmetic: integer overflow in - @7");
  EXPECT_EQ(Bin(Op::Mul, Value::Int(INT64_MAX), Value::Int(2)), "arithmetic: integer overflow in * @7");
  EXPECT_EQ(Bin(Op::Div, Value::Int(7), Value::Int(0)), "arithmetic: division by zero @7");
  EXPECT_EQ(Bin(Op::Mod, Value::Int(7), Value::Int(0)), "arithmetic: modulo by zero @7");
  EXPECT_EQ(Bin(Op::Div, Value::Int(INT64_MIN), Value::Int(-1)), "arithmetic: integer overflow in / @7");
  EXPECT_EQ(Bin(Op::Mod, Value::Int(INT64_MIN), Value::Int(-1)), "0");
  EXPECT_EQ(Bin(Op::Div, Value::Int(-7), Value::Int(2)), "-3");
  EXPECT_EQ(Bin(Op::Mod, Value::Int(-7), Value::Int(2)), "-1");
  EXPECT_EQ(Bin(Op::Div, Value::Float(1), Value::Float(0)), "arithmetic: division by zero @7");
  EXPECT_EQ(Bin(Op::Add, Value::Int(1), Value::Float(0.5)), "1.5");
  EXPECT_EQ(Bin(Op::Add, Value::String("a"), Value::String("b")), "ab");
  EXPECT_EQ(Bin(Op::Add, Value::List({Value::Int(1)}), Value::List({Value::Int(2)})), "[1,2]");
  EXPECT_EQ(Bin(Op::Add, Value::Time(0), Value::Duration(90000)), "1970-01-01T00:01:30Z");
  EXPECT_EQ(Bin(Op::Sub, Value::Time(5000), Value::Time(2000)), "3s");
  EXPECT_EQ(Bin(Op::Lt, Value::String("a"), Value::String("b")), "true");
  EXPECT_EQ(Bin(Op::Le, Value::Int(3), Value::Float(2.5)), "false");
  EXPECT_EQ(Bin(Op::Eq, Value::List({Value::Int(1)}), Value::List({Value::Int(1)})), "true");
  EXPECT_EQ(Bin(Op::Add, Value::Int(1), Value::String("x")), "type: cannot apply + to int and string @7");
}

TEST(Interp, NegationOverflow) {
  ModuleBuilder mb;
  FunctionBuilder b(mb, mb.DeclareFunction("neg", 1));
  b.SetLine(2);
  b.ABC(Op::Neg, 1, 0);
  b.ABC(Op::Ret, 1);
  b.Finish(2);
  Module m = std::move(mb).Finish();
  EXPECT_EQ(Text(RunFn(m, 0, {Value::Int(5)})), "-5");
  EXPECT_EQ(Text(RunFn(m, 0, {Value::Int(INT64_MIN)})), "arithmetic: integer overflow in negation @2");
}

// fn fib(n) { if n < 2 { return n } return fib(n-1) + fib(n-2) }
auto FibModule() -> Module {
  ModuleBuilder mb;
  uint32_t fib = mb.DeclareFunction("fib", 1);
  FunctionBuilder f(mb, fib);
  auto recurse = f.NewLabel();
  f.AsBx(Op::LoadI, 1, 2);
  f.ABC(Op::Lt, 1, 0, 1);
  f.Jump(Op::JmpF, 1, recurse);
  f.ABC(Op::Ret, 0);
  f.Bind(recurse);
  f.ABC(Op::AddI, 3, 0, static_cast<uint16_t>(-1));
  f.ABC(Op::Call, 2, fib, 1);
  f.ABC(Op::AddI, 4, 0, static_cast<uint16_t>(-2));
  f.ABC(Op::Call, 3, fib, 1);
  f.ABC(Op::Add, 1, 2, 3);
  f.ABC(Op::Ret, 1);
  f.Finish(5);
  return std::move(mb).Finish();
}

TEST(Interp, RecursiveCalls) {
  EXPECT_EQ(Text(RunFn(FibModule(), 0, {Value::Int(20)})), "6765");
}

TEST(Interp, CallDepthIsBounded) {
  // fn down(n) { return down(n) }
  ModuleBuilder mb;
  uint32_t down = mb.DeclareFunction("down", 1);
  FunctionBuilder f(mb, down);
  f.SetLine(4);
  f.ABC(Op::Move, 2, 0);
  f.ABC(Op::Call, 1, down, 1);
  f.ABC(Op::Ret, 1);
  f.Finish(3);
  Module m = std::move(mb).Finish();
  EXPECT_EQ(Text(RunFn(m, 0, {Value::Int(1)})), "limit: call depth exceeds the limit of 1000 @4");
}

// workflow w(d) { try { inner(d) } catch err { return err } }, inner divides
// by d two frames down: the error unwinds through both frames.
TEST(Interp, TryCatchAcrossFrames) {
  ModuleBuilder mb;
  uint32_t w = mb.DeclareFunction("w", 1, FunctionKind::Workflow);
  uint32_t mid = mb.DeclareFunction("mid", 1);
  uint32_t inner = mb.DeclareFunction("inner", 1);
  {
    FunctionBuilder f(mb, inner);
    f.SetLine(30);
    f.AsBx(Op::LoadI, 1, 10);
    f.ABC(Op::Div, 1, 1, 0);
    f.ABC(Op::Ret, 1);
    f.Finish(2);
  }
  {
    FunctionBuilder f(mb, mid);
    f.ABC(Op::Move, 2, 0);
    f.ABC(Op::Call, 1, inner, 1);
    f.ABC(Op::Ret, 1);
    f.Finish(3);
  }
  {
    FunctionBuilder f(mb, w);
    auto handler = f.NewLabel();
    f.Jump(Op::Try, 1, handler);
    f.ABC(Op::Move, 3, 0);
    f.ABC(Op::Call, 2, mid, 1);
    f.ABC(Op::EndTry, 0);
    f.ABC(Op::Ret, 2);
    f.Bind(handler);
    f.ABC(Op::Ret, 1);
    f.Finish(4);
  }
  Module m = std::move(mb).Finish();
  EXPECT_EQ(Text(RunFn(m, w, {Value::Int(5)})), "2");
  EXPECT_EQ(Text(RunFn(m, w, {Value::Int(0)})),
            R"({"kind":"arithmetic","message":"division by zero","step":null})");
}

TEST(Interp, FailAndRaise) {
  ModuleBuilder mb;
  uint32_t w = mb.DeclareFunction("w", 0, FunctionKind::Workflow);
  FunctionBuilder f(mb, w);
  auto handler = f.NewLabel();
  f.SetLine(3);
  f.Jump(Op::Try, 0, handler);
  f.ABx(Op::LoadK, 1, mb.String("out of stock"));
  f.ABC(Op::Fail, 1);
  f.Bind(handler);
  f.SetLine(9);
  f.ABC(Op::Raise, 0);
  f.Finish(2);
  Module m = std::move(mb).Finish();
  Outcome o = RunFn(m, w, {});
  ASSERT_EQ(o.status, RunStatus::Failed);
  EXPECT_EQ(o.error.kind, "fail");
  EXPECT_EQ(o.error.message, "out of stock");
  EXPECT_EQ(o.error.function, "w");
  EXPECT_EQ(o.error.pos.line, 9u);
}

// One built-in call: builtin(args...) on constants.
auto CallBuiltin(bytecode::BuiltinId id, std::vector<Value> args) -> std::string {
  ModuleBuilder mb;
  uint32_t n = static_cast<uint32_t>(args.size());
  FunctionBuilder f(mb, mb.DeclareFunction("b", n));
  for (uint32_t k = 0; k < n; ++k) f.ABC(Op::Move, n + 1 + k, k);
  f.ABC(Op::CallB, n, static_cast<uint32_t>(id), n);
  f.ABC(Op::Ret, n);
  f.Finish(2 * n + 1);
  Module m = std::move(mb).Finish();
  return Text(RunFn(m, 0, std::move(args)));
}

TEST(Interp, Builtins) {
  using bytecode::BuiltinId;
  auto S = [](const char* s) { return Value::String(s); };
  EXPECT_EQ(CallBuiltin(BuiltinId::Len, {S("héllo")}), "5");
  EXPECT_EQ(CallBuiltin(BuiltinId::Range, {Value::Int(2), Value::Int(5)}), "[2,3,4]");
  EXPECT_EQ(CallBuiltin(BuiltinId::Range, {Value::Int(-3)}), "[]");
  EXPECT_EQ(CallBuiltin(BuiltinId::Range, {Value::Int(INT64_MIN), Value::Int(INT64_MAX)}).substr(0, 6), "limit:");
  EXPECT_EQ(CallBuiltin(BuiltinId::Int, {S("42")}), "42");
  EXPECT_EQ(CallBuiltin(BuiltinId::Int, {S("4x")}), "conversion: cannot convert \"4x\" to int @0");
  EXPECT_EQ(CallBuiltin(BuiltinId::Int, {Value::Float(1e300)}), "conversion: 1e+300 does not fit in an int @0");
  EXPECT_EQ(CallBuiltin(BuiltinId::Int, {Value::Float(-2.7)}), "-2");
  EXPECT_EQ(CallBuiltin(BuiltinId::Float, {Value::Int(2)}), "2.0");
  EXPECT_EQ(CallBuiltin(BuiltinId::String, {Value::Duration(300000)}), "5m");
  EXPECT_EQ(CallBuiltin(BuiltinId::Contains, {S("hello"), S("ell")}), "true");
  EXPECT_EQ(CallBuiltin(BuiltinId::Split, {S("a,b,,c"), S(",")}), R"(["a","b","","c"])");
  EXPECT_EQ(CallBuiltin(BuiltinId::Join, {Value::List({S("a"), Value::Int(1)}), S("-")}), "a-1");
  EXPECT_EQ(CallBuiltin(BuiltinId::Upper, {S("abc")}), "ABC");
  EXPECT_EQ(CallBuiltin(BuiltinId::Trim, {S("  x \n")}), "x");
  EXPECT_EQ(CallBuiltin(BuiltinId::StartsWith, {S("flow"), S("fl")}), "true");
  EXPECT_EQ(CallBuiltin(BuiltinId::EndsWith, {S("flow"), S("fl")}), "false");
  EXPECT_EQ(CallBuiltin(BuiltinId::Replace, {S("a-b-c"), S("-"), S("+")}), "a+b+c");
  EXPECT_EQ(CallBuiltin(BuiltinId::Min, {Value::Int(3), Value::Int(2)}), "2");
  EXPECT_EQ(CallBuiltin(BuiltinId::Max, {Value::Int(3), Value::Float(4.5)}), "4.5");
  EXPECT_EQ(CallBuiltin(BuiltinId::Abs, {Value::Int(INT64_MIN)}), "arithmetic: integer overflow in abs @0");
  EXPECT_EQ(CallBuiltin(BuiltinId::ParseJson, {S(R"({"a":[1,2]})")}), R"({"a":[1,2]})");
  EXPECT_EQ(CallBuiltin(BuiltinId::ParseJson, {S("{")}), "conversion: parse_json: invalid JSON at byte 2 @0");
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(CallBuiltin(BuiltinId::ParseJson, {Value::String(deep)}),
            "conversion: parse_json: nested deeper than 512 levels @0");
  EXPECT_EQ(CallBuiltin(BuiltinId::ToJson, {Value::List({S("q\"")})}), R"(["q\""])");
}

// A host that replays recorded effects: what a journaling store will do.
class RecordingHost : public Host {
 public:
  auto Effect(bytecode::EffectId id, uint64_t seq, std::string_view) -> Result<Value> override {
    if (seq <= recorded.size()) return recorded[seq - 1];
    recorded.push_back(Value::Time(1000 + static_cast<int64_t>(seq)));
    return recorded.back();
  }
  std::vector<Value> recorded;
};

// workflow: a loop that, inside a nested call, suspends on a step each
// iteration, accumulates the step results and calls now() (an effect).
//   workflow w(n) { var s = 0; for i in range(n) { s = s + helper(i) }; return [s, now()] }
//   helper(i) = step charge(i) + i * 10     (as a Helper function)
auto LoopingStepModule() -> Module {
  ModuleBuilder mb("loop.flow");
  uint32_t w = mb.DeclareFunction("w", 1, FunctionKind::Workflow);
  uint32_t helper = mb.DeclareFunction("helper", 1, FunctionKind::Helper);
  uint32_t step = mb.Step(bytecode::StepDesc{.connector = "billing", .operation = "charge", .retry_on = {}});
  {
    FunctionBuilder f(mb, helper);
    f.SetLine(20);
    f.ABC(Op::NewRecord, 1, 0, mb.Shape({"i"}));
    f.ABC(Op::Step, 2, step, 1);
    f.ABC(Op::MulK, 3, 0, mb.Int(10));
    f.ABC(Op::Add, 2, 2, 3);
    f.ABC(Op::Ret, 2);
    f.Finish(4);
  }
  {
    FunctionBuilder f(mb, w);
    f.SetLine(10);
    // R1 s, R2..R4 loop (list, index, item), R5/R6 call window, R7 now.
    f.AsBx(Op::LoadI, 1, 0);
    f.ABC(Op::Move, 6, 0);
    f.ABC(Op::CallB, 5, static_cast<uint32_t>(bytecode::BuiltinId::Range), 1);
    f.ABC(Op::Move, 2, 5);
    f.AsBx(Op::LoadI, 3, 0);
    auto top = f.NewLabel(), done = f.NewLabel();
    f.Bind(top);
    f.Jump(Op::ForNext, 2, done);
    f.ABC(Op::Move, 6, 4);
    f.ABC(Op::Call, 5, helper, 1);
    f.ABC(Op::Add, 1, 1, 5);
    f.Jump(Op::Jmp, 0, top);
    f.Bind(done);
    f.ABC(Op::Effect, 7, static_cast<uint32_t>(bytecode::EffectId::Now));
    f.ABC(Op::Move, 8, 1);
    f.ABC(Op::Move, 9, 7);
    f.ABC(Op::NewList, 7, 8, 2);
    f.ABC(Op::Ret, 7);
    f.Finish(10);
  }
  return std::move(mb).Finish();
}

// Drives a run to the end, answering each step with 2 * args.i; with
// `through_bytes` every suspension moves the run into a fresh Vm.
auto Drive(const Module& m, bool through_bytes, bool stress, int* suspensions) -> std::string {
  RecordingHost host;
  VmOptions opts{&host, stress};
  auto vm = std::make_unique<Vm>(m, opts);
  EXPECT_TRUE(vm->Start(0, {Value::Int(4)}).ok());
  for (;;) {
    Outcome o = vm->Run();
    if (o.status != RunStatus::Suspended) return Text(o);
    ++*suspensions;
    EXPECT_EQ(o.suspend.kind, SuspendKind::Step);
    int64_t i = o.suspend.args.record_fields()[0].as_int();
    if (through_bytes) {
      std::string bytes = vm->SaveState();
      vm = std::make_unique<Vm>(m, opts);
      Status loaded = vm->LoadState(bytes);
      EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    }
    EXPECT_TRUE(vm->Deliver(Value::Int(2 * i)).ok());
    if (through_bytes) {  // also after the delivery: a step-completion durable point
      std::string bytes = vm->SaveState();
      vm = std::make_unique<Vm>(m, opts);
      EXPECT_TRUE(vm->LoadState(bytes).ok());
    }
  }
}

TEST(Interp, SuspendMidLoopInNestedCallRoundTripsThroughBytes) {
  Module m = LoopingStepModule();
  ASSERT_TRUE(bytecode::Verify(m).ok()) << bytecode::Verify(m).error().message;
  int plain = 0, bytes = 0, stress = 0;
  std::string expected = Drive(m, false, false, &plain);
  // sum over i<4 of (2i + 10i) = 12 * 6 = 72; now() is effect #1 -> 1001 ms.
  EXPECT_EQ(expected, R"([72,"1970-01-01T00:00:01.001Z"])");
  EXPECT_EQ(Drive(m, true, false, &bytes), expected);
  EXPECT_EQ(Drive(m, false, true, &stress), expected);
  EXPECT_EQ(plain, 4);
  EXPECT_EQ(bytes, 4);
  EXPECT_EQ(stress, 4);
}

TEST(Interp, DeliveredErrorUnwindsFromTheSuspensionPoint) {
  Module m = LoopingStepModule();
  Vm vm(m);
  ASSERT_TRUE(vm.Start(0, {Value::Int(3)}).ok());
  ASSERT_EQ(vm.Run().status, RunStatus::Suspended);
  ASSERT_TRUE(vm.DeliverError("contract", "$.id: expected string, got number", "billing.charge").ok());
  Outcome o = vm.Run();
  ASSERT_EQ(o.status, RunStatus::Failed);
  EXPECT_EQ(o.error.kind, "contract");
  EXPECT_EQ(*o.error.step, "billing.charge");
  EXPECT_EQ(o.error.function, "helper");
  EXPECT_EQ(o.error.pos.line, 20u);
}

TEST(Interp, CorruptStatesAreErrors) {
  Module m = LoopingStepModule();
  Vm vm(m);
  ASSERT_TRUE(vm.Start(0, {Value::Int(3)}).ok());
  ASSERT_EQ(vm.Run().status, RunStatus::Suspended);
  std::string good = vm.SaveState();
  EXPECT_EQ(Vm(m).LoadState("nonsense").error().message, "not a flow VM state (bad magic)");
  Module other = FibModule();
  EXPECT_EQ(Vm(other).LoadState(good).error().message.substr(0, 28), "VM state belongs to program ");
  std::mt19937 rng(99);
  int errors = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string b = good;
    size_t at = 8 + rng() % (b.size() - 8);
    if (rng() % 3 == 0) b.resize(at); else b[at] = static_cast<char>(rng());
    Vm fresh(m);
    Status s = fresh.LoadState(b);
    if (!s.ok()) { ++errors; continue; }
    // A mutation that still loads must still run to a clean outcome.
    if (fresh.suspended()) {
      ASSERT_TRUE(fresh.Deliver(Value::Int(1)).ok());
    }
    Outcome o = fresh.Run();
    while (o.status == RunStatus::Suspended) {
      ASSERT_TRUE(fresh.Deliver(Value::Int(1)).ok());
      o = fresh.Run();
    }
  }
  EXPECT_GT(errors, 500);
}

// var xs = []; while true { xs = [xs] } stops with a clean limit error,
// and so does the in-place Append of a deep value.
TEST(Interp, ValueDepthIsBounded) {
  for (Op op : {Op::NewList, Op::Append}) {
    ModuleBuilder mb;
    FunctionBuilder f(mb, mb.DeclareFunction("deep", 0));
    f.SetLine(5);
    f.ABC(Op::NewList, 0, 0, 0);
    auto top = f.NewLabel();
    f.Bind(top);
    if (op == Op::NewList) {
      f.ABC(Op::NewList, 0, 0, 1);
    } else {
      f.ABC(Op::NewList, 1, 0, 0);
      f.ABC(Op::Append, 1, 0);
      f.ABC(Op::Move, 0, 1);
    }
    f.Jump(Op::Jmp, 0, top);
    f.Finish(2);
    Module m = std::move(mb).Finish();
    EXPECT_EQ(Text(RunFn(m, 0, {})), "limit: values nest deeper than 1000 levels @5");
  }
}

TEST(Interp, RegisterCountIsBounded) {
  ModuleBuilder mb;
  FunctionBuilder f(mb, mb.DeclareFunction("big", 0));
  f.ABC(Op::Ret, 0);
  f.Finish(bytecode::kMaxRegisters + 1);
  Module m = std::move(mb).Finish();
  EXPECT_EQ(bytecode::Verify(m).error().message, "invalid bytecode: function 'big' pc 0: 4097 registers, the limit is 4096");
}

TEST(Interp, WorkflowInputIsValidated) {
  ModuleBuilder mb;
  uint32_t w = mb.DeclareFunction("w", 1, FunctionKind::Workflow);
  uint32_t int_t = mb.ScalarType(bytecode::TypeKind::Int);
  mb.module().functions[w].param_names = {mb.Name("n")};
  mb.module().functions[w].param_types = {int_t};
  FunctionBuilder f(mb, w);
  f.ABC(Op::Ret, 0);
  f.Finish(1);
  Module m = std::move(mb).Finish();
  Vm vm(m);
  EXPECT_EQ(vm.StartWorkflow(w, nlohmann::json::parse(R"({"n":"x"})")).error().message,
            "input: $.n: expected integer, got string");
  EXPECT_EQ(vm.StartWorkflow(w, nlohmann::json::parse(R"({})")).error().message,
            "input: missing required field 'n'");
  EXPECT_EQ(vm.StartWorkflow(w, nlohmann::json::parse("[]")).error().message,
            "input: expected a JSON object, got array");
  ASSERT_TRUE(vm.StartWorkflow(w, nlohmann::json::parse(R"({"n":3})")).ok());
  EXPECT_EQ(Text(vm.Run()), "3");
}

}  // namespace
}  // namespace flow::interp

namespace flow::interp {
namespace {

// now(), uuid(), random() in order: a second VM replaying the first one's
// records sees the same values; a record of the wrong effect is an error.
TEST(EffectLog, ReplaysRecordedEffects) {
  ModuleBuilder mb;
  FunctionBuilder f(mb, mb.DeclareFunction("w", 0, FunctionKind::Workflow));
  f.ABC(Op::Effect, 1, static_cast<uint32_t>(bytecode::EffectId::Now));
  f.ABC(Op::Effect, 2, static_cast<uint32_t>(bytecode::EffectId::Uuid));
  f.ABC(Op::Effect, 3, static_cast<uint32_t>(bytecode::EffectId::Random));
  f.ABC(Op::NewList, 0, 1, 3);
  f.ABC(Op::Ret, 0);
  f.Finish(4);
  Module m = std::move(mb).Finish();
  EffectLog first({});
  std::string a = Text(RunFn(m, 0, {}, VmOptions{&first, false}));
  std::vector<nlohmann::json> records = first.TakeNew();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1]["effect"], "uuid");
  EXPECT_TRUE(first.TakeNew().empty());
  EffectLog replay(records);
  EXPECT_EQ(Text(RunFn(m, 0, {}, VmOptions{&replay, false})), a);
  EXPECT_TRUE(replay.TakeNew().empty());
  std::swap(records[0], records[1]);
  EffectLog wrong(records);
  EXPECT_EQ(Text(RunFn(m, 0, {}, VmOptions{&wrong, false})),
            "internal: journal mismatch: effect #1 is not a recorded now() @0");
}

}  // namespace
}  // namespace flow::interp
