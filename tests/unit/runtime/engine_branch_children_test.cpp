// Child workflow calls inside parallel branches against the run engine
// (docs/composition.md, "Child calls in branches as built"; the fixture of
// engine_fixture.h): a crash after a branch's child was created attaches to
// that child on resume instead of creating a second one, and each child's
// step reaches the back end with the child's own key. With killed
// processes: tests/crash/parallel_children_test.py.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/unit/runtime/engine_fixture.h"
#include "vm/engine/events.h"

namespace flow::engine {
namespace {

constexpr const char* kTwoChildren =
    "connector billing = \"billing.json\"\n"
    "workflow pay(k: int) -> int {\n"
    "  let c = billing.charge(customer: \"c${k}\", amount: k)\n"
    "  return c.amount * 10\n"
    "}\n"
    "workflow w() -> [int] {\n"
    "  let xs = parallel for k in [1, 2] {\n"
    "    pay(k: k)\n"
    "  }\n"
    "  return xs\n}\n";

class EngineBranchChildrenTest : public EngineTest {
 protected:
  // How many requests the billing server got per idempotency key.
  static auto RequestsByKey() -> std::map<std::string, int> {
    std::map<std::string, int> out;
    for (const auto& key : RequestKeys()) ++out[key];
    return out;
  }
  void CrashAfterCreationThenResume(int commits, const std::string& id);
  auto store() -> store::Store& { return *store_; }
};

// A crash right after the N-th durable point of the parent (1: the first
// child's creation; 2: the second's, with the first maybe driven already),
// then a resume: exactly one child per call, each key sent, the values in
// input order, and each call's child_started journaled once.
void EngineBranchChildrenTest::CrashAfterCreationThenResume(int commits, const std::string& id) {
  EngineOptions crash;
  crash.crash_after_commits = commits;
  ASSERT_FALSE(Start(kTwoChildren, json::object(), id, crash).ok());
  auto r = ResumeRun(Rt(), id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Completed);
  EXPECT_EQ(r->result, json({10, 20}));
  auto children = store().ListChildren(id);
  ASSERT_TRUE(children.ok());
  std::vector<std::string> ids;
  for (const auto& c : *children) {
    ids.push_back(c.id);
    EXPECT_EQ(c.status, store::RunStatus::Completed) << c.id;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{id + "/1.1/1", id + "/1.2/1"}));
  int started = 0;
  for (const auto& e : Journal(id)) {
    if (e.type != events::kChildStarted) continue;
    ++started;
    EXPECT_FALSE(e.branch.empty());
  }
  EXPECT_EQ(started, 2);
  auto sent = RequestsByKey();
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[id + "/1.1/1:1"], 1);
  EXPECT_EQ(sent[id + "/1.2/1:1"], 1);
}

TEST_F(EngineBranchChildrenTest, ABranchChildCreatedBeforeACrashIsAttachedTo) { CrashAfterCreationThenResume(1, "r60"); }

TEST_F(EngineBranchChildrenTest, BranchChildrenCreatedBeforeACrashAreEachAttachedTo) {
  CrashAfterCreationThenResume(2, "r61");
}

// A child's failure fails its branch with the child's error kind, message
// and step, which `try` around the block catches; the child is `failed`.
TEST_F(EngineBranchChildrenTest, ABranchChildsFailureIsRaisedInItsBranch) {
  const char* src =
      "connector tool = \"tool.json\"\n"
      "workflow bad() -> int {\n"
      "  tool.fail(message: \"no\")\n"
      "  return 1\n"
      "}\n"
      "workflow w() -> string {\n"
      "  try {\n"
      "    parallel {\n"
      "      let a = bad()\n"
      "    }\n"
      "  } catch err {\n"
      "    return \"${err.kind} at ${err.step ?? \"?\"}\"\n"
      "  }\n"
      "  return \"none\"\n}\n";
  auto r = Start(src, json::object(), "r62");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto child = store().GetRun("r62/1.1/1");
  ASSERT_TRUE(child.ok() && *child);
  EXPECT_EQ((*child)->status, store::RunStatus::Failed);
  json err = json::parse((*child)->error);
  EXPECT_EQ(r->result, json(err["kind"].get<std::string>() + " at tool.fail"));
  bool failed_event = false;
  for (const auto& e : Journal("r62")) failed_event |= e.type == events::kChildFailed && e.branch == "1.1";
  EXPECT_TRUE(failed_event);
}

// A child whose branch stops while its driver is at work (the other
// branch's child failed) has its cancellation recorded and is cancelled by
// its own driver; the parent's branch gets `cancelled` and the group raises
// the first failure. The exec tool holds its step until it sees its run's
// cancellation request in the database (a condition it polls, not a
// delay), so the child is surely being driven when its branch stops.
TEST_F(EngineBranchChildrenTest, ADrivenChildOfAStoppedBranchIsCancelled) {
  Write("hold.py",
        "import json, os, sqlite3, sys, time\n"
        "json.load(sys.stdin)\n"
        "run = os.environ['FLOW_RUN_ID']\n"
        "for _ in range(2000):\n"
        "    db = sqlite3.connect('file:flow.db?mode=ro', uri=True, timeout=10)\n"
        "    row = db.execute('SELECT cancel_requested_ms FROM runs WHERE id = ?', (run,)).fetchone()\n"
        "    db.close()\n"
        "    if row and row[0] is not None: break\n"
        "    time.sleep(0.01)\n"
        "else:\n"
        "    sys.exit(1)\n"
        "print(json.dumps({'n': 1}))\n");
  Write("hold.json", R"({"connector": "hold", "transport": {"kind": "exec", "command": ["python3", "hold.py"]},
    "operations": {"work": {"idempotent": true,
      "input": {"type": "object", "properties": {"n": {"type": "integer"}}},
      "output": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}}}})");
  const char* src =
      "connector hold = \"hold.json\"\n"
      "workflow slow() -> int {\n"
      "  let h = hold.work(n: 1)\n"
      "  return h.n\n"
      "}\n"
      "workflow bad() -> int {\n"
      "  if true {\n"
      "    fail \"no\"\n"
      "  }\n"
      "  return 1\n"
      "}\n"
      "workflow w() -> string {\n"
      "  try {\n"
      "    parallel {\n"
      "      let a = slow()\n"
      "      let b = bad()\n"
      "    }\n"
      "  } catch err {\n"
      "    return err.message\n"
      "  }\n"
      "  return \"none\"\n}\n";
  auto r = Start(src, json::object(), "r63");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, "no");
  auto slow = store().GetRun("r63/1.1/1");
  ASSERT_TRUE(slow.ok() && *slow);
  EXPECT_EQ((*slow)->status, store::RunStatus::Cancelled);
  EXPECT_GE((*slow)->cancel_requested_ms, 0);
  std::vector<std::string> ends;
  for (const auto& e : Journal("r63")) {
    if (e.type == events::kChildFailed) ends.push_back(e.branch + " " + json::parse(e.data)["error"]["kind"].get<std::string>());
  }
  EXPECT_EQ(ends, (std::vector<std::string>{"1.2 fail", "1.1 cancelled"}));
}

}  // namespace
}  // namespace flow::engine
