// Codegen end to end: .flow source -> CompileFile (check, lower, embed) -> Verify -> Vm.
// Each test states a program and what running it must produce, including
// run-time errors, suspensions and the folded shape of constant code.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "compiler/codegen/lower.h"
#include "compiler/driver/compile.h"
#include "vm/bytecode/disasm.h"
#include "vm/bytecode/serialize.h"
#include "vm/bytecode/verify.h"
#include "vm/interp/vm.h"
#include "vm/value/convert.h"

namespace flow::codegen {
namespace {

using interp::Outcome;
using interp::RunStatus;
using interp::Vm;

struct Compiled {
  bytecode::Module module;
  std::string errors;
};

auto Compile(const std::string& source) -> Compiled {
  auto path = std::filesystem::temp_directory_path() /
              ("flow_codegen_" + std::to_string(getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".flow");
  std::ofstream(path) << source;
  SourceManager sources;
  Diagnostics diags;
  auto compiled = CompileFile(path.string(), sources, diags);
  std::filesystem::remove(path);
  Compiled out;
  if (!compiled.ok()) {
    out.errors = compiled.error().message;
    return out;
  }
  if (!*compiled) {
    out.errors = RenderText(diags, sources);
    return out;
  }
  out.module = std::move((*compiled)->module);
  auto v = bytecode::Verify(out.module);
  if (!v) out.errors = v.error().message;
  return out;
}

auto Text(const Outcome& o) -> std::string {
  switch (o.status) {
    case RunStatus::Completed: return value::ToDisplayString(o.result);
    case RunStatus::Failed:
      return o.error.kind + ": " + o.error.message + " @" + std::to_string(o.error.pos.line) + ":" +
             std::to_string(o.error.pos.column);
    case RunStatus::Suspended: return "suspended";
    case RunStatus::Interrupted: return "interrupted";
    case RunStatus::Branches: return "branches";
    case RunStatus::Yield: return "yield";
  }
  return "?";
}

// Runs workflow `name` with JSON `input` to its first stop.
auto RunSource(const std::string& source, const std::string& input = "{}", const std::string& name = "main") -> std::string {
  Compiled c = Compile(source);
  if (!c.errors.empty()) return "compile: " + c.errors;
  Vm vm(c.module);
  int fn = c.module.FindFunction(name);
  if (fn < 0) return "no workflow " + name;
  auto s = vm.StartWorkflow(static_cast<uint32_t>(fn), nlohmann::json::parse(input));
  if (!s) return "start: " + s.error().message;
  return Text(vm.Run());
}

TEST(Codegen, RecursiveFn) {
  EXPECT_EQ(RunSource(R"(
fn fib(n: int) -> int {
  if n < 2 { return n }
  return fib(n - 1) + fib(n - 2)
}
workflow main() -> int { return fib(20) }
)"), "6765");
}

TEST(Codegen, LoopsListsAndStrings) {
  EXPECT_EQ(RunSource(R"(
workflow main(n: int) -> { sum: int, total: int, chars: int, text: string } {
  var i = 0
  var s = 0
  while i < n {
    s = s + i % 7
    i = i + 1
  }
  var xs: [int] = []
  for k in range(n) { xs = xs + [k] }
  var total = 0
  for x in xs { total = total + x }
  var chars = 0
  var text = ""
  for k in range(3) {
    let item = "item${k}"
    chars = chars + len(item)
    text = text + item
  }
  return { sum: s, total: total, chars: chars, text: text }
}
)", R"({"n": 10})"), R"({"chars":15,"sum":24,"text":"item0item1item2","total":45})");
}

TEST(Codegen, TryCatchFailAndRuntimeErrors) {
  EXPECT_EQ(RunSource(R"(
workflow main() -> string {
  try {
    fail "boom"
  } catch err {
    return "${err.kind}: ${err.message}"
  }
  return "unreachable"
}
)"), "fail: boom");
  EXPECT_EQ(RunSource(R"(
workflow main(x: int) -> int {
  return x + 9223372036854775807
}
)", R"({"x": 1})"), "arithmetic: integer overflow in + @3:10");
  // A literal overflow is not folded away: it stays a run-time error.
  EXPECT_EQ(RunSource(R"(
workflow main() -> int {
  return 9223372036854775807 + 1
}
)"), "arithmetic: integer overflow in + @3:10");
  EXPECT_EQ(RunSource(R"(
workflow main(d: int) -> int {
  let xs = [1, 2, 3]
  return xs[d] / (d - 1)
}
)", R"({"d": 1})"), "arithmetic: division by zero @4:10");
}

// SPEC §2.4: an error names the expression that raised it, not the start of
// its statement nor its last operand: the inner `+` of `1 + (big + 1)`, the
// index inside a call's argument, the cast, the built-in, the `fail`.
TEST(Codegen, ErrorsCarryTheColumnOfTheirExpression) {
  EXPECT_EQ(RunSource(R"(
workflow main(big: int) -> int {
  let n = 1 + (big + 1)
  return n
}
)", R"({"big": 9223372036854775807})"), "arithmetic: integer overflow in + @3:16");
  EXPECT_EQ(RunSource(R"(
workflow main(i: int) -> int {
  let xs = [1]
  return len(string(xs[i]))
}
)", R"({"i": 5})"), "index: index 5 out of range for a list of 1 @4:21");
  EXPECT_EQ(RunSource(R"(
workflow main() -> int {
  let r = parse_json("[]") as { a: int }
  return r.a
}
)"), "conversion: $: expected object, got array @3:11");
  EXPECT_EQ(RunSource(R"(
workflow main(s: string) -> int {
  return 1 + int(s)
}
)", R"({"s": "x1"})"), "conversion: cannot convert \"x1\" to int @3:14");
  EXPECT_EQ(RunSource(R"(
workflow main() -> int {
  if true {
    fail "stop " + "here"
  }
  return 1
}
)"), "fail: stop here @4:5");
}

TEST(Codegen, RecordsOptionalsAndConversions) {
  EXPECT_EQ(RunSource(R"(
type Customer = { id: string, seats: int? }
workflow main(c: Customer) -> { id: string, seats: int, ratio: float, n: int } {
  let seats = c.seats ?? 1
  let ratio: float = seats
  let j = parse_json("{\"a\": 41}")
  let r = j as { a: int }
  return { id: c.id, seats: seats, ratio: ratio, n: r.a + 1 }
}
)", R"({"c": {"id": "c1", "extra": true}})"), R"({"id":"c1","n":42,"ratio":1.0,"seats":1})");
  EXPECT_EQ(RunSource(R"(
workflow main() -> int {
  let j = parse_json("{\"a\": \"x\"}")
  let r = j as { a: int }
  return r.a
}
)"), "conversion: $.a: expected integer, got string @4:11");
}

TEST(Codegen, ComparisonsWithConstants) {
  EXPECT_EQ(RunSource(R"(
workflow main(x: int, s: string, f: float) -> [bool] {
  return [x > 3, x >= 4, x < 4, x <= 3, x == 4, x != 4, s == "pro", s != "pro", f > 1, 3 < x, s < "q"]
}
)", R"({"x": 4, "s": "pro", "f": 1.5})"), "[true,true,false,false,true,false,true,false,true,true,true]");
}

TEST(Codegen, ConstantsAreFolded) {
  Compiled c = Compile(R"(
workflow main() -> int { return 2 * 3 + 1 }
)");
  ASSERT_TRUE(c.errors.empty()) << c.errors;
  std::string text = bytecode::Disassemble(c.module);
  EXPECT_NE(text.find("LoadI      R0 7"), std::string::npos) << text;
  EXPECT_EQ(text.find("Mul"), std::string::npos) << text;
}

TEST(Codegen, StepsSuspendAndResume) {
  Compiled c = Compile(R"(
workflow main(name: string) -> string {
  let entry = log.info(message: "hello ${name}") retry 3 backoff 2s
  let d = approve "ship it?" from "ops"
  return "${d.by} approved"
}
)");
  ASSERT_TRUE(c.errors.empty()) << c.errors;
  ASSERT_EQ(c.module.steps.size(), 1u);
  EXPECT_EQ(c.module.steps[0].connector, "log");
  EXPECT_EQ(c.module.steps[0].operation, "info");
  EXPECT_EQ(c.module.steps[0].retry_attempts, 3);
  EXPECT_EQ(c.module.steps[0].backoff_ms, 2000);
  bool has_log = false;
  // Built-in connectors are embedded like any other (the schema it was checked against).
  for (const auto& conn : c.module.connectors) {
    has_log |= conn.name == "log" && conn.path.empty() && conn.text.find("\"connector\": \"log\"") != std::string::npos;
  }
  EXPECT_TRUE(has_log);
  // Through bytes at every stop, as a resumed run would be.
  std::string bytes = bytecode::SerializeModule(c.module);
  auto module = bytecode::DeserializeModule(bytes);
  ASSERT_TRUE(module.ok()) << module.error().message;
  auto vm = std::make_unique<Vm>(*module);
  ASSERT_TRUE(vm->StartWorkflow(0, nlohmann::json::parse(R"({"name": "Ada"})")).ok());
  Outcome o = vm->Run();
  ASSERT_EQ(o.status, RunStatus::Suspended);
  EXPECT_EQ(o.suspend.kind, interp::SuspendKind::Step);
  EXPECT_EQ(value::ToDisplayString(o.suspend.args), R"({"message":"hello Ada"})");
  std::string state = vm->SaveState();
  vm = std::make_unique<Vm>(*module);
  ASSERT_TRUE(vm->LoadState(state).ok());
  ASSERT_TRUE(vm->Deliver(value::Value::Json(nlohmann::json::parse(R"({"at": "2026-01-01T00:00:00Z"})"))).ok());
  o = vm->Run();
  ASSERT_EQ(o.status, RunStatus::Suspended);
  EXPECT_EQ(o.suspend.kind, interp::SuspendKind::Approval);
  EXPECT_EQ(o.suspend.text, "ship it?");
  EXPECT_EQ(o.suspend.from, std::optional<std::string>("ops"));
  value::Value by = value::Value::Record(value::Symbols::Global().ShapeOfTexts({"at", "by", "comment"}),
                                         {value::Value::Time(0), value::Value::String("grace"), value::Value::String("")});
  ASSERT_TRUE(vm->Deliver(by).ok());
  EXPECT_EQ(Text(vm->Run()), "grace approved");
}

// A declared connector is embedded in the module with its text, so a stored
// program resumes without the file; the step carries its output type.
TEST(Codegen, DeclaredConnectorsAreEmbedded) {
  auto dir = std::filesystem::temp_directory_path() / ("flow_codegen_conn_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "connectors");
  const std::string connector = R"({ "connector": "billing",
    "transport": { "kind": "exec", "command": ["python3", "billing.py"] },
    "operations": { "charge": {
      "input": { "type": "object", "required": ["amount"], "properties": { "amount": { "type": "integer" } } },
      "output": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } },
      "idempotent": true } } })";
  std::ofstream(dir / "connectors" / "billing.json") << connector;
  std::ofstream(dir / "pay.flow") << R"(connector billing = "connectors/billing.json"
workflow main() -> string {
  let c = billing.charge(amount: 5)
  return c.id
}
)";
  SourceManager sources;
  Diagnostics diags;
  auto compiled = CompileFile((dir / "pay.flow").string(), sources, diags);
  ASSERT_TRUE(compiled.ok() && *compiled) << RenderText(diags, sources);
  bytecode::Module m = (*compiled)->module;
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(m.connectors.empty());
  EXPECT_EQ(m.connectors[0].name, "billing");
  EXPECT_EQ(m.connectors[0].text, connector);
  // Absolute, so an exec connector finds its folder from any directory.
  EXPECT_EQ(m.connectors[0].path, std::filesystem::absolute(dir / "connectors" / "billing.json").lexically_normal().string());
  EXPECT_EQ((*compiled)->bytes, bytecode::SerializeModule(m));
  ASSERT_EQ(m.steps.size(), 1u);
  EXPECT_EQ(m.steps[0].connector, "billing");
  const bytecode::TypeDesc& out = m.types[static_cast<size_t>(m.steps[0].output_type)];
  EXPECT_EQ(out.kind, bytecode::TypeKind::Record);
  auto back = bytecode::DeserializeModule(bytecode::SerializeModule(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->connectors, m.connectors);
}

// A workflow that calls a step in a loop inside try/catch, driven three
// ways -- in one VM, through bytes into a fresh VM at every stop, and under
// resume stress -- must give the same result. Odd iterations fail with a
// delivered error that the catch turns into a count.
TEST(Codegen, StepsInLoopsSurviveEveryResumeMode) {
  Compiled c = Compile(R"(
workflow main(n: int) -> { ok: int, failed: int, last: string } {
  var ok = 0
  var failed = 0
  var last = ""
  for i in range(n) {
    try {
      let r = log.info(message: "item ${i}")
      ok = ok + 1
      last = string(r.at)
    } catch err {
      failed = failed + 1
      last = err.message
    }
  }
  return { ok: ok, failed: failed, last: last }
}
)");
  ASSERT_TRUE(c.errors.empty()) << c.errors;
  auto drive = [&](bool through_bytes, bool stress) -> std::string {
    interp::VmOptions opts{nullptr, stress};
    auto vm = std::make_unique<Vm>(c.module, opts);
    EXPECT_TRUE(vm->StartWorkflow(0, nlohmann::json::parse(R"({"n": 5})")).ok());
    for (int call = 0;; ++call) {
      Outcome o = vm->Run();
      if (o.status != RunStatus::Suspended) return Text(o);
      if (through_bytes) {
        std::string bytes = vm->SaveState();
        vm = std::make_unique<Vm>(c.module, opts);
        EXPECT_TRUE(vm->LoadState(bytes).ok());
      }
      if (call % 2 == 1) {
        EXPECT_TRUE(vm->DeliverError("transport", "connection refused " + std::to_string(call), "log.info").ok());
      } else {
        // As the runtime will: the response converted to the output type.
        auto at = nlohmann::json::parse(R"({"at": "2026-01-15T09:30:00Z"})");
        auto typed = value::FromJson(at, c.module, static_cast<uint32_t>(c.module.steps[0].output_type));
        EXPECT_TRUE(typed.ok());
        EXPECT_EQ(typed->record_fields()[0].tag(), value::Tag::Time);
        EXPECT_TRUE(vm->Deliver(std::move(*typed)).ok());
      }
    }
  };
  std::string plain = drive(false, false);
  EXPECT_EQ(plain, R"({"failed":2,"last":"2026-01-15T09:30:00Z","ok":3})");
  EXPECT_EQ(drive(true, false), plain);
  EXPECT_EQ(drive(false, true), plain);
}

}  // namespace
}  // namespace flow::codegen
