// The run engine (vm/engine/run_driver.h) end to end: real programs compiled
// from .flow text, a real SQLite store in a temp folder, the real exec test
// tool (tests/servers/exec_tool.py) and the real HTTP test server
// (tests/servers/http_server.py, one per suite, port read from its first
// line), or, where the server is not the point, an in-process transport
// registered as the runtime's "http" (tests/unit/test_transport.h).
// Interruptions are simulated with EngineOptions::crash_after_commits: the
// driver stops right after a durable point, as a killed process would, and
// a fresh ResumeRun continues from the store alone.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/unit/runtime/engine_fixture.h"
#include "tests/unit/runtime/test_http_server.h"
#include "tests/unit/runtime/test_transport.h"
#include "compiler/codegen/lower.h"
#include "compiler/driver/compile.h"
#include "vm/bytecode/serialize.h"
#include "vm/connectors/http_client.h"
#include "vm/engine/driver.h"
#include "vm/engine/events.h"
#include "vm/engine/input_check.h"
#include "vm/engine/lease.h"
#include "vm/engine/run_driver.h"
#include "vm/interp/vm.h"
#include "vm/store/store.h"

namespace flow::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST_F(EngineTest, PureWorkflowCompletesWithStartedAndCompletedEvents) {
  auto r = Start("workflow add(a: int, b: int) -> int { return a + b }\n", json{{"a", 2}, {"b", 3}}, "r1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ToJson(), json::parse(R"({"run": "r1", "status": "completed", "result": 5})"));
  EXPECT_EQ(Types("r1"), (std::vector<std::string>{"started", "completed"}));
  auto run = store_->GetRun("r1");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_EQ((*run)->status, store::RunStatus::Completed);
  EXPECT_EQ((*run)->result, "5");
}

TEST_F(EngineTest, ResumeRightAfterTheStartRunsFromTheInitialState) {
  EngineOptions crash;
  crash.crash_after_commits = 0;
  ASSERT_FALSE(Start("workflow add(a: int, b: int) -> int { return a + b }\n", json{{"a", 2}, {"b", 3}}, "r0", crash).ok());
  EXPECT_EQ((*store_->GetRun("r0"))->status, store::RunStatus::Running);
  auto r = ResumeRun(Rt(), "r0");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, 5);
}

TEST_F(EngineTest, ExecStepCompletesWithKeyFromRunAndPosition) {
  auto r = Start("connector tool = \"tool.json\"\n"
                 "workflow w(x: string) -> string {\n"
                 "  let a = tool.echo(x: x)\n"
                 "  let b = tool.echo(x: x)\n"
                 "  return a.key + \" \" + b.key\n}\n",
                 json{{"x", "hi"}}, "r2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "r2:1 r2:2");
  EXPECT_EQ(Types("r2"), (std::vector<std::string>{"started", "step_started", "step_completed", "step_started",
                                                    "step_completed", "completed"}));
  auto j = Journal("r2");
  EXPECT_EQ(j[1].step, 1);
  EXPECT_EQ(j[1].attempt, 1);
  EXPECT_EQ(json::parse(j[1].data)["operation"], "tool.echo");
  EXPECT_EQ(j[3].step, 2);
}

TEST_F(EngineTest, FailureRunsCompensationsNewestFirst) {
  auto r = Start("connector tool = \"tool.json\"\n"
                 "workflow w(n: int) -> int {\n"
                 "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
                 "  let b = tool.echo(x: \"b\") compensate tool.undo(x: \"undo-b\")\n"
                 "  if n > 0 { fail \"boom\" }\n"
                 "  return n\n}\n",
                 json{{"n", 1}}, "r3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The error names where it was raised (SPEC §2.4): the `fail` on line 5.
  json report = r->ToJson();
  std::string at = report["error"].value("at", "");
  EXPECT_TRUE(at.size() > 12 && at.substr(at.size() - 12) == "/w.flow:5:14") << at;
  report["error"].erase("at");
  EXPECT_EQ(report, json::parse(R"({"run": "r3", "status": "failed",
      "error": {"kind": "fail", "message": "boom"},
      "compensations": [{"step": "tool.undo", "status": "completed"}, {"step": "tool.undo", "status": "completed"}]})"));
  std::vector<std::string> undone;
  for (const auto& e : Journal("r3")) {
    if (e.type == events::kCompensationStarted) undone.push_back(json::parse(e.data)["args"]["x"]);
  }
  EXPECT_EQ(undone, (std::vector<std::string>{"undo-b", "undo-a"}));
  EXPECT_EQ(Types("r3").back(), "failed");
  // Compensations have keys of their own ("<run>:undo:<k>"), never a step's.
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r3:1", "echo r3:2", "echo r3:undo:1", "echo r3:undo:2"}));
}

TEST_F(EngineTest, FailedStepIsCaughtWithKindMessageAndStep) {
  auto r = Start("connector tool = \"tool.json\"\n"
                 "workflow w() -> string {\n"
                 "  try { tool.fail(message: \"nope\") } catch err { return err.kind + \"/\" + (err.step ?? \"\") }\n"
                 "  return \"none\"\n}\n",
                 json::object(), "r4");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "exit/tool.fail");
  auto j = Journal("r4");
  ASSERT_GE(j.size(), 3u);
  EXPECT_EQ(j[2].type, "step_failed");
  EXPECT_EQ(json::parse(j[2].data)["final"], true);
}

TEST_F(EngineTest, ExecRetryableExitRetriesWithTheSameKey) {
  auto r = Start("connector tool = \"tool.json\"\n"
                 "workflow w() -> int {\n"
                 "  let f = tool.flaky(times: 2) retry 3 backoff 10ms\n"
                 "  return f.attempts\n}\n",
                 json::object(), "r5");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Completed);
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"flaky r5:1", "flaky r5:1", "flaky r5:1"}));
  std::vector<std::pair<std::string, int64_t>> steps;
  for (const auto& e : Journal("r5")) {
    if (e.step > 0) steps.emplace_back(e.type, e.attempt);
  }
  EXPECT_EQ(steps, (std::vector<std::pair<std::string, int64_t>>{{"step_started", 1}, {"step_failed", 1},
                                                                {"step_started", 2}, {"step_failed", 2},
                                                                {"step_started", 3}, {"step_completed", 3}}));
}

// The engine's retry loop, not the HTTP server, is the subject here: the
// runtime's "http" is an in-process transport (tests/unit/test_transport.h)
// that answers each attempt as the server would have.
auto ScriptedCharges(int fail_first, std::string_view kind, std::string message)
    -> std::shared_ptr<flow::testing::ScriptedTransport> {
  return std::make_shared<flow::testing::ScriptedTransport>(
      [=](const connectors::StepAttempt& a, int call) {
        if (call <= fail_first) return connectors::FailOutcome(kind, message);
        return connectors::ValidateOutput(*a.connector, *a.op,
                                          json{{"id", "ch_" + a.idempotency_key}, {"amount", a.args["amount"]}});
      });
}

TEST_F(EngineTest, HttpServerErrorRetriesThenCompletes) {
  auto http = ScriptedCharges(1, connectors::kKindServerError, "HTTP 503 from POST /customers/c1/charges");
  transports_.Register("http", http);
  auto r = Start("connector billing = \"billing.json\"\n"
                 "workflow w(customer: string) -> int {\n"
                 "  let c = billing.charge(customer: customer, amount: 7) retry 3 backoff 10ms\n"
                 "  return c.amount\n}\n",
                 json{{"customer", "c1"}}, "r6");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, 7);
  std::vector<std::string> keys;
  for (const auto& c : http->calls()) keys.push_back(c.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"r6:1", "r6:1"}));
}

TEST_F(EngineTest, PermanentFailureWithoutRetriesFailsTheRun) {
  auto http = ScriptedCharges(1, connectors::kKindHttp, "HTTP 400 from POST /customers/c1/charges");
  transports_.Register("http", http);
  auto r = Start("connector billing = \"billing.json\"\n"
                 "workflow w(customer: string) -> int {\n"
                 "  let c = billing.charge(customer: customer, amount: 7) retry 3 backoff 10ms\n"
                 "  return c.amount\n}\n",
                 json{{"customer", "c1"}}, "r7");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);
  EXPECT_EQ(r->error["kind"], "http");
  EXPECT_EQ(r->error["step"], "billing.charge");
  EXPECT_EQ(http->calls().size(), 1u);
}

constexpr const char* kTwoCharges =
    "connector billing = \"billing.json\"\n"
    "workflow w(customer: string) -> string {\n"
    "  let a = billing.charge(customer: customer, amount: 1)\n"
    "  let b = billing.charge(customer: customer, amount: 2)\n"
    "  return a.id + \",\" + b.id\n}\n";

TEST_F(EngineTest, ResumeAfterACompletedStepNeverResendsIt) {
  EngineOptions crash;
  crash.crash_after_commits = 1;  // step 1's end: step_started + step_completed + the state after it
  auto first = Start(kTwoCharges, json{{"customer", "c1"}}, "r8", crash);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r8:1"}));
  auto r = ResumeRun(Rt(), "r8");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "ch_1,ch_2");
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r8:1", "r8:2"}));
}

TEST_F(EngineTest, ResumeResendsAnInFlightStepWithTheSameKey) {
  EngineOptions crash;
  crash.crash_before_commits = 2;  // step 2 sent, the process dies before its end is durable
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r9", crash).ok());
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r9:1", "r9:2"}));
  EXPECT_EQ(Types("r9"), (std::vector<std::string>{"started", "step_started", "step_completed"}));
  auto r = ResumeRun(Rt(), "r9");
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The server saw the key again and answered with the charge it made.
  EXPECT_EQ(r->result, "ch_1,ch_2");
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r9:1", "r9:2", "r9:2"}));
  int resent = 0;
  for (const auto& e : Journal("r9")) {
    if (e.type == events::kStepStarted && json::parse(e.data).value("resent", false)) {
      ++resent;
      EXPECT_EQ(e.step, 2);
      EXPECT_EQ(e.attempt, 1);  // the lost send was attempt 1 too
    }
  }
  EXPECT_EQ(resent, 1);
  // Resuming a finished run only reports it.
  auto again = ResumeRun(Rt(), "r9");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->result, "ch_1,ch_2");
  EXPECT_EQ(RequestKeys().size(), 3u);
}

TEST_F(EngineTest, LongBackoffSuspendsWithReasonRetryAndResumeRetriesWithTheSameKey) {
  EngineOptions short_wait;
  short_wait.max_in_process_backoff = std::chrono::milliseconds(100);
  const char* src = "connector tool = \"tool.json\"\n"
                    "workflow w() -> int {\n"
                    "  let f = tool.flaky(times: 1) retry 2\n"  // fixed 1 s delay
                    "  return f.attempts\n}\n";
  auto r = Start(src, json::object(), "r14", short_wait);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting["kind"], "retry");
  EXPECT_EQ(r->waiting["step"], "tool.flaky");
  EXPECT_EQ(r->waiting["attempt"], 2);
  auto run = *store_->GetRun("r14");
  EXPECT_EQ(run->waiting_reason, "retry");
  EXPECT_GT(run->wake_at_ms, NowMs());
  // Not due, and too far to wait here: still waiting, nothing sent.
  auto early = ResumeRun(Rt(short_wait), "r14");
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->status, store::RunStatus::Waiting);
  EXPECT_EQ(Invocations().size(), 1u);
  // With the default limit the resume waits out the backoff in-process.
  auto done = ResumeRun(Rt(), "r14");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->result, 2);
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"flaky r14:1", "flaky r14:1"}));
}

TEST_F(EngineTest, ResumeDuringCompensationsSkipsTheCompletedOnes) {
  EngineOptions crash;
  // step 1's end; step 2's end; compensation 1 started; compensation 1 completed.
  crash.crash_after_commits = 4;
  const char* src = "connector tool = \"tool.json\"\n"
                    "workflow w() -> int {\n"
                    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
                    "  let b = tool.echo(x: \"b\") compensate tool.undo(x: \"undo-b\")\n"
                    "  fail \"boom\"\n}\n";
  ASSERT_FALSE(Start(src, json::object(), "r15", crash).ok());
  EXPECT_EQ(Invocations().size(), 3u);
  auto r = ResumeRun(Rt(), "r15");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);
  EXPECT_EQ(r->compensations.size(), 2u);
  EXPECT_EQ(Invocations(),
            (std::vector<std::string>{"echo r15:1", "echo r15:2", "echo r15:undo:1", "echo r15:undo:2"}));
  std::vector<std::string> undone;
  for (const auto& e : Journal("r15")) {
    if (e.type == events::kCompensationStarted) undone.push_back(json::parse(e.data)["args"]["x"]);
  }
  EXPECT_EQ(undone, (std::vector<std::string>{"undo-b", "undo-a"}));
}

TEST_F(EngineTest, EachStepIsOneCommitAndTheRunsEndAnother) {
  EngineOptions one, two, three;
  one.crash_after_commits = 1;
  two.crash_after_commits = 2;
  three.crash_after_commits = 3;
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r19", one).ok());
  EXPECT_EQ(Types("r19"), (std::vector<std::string>{"started", "step_started", "step_completed"}));
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r20", two).ok());
  EXPECT_EQ((*store_->GetRun("r20"))->status, store::RunStatus::Running);
  EXPECT_EQ(Types("r20"), (std::vector<std::string>{"started", "step_started", "step_completed", "step_started",
                                                    "step_completed"}));
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r21", three).ok());
  EXPECT_EQ((*store_->GetRun("r21"))->status, store::RunStatus::Completed);
  EXPECT_EQ(Types("r21"), (std::vector<std::string>{"started", "step_started", "step_completed", "step_started",
                                                    "step_completed", "completed"}));
}

// One step with a compensation, then a failure.
constexpr const char* kStepThenFail =
    "connector tool = \"tool.json\"\n"
    "workflow w() -> int {\n"
    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: a.key)\n"
    "  fail \"boom\"\n}\n";

// A journal written by an older flow, whose step_completed rode on the next
// durable point: here a compensation's start, which carried no state, so
// the saved state still waits at step 1 while the journal has its result.
// Built by hand from the state a VM suspended at step 1 saves.
TEST_F(EngineTest, AnOldJournalsCompletionWithoutStateIsDeliveredFromTheJournalOnResume) {
  EngineOptions crash;
  crash.crash_before_commits = 1;  // step 1 sent; nothing after the run's start is durable
  ASSERT_FALSE(Start(kStepThenFail, json::object(), "r22", crash).ok());
  auto module = bytecode::DeserializeModule(*store_->GetProgram((*store_->GetRun("r22"))->program_hash));
  ASSERT_TRUE(module.ok());
  interp::Vm vm(*module);
  ASSERT_TRUE(vm.StartWorkflow(static_cast<uint32_t>(module->FindFunction("w")), json::object()).ok());
  ASSERT_EQ(vm.Run().status, interp::RunStatus::Suspended);
  store::DurableUpdate old;
  old.run_id = "r22";
  auto event = [](std::string_view type, int64_t step, const char* data) {
    return store::JournalEvent{0, std::string(type), step, 1, data, NowMs(), ""};
  };
  size_t echo = 0;
  while (module->steps[echo].operation != "echo") ++echo;
  old.events = {event(events::kStepStarted, 1,
                      fmt::format(R"({{"operation": "tool.echo", "step_id": {}, "args": {{"x": "a"}}, "key": "r22:1"}})", echo)
                          .c_str())};
  old.state = vm.SaveState();
  ASSERT_TRUE(store_->Commit(old).ok());
  store::DurableUpdate completed;
  completed.run_id = "r22";
  completed.events = {event(events::kStepCompleted, 1, R"({"operation": "tool.echo", "result": {"key": "r22:1"}})")};
  ASSERT_TRUE(store_->Commit(completed).ok());
  auto r = ResumeRun(Rt(), "r22");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);
  EXPECT_EQ(r->error["message"], "boom");
  EXPECT_EQ(r->compensations, json::parse(R"([{"step": "tool.undo", "status": "completed"}])"));
  // The step is not sent again (the one invocation is the lost send).
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r22:1", "echo r22:undo:1"}));
  // The compensation's argument came from the journaled result.
  std::vector<std::string> undone;
  for (const auto& e : Journal("r22")) {
    if (e.type == events::kCompensationStarted) undone.push_back(json::parse(e.data)["args"]["x"]);
  }
  EXPECT_EQ(undone, (std::vector<std::string>{"r22:1"}));
}

TEST_F(EngineTest, CancelAfterACrashInThePureCodeAfterAStepUndoesTheStep) {
  // Step 1's end is durable with the state right after its result; its
  // `compensate` is registered by the pure code that follows, which the
  // crash cut short. Cancelling must still undo step 1.
  EngineOptions crash;
  crash.crash_after_commits = 1;
  ASSERT_FALSE(Start(kStepThenFail, json::object(), "r23", crash).ok());
  auto c = CancelRun(Rt(), "r23", "cancelled by ann");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(c->compensations, json::parse(R"([{"step": "tool.undo", "status": "completed"}])"));
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r23:1", "echo r23:undo:1"}));
}

TEST_F(EngineTest, ResumeRefusesAJournalThatRecordsAnotherOperation) {
  // A retry of step 2 is pending (its state waits at step 2); the journal
  // is then made to say that step 2 was another operation.
  EngineOptions crash;
  crash.crash_after_commits = 1;
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r16", crash).ok());
  auto module = bytecode::DeserializeModule(*store_->GetProgram((*store_->GetRun("r16"))->program_hash));
  ASSERT_TRUE(module.ok());
  interp::Vm vm(*module);
  ASSERT_TRUE(vm.LoadState(**store_->LoadState("r16")).ok());
  ASSERT_EQ(vm.Run().status, interp::RunStatus::Suspended);  // at step 2
  store::DurableUpdate u;
  u.run_id = "r16";
  store::JournalEvent e;
  e.type = std::string(events::kStepStarted);
  e.step = 2;
  e.attempt = 1;
  e.data = R"({"operation": "billing.refund", "step_id": 1, "args": {}})";
  u.events.push_back(e);
  e.type = std::string(events::kStepFailed);
  e.data = R"({"operation": "billing.refund", "kind": "server_error", "message": "x", "final": false, "retry_at_ms": 0})";
  u.events.push_back(e);
  u.state = vm.SaveState();
  ASSERT_TRUE(store_->Commit(u).ok());
  auto r = ResumeRun(Rt(), "r16");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "run 'r16': the journal records 'billing.refund' at step 2, which does not match the program");
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r16:1"}));
}

TEST_F(EngineTest, CancelRunsCompensationsAndSetsCancelled) {
  const char* src = "connector tool = \"tool.json\"\n"
                    "workflow w() -> string {\n"
                    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
                    "  let d = approve \"go?\"\n"
                    "  return d.by\n}\n";
  auto r = Start(src, json::object(), "r17");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  auto c = CancelRun(Rt(), "r17", "cancelled by ann");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->ToJson(), json::parse(R"({"run": "r17", "status": "cancelled",
      "error": {"kind": "cancelled", "message": "cancelled by ann"},
      "compensations": [{"step": "tool.undo", "status": "completed"}]})"));
  EXPECT_EQ(Types("r17").back(), "cancelled");
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r17:1", "echo r17:undo:1"}));
  auto again = CancelRun(Rt(), "r17", "x");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "run 'r17' is already cancelled");
}

TEST_F(EngineTest, EffectsAreJournaledAndTheSameAfterResume) {
  EngineOptions crash;
  crash.crash_after_commits = 1;
  ASSERT_FALSE(Start("connector tool = \"tool.json\"\n"
                     "workflow w() -> string {\n"
                     "  let u = uuid()\n"
                     "  let r = tool.echo(x: u)\n"
                     "  return u\n}\n",
                     json::object(), "r10", crash)
                   .ok());
  std::string journaled;
  for (const auto& e : Journal("r10")) {
    if (e.type == events::kEffect) journaled = json::parse(e.data)["value"];
  }
  ASSERT_FALSE(journaled.empty());
  auto r = ResumeRun(Rt(), "r10");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, journaled);
}

TEST_F(EngineTest, ApprovalWaitsThenARecordedDecisionContinuesTheRun) {
  const char* src =
      "workflow w() -> string {\n"
      "  let d = approve \"ship it?\" from \"ops\"\n"
      "  return d.by + \": \" + d.comment\n}\n";
  auto r = Start(src, json::object(), "r11");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ToJson(), json::parse(R"({"run": "r11", "status": "waiting",
      "waiting": {"kind": "approval", "prompt": "ship it?", "from": "ops"}})"));
  // Resuming without a decision changes nothing.
  auto still = ResumeRun(Rt(), "r11");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, store::RunStatus::Waiting);
  store::DurableUpdate u;
  u.run_id = "r11";
  store::JournalEvent e;
  e.type = std::string(events::kApprovalDecided);
  e.data = R"({"approved": true, "by": "ann", "comment": "ok", "at": "2026-01-15T09:30:00Z"})";
  u.events.push_back(e);
  ASSERT_TRUE(store_->Commit(u).ok());
  auto done = ResumeRun(Rt(), "r11");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->result, "ann: ok");
}

// A child completed (driven by itself, as `flow approve CHILD` killed before
// it drove the parent would leave it) while its parent still waits on it,
// then the parent is cancelled: the child's end is delivered first, so the
// call's `compensate` is registered and undoes it, newest first with the
// parent's own.
TEST_F(EngineTest, ACancelledParentUndoesAChildThatCompletedBeforeItsEndWasDelivered) {
  const char* src =
      "connector tool = \"tool.json\"\n"
      "workflow kid() -> string {\n"
      "  let d = approve \"go?\"\n"
      "  let k = tool.echo(x: \"kid\")\n"
      "  return k.key\n}\n"
      "workflow w() -> string {\n"
      "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
      "  let c = kid() compensate tool.undo(x: \"undo-kid\")\n"
      "  return c\n}\n";
  std::string bytes = Compile(src);
  ASSERT_FALSE(bytes.empty());
  auto r = StartRun(Rt(), bytes, "w", json::object(), "r70");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  ASSERT_EQ(r->waiting["kind"], "child");
  RecordApproval("r70/1");
  auto kid = ResumeChildRun(Rt(), "r70/1");  // the child alone: its parent is not driven
  ASSERT_TRUE(kid.ok()) << kid.error().message;
  ASSERT_EQ(kid->status, store::RunStatus::Completed);
  ASSERT_EQ((*store_->GetRun("r70"))->status, store::RunStatus::Waiting);
  auto c = CancelRun(Rt(), "r70", "stop");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r70:1", "echo r70/1:1", "echo r70:undo:1",
                                                     "echo r70:undo:2"}));
  int delivered = 0;
  for (const auto& j : Journal("r70")) delivered += j.type == events::kChildCompleted;
  EXPECT_EQ(delivered, 1);
}

// The same for a child called in a parallel branch (r71/1.1/1): delivered
// to its branch at the cancellation, its call's `compensate` undoes it.
TEST_F(EngineTest, ACancelledParentUndoesABranchChildThatCompletedBeforeItsEndWasDelivered) {
  const char* src =
      "connector tool = \"tool.json\"\n"
      "workflow kid() -> string {\n"
      "  let d = approve \"go?\"\n"
      "  let k = tool.echo(x: \"kid\")\n"
      "  return k.key\n}\n"
      "workflow w() -> [string] {\n"
      "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
      "  let cs = parallel for n in [1] {\n"
      "    let c = kid() compensate tool.undo(x: \"undo-kid\")\n"
      "    c\n"
      "  }\n"
      "  return cs\n}\n";
  std::string bytes = Compile(src);
  ASSERT_FALSE(bytes.empty());
  auto r = StartRun(Rt(), bytes, "w", json::object(), "r71");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  ASSERT_EQ(r->waiting["run"], "r71/1.1/1");
  RecordApproval("r71/1.1/1");
  auto kid = ResumeChildRun(Rt(), "r71/1.1/1");  // the child alone: its parent is not driven
  ASSERT_TRUE(kid.ok()) << kid.error().message;
  ASSERT_EQ(kid->status, store::RunStatus::Completed);
  auto c = CancelRun(Rt(), "r71", "stop");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r71:1", "echo r71/1.1/1:1", "echo r71:undo:1",
                                                     "echo r71:undo:2"}));
}

// ---- signals: buffered, oldest first, each consumed once ----------------

auto Ev(int64_t seq, const char* type, const char* data) -> store::JournalEvent {
  return store::JournalEvent{seq, type, -1, 0, data, 0, ""};
}

TEST(UnconsumedSignalTest, TakesTheOldestOfItsEventNotConsumedYet) {
  std::vector<store::JournalEvent> j = {
      Ev(1, "started", "{}"),
      Ev(2, "signal_received", R"({"event":"other","payload":0})"),
      Ev(3, "signal_received", R"({"event":"reply","payload":1})"),
      Ev(4, "signal_received", R"({"event":"reply","payload":2})"),
      Ev(5, "signal_awaited", R"({"event":"reply"})"),
      Ev(6, "resumed", R"({"after":"signal","event":"reply","seq":3})"),
  };
  ASSERT_NE(UnconsumedSignal(j, "reply"), nullptr);
  EXPECT_EQ(UnconsumedSignal(j, "reply")->seq, 4);
  EXPECT_EQ(UnconsumedSignal(j, "other")->seq, 2);
  EXPECT_EQ(UnconsumedSignal(j, "nothing"), nullptr);
  j.push_back(Ev(7, "resumed", R"({"after":"signal","event":"reply","seq":4})"));
  EXPECT_EQ(UnconsumedSignal(j, "reply"), nullptr);
  // A resumed after an approval consumes no signal.
  j.push_back(Ev(8, "signal_received", R"({"event":"reply","payload":3})"));
  j.push_back(Ev(9, "resumed", R"({"after":"approval","seq":8})"));
  EXPECT_EQ(UnconsumedSignal(j, "reply")->seq, 8);
}

TEST(UnconsumedSignalTest, ALegacyResumedWithoutSeqConsumedTheOldestOfTheAwaitedEvent) {
  std::vector<store::JournalEvent> j = {
      Ev(1, "signal_awaited", R"({"event":"reply"})"),
      Ev(2, "signal_received", R"({"event":"other"})"),
      Ev(3, "signal_received", R"({"event":"reply","payload":1})"),
      Ev(4, "resumed", R"({"after":"signal"})"),
      Ev(5, "signal_received", R"({"event":"reply","payload":2})"),
  };
  EXPECT_EQ(UnconsumedSignal(j, "reply")->seq, 5);
  EXPECT_EQ(UnconsumedSignal(j, "other")->seq, 2);
}

TEST_F(EngineTest, SignalsRecordedBeforeTheWaitAreDeliveredInOrderOnce) {
  const char* src =
      "workflow w() -> [json] {\n"
      "  approve \"go?\"\n"
      "  let a = wait \"reply\"\n"
      "  let b = wait \"reply\"\n"
      "  return [a, b]\n}\n";
  auto r = Start(src, json::object(), "s1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto append = [&](const char* type, const std::string& data) {
    store::AppendCondition any;
    auto out = store_->AppendEventIf("s1", store::JournalEvent{0, type, -1, 0, data, NowMs(), ""}, any);
    ASSERT_TRUE(out.ok() && out->refusal == store::AppendRefusal::None);
  };
  append("signal_received", R"({"event":"reply","payload":"first"})");
  append("approval_decided", R"({"approved":true,"by":"ann","comment":"","at":"2026-01-15T09:30:00Z"})");
  // The approval is delivered, the first wait takes the buffered signal at
  // once, the second one waits: the signal is not delivered twice.
  auto waiting = ResumeRun(Rt(), "s1");
  ASSERT_TRUE(waiting.ok()) << waiting.error().message;
  EXPECT_EQ(waiting->status, store::RunStatus::Waiting);
  EXPECT_EQ(waiting->waiting["kind"], "signal");
  append("signal_received", R"({"event":"reply","payload":"second"})");
  auto done = ResumeRun(Rt(), "s1");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->result, json::parse(R"(["first","second"])"));
  std::vector<std::string> resumed;
  for (const auto& e : Journal("s1")) {
    if (e.type == "resumed") resumed.push_back(e.data);
  }
  EXPECT_EQ(resumed, (std::vector<std::string>{R"({"after":"approval","seq":4})",
                                               R"({"after":"signal","event":"reply","seq":3})",
                                               R"({"after":"signal","event":"reply","seq":9})"}));
}

TEST_F(EngineTest, SleepSuspendsWithTimerReasonUntilDue) {
  auto r = Start("workflow w() -> int {\n  sleep 1ms\n  return 1\n}\n", json::object(), "r12");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting["kind"], "timer");
  ::usleep(5000);
  auto done = ResumeRun(Rt(), "r12");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->result, 1);
}

TEST_F(EngineTest, UnknownRunIsAnError) {
  auto r = ResumeRun(Rt(), "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "no run 'nope'");
}

TEST_F(EngineTest, InputValidationSpeaksFlowTypes) {
  std::string bytes = Compile(
      "type Item = { sku: string, qty: int }\n"
      "workflow w(items: [Item], plan: \"free\" | \"pro\", note: string?) -> int { return len(items) }\n");
  auto m = bytecode::DeserializeModule(bytes);
  ASSERT_TRUE(m.ok());
  uint32_t fn = static_cast<uint32_t>(m->FindFunction("w"));
  auto check = [&](const char* input) {
    auto s = ValidateInput(*m, fn, json::parse(input));
    return s.ok() ? std::string("ok") : s.error().message;
  };
  EXPECT_EQ(check(R"({"items": [], "plan": "pro"})"), "ok");
  EXPECT_EQ(check(R"({"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": "2"}], "plan": "pro"})"),
            "$.items[1].qty: expected int, got string");
  EXPECT_EQ(check(R"({"plan": "pro"})"), "$.items: missing");
  EXPECT_EQ(check(R"({"items": [{"qty": 1}], "plan": "pro"})"), "$.items[0].sku: missing");
  EXPECT_EQ(check(R"({"items": [], "plan": "gold"})"), R"($.plan: expected "free" | "pro", got "gold")");
  EXPECT_EQ(check(R"({"items": [], "plan": "free", "note": 3})"), "$.note: expected string, got int");
}

TEST_F(EngineTest, LeaseIsReleasedAndRespectedAcrossProcessesAndHosts) {
  const char* src = "workflow w() -> string {\n  let d = approve \"go?\"\n  return d.by\n}\n";
  auto r = Start(src, json::object(), "r13");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ((*store_->GetRun("r13"))->lease_owner, "");  // released on exit
  const std::string me = ThisLeaseOwner();
  const std::string host = me.substr(me.find('@') + 1);
  const int64_t now = NowMs();
  auto hold = [&](const std::string& owner, int64_t expiry) {
    ASSERT_TRUE(store_->ReleaseLease("r13", (*store_->GetRun("r13"))->lease_owner).ok());
    auto h = store_->TakeLease("r13", owner, now, expiry, "");
    ASSERT_TRUE(h.ok() && *h == owner);
  };
  // Another host, lease live: refused; expired: taken over.
  hold("1@other-host", now + 60'000);
  auto refused = ResumeRun(Rt(), "r13");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "run r13 is owned by pid 1 on other-host");
  EXPECT_EQ(refused.error().code, ErrorCode::kLeaseHeld);
  EXPECT_TRUE(IsLeaseConflict(refused.error()));
  hold("1@other-host", now - 1);
  EXPECT_TRUE(ResumeRun(Rt(), "r13").ok());
  // This host, owner alive (our parent): refused even when expired.
  hold(std::to_string(::getppid()) + "@" + host, now - 1);
  EXPECT_FALSE(ResumeRun(Rt(), "r13").ok());
  // This host, owner dead: taken over at once.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  hold(std::to_string(child) + "@" + host, now + 60'000);
  auto taken = ResumeRun(Rt(), "r13");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->status, store::RunStatus::Waiting);
  EXPECT_EQ((*store_->GetRun("r13"))->lease_owner, "");
}

// flow worker's filter agrees with AcquireLease's rules, without writing.
TEST_F(EngineTest, LeaseTakeableFollowsTheLeaseRules) {
  const std::string me = ThisLeaseOwner();
  const std::string host = me.substr(me.find('@') + 1);
  const int64_t now = 1'000'000;
  auto run = [](const std::string& owner, int64_t expiry) {
    store::RunRecord r;
    r.lease_owner = owner;
    r.lease_expiry_ms = expiry;
    return r;
  };
  EXPECT_TRUE(LeaseTakeable(run("", -1), me, now));
  EXPECT_TRUE(LeaseTakeable(run(me, now + 1), me, now));
  EXPECT_FALSE(LeaseTakeable(run("1@other-host", now + 1), me, now));
  EXPECT_TRUE(LeaseTakeable(run("1@other-host", now - 1), me, now));
  EXPECT_FALSE(LeaseTakeable(run(std::to_string(::getppid()) + "@" + host, now - 1), me, now));  // alive
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(LeaseTakeable(run(std::to_string(child) + "@" + host, now + 60'000), me, now));  // gone
}

// Threads of one process share the lease owner id: the in-process claim
// keeps a second thread (a worker's) off a run another thread (its parent's
// driver) drives, with the error the worker skips as a lease conflict.
TEST_F(EngineTest, AnInProcessClaimKeepsASecondThreadOff) {
  {
    InProcessClaim first("r1/1");
    ASSERT_TRUE(first.held());
    bool second_held = true;
    std::thread([&] { second_held = InProcessClaim("r1/1").held(); }).join();
    EXPECT_FALSE(second_held);
    InProcessClaim other("r1/2");
    EXPECT_TRUE(other.held());
    InProcessClaim again("r1/1");
    EXPECT_FALSE(again.held());
    EXPECT_TRUE(IsLeaseConflict(again.Conflict()));
  }
  EXPECT_TRUE(InProcessClaim("r1/1").held());  // released with the first
}

// A fork starts from the checkpoint's state: the value drawn before it is
// kept, the one after it is new, and the original's effect records are
// copied so the fork's own effects (and a resume of the fork) line up.
TEST_F(EngineTest, ForkStartsFromTheCheckpointWithTheOriginalsEffects) {
  const char* src =
      "workflow w() -> { a: string, b: string, c: string } {\n  let a = uuid()\n  checkpoint \"c1\"\n"
      "  let b = uuid()\n  checkpoint \"c2\"\n  let c = uuid()\n  return { a: a, b: b, c: c }\n}\n";
  auto orig = Start(src, json::object(), "o1");
  ASSERT_TRUE(orig.ok()) << orig.error().message;
  ASSERT_EQ(orig->status, store::RunStatus::Completed);
  auto fork = ForkRun(Rt(), "o1", "c1", "k1");
  ASSERT_TRUE(fork.ok()) << fork.error().message;
  ASSERT_EQ(fork->status, store::RunStatus::Completed);
  EXPECT_EQ(fork->result["a"], orig->result["a"]);
  EXPECT_NE(fork->result["b"], orig->result["b"]);
  auto journal = Journal("k1");
  ASSERT_GE(journal.size(), 3u);
  EXPECT_EQ(json::parse(journal[0].data)["forked_from"], (json{{"run", "o1"}, {"checkpoint", "c1"}}));
  EXPECT_EQ(journal[1].type, "effect");
  EXPECT_EQ(json::parse(journal[1].data)["value"], orig->result["a"]);
  // A fork that crashes after its first durable point resumes with the
  // same values: its journal holds every effect it drew.
  EngineOptions crash;
  crash.crash_after_commits = 1;
  ASSERT_FALSE(ForkRun(Rt(crash), "o1", "c1", "k2").ok());
  auto resumed = ResumeRun(Rt(), "k2");
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->result["a"], orig->result["a"]);
  std::vector<int64_t> seqs;
  for (const auto& e : Journal("k2")) {
    if (e.type == "effect") seqs.push_back(json::parse(e.data)["seq"].get<int64_t>());
  }
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 3}));
  auto unknown = ForkRun(Rt(), "o1", "c3", "k3");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "run 'o1' has no checkpoint 'c3'");
  EXPECT_FALSE(ForkRun(Rt(), "nope", "c1", "k4").ok());
  EXPECT_FALSE(ForkRun(Rt(), "o1", "c1", "k1").ok());  // k1 exists
}

#ifdef FLOW_BINARY
TEST_F(EngineTest, CliInvalidInputExitsTwoAndCreatesNoRun) {
  Write("add.flow", "workflow add(a: int) -> int { return a }\n");
  std::string db = (dir_ / "cli.db").string();
  std::string cmd = std::string(FLOW_BINARY) + " run " + (dir_ / "add.flow").string() + " --db " + db +
                    " --input '{\"a\": \"x\"}' 2>" + (dir_ / "err.txt").string();
  int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream err(dir_ / "err.txt");
  std::string line;
  std::getline(err, line);
  EXPECT_EQ(line, "flow: invalid input: $.a: expected int, got string");
  EXPECT_FALSE(fs::exists(db));
  cmd = std::string(FLOW_BINARY) + " run " + (dir_ / "add.flow").string() + " --db " + db +
        " --json --id k --input '{\"a\": 4}' >" + (dir_ / "out.txt").string();
  status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream out(dir_ / "out.txt");
  std::getline(out, line);
  EXPECT_EQ(line, R"({"result":4,"run":"k","status":"completed"})");
}
#endif

}  // namespace
}  // namespace flow::engine
