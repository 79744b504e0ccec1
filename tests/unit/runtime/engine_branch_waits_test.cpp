// Approvals, signal waits and sleeps inside parallel branches against the
// run engine (docs/composition.md, "Waits inside branches as built"; the
// fixture of engine_fixture.h): a branch's sleep is a durable timer on the
// Runtime's clock, and a decision recorded for a branch's approval is
// delivered exactly once whatever point a crash interrupts. With killed
// processes: tests/crash/parallel_waits_test.py.
#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "tests/unit/runtime/engine_fixture.h"
#include "vm/engine/events.h"
#include "vm/value/convert.h"

namespace flow::engine {
namespace {

// Says one time until the test sets another.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(int64_t ms) : now_(ms) {}
  auto NowMs() const -> int64_t override { return now_; }
  void SleepFor(std::chrono::milliseconds) const override {}
  void Set(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

// 2026-01-15T09:30:00Z.
constexpr int64_t kFixedMs = 1'768'469'400'000;

auto Data(const store::JournalEvent& e) -> json { return json::parse(e.data); }

TEST_F(EngineTest, ABranchSleepIsADurableTimerOnTheRuntimesClock) {
  FixedClock clock(kFixedMs);
  std::string bytes = Compile(
      "workflow w() -> int {\n"
      "  parallel {\n"
      "    sleep 1h\n"
      "    log.info(message: \"other branch\")\n"
      "    parallel for k in range(6) {\n"
      "      sleep 1h\n"
      "    }\n"
      "  }\n"
      "  return 7\n}\n");
  ASSERT_FALSE(bytes.empty());
  Runtime rt{*store_, transports_, clock};
  auto r = StartRun(rt, bytes, "w", json::object(), "s1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting.value("kind", ""), "timer");
  EXPECT_EQ(r->waiting.value("branch", ""), "1.1");
  auto row = store_->GetRun("s1");
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*row)->waiting_reason, "timer");
  EXPECT_EQ((*row)->wake_at_ms, kFixedMs + 3'600'000);  // what `flow worker` looks at
  // Not due: still waiting, the timer not fired.
  clock.Set(kFixedMs + 3'599'999);
  r = ResumeRun(rt, "s1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Waiting);
  // Due: fired once, in its branch, naming its request.
  clock.Set(kFixedMs + 3'600'000);
  r = ResumeRun(rt, "s1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, store::RunStatus::Completed);
  EXPECT_EQ(r->result, 7);
  // Seven timers due at once (one delivery after another, the journal
  // growing meanwhile), each fired once in its branch, naming its request.
  std::map<std::string, int64_t> requests;
  std::map<std::string, int> fired;
  for (const auto& e : Journal("s1")) {
    if (e.type == events::kTimerStarted) requests[e.branch] = e.seq;
    if (e.type == events::kTimerFired) {
      ++fired[e.branch];
      EXPECT_EQ(Data(e).value("request", int64_t{-1}), requests[e.branch]) << e.branch;
    }
  }
  EXPECT_EQ(requests.size(), 7u);
  EXPECT_EQ(fired.size(), 7u);
  for (const auto& [branch, n] : fired) EXPECT_EQ(n, 1) << branch;
}

// The decision for the oldest approval (branch 1.1) is recorded as `flow
// approve` records it; a driver that crashes before, and one that crashes
// right after, the commit delivering it leave it delivered exactly once,
// and the other branch still waits.
TEST_F(EngineTest, ABranchApprovalIsDeliveredOnceAcrossCrashes) {
  auto r = Start(
      "workflow w() -> [string] {\n"
      "  parallel {\n"
      "    let a = approve \"A?\"\n"
      "    let b = approve \"B?\"\n"
      "  }\n"
      "  return [a.by, b.by]\n}\n",
      json::object(), "a1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  ASSERT_EQ(r->waiting.value("branch", ""), "1.1");
  ASSERT_EQ(r->waiting["also"][0].value("branch", ""), "1.2");
  std::map<std::string, int64_t> requests;
  for (const auto& e : Journal("a1")) {
    if (e.type == events::kApprovalRequested) requests[e.branch] = e.seq;
  }
  ASSERT_EQ(requests.size(), 2u);
  auto decide = [&](const std::string& branch, const std::string& by) {
    store::JournalEvent d;
    d.type = std::string(events::kApprovalDecided);
    d.data = value::DumpJson(json{{"approved", true}, {"by", by}, {"comment", ""}, {"at", "2026-01-15T09:30:00Z"},
                                  {"request", requests[branch]}, {"branch", branch}});
    store::AppendCondition open;
    open.statuses = {store::RunStatus::Waiting};
    open.unanswered_request = requests[branch];
    auto out = store_->AppendEventIf("a1", d, open);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->refusal, store::AppendRefusal::None);
    // Decided once: a second decision for the same request is refused.
    auto again = store_->AppendEventIf("a1", d, open);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->refusal, store::AppendRefusal::Answered);
  };
  decide("1.1", "ann");
  EngineOptions before;
  before.crash_before_commits = 1;
  EXPECT_FALSE(ResumeRun(Rt(before), "a1").ok());
  EngineOptions after;
  after.crash_after_commits = 1;
  EXPECT_FALSE(ResumeRun(Rt(after), "a1").ok());
  r = ResumeRun(Rt(), "a1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->status, store::RunStatus::Waiting);
  EXPECT_EQ(r->waiting.value("branch", ""), "1.2");
  EXPECT_FALSE(r->waiting.contains("also"));
  decide("1.2", "bob");
  r = ResumeRun(Rt(), "a1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result, json({"ann", "bob"}));
  std::map<int64_t, int> delivered;
  for (const auto& e : Journal("a1")) {
    if (e.type == events::kRunResumed) ++delivered[Data(e).value("request", int64_t{-1})];
  }
  EXPECT_EQ(delivered, (std::map<int64_t, int>{{requests["1.1"], 1}, {requests["1.2"], 1}}));
}

}  // namespace
}  // namespace flow::engine
