// The engine through its Runtime (vm/engine/run_driver.h): the seams a
// test assembles itself. An in-process transport registered under "http"
// (tests/unit/test_transport.h) stands in for the HTTP server, so these
// engine tests need no Python process; a clock of the test's own lets retry
// backoffs pass without waiting; and the built-in connector schemas a run
// is validated against are the ones embedded in its program, whatever the
// resuming binary's are (issue 12 item 3).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "compiler/driver/compile.h"
#include "stdlib/builtin_connectors.h"
#include "tests/unit/runtime/test_transport.h"
#include "vm/bytecode/serialize.h"
#include "vm/engine/lease.h"
#include "vm/engine/run_driver.h"
#include "vm/store/open_store.h"

namespace flow::engine {
namespace {

namespace fs = std::filesystem;
using connectors::StepAttempt;
using connectors::StepOutcome;
using nlohmann::json;
using flow::testing::ScriptedTransport;

// Starts at the real time and moves only when someone sleeps.
class ManualClock final : public Clock {
 public:
  auto NowMs() const -> int64_t override { return now_; }
  void SleepFor(std::chrono::milliseconds d) const override {
    if (d.count() > 0) {
      now_ += d.count();
      slept_ += d.count();
    }
  }
  auto slept_ms() const -> int64_t { return slept_; }

 private:
  mutable std::atomic<int64_t> now_{SystemClock().NowMs()};
  mutable std::atomic<int64_t> slept_{0};
};

// An http connector whose server is never contacted: the test's transport
// answers under the name "http".
constexpr const char* kBilling = R"({"connector": "billing",
  "transport": {"kind": "http", "base_url": "http://127.0.0.1:9"},
  "operations": {
    "charge": {"http": {"method": "POST", "path": "/charges"}, "idempotent": true,
      "input": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}},
      "output": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}},
    "refund": {"http": {"method": "POST", "path": "/refunds"}, "idempotent": true,
      "input": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
      "output": {"type": "object"}}}})";

class EngineRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flow_engine_rt_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "billing.json") << kBilling;
    auto s = store::OpenStore((dir_ / "flow.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  auto Compile(const std::string& source, const CompileOptions& options = {}) -> std::string {
    std::ofstream(dir_ / "w.flow") << source;
    SourceManager sources;
    Diagnostics diags;
    auto compiled = CompileFile((dir_ / "w.flow").string(), sources, diags, options);
    EXPECT_TRUE(compiled.ok() && *compiled) << RenderText(diags, sources);
    return compiled.ok() && *compiled ? (*compiled)->bytes : "";
  }
  // The runtime: this test's store and transports, `clock`, `options`.
  auto Rt(const Clock& clock = SystemClock(), EngineOptions options = {}) -> Runtime {
    Runtime runtime{*store_, transports_, clock, std::move(options)};
    for (const auto& b : stdlib::BuiltinConnectorTexts()) runtime.legacy_builtin_connectors.push_back(b.json);
    return runtime;
  }
  auto Types(const std::string& id) -> std::vector<std::string> {
    std::vector<std::string> out;
    auto journal = store_->Journal(id);
    EXPECT_TRUE(journal.ok());
    if (journal.ok()) {
      for (const auto& e : *journal) out.push_back(e.type);
    }
    return out;
  }
  static auto Decided(const std::string& data) -> store::JournalEvent {
    store::JournalEvent e;
    e.type = "approval_decided";
    e.data = data;
    e.at_ms = NowMs();
    return e;
  }
  void Approve(const std::string& id) {
    std::string data = R"({"approved":true,"by":"ann","comment":"","at":"2026-01-15T09:30:00Z"})";
    auto out = store_->AppendEventIf(id, Decided(data),
                                     store::AppendCondition{});
    ASSERT_TRUE(out.ok() && out->refusal == store::AppendRefusal::None);
  }
  // Suspends `bytes` at its approval, approves, and resumes it under a
  // runtime whose own (legacy) built-in schemas are `binary_builtins`.
  auto SuspendThenResume(const std::string& bytes, const std::string& id,
                         std::vector<std::string_view> binary_builtins) -> Result<RunReport> {
    auto started = StartRun(Rt(), bytes, "w", json::object(), id);
    if (!started) return started.error();
    EXPECT_EQ(started->status, store::RunStatus::Waiting);
    Approve(id);
    Runtime resumer = Rt();
    resumer.legacy_builtin_connectors = std::move(binary_builtins);
    return ResumeRun(resumer, id);
  }

  // Registers `transport` as this runtime's "http".
  void UseHttp(std::shared_ptr<ScriptedTransport> transport) { transports_.Register("http", std::move(transport)); }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  connectors::TransportRegistry transports_ = connectors::DefaultTransports();
};

auto Charged(const StepAttempt& a, int) -> StepOutcome {
  return connectors::ValidateOutput(*a.connector, *a.op, json{{"id", "ch_" + a.idempotency_key}});
}

TEST_F(EngineRuntimeTest, AStepIsSentOverTheTransportTheRuntimeRegisters) {
  auto http = std::make_shared<ScriptedTransport>(Charged);
  UseHttp(http);
  std::string bytes = Compile("connector billing = \"billing.json\"\n"
                              "workflow w(n: int) -> string {\n"
                              "  let a = billing.charge(amount: n)\n"
                              "  let b = billing.charge(amount: n + 1)\n"
                              "  return a.id + \" \" + b.id\n}\n");
  auto r = StartRun(Rt(), bytes, "w", json{{"n", 5}}, "t1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "ch_t1:1 ch_t1:2");
  auto calls = http->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].operation, "billing.charge");
  EXPECT_EQ(calls[0].args, json({{"amount", 5}}));
  EXPECT_EQ(calls[1].args, json({{"amount", 6}}));
  EXPECT_EQ(Types("t1"), (std::vector<std::string>{"started", "step_started", "step_completed", "step_started",
                                                   "step_completed", "completed"}));
}

TEST_F(EngineRuntimeTest, ARuntimeWithoutTheTransportFailsTheStepWithConfig) {
  connectors::TransportRegistry only_builtin;
  Runtime runtime{*store_, only_builtin};
  std::string bytes = Compile("connector billing = \"billing.json\"\n"
                              "workflow w() -> string {\n"
                              "  let a = billing.charge(amount: 1)\n"
                              "  return a.id\n}\n");
  auto r = StartRun(runtime, bytes, "w", json::object(), "t2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);
  EXPECT_EQ(r->error.value("kind", ""), "config");
  EXPECT_EQ(r->error.value("message", ""), "no transport 'http' in this runtime");
}

TEST_F(EngineRuntimeTest, RetryBackoffsAreWaitedOnTheRuntimesClock) {
  auto http = std::make_shared<ScriptedTransport>([](const StepAttempt& a, int call) {
    if (call <= 2) return connectors::FailOutcome(connectors::kKindServerError, "HTTP 503 from POST /charges");
    return Charged(a, call);
  });
  UseHttp(http);
  ManualClock clock;
  std::string bytes = Compile("connector billing = \"billing.json\"\n"
                              "workflow w() -> string {\n"
                              "  let a = billing.charge(amount: 1) retry 3\n"
                              "  return a.id\n}\n");
  auto r = StartRun(Rt(clock), bytes, "w", json::object(), "t3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "ch_t3:1");
  // Two backoffs of exactly 1 s (retry without backoff), on the test's clock.
  EXPECT_EQ(clock.slept_ms(), 2000);
  auto calls = http->calls();
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) EXPECT_EQ(c.key, "t3:1");
}

// Says one time, whatever the system clock says, until the test sets another.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(int64_t ms) : now_(ms) {}
  auto NowMs() const -> int64_t override { return now_; }
  void SleepFor(std::chrono::milliseconds) const override {}
  void Set(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

// 2026-01-15T09:30:00Z: long before the system clock of any run of this test.
constexpr int64_t kFixedMs = 1'768'469'400'000;

TEST_F(EngineRuntimeTest, NowIsTheRuntimesClock) {
  FixedClock clock(kFixedMs);
  std::string bytes = Compile("workflow w() -> string {\n  return string(now())\n}\n");
  auto r = StartRun(Rt(clock), bytes, "w", json::object(), "n1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "2026-01-15T09:30:00Z");
}

TEST_F(EngineRuntimeTest, LeaseExpiryIsJudgedOnTheRuntimesClock) {
  FixedClock clock(kFixedMs);
  std::string bytes = Compile("workflow w() -> string {\n  let d = approve \"go?\"\n  return d.by\n}\n");
  auto r = StartRun(Rt(clock), bytes, "w", json::object(), "l1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  // Another host holds the lease for a minute of the runtime's time (long
  // expired by the system clock): refused until the runtime's clock passes it.
  auto held = store_->TakeLease("l1", "1@other-host", kFixedMs, kFixedMs + 60'000, "");
  ASSERT_TRUE(held.ok() && *held == "1@other-host");
  auto refused = ResumeRun(Rt(clock), "l1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kLeaseHeld) << refused.error().message;
  clock.Set(kFixedMs + 60'001);
  auto resumed = ResumeRun(Rt(clock), "l1");
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->status, store::RunStatus::Waiting);
  // A lease taken at a time lasts kLeaseDuration from it.
  ASSERT_TRUE(AcquireLease(*store_, "l1", "2@third-host", kFixedMs + 70'000).ok());
  EXPECT_EQ((*store_->GetRun("l1"))->lease_expiry_ms, kFixedMs + 70'000 + kLeaseDuration.count());
}

TEST_F(EngineRuntimeTest, AStepInFlightAtACrashIsResentWithItsKey) {
  auto http = std::make_shared<ScriptedTransport>(Charged);
  UseHttp(http);
  std::string bytes = Compile("connector billing = \"billing.json\"\n"
                              "workflow w() -> string {\n"
                              "  let a = billing.charge(amount: 1)\n"
                              "  return a.id\n}\n");
  EngineOptions crash;
  crash.crash_before_commits = 1;  // the step was sent, its commit never happened
  ASSERT_FALSE(StartRun(Rt(SystemClock(), crash), bytes, "w", json::object(), "t4").ok());
  ASSERT_EQ(http->calls().size(), 1u);
  auto r = ResumeRun(Rt(), "t4");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "ch_t4:1");
  auto calls = http->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].key, "t4:1");
  EXPECT_FALSE(calls[0].resent);
  EXPECT_EQ(calls[1].key, "t4:1");
  EXPECT_TRUE(calls[1].resent);
}

TEST_F(EngineRuntimeTest, AFailedStepCompensatesTheCompletedOnesOverTheSameTransport) {
  auto http = std::make_shared<ScriptedTransport>([](const StepAttempt& a, int call) {
    if (call == 2) return connectors::FailOutcome(connectors::kKindHttp, "HTTP 402 from POST /charges");
    return a.op->name == "refund" ? connectors::ValidateOutput(*a.connector, *a.op, json::object()) : Charged(a, call);
  });
  UseHttp(http);
  std::string bytes = Compile("connector billing = \"billing.json\"\n"
                              "workflow w() -> string {\n"
                              "  let a = billing.charge(amount: 1) compensate billing.refund(id: a.id)\n"
                              "  let b = billing.charge(amount: 2)\n"
                              "  return b.id\n}\n");
  auto r = StartRun(Rt(), bytes, "w", json::object(), "t5");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);
  EXPECT_EQ(r->compensations, json::parse(R"([{"step": "billing.refund", "status": "completed"}])"));
  auto calls = http->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].operation, "billing.refund");
  EXPECT_EQ(calls[2].args, json({{"id", "ch_t5:1"}}));
}

// ------------------------------------------------------------ builtin schemas

// The `log` connector as another flow binary could define it: its entries
// also carry a `level`, which this binary's builtin transport never returns.
auto StrictLog() -> std::string {
  std::string text(stdlib::BuiltinConnectorTexts()[0].json);
  EXPECT_NE(text.find("\"connector\": \"log\""), std::string::npos);
  auto swap = [&](const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
  };
  swap(R"("required": ["at"])", R"("required": ["at", "level"])");
  swap(R"("at": { "type": "string", "format": "date-time" } })",
       R"("at": { "type": "string", "format": "date-time" }, "level": { "type": "string" } })");
  return text;
}

// The workflow's report of a `log` entry refused for lacking `level`.
auto MissingLevel(const json& result) -> bool {
  return result.is_string() && result.get<std::string>().rfind("contract / ", 0) == 0 &&
         result.get<std::string>().find("missing required property 'level'") != std::string::npos;
}

constexpr const char* kLogsAfterApproval =
    "workflow w() -> string {\n"
    "  approve \"go?\"\n"
    "  try {\n"
    "    log.info(message: \"hi\")\n"
    "    return \"logged\"\n"
    "  } catch err {\n"
    "    return err.kind + \" / \" + err.message\n"
    "  }\n}\n";

TEST_F(EngineRuntimeTest, ARunResumesUnderTheBuiltinSchemaItWasCompiledWith) {
  std::string strict = StrictLog();
  std::string http(stdlib::BuiltinConnectorTexts()[1].json);
  // Compiled against the strict `log`, resumed by a binary with today's.
  CompileOptions options;
  options.builtin_connectors = {strict, http};
  std::string bytes = Compile(kLogsAfterApproval, options);
  std::vector<std::string_view> today;
  for (const auto& b : stdlib::BuiltinConnectorTexts()) today.push_back(b.json);
  auto r = SuspendThenResume(bytes, "b1", today);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(MissingLevel(r->result)) << r->result;
  // Compiled against today's `log`, resumed by a binary with the strict one.
  auto r2 = SuspendThenResume(Compile(kLogsAfterApproval), "b2", {strict, http});
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(r2->result, "logged");
}

TEST_F(EngineRuntimeTest, AProgramCompiledBeforeBuiltinsWereEmbeddedUsesTheBinarysSchemas) {
  auto module = bytecode::DeserializeModule(Compile(kLogsAfterApproval));
  ASSERT_TRUE(module.ok());
  int builtins = 0;
  for (auto& c : module->connectors) {
    if (!c.path.empty()) continue;
    EXPECT_FALSE(c.text.empty()) << c.name;
    c.text.clear();  // as flow wrote programs before issue 12
    ++builtins;
  }
  EXPECT_EQ(builtins, 2);
  std::string old_bytes = bytecode::SerializeModule(*module);
  std::string strict = StrictLog();
  std::string http(stdlib::BuiltinConnectorTexts()[1].json);
  auto r = SuspendThenResume(old_bytes, "b3", {strict, http});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(MissingLevel(r->result)) << r->result;
}

}  // namespace
}  // namespace flow::engine
