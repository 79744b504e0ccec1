// Parallel branches against the run engine end to end (docs/composition.md;
// the fixture of engine_fixture.h): each branch completion is its own
// durable point, a crash with several steps in flight resends each
// unfinished one with its own key and the same arguments (its effects are
// per branch), and never a completed one. With killed processes:
// tests/crash/parallel_test.py.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "tests/unit/runtime/engine_fixture.h"
#include "vm/engine/events.h"

namespace flow::engine {
namespace {

constexpr const char* kThreeCharges =
    "connector billing = \"billing.json\"\n"
    "workflow w() -> [string] {\n"
    "  let ids = parallel for k in [1, 2, 3] {\n"
    "    let u = uuid()\n"
    "    let c = billing.charge(customer: u, amount: k)\n"
    "    u\n"
    "  }\n"
    "  return ids\n}\n";

// Per key, the customers its requests named (the path is
// /customers/{customer}/charges).
auto CustomersByKey(const json& requests) -> std::map<std::string, std::vector<std::string>> {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& r : requests) {
    std::string path = r["path"];
    std::string key;
    for (const auto& [name, value] : r["headers"].items()) {
      if (name == "Idempotency-Key" || name == "idempotency-key") key = value.get<std::string>();
    }
    out[key].push_back(path.substr(11, path.size() - 11 - 8));
  }
  return out;
}

TEST_F(EngineTest, ABranchCompletionIsDurableAndOnlyTheUnfinishedStepsAreResent) {
  EngineOptions crash;
  crash.crash_after_commits = 2;  // the branches' effects, then one completion
  ASSERT_FALSE(Start(kThreeCharges, json::object(), "r40", crash).ok());
  std::set<std::string> completed;
  for (const auto& e : Journal("r40")) {
    if (e.type == events::kStepCompleted) completed.insert("r40:" + e.branch + ":" + std::to_string(e.step));
  }
  ASSERT_EQ(completed.size(), 1u);
  auto r = ResumeRun(Rt(), "r40");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto sent = CustomersByKey(Http("GET", "/_requests", nullptr));
  ASSERT_EQ(sent.size(), 3u);
  std::vector<std::string> customers;
  for (int k = 1; k <= 3; ++k) {
    std::string key = "r40:1." + std::to_string(k) + ":1";
    ASSERT_TRUE(sent.count(key)) << key;
    const auto& named = sent[key];
    // Resent with the same arguments (the branch's uuid() is replayed) ...
    for (const auto& c : named) EXPECT_EQ(c, named[0]) << key;
    // ... and the completed one never.
    if (completed.count(key)) {
      EXPECT_EQ(named.size(), 1u) << key;
    }
    customers.push_back(named[0]);
  }
  EXPECT_EQ(r->result, json(customers));  // in input order
  int completions = 0;
  for (const auto& e : Journal("r40")) completions += e.type == events::kStepCompleted;
  EXPECT_EQ(completions, 3);
}

// The first failure stops the other items: with `limit 1` no item after the
// failed one is started, and the error is raised at the block.
TEST_F(EngineTest, AFailedBranchStartsNoFurtherItem) {
  const char* src =
      "connector tool = \"tool.json\"\n"
      "workflow w() -> string {\n"
      "  try {\n"
      "    parallel for k in [\"a\", \"b\", \"c\"] limit 1 {\n"
      "      if k == \"b\" { tool.fail(message: \"b failed\") }\n"
      "      tool.echo(x: k)\n"
      "    }\n"
      "  } catch err {\n"
      "    return err.step ?? \"?\"\n"
      "  }\n"
      "  return \"none\"\n}\n";
  auto r = Start(src, json::object(), "r41");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "tool.fail");
  std::vector<std::string> keys;
  for (const auto& e : Journal("r41")) {
    if (e.type == events::kStepStarted) keys.push_back(e.branch + ":" + std::to_string(e.step));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"1.1:1", "1.2:1"}));
}

// A cancellation requested while branch steps are in flight: nothing more
// is sent (no further item, no step after the block), the steps in flight
// land and are journaled, and the compensations of every completed one run.
// The exec tool logs each call, then waits for the file "go": the test
// requests the cancellation once three calls are in flight (a condition it
// polls, not a delay), then lets them finish.
TEST_F(EngineTest, ACancelWithBranchStepsInFlightUndoesEveryCompletedOne) {
  Write("hold.py",
        "import json, os, sys, time\n"
        "args = json.load(sys.stdin)\n"
        "with open('calls.log', 'a') as f: f.write('%s\\n' % args['n'])\n"
        "while not os.path.exists('go'): time.sleep(0.01)\n"
        "print(json.dumps({'n': args['n']}))\n");
  Write("hold.json", R"({"connector": "hold", "transport": {"kind": "exec", "command": ["python3", "hold.py"]},
    "operations": {"work": {"idempotent": true,
      "input": {"type": "object", "properties": {"n": {"type": "integer"}}},
      "output": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}}}})");
  const char* src =
      "connector hold = \"hold.json\"\n"
      "workflow w() {\n"
      "  parallel for n in [1, 2, 3, 4, 5] limit 3 {\n"
      "    hold.work(n: n) compensate log.warn(message: \"undo ${n}\")\n"
      "  }\n"
      "  hold.work(n: 99)\n}\n";
  std::string bytes = Compile(src);
  ASSERT_FALSE(bytes.empty());
  Result<RunReport> report = Error{"not run"};
  std::thread runner = StartInThread(bytes, "r42", report);
  auto calls = [&] {
    std::ifstream in(dir_ / "calls.log");
    int n = 0;
    for (std::string l; std::getline(in, l);) ++n;
    return n;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (calls() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(calls(), 3);
  ASSERT_TRUE(RequestCancel(*store_, "r42", "stop").ok());
  Write("go", "");
  runner.join();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->status, store::RunStatus::Cancelled);
  EXPECT_EQ(report->compensations.size(), 3u);
  EXPECT_EQ(calls(), 3);  // items 4 and 5, and the step after the block, never sent
  int completed = 0;
  for (const auto& e : Journal("r42")) completed += e.type == events::kStepCompleted;
  EXPECT_EQ(completed, 3);
}

// Three items, each a charge undone by a refund, then a step after the
// block that a cancellation must never send.
constexpr const char* kThreeUndoableCharges =
    "connector billing = \"billing.json\"\n"
    "workflow w() -> int {\n"
    "  parallel for k in [1, 2, 3] {\n"
    "    let c = billing.charge(customer: \"c${k}\", amount: k) retry 3 backoff 10m\n"
    "      compensate billing.charge(customer: \"refund\", amount: c.amount)\n"
    "  }\n"
    "  let z = billing.charge(customer: \"after\", amount: 9)\n"
    "  return z.amount\n}\n";

auto CountKeys(const std::vector<std::string>& keys) -> std::map<std::string, int> {
  std::map<std::string, int> out;
  for (const auto& k : keys) ++out[k];
  return out;
}

// A driver dead with three branch steps in flight (none of their ends
// durable): the cancellation sends each once more with its own key (the
// service answers the charge it made) and undoes each once; nothing after
// the block is sent (docs/runs.md, "Cancel").
TEST_F(EngineTest, ACancelAfterACrashResendsEachBranchStepInFlightOnceAndUndoesIt) {
  EngineOptions crash;
  crash.crash_before_commits = 1;  // the first completion's: every charge sent, no end durable
  ASSERT_FALSE(Start(kThreeUndoableCharges, json::object(), "r43", crash).ok());
  ASSERT_EQ(RequestKeys().size(), 3u);
  auto c = CancelRun(Rt(), "r43", "stop");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(c->compensations.size(), 3u);
  EXPECT_EQ(CountKeys(RequestKeys()), (std::map<std::string, int>{{"r43:1.1:1", 2}, {"r43:1.2:1", 2},
                                                                  {"r43:1.3:1", 2}, {"r43:undo:1", 1},
                                                                  {"r43:undo:2", 1}, {"r43:undo:3", 1}}));
  EXPECT_EQ(Http("GET", "/_effects", nullptr).size(), 6u);  // three charges, three refunds
}

// The canceller dies in turn after one of the resent steps' ends is
// durable: the next one sends the other two again (journaled as started,
// their outcome unknown) and not the completed one; each is undone once.
TEST_F(EngineTest, ACancellerDeadWhileResendingBranchStepsLeavesOnlyTheUnfinishedOnesToResend) {
  EngineOptions crash;
  crash.crash_before_commits = 1;
  ASSERT_FALSE(Start(kThreeUndoableCharges, json::object(), "r44", crash).ok());
  ASSERT_TRUE(RequestCancel(*store_, "r44", "stop").ok());
  EngineOptions cancel_crash;
  cancel_crash.crash_after_commits = 2;  // the resends journaled, one end
  ASSERT_FALSE(ResumeRun(Rt(cancel_crash), "r44").ok());
  std::string first;
  for (const auto& e : Journal("r44")) {
    if (e.type == events::kStepCompleted) first = "r44:" + e.branch + ":1";
  }
  ASSERT_FALSE(first.empty());
  auto c = ResumeRun(Rt(), "r44");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  auto sent = CountKeys(RequestKeys());
  for (int k = 1; k <= 3; ++k) {
    std::string key = "r44:1." + std::to_string(k) + ":1";
    EXPECT_EQ(sent[key], key == first ? 2 : 3) << key;
  }
  for (int k = 1; k <= 3; ++k) EXPECT_EQ(sent["r44:undo:" + std::to_string(k)], 1) << k;
  EXPECT_EQ(sent.count("r44:1"), 0u);  // the step after the block
  EXPECT_EQ(Http("GET", "/_effects", nullptr).size(), 6u);
}

// A branch step whose response was lost after the service charged (a
// retryable failure) and whose backoff suspended the run: the cancellation
// sends its next attempt once with its key and refunds it with the others.
// The backoff has full jitter; the 503's Retry-After (a floor) makes it
// 10 minutes, too long to wait in process.
TEST_F(EngineTest, ACancelDuringABranchStepsBackoffResendsItOnceAndUndoesIt) {
  Http("POST", "/_control", json{{"path", "/customers/c2/charges"}, {"lose_response", 1},
                                 {"lost_status", 503}, {"retry_after", "600"}});
  auto r = Start(kThreeUndoableCharges, json::object(), "r45");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  ASSERT_EQ(r->waiting["kind"], "retry");
  auto c = CancelRun(Rt(), "r45", "stop");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, store::RunStatus::Cancelled);
  EXPECT_EQ(c->compensations.size(), 3u);
  EXPECT_EQ(CountKeys(RequestKeys()), (std::map<std::string, int>{{"r45:1.1:1", 1}, {"r45:1.2:1", 2},
                                                                  {"r45:1.3:1", 1}, {"r45:undo:1", 1},
                                                                  {"r45:undo:2", 1}, {"r45:undo:3", 1}}));
  EXPECT_EQ(Http("GET", "/_effects", nullptr).size(), 6u);
}

// A live driver whose branch step fails retryably after the cancellation
// was requested: the failure is journaled, not retried, and the
// cancellation sends that step once more (its attempt may have taken
// effect) and undoes it with the others. The exec tool logs each call,
// waits for the file "go-<n>", and fails item 2's first call with exit 75.
TEST_F(EngineTest, ABranchStepsRetryEndedByACancelIsResentOnceAndUndone) {
  Write("hold.py",
        "import json, os, sys, time\n"
        "args = json.load(sys.stdin)\n"
        "key = os.environ.get('FLOW_IDEMPOTENCY_KEY', '')\n"
        "with open('calls.log', 'a') as f: f.write('%s %s %s\\n' % (sys.argv[1], args['n'], key))\n"
        "if sys.argv[1] == 'work':\n"
        "    while not os.path.exists('go-%d' % args['n']): time.sleep(0.01)\n"
        "    if args['n'] == 2 and not os.path.exists('failed'):\n"
        "        open('failed', 'w').close()\n"
        "        sys.exit(75)\n"
        "print(json.dumps({'n': args['n']}))\n");
  Write("hold.json", R"({"connector": "hold", "transport": {"kind": "exec", "command": ["python3", "hold.py"]},
    "operations": {
      "work": {"idempotent": true, "args": ["work"],
        "input": {"type": "object", "properties": {"n": {"type": "integer"}}},
        "output": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}},
      "undo": {"idempotent": true, "args": ["undo"],
        "input": {"type": "object", "properties": {"n": {"type": "integer"}}},
        "output": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}}}})");
  const char* src =
      "connector hold = \"hold.json\"\n"
      "workflow w() {\n"
      "  parallel for n in [1, 2, 3] {\n"
      "    let c = hold.work(n: n) retry 3 backoff 10m compensate hold.undo(n: c.n)\n"
      "  }\n"
      "  hold.work(n: 99)\n}\n";
  std::string bytes = Compile(src);
  ASSERT_FALSE(bytes.empty());
  Result<RunReport> report = Error{"not run"};
  std::thread runner = StartInThread(bytes, "r46", report);
  auto calls = [&] {
    std::ifstream in(dir_ / "calls.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (calls().size() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(calls().size(), 3u);
  ASSERT_TRUE(RequestCancel(*store_, "r46", "stop").ok());
  // Items 1 and 3 first: their commits tell the driver of the request
  // before item 2's failure arrives.
  Write("go-1", "");
  Write("go-3", "");
  auto completed = [&] {
    int n = 0;
    for (const auto& e : Journal("r46")) n += e.type == events::kStepCompleted;
    return n;
  };
  while (completed() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(completed(), 2);
  Write("go-2", "");
  runner.join();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->status, store::RunStatus::Cancelled);
  EXPECT_EQ(report->compensations.size(), 3u);
  std::map<std::string, int> work;
  std::set<std::string> undone, undo_keys;
  for (const auto& line : calls()) {
    if (line.rfind("work ", 0) == 0) ++work[line];
    if (line.rfind("undo ", 0) == 0) {
      undone.insert(line.substr(5, 1));
      undo_keys.insert(line.substr(7));
    }
  }
  // Item 2 sent twice with its key (its failed attempt, the cancellation's
  // resend), the others once; nothing after the block.
  EXPECT_EQ(work, (std::map<std::string, int>{{"work 1 r46:1.1:1", 1}, {"work 2 r46:1.2:1", 2},
                                              {"work 3 r46:1.3:1", 1}}));
  EXPECT_EQ(undone, (std::set<std::string>{"1", "2", "3"}));
  EXPECT_EQ(undo_keys, (std::set<std::string>{"r46:undo:1", "r46:undo:2", "r46:undo:3"}));
  EXPECT_EQ(calls().size(), 7u);
}

// A cancellation requested while a branch step waits out an in-process
// backoff (50 s: the 503's Retry-After, a floor over the 1 s jitter)
// withdraws that attempt: the run learns of it at its next poll, not when
// the backoff ends. The step's failed attempt may have taken effect, so
// the cancellation sends it once more (journaled `resent`, not as attempt
// 2 of the retry) and undoes it with the others.
TEST_F(EngineTest, ACancelDuringABranchStepsInProcessBackoffWithdrawsTheRetry) {
  Http("POST", "/_control", json{{"path", "/customers/c2/charges"}, {"lose_response", 1},
                                 {"lost_status", 503}, {"retry_after", "50"}});
  const char* src =
      "connector billing = \"billing.json\"\n"
      "workflow w() -> int {\n"
      "  parallel for k in [1, 2, 3] {\n"
      "    let c = billing.charge(customer: \"c${k}\", amount: k) retry 3 backoff 1s max 1s\n"
      "      compensate billing.charge(customer: \"refund\", amount: c.amount)\n"
      "  }\n"
      "  let z = billing.charge(customer: \"after\", amount: 9)\n"
      "  return z.amount\n}\n";
  std::string bytes = Compile(src);
  ASSERT_FALSE(bytes.empty());
  Result<RunReport> report = Error{"not run"};
  std::thread runner = StartInThread(bytes, "r47", report);
  auto retrying = [&] {
    for (const auto& e : Journal("r47")) {
      if (e.type == events::kStepFailed && e.branch == "1.2") return true;
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!retrying() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(retrying());
  ASSERT_TRUE(RequestCancel(*store_, "r47", "stop").ok());
  runner.join();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->status, store::RunStatus::Cancelled);
  EXPECT_EQ(report->compensations.size(), 3u);
  EXPECT_EQ(CountKeys(RequestKeys()), (std::map<std::string, int>{{"r47:1.1:1", 1}, {"r47:1.2:1", 2},
                                                                  {"r47:1.3:1", 1}, {"r47:undo:1", 1},
                                                                  {"r47:undo:2", 1}, {"r47:undo:3", 1}}));
  int resent = 0, sent = 0;
  for (const auto& e : Journal("r47")) {
    if (e.type != events::kStepStarted || e.branch != "1.2") continue;
    ++(json::parse(e.data).value("resent", false) ? resent : sent);
  }
  EXPECT_EQ(sent, 1);    // its first attempt; the retry was withdrawn, never sent
  EXPECT_EQ(resent, 1);  // the cancellation's send
}

// A branch step that cannot be sent (its tool is missing) parks the run
// `blocked`, naming the branch; a resume that finds it still missing
// blocks again with a doubled back-off (30 s, then 1 min), as a root step
// does; once the tool is there the resume sends it.
TEST_F(EngineTest, ABlockedBranchStepBacksOffLongerEachTimeItIsStillBlocked) {
  const fs::path tools = dir_ / "tools";
  Write("blocked.json", R"({"connector": "gone", "transport": {"kind": "exec", "command": ["./tools/run.sh"]},
    "operations": {"go": {"input": {"type": "object", "properties": {"n": {"type": "integer"}}},
      "output": {"type": "object"}, "idempotent": true}}})");
  const char* src = "connector gone = \"blocked.json\"\n"
                    "workflow w() -> int {\n"
                    "  parallel for n in [1, 2] {\n"
                    "    if n == 2 {\n"
                    "      gone.go(n: n)\n"
                    "    }\n"
                    "  }\n"
                    "  return 7\n}\n";
  auto r = Start(src, json::object(), "r49");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting["kind"], "blocked");
  EXPECT_EQ(r->waiting["branch"], "1.2");
  auto still = ResumeRun(Rt(), "r49");
  ASSERT_TRUE(still.ok()) << still.error().message;
  EXPECT_EQ(still->waiting["kind"], "blocked");
  // Each block's back-off, from its journal entry: retry_at_ms less the
  // time it was committed (which comes a moment after retry_at_ms is set).
  std::vector<int64_t> backoffs;
  for (const auto& e : Journal("r49")) {
    if (e.type == events::kStepBlocked) backoffs.push_back(json::parse(e.data)["retry_at_ms"].get<int64_t>() - e.at_ms);
  }
  ASSERT_EQ(backoffs.size(), 2u);
  EXPECT_GT(backoffs[0], 25'000);
  EXPECT_LE(backoffs[0], 30'000);
  EXPECT_GT(backoffs[1], 55'000);
  EXPECT_LE(backoffs[1], 60'000);
  fs::create_directories(tools);
  Write("tools/run.sh", "#!/bin/sh\necho '{}'\n");
  fs::permissions(tools / "run.sh", fs::perms::owner_all);
  auto done = ResumeRun(Rt(), "r49");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->status, store::RunStatus::Completed);
  EXPECT_EQ(done->result, 7);
}

}  // namespace
}  // namespace flow::engine
