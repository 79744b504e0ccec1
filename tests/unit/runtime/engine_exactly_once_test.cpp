// Issue 10, "exactly once, with no exceptions", against the run engine end
// to end (the fixture of engine_fixture.h): completions durable at once,
// cancellations recorded first and finished by whoever drives next, the
// step in flight at a cancel undone, limits, blocked steps, damaged states,
// lease holders whose pid was reused. The same, with killed processes, in
// tests/crash/exactly_once_test.py and soak_test.py.
// Interruptions are simulated with EngineOptions::crash_after_commits
// (dead right after a durable point) and crash_before_commits (dead right
// before one: after sending a step, say); a fresh ResumeRun or CancelRun
// continues from the store alone.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "tests/unit/runtime/engine_fixture.h"
#include "tests/unit/runtime/test_http_server.h"
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

constexpr const char* kTwoCharges =
    "connector billing = \"billing.json\"\n"
    "workflow w(customer: string) -> string {\n"
    "  let a = billing.charge(customer: customer, amount: 1)\n"
    "  let b = billing.charge(customer: customer, amount: 2)\n"
    "  return a.id + \",\" + b.id\n}\n";

// SPEC §4: a step's completion (result, state, journal event) is durable
// before the run computes on. The process dies in the pure code after
// step 1 -- here right before the durable point that follows it -- and the
// resume must not send step 1 again, though nothing was committed since.
TEST_F(EngineTest, ACompletionIsDurableBeforeThePureCodeAfterItRuns) {
  const char* src = "connector billing = \"billing.json\"\n"
                    "workflow w(customer: string) -> int {\n"
                    "  let a = billing.charge(customer: customer, amount: 1)\n"
                    "  var n = 0\n"
                    "  while n < 1000 { n = n + 1 }\n"
                    "  checkpoint \"after\"\n"
                    "  return a.amount + n\n}\n";
  EngineOptions crash;
  crash.crash_before_commits = 2;  // the checkpoint's: the loop has run, nothing after step 1 is durable
  ASSERT_FALSE(Start(src, json{{"customer", "c1"}}, "r30", crash).ok());
  EXPECT_EQ(Types("r30"), (std::vector<std::string>{"started", "step_started", "step_completed"}));
  auto r = ResumeRun(Rt(), "r30");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, 1001);
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r30:1"}));
}

// Effect values drawn before a step and used in its arguments are durable
// before it is sent (only then: a step without new effects costs no extra
// commit), so a resend after a crash carries the very same arguments.
TEST_F(EngineTest, EffectsInAStepsArgumentsAreTheSameWhenItIsResent) {
  const char* src = "connector billing = \"billing.json\"\n"
                    "workflow w() -> string {\n"
                    "  let u = uuid()\n"
                    "  let a = billing.charge(customer: u, amount: 1)\n"
                    "  return u\n}\n";
  EngineOptions crash;
  crash.crash_before_commits = 2;  // commit 1: the effect; then the step is sent and the process dies
  ASSERT_FALSE(Start(src, json::object(), "r31", crash).ok());
  EXPECT_EQ(Types("r31"), (std::vector<std::string>{"started", "effect"}));
  auto r = ResumeRun(Rt(), "r31");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> customers;  // the path is /customers/{customer}/charges
  for (const auto& req : Http("GET", "/_requests", nullptr)) {
    std::string path = req["path"];
    customers.push_back(path.substr(11, path.size() - 11 - 8));
  }
  ASSERT_EQ(customers.size(), 2u);
  EXPECT_EQ(customers[0], customers[1]);
  EXPECT_EQ(customers[0], r->result);
  // Without an effect before it, a step adds no commit: its end is the only one.
  EngineOptions one;
  one.crash_after_commits = 1;
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r32", one).ok());
  EXPECT_EQ(Types("r32"), (std::vector<std::string>{"started", "step_started", "step_completed"}));
}

// ---- cancellation: recorded first, finished by whoever drives next --------

constexpr const char* kSagaWaitingForApproval =
    "connector tool = \"tool.json\"\n"
    "workflow w() -> string {\n"
    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
    "  let b = tool.echo(x: \"b\") compensate tool.undo(x: \"undo-b\")\n"
    "  let c = tool.echo(x: \"c\") compensate tool.undo(x: \"undo-c\")\n"
    "  let d = approve \"go?\"\n"
    "  tool.echo(x: \"after\")\n"
    "  return d.by\n}\n";

// A cancellation killed during its compensations does not un-cancel the
// run: it is recorded before anything is undone, the run is due (running,
// its lease free), and the next driver -- a plain resume here -- finishes
// it: the remaining compensations each once, in reverse order, and never
// a step after the approval.
TEST_F(EngineTest, ACancellationKilledDuringItsCompensationsIsFinishedByTheNextDriver) {
  auto r = Start(kSagaWaitingForApproval, json::object(), "r40");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EngineOptions crash;
  crash.crash_after_commits = 3;  // compensation 1 started and completed, compensation 2 started
  auto killed = CancelRun(Rt(crash), "r40", "cancelled by ann");
  ASSERT_FALSE(killed.ok());
  auto row = *store_->GetRun("r40");
  EXPECT_EQ(row->status, store::RunStatus::Running);  // not waiting for an approval any more
  EXPECT_GE(row->cancel_requested_ms, 0);
  auto due = store_->ListDue(NowMs());
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, "r40");
  auto done = ResumeRun(Rt(), "r40");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->ToJson(), json::parse(R"({"run": "r40", "status": "cancelled",
      "error": {"kind": "cancelled", "message": "cancelled by ann"},
      "compensations": [{"step": "tool.undo", "status": "completed"}, {"step": "tool.undo", "status": "completed"},
                        {"step": "tool.undo", "status": "completed"}]})"));
  // undo:2 was recorded as started when the process died (before sending
  // it): sent once, by the resume; nothing twice.
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r40:1", "echo r40:2", "echo r40:3", "echo r40:undo:1",
                                                      "echo r40:undo:2", "echo r40:undo:3"}));
  std::vector<std::string> undone;
  for (const auto& e : Journal("r40")) {
    if (e.type == events::kCompensationCompleted) undone.push_back(json::parse(e.data)["operation"]);
    if (e.type == events::kCompensationStarted && e.attempt == 1) {
      undone.push_back(json::parse(e.data)["args"]["x"]);
    }
  }
  EXPECT_EQ(undone, (std::vector<std::string>{"undo-c", "tool.undo", "undo-b", "undo-b", "tool.undo", "undo-a",
                                              "tool.undo"}));
  // An approval cannot revive it, and a second cancel is refused.
  auto again = CancelRun(Rt(), "r40", "x");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "run 'r40' is already cancelled");
}

// The same, the cancelling process killed before it undid anything: `flow
// approve` is refused from then on (the run no longer waits), and a
// repeated cancel finishes it.
TEST_F(EngineTest, ACancelledRunNeverGoesForward) {
  auto r = Start(kSagaWaitingForApproval, json::object(), "r41");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto recorded = RequestCancel(*store_, "r41", "stop");
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  EXPECT_EQ(recorded->refusal, store::AppendRefusal::None);
  store::JournalEvent decided{0, std::string(events::kApprovalDecided), -1, 0,
                              R"({"approved": true, "by": "bob", "comment": "", "at": "2026-01-15T09:30:00Z"})", NowMs(), ""};
  store::AppendCondition waiting_for_approval;
  waiting_for_approval.statuses = {store::RunStatus::Waiting};
  waiting_for_approval.waiting_reason = "approval";
  auto approve = store_->AppendEventIf("r41", decided, waiting_for_approval);
  ASSERT_TRUE(approve.ok());
  EXPECT_EQ(approve->refusal, store::AppendRefusal::Status);
  auto c = CancelRun(Rt(), "r41", "stop again");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(c->error["message"], "stop");  // the first request's reason
  for (const auto& line : Invocations()) EXPECT_NE(line, "echo r41:4") << "a step after the approval was sent";
  EXPECT_EQ(Invocations().size(), 6u);
}

// A step that completes after the cancellation was recorded is undone too
// (its outcome arrives at a driver that learns of the request when it
// commits that outcome). Here the step's driver died while it was in
// flight: the cancellation sends it again with its key to learn its
// outcome, because it has a `compensate`.
TEST_F(EngineTest, TheStepInFlightAtACancellationIsUndoneWhenItCompleted) {
  const char* src = "connector billing = \"billing.json\"\n"
                    "workflow w(customer: string) -> int {\n"
                    "  let a = billing.charge(customer: customer, amount: 1)\n"
                    "  let b = billing.charge(customer: customer, amount: 2)\n"
                    "    compensate billing.charge(customer: \"refund\", amount: b.amount)\n"
                    "  return b.amount\n}\n";
  EngineOptions crash;
  crash.crash_before_commits = 2;  // step 2 sent (the charge is made), its end not durable
  ASSERT_FALSE(Start(src, json{{"customer", "c1"}}, "r42", crash).ok());
  auto c = CancelRun(Rt(), "r42", "stop");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(c->compensations, json::parse(R"([{"step": "billing.charge", "status": "completed"}])"));
  // Step 2 resent with its key (the server answers the charge it made, no
  // new effect), then undone under a key of its own.
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r42:1", "r42:2", "r42:2", "r42:undo:1"}));
  auto effects = Http("GET", "/_effects", nullptr);
  ASSERT_EQ(effects.size(), 3u);  // charge 1, charge 2, the refund
}

// ... but a step without `compensate` is not sent at a cancellation: its
// outcome would change nothing.
TEST_F(EngineTest, AStepWithoutCompensateIsNotResentAtACancellation) {
  EngineOptions crash;
  crash.crash_before_commits = 2;
  ASSERT_FALSE(Start(kTwoCharges, json{{"customer", "c1"}}, "r43", crash).ok());
  auto c = CancelRun(Rt(), "r43", "stop");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r43:1", "r43:2"}));
}

// A run that completes or fails in pure code after its cancellation was
// recorded ends `cancelled` all the same (the end's commit is refused).
TEST_F(EngineTest, ARunWhoseCancellationWasRequestedNeverEndsCompleted) {
  const char* src = "connector tool = \"tool.json\"\n"
                    "workflow w() -> int {\n"
                    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
                    "  return 1\n}\n";
  EngineOptions crash;
  crash.crash_after_commits = 1;
  ASSERT_FALSE(Start(src, json::object(), "r44", crash).ok());
  ASSERT_TRUE(RequestCancel(*store_, "r44", "stop").ok());
  auto r = ResumeRun(Rt(), "r44");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Cancelled);
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r44:1", "echo r44:undo:1"}));
}

// ---- runs that can always be stopped --------------------------------------

TEST_F(EngineTest, PureCodeOverTheInstructionBudgetFailsWithKindLimitAtItsLine) {
  EngineOptions small;
  small.instruction_budget = 1'000'000;
  const char* src = "connector tool = \"tool.json\"\n"
                    "workflow w() -> int {\n"
                    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
                    "  var n = 0\n"
                    "  try {\n"
                    "    while true { n = n + 1 }\n"
                    "  } catch err { return -1 }\n"
                    "  return n\n}\n";
  auto r = Start(src, json::object(), "r45", small);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);  // not caught: a handler would let it loop on
  EXPECT_EQ(r->error["kind"], "limit");
  EXPECT_EQ(r->error["message"],
            "the run computed 1000000 instructions without reaching a durable point (the instruction budget)");
  // The line that was running (the loop's), in the run row and the event.
  const std::string at = json::parse((*store_->GetRun("r45"))->error).value("at", "");
  EXPECT_TRUE(std::regex_search(at, std::regex(":6:[0-9]+$"))) << at;
  EXPECT_EQ(r->compensations, json::parse(R"([{"step": "tool.undo", "status": "completed"}])"));
}

TEST_F(EngineTest, AnUnboundedAllocationFailsTheRunWithKindLimitNotTheProcess) {
  EngineOptions small;
  small.memory_limit = int64_t{64} << 20;
  const char* src = "workflow w() -> int {\n"
                    "  var s = \"x\"\n"
                    "  while true { s = s + s }\n"
                    "  return len(s)\n}\n";
  auto r = Start(src, json::object(), "r46", small);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Failed);
  EXPECT_EQ(r->error["kind"], "limit");
  EXPECT_EQ(r->error["message"], "the run's values exceed the memory limit of 64 MiB");
  // A built-in whose result would be far larger than its arguments is
  // refused before it is built.
  const char* blowup = "workflow w() -> int {\n"
                       "  var s = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
                       "  var k = 0\n"
                       "  while k < 12 { s = s + s\n k = k + 1 }\n"
                       "  let t = replace(s, \"a\", s)\n"
                       "  return len(t)\n}\n";
  auto b = Start(blowup, json::object(), "r47", small);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->status, store::RunStatus::Failed);
  EXPECT_EQ(b->error["kind"], "limit");
  EXPECT_EQ(b->error["message"], "replace() would build 25600 MiB, more than the run's memory limit leaves");
}

// ---- blocked, not failed (SPEC §4) ----------------------------------------

TEST_F(EngineTest, AStepThatCannotBeSentBlocksTheRunUntilTheMachineIsFixed) {
  const fs::path tools = dir_ / "tools";
  Write("blocked.json", R"({"connector": "gone", "transport": {"kind": "exec", "command": ["./tools/run.sh"]},
    "operations": {"go": {"input": {"type": "object", "properties": {}}, "output": {"type": "object"},
      "idempotent": true}}})");
  const char* src = "connector tool = \"tool.json\"\n"
                    "connector gone = \"blocked.json\"\n"
                    "workflow w() -> int {\n"
                    "  let a = tool.echo(x: \"a\") compensate tool.undo(x: \"undo-a\")\n"
                    "  let g = gone.go()\n"
                    "  return 7\n}\n";
  auto r = Start(src, json::object(), "r48");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting["kind"], "blocked");
  EXPECT_EQ(r->waiting["step"], "gone.go");
  EXPECT_EQ(r->waiting["message"],
            "command '" + (tools / "run.sh").lexically_normal().string() + "' is missing or not executable");
  auto row = *store_->GetRun("r48");
  EXPECT_EQ(row->waiting_reason, "blocked");
  EXPECT_GT(row->wake_at_ms, NowMs() + 20'000);  // the worker tries again after a back-off
  EXPECT_EQ(Invocations(), (std::vector<std::string>{"echo r48:1"}));  // nothing compensated
  // Still missing: a resume blocks again, with a longer back-off.
  auto still = ResumeRun(Rt(), "r48");
  ASSERT_TRUE(still.ok()) << still.error().message;
  EXPECT_EQ(still->waiting["kind"], "blocked");
  EXPECT_GT((*store_->GetRun("r48"))->wake_at_ms, NowMs() + 50'000);
  // Fixed: the resume sends the step.
  fs::create_directories(tools);
  Write("tools/run.sh", "#!/bin/sh\necho '{\"ok\": true}'\n");
  fs::permissions(tools / "run.sh", fs::perms::owner_all);
  auto done = ResumeRun(Rt(), "r48");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->status, store::RunStatus::Completed);
  EXPECT_EQ(done->result, 7);
  std::vector<std::string> types;
  for (const auto& e : Journal("r48")) {
    if (e.step == 2) types.push_back(e.type);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"step_blocked", "step_blocked", "step_started", "step_completed"}));
}

TEST_F(EngineTest, ACompensationThatCannotBeSentBlocksTooAndRunsOnceFixed) {
  Write("undo.json", R"({"connector": "undo", "transport": {"kind": "http", "base_url": "http://127.0.0.1:)" +
                         std::to_string(port_) + R"(", "auth": {"kind": "bearer", "token_env": "FLOW_TEST_UNDO_TOKEN"}},
    "operations": {"it": {"http": {"method": "POST", "path": "/undo"}, "input": {"type": "object", "properties": {}},
      "output": {"type": "object"}, "idempotent": true}}})");
  const char* src = "connector tool = \"tool.json\"\n"
                    "connector undo = \"undo.json\"\n"
                    "workflow w() -> int {\n"
                    "  let a = tool.echo(x: \"a\") compensate undo.it()\n"
                    "  fail \"boom\"\n}\n";
  ::unsetenv("FLOW_TEST_UNDO_TOKEN");
  auto r = Start(src, json::object(), "r49");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting["kind"], "blocked");
  EXPECT_EQ(r->waiting["message"], "environment variable FLOW_TEST_UNDO_TOKEN is not set (needed for auth)");
  EXPECT_TRUE(RequestKeys().empty());
  ::setenv("FLOW_TEST_UNDO_TOKEN", "t0ken", 1);
  auto done = ResumeRun(Rt(), "r49");
  ::unsetenv("FLOW_TEST_UNDO_TOKEN");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->status, store::RunStatus::Failed);
  EXPECT_EQ(done->error["message"], "boom");
  EXPECT_EQ(done->compensations, json::parse(R"([{"step": "undo.it", "status": "completed"}])"));
  EXPECT_EQ(RequestKeys(), (std::vector<std::string>{"r49:undo:1"}));
}

// ---- saved states are checksummed ------------------------------------------

// Every single-byte change of a waiting run's saved state is a clean error
// when the run is loaded, never a run that goes on with a changed value.
TEST_F(EngineTest, ADamagedStateIsAnErrorNeverAWrongAnswer) {
  const char* src = "workflow w(n: int) -> string {\n"
                    "  let s = \"abcdef\"\n"
                    "  let xs = [n, n + 1, n * 2]\n"
                    "  let d = approve \"go?\"\n"
                    "  return s + string(xs) + d.by\n}\n";
  auto r = Start(src, json{{"n", 21}}, "r50");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string good = **store_->LoadState("r50");
  std::mt19937 rng(20261202);
  size_t refused = 0;
  for (size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ (1 + rng() % 255));
    store::DurableUpdate u;
    u.run_id = "r50";
    u.state = bad;
    ASSERT_TRUE(store_->Commit(u).ok());
    auto resumed = ResumeRun(Rt(), "r50");
    EXPECT_FALSE(resumed.ok()) << "byte " << at << " changed, and the run still loaded";
    refused += !resumed.ok();
  }
  EXPECT_EQ(refused, good.size());
  store::DurableUpdate u;
  u.run_id = "r50";
  u.state = good;
  ASSERT_TRUE(store_->Commit(u).ok());
  auto still = ResumeRun(Rt(), "r50");
  ASSERT_TRUE(still.ok()) << still.error().message;
  EXPECT_EQ(still->status, store::RunStatus::Waiting);
}

// A pid alone is reused: a holder is identified by pid, start time and boot
// id, and a live process with the holder's pid but another start time (or
// boot) is not the holder. Crafted with our parent's pid, which lives.
TEST_F(EngineTest, ALeaseHeldByADeadProcessWhosePidWasReusedIsTakenOver) {
  const std::string me = ThisLeaseOwner();
  const std::string host = me.substr(me.find('@') + 1);
  const long parent = static_cast<long>(::getppid());
  const std::string start = ProcessStartTime(parent);
  const std::string boot = BootId();
  ASSERT_FALSE(start.empty());
  ASSERT_FALSE(boot.empty());
  auto owner = [&](const std::string& s, const std::string& b) {
    store::RunRecord r;
    r.lease_owner = fmt::format("{}:{}:{}@{}", parent, s, b, host);
    r.lease_expiry_ms = NowMs() + 60'000;
    return r;
  };
  EXPECT_FALSE(LeaseTakeable(owner(start, boot), me, NowMs()));                       // the holder lives
  EXPECT_TRUE(LeaseTakeable(owner(start + "1", boot), me, NowMs()));                  // pid reused
  EXPECT_TRUE(LeaseTakeable(owner(start, "00000000-0000-0000-0000-000000000000"), me, NowMs()));  // rebooted
  // And through the store: resuming takes the run over at once.
  auto r = Start("workflow w() -> string {\n  let d = approve \"go?\"\n  return d.by\n}\n", json::object(), "r51");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string reused = owner(start + "1", boot).lease_owner;
  auto h = store_->TakeLease("r51", reused, NowMs(), NowMs() + 60'000, "");
  ASSERT_TRUE(h.ok() && *h == reused);
  auto taken = ResumeRun(Rt(), "r51");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->status, store::RunStatus::Waiting);
  EXPECT_EQ(me.substr(0, me.find(':')), std::to_string(::getpid()));
}

}  // namespace
}  // namespace flow::engine
