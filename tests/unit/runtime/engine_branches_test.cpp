// Parallel branches against the run engine end to end (docs/composition.md;
// the fixture of engine_fixture.h): each branch completion is its own
// durable point, a crash with several steps in flight resends each
// unfinished one with its own key and the same arguments (its effects are
// per branch), and never a completed one. With killed processes:
// tests/crash/parallel_test.py.
#include <gtest/gtest.h>

#include <chrono>
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
  std::thread runner([&] {
    auto own = store::OpenSqliteStore((dir_ / "flow.db").string());
    ASSERT_TRUE(own.ok());
    Runtime runtime{**own, transports_};
    report = StartRun(runtime, bytes, "w", json::object(), "r42");
  });
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

}  // namespace
}  // namespace flow::engine
