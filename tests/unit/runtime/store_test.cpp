// The store: the contract every backend keeps (TEST_P, run once per row of
// kBackends: programs by hash, runs, the journal's seq numbering, durable
// points, conditional appends, due runs, checkpoints, concurrent
// connections), then the SQLite store's own behaviour (creation, refusing
// foreign, corrupt and newer files without touching them, the append-only
// triggers, the status index, locks, read-only opening), and opening by
// URL (open_store.h).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vm/store/open_store.h"
#include "vm/store/schema.h"
#include "vm/store/store.h"

namespace flow::store {
namespace {

// A journal event to append (the store assigns its seq; the root fiber's).
auto Ev(std::string type, int64_t step = -1, int64_t attempt = 0, std::string data = "{}", int64_t at_ms = 0)
    -> JournalEvent {
  JournalEvent e;
  e.type = std::move(type);
  e.step = step;
  e.attempt = attempt;
  e.data = std::move(data);
  e.at_ms = at_ms;
  return e;
}

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flow_store_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  auto Path(const char* name) -> std::string { return (dir_ / name).string(); }
  static auto Slurp(const std::string& p) -> std::string {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const std::string& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  static void Sql(const std::string& p, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  fs::path dir_;
};

// A store backend the contract tests (TEST_P(StoreContractTest, ...)) run
// against: the next backend (PostgreSQL) adds one row to kBackends and
// inherits every one of them. Tests of one backend's own behaviour (SQLite
// files, pragmas, query plans, locks) stay TEST_F(StoreTest, ...).
struct Backend {
  const char* name;
  // The URL of a fresh, empty database for the test whose folder is `dir`.
  std::string (*url)(const fs::path& dir);
};
const Backend kBackends[] = {
    {"sqlite", [](const fs::path& dir) { return "sqlite:" + (dir / "flow.db").string(); }},
};

// Test names and failure messages show the backend by name.
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class StoreContractTest : public StoreTest, public ::testing::WithParamInterface<Backend> {
 protected:
  // A new connection to this test's database, through the one factory.
  auto Open(const StoreOptions& options = {}) -> Result<std::unique_ptr<Store>> {
    return OpenStore(GetParam().url(dir_), options);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) { return std::string(info.param.name); });

auto NewRun(const std::string& id) -> RunRecord {
  RunRecord r;
  r.id = id;
  r.program_hash = "h1";
  r.workflow = "onboard";
  r.input = R"({"n":1})";
  r.created_ms = 1000;
  return r;
}

TEST_P(StoreContractTest, CreatesAndReopens) {
  {
    auto s = Open();
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE((*s)->PutProgram("h1", std::string("\0bytes", 6)).ok());
  }
  auto s = Open();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*(*s)->GetProgram("h1"), std::string("\0bytes", 6));
  EXPECT_TRUE((*s)->PutProgram("h1", std::string("\0bytes", 6)).ok());
  EXPECT_EQ((*s)->PutProgram("h1", "other").error().message, "program h1 is stored with different bytes");
  EXPECT_EQ((*s)->GetProgram("nope").error().message, "no stored program nope");
}

TEST_F(StoreTest, RefusesForeignFilesAndLeavesThemUntouched) {
  std::string text = Path("notes.txt");
  Write(text, "just some text, certainly not a database\n");
  EXPECT_EQ(OpenSqliteStore(text).error().message, "'" + text + "' is not a flow database (not an SQLite file)");
  EXPECT_EQ(Slurp(text), "just some text, certainly not a database\n");

  std::string other = Path("other.db");
  Sql(other, "CREATE TABLE customers (id TEXT)");
  std::string before = Slurp(other);
  EXPECT_EQ(OpenSqliteStore(other).error().message,
            "'" + other + "' is not a flow database (an SQLite file without flow's tables)");
  EXPECT_EQ(Slurp(other), before);

  std::string liar = Path("liar.db");
  Sql(liar, "CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('application', 'other')");
  EXPECT_EQ(OpenSqliteStore(liar).error().message,
            "'" + liar + "' is not a flow database (its meta table does not say flow)");
}

TEST_F(StoreTest, RefusesNewerSchemaAndCorruptFiles) {
  std::string p = Path("flow.db");
  ASSERT_TRUE(OpenSqliteStore(p).ok());
  Sql(p, "PRAGMA user_version = 99");
  EXPECT_EQ(OpenSqliteStore(p).error().message,
            "'" + p + "' has schema version 99, newer than this flow supports (" + std::to_string(kSchemaVersion) +
                "); upgrade flow");

  std::string bad = Path("bad.db");
  ASSERT_TRUE(OpenSqliteStore(bad).ok());
  std::string bytes = Slurp(bad);
  for (size_t i = 100; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  Write(bad, bytes);
  fs::remove(bad + "-wal");
  fs::remove(bad + "-shm");
  auto r = OpenSqliteStore(bad);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Slurp(bad), bytes);
}

TEST_P(StoreContractTest, RunsJournalAndDurablePoints) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  Store& s = **opened;
  EXPECT_EQ(s.CreateRun(NewRun("r1"), Ev("started"), "S0").error().message,
            "run 'r1' names program h1, which is not stored");
  ASSERT_TRUE(s.PutProgram("h1", "code").ok());
  ASSERT_TRUE(s.CreateRun(NewRun("r1"), Ev("started"), "S0").ok());
  auto again = s.CreateRun(NewRun("r1"), Ev("started"), "S0");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "run 'r1' already exists");
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);  // what `flow run --id` branches on

  DurableUpdate u;
  u.run_id = "r1";
  u.events = {Ev("step_started", 1, 1, R"({"op":"billing.charge"})", 2000),
              Ev("step_completed", 1, 1, R"({"id":"c1"})", 2001)};
  u.state = "S1";
  u.now_ms = 2001;
  auto seqs = s.Commit(u);
  ASSERT_TRUE(seqs.ok()) << seqs.error().message;
  EXPECT_EQ(seqs->seqs, (std::vector<int64_t>{2, 3}));

  DurableUpdate wait;
  wait.run_id = "r1";
  wait.status = RunStatus::Waiting;
  wait.waiting_reason = "approval";
  wait.waiting = R"({"prompt":"ok?"})";
  wait.events = {Ev("approval_requested")};
  wait.state = "S2";
  wait.checkpoint = "before-approval";
  ASSERT_TRUE(s.Commit(wait).ok());

  auto run = s.GetRun("r1");
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->status, RunStatus::Waiting);
  EXPECT_EQ((*run)->waiting_reason, "approval");
  EXPECT_EQ(*s.LoadState("r1"), std::optional<std::string>("S2"));
  auto journal = s.Journal("r1");
  ASSERT_EQ(journal->size(), 4u);
  EXPECT_EQ((*journal)[0].type, "started");
  EXPECT_EQ((*journal)[0].seq, 1);
  EXPECT_EQ((*journal)[2].type, "step_completed");
  EXPECT_EQ((*journal)[2].step, 1);
  EXPECT_EQ((*journal)[2].attempt, 1);
  EXPECT_EQ((*journal)[3].seq, 4);
  EXPECT_EQ(s.Checkpoints("r1")->at(0).name, "before-approval");
  EXPECT_EQ(*s.CheckpointState("r1", "before-approval"), std::optional<std::string>("S2"));

  // Resuming clears the wait: "" writes NULL.
  DurableUpdate resume;
  resume.run_id = "r1";
  resume.status = RunStatus::Completed;
  resume.waiting_reason = "";
  resume.result = R"({"ok":true})";
  ASSERT_TRUE(s.Commit(resume).ok());
  run = s.GetRun("r1");
  EXPECT_EQ((*run)->status, RunStatus::Completed);
  EXPECT_EQ((*run)->waiting_reason, "");
  EXPECT_EQ((*run)->result, R"({"ok":true})");
  EXPECT_EQ(s.ListRuns(RunStatus::Completed)->size(), 1u);
  EXPECT_EQ(s.ListRuns(RunStatus::Failed)->size(), 0u);
  EXPECT_FALSE(s.GetRun("nope")->has_value());

  DurableUpdate unknown;
  unknown.run_id = "nope";
  EXPECT_EQ(s.Commit(unknown).error().message, "unknown run 'nope'");

  // A failing durable point leaves nothing behind: the bad status violates
  // the CHECK constraint after the events were inserted.
  DurableUpdate bad;
  bad.run_id = "r1";
  bad.events = {Ev("ghost")};
  bad.waiting_reason = "coffee";
  EXPECT_FALSE(s.Commit(bad).ok());
  EXPECT_EQ(s.Journal("r1")->size(), 4u);
}

TEST_P(StoreContractTest, AnotherProcessAppendingBetweenCommitsKeepsTheSeqsInOrder) {
  // Two connections, as `flow run` driving a run and `flow signal` appending
  // to it: each store remembers the last seq it wrote, and must notice the
  // other's rows instead of colliding with them or losing its own.
  auto a = Open();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->PutProgram("h1", "code").ok());
  ASSERT_TRUE((*a)->CreateRun(NewRun("r1"), Ev("started"), "S0").ok());
  auto b = Open();
  ASSERT_TRUE(b.ok());
  auto commit = [](Store& s, const char* type) {
    DurableUpdate u;
    u.run_id = "r1";
    u.events = {Ev(type)};
    auto out = s.Commit(u);
    return out ? Result<std::vector<int64_t>>(out->seqs) : Result<std::vector<int64_t>>(out.error());
  };
  EXPECT_EQ(*commit(**a, "a1"), (std::vector<int64_t>{2}));
  auto b1 = commit(**b, "b1");
  ASSERT_TRUE(b1.ok()) << b1.error().message;
  EXPECT_EQ(*b1, (std::vector<int64_t>{3}));
  auto a2 = commit(**a, "a2");
  ASSERT_TRUE(a2.ok()) << a2.error().message;
  EXPECT_EQ(*a2, (std::vector<int64_t>{4}));
  EXPECT_EQ(*commit(**a, "a3"), (std::vector<int64_t>{5}));
  EXPECT_EQ(*commit(**b, "b2"), (std::vector<int64_t>{6}));
  auto journal = (*a)->Journal("r1");
  ASSERT_TRUE(journal.ok());
  std::vector<std::string> types;
  for (const auto& e : *journal) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"started", "a1", "b1", "a2", "a3", "b2"}));
}

// A run r1 waiting for approval (an approval_requested in its journal,
// wake_at_ms = `wake`).
void AddRunWaitingForApproval(Store& s, int64_t wake = -1) {
  ASSERT_TRUE(s.PutProgram("h1", "code").ok());
  ASSERT_TRUE(s.CreateRun(NewRun("r1"), Ev("started"), "S0").ok());
  DurableUpdate wait;
  wait.run_id = "r1";
  wait.status = RunStatus::Waiting;
  wait.waiting_reason = "approval";
  wait.waiting = R"({"prompt":"ok?"})";
  wait.wake_at_ms = wake;
  wait.events = {Ev("approval_requested")};
  ASSERT_TRUE(s.Commit(wait).ok());
}

auto WaitingForApproval(int64_t now) -> AppendCondition {
  AppendCondition c;
  c.statuses = {RunStatus::Waiting};
  c.waiting_reason = "approval";
  c.opened_by = "approval_requested";
  c.answered_by = "approval_decided";
  c.not_due_at_ms = now;
  return c;
}

TEST_P(StoreContractTest, AppendEventIfAppendsOnlyWhileTheConditionHolds) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  Store& s = **opened;
  AddRunWaitingForApproval(s);
  const JournalEvent decided = Ev("approval_decided", -1, 0, R"({"approved":true,"by":"ann"})", 5000);

  auto unknown = s.AppendEventIf("nope", decided, WaitingForApproval(5000));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->refusal, AppendRefusal::UnknownRun);
  EXPECT_FALSE(unknown->run.has_value());

  // Another waiting reason is refused, and the row comes back as read.
  AppendCondition signal = WaitingForApproval(5000);
  signal.waiting_reason = "signal";
  auto wrong = s.AppendEventIf("r1", decided, signal);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->refusal, AppendRefusal::Status);
  EXPECT_EQ(wrong->run->waiting_reason, "approval");

  auto first = s.AppendEventIf("r1", decided, WaitingForApproval(5000));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->refusal, AppendRefusal::None);
  EXPECT_EQ(first->seq, 3);

  // The wait is answered now: a second decision is refused with the first.
  auto second = s.AppendEventIf("r1", decided, WaitingForApproval(5000));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->refusal, AppendRefusal::Answered);
  ASSERT_TRUE(second->answer.has_value());
  EXPECT_EQ(second->answer->seq, 3);
  EXPECT_EQ(second->answer->data, R"({"approved":true,"by":"ann"})");

  // A new request opens the wait again; this store's Commit continues the
  // seqs after the appended event (it remembers the last seq it wrote).
  DurableUpdate again;
  again.run_id = "r1";
  again.events = {Ev("approval_requested")};
  EXPECT_EQ(s.Commit(again)->seqs, (std::vector<int64_t>{4}));
  auto third = s.AppendEventIf("r1", decided, WaitingForApproval(5000));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->refusal, AppendRefusal::None);
  EXPECT_EQ(third->seq, 5);

  // A finished run: refused by status, nothing written.
  DurableUpdate done;
  done.run_id = "r1";
  done.status = RunStatus::Completed;
  ASSERT_TRUE(s.Commit(done).ok());
  AppendCondition alive;
  alive.statuses = {RunStatus::Running, RunStatus::Waiting};
  auto late = s.AppendEventIf("r1", Ev("signal_received"), alive);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->refusal, AppendRefusal::Status);
  EXPECT_EQ(late->run->status, RunStatus::Completed);
  EXPECT_EQ(s.Journal("r1")->size(), 5u);
}

TEST_P(StoreContractTest, AppendEventIfRefusesAWaitWhoseTimeoutIsDue) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  Store& s = **opened;
  AddRunWaitingForApproval(s, /*wake=*/7000);
  const JournalEvent decided = Ev("approval_decided");
  auto due = s.AppendEventIf("r1", decided, WaitingForApproval(7000));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->refusal, AppendRefusal::Due);
  EXPECT_EQ(s.Journal("r1")->size(), 2u);
  auto in_time = s.AppendEventIf("r1", decided, WaitingForApproval(6999));
  ASSERT_TRUE(in_time.ok());
  EXPECT_EQ(in_time->refusal, AppendRefusal::None);
}

// `flow approve` under a roles file judges the approval it read: when the
// run waits for another one by the time it appends, nothing is written.
TEST_P(StoreContractTest, AppendEventIfRefusesWhenTheWaitChanged) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  Store& s = **opened;
  AddRunWaitingForApproval(s);
  const JournalEvent decided = Ev("approval_decided");
  AppendCondition read_before = WaitingForApproval(5000);
  read_before.waiting = R"({"from":"ops","prompt":"other?"})";
  auto changed = s.AppendEventIf("r1", decided, read_before);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->refusal, AppendRefusal::Changed);
  EXPECT_EQ(s.Journal("r1")->size(), 2u);
  AppendCondition same = WaitingForApproval(5000);
  same.waiting = R"({"prompt":"ok?"})";
  auto appended = s.AppendEventIf("r1", decided, same);
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended->refusal, AppendRefusal::None);
  EXPECT_EQ(s.Journal("r1")->size(), 3u);
}

TEST_P(StoreContractTest, OfManyConcurrentDecisionsExactlyOneIsRecorded) {
  {
    auto opened = Open();
    ASSERT_TRUE(opened.ok());
    AddRunWaitingForApproval(**opened);
  }
  // Each thread has its own connection, as separate `flow approve`
  // processes do; they start together and all try at once.
  constexpr int kWriters = 8;
  std::atomic<int> ready{0}, accepted{0}, answered{0}, errors{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      auto store = Open();
      if (!store) {
        ++errors;
        return;
      }
      ++ready;
      while (ready.load() < kWriters) std::this_thread::yield();
      JournalEvent e = Ev("approval_decided", -1, 0, "{\"by\":\"w" + std::to_string(i) + "\"}", 5000);
      auto out = (*store)->AppendEventIf("r1", e, WaitingForApproval(5000));
      if (!out) ++errors;
      else if (out->refusal == AppendRefusal::None) ++accepted;
      else if (out->refusal == AppendRefusal::Answered) ++answered;
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(answered.load(), kWriters - 1);
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  auto journal = (*opened)->Journal("r1");
  ASSERT_TRUE(journal.ok());
  int decisions = 0;
  for (const auto& e : *journal) decisions += e.type == "approval_decided";
  EXPECT_EQ(decisions, 1);
}

TEST_F(StoreTest, JournalIsAppendOnly) {
  std::string p = Path("flow.db");
  {
    auto s = OpenSqliteStore(p);
    ASSERT_TRUE((*s)->PutProgram("h1", "code").ok());
    ASSERT_TRUE((*s)->CreateRun(NewRun("r1"), Ev("started"), "S0").ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE journal SET type = 'x'", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM journal", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// flow worker's query: running runs (whatever their lease), and waiting
// runs whose wake_at_ms is due -- not those due later, waiting for ever
// (no wake-up time) or finished.
TEST_P(StoreContractTest, ListDueReturnsRunningAndDueWaitingRunsAndNextWake) {
  auto st = Open();
  ASSERT_TRUE(st.ok()) << st.error().message;
  Store& s = **st;
  ASSERT_TRUE(s.PutProgram("h1", "code").ok());
  EXPECT_EQ(*s.NextWake(), std::nullopt);
  auto add = [&](const char* id, RunStatus status, int64_t wake, const char* reason) {
    RunRecord r = NewRun(id);
    r.lease_owner = std::string(id) == "running" ? "123@elsewhere" : "";
    r.lease_expiry_ms = r.lease_owner.empty() ? -1 : 5000;
    ASSERT_TRUE(s.CreateRun(r, Ev("started", -1, 0, "{}", 1000), "S").ok());
    DurableUpdate u;
    u.run_id = id;
    u.status = status;
    u.waiting_reason = reason;
    u.wake_at_ms = wake;
    u.now_ms = 1000;
    ASSERT_TRUE(s.Commit(u).ok());
  };
  add("timer_due", RunStatus::Waiting, 1500, "timer");
  add("retry_due", RunStatus::Waiting, 1200, "retry");
  add("timer_later", RunStatus::Waiting, 9000, "timer");
  add("approval_forever", RunStatus::Waiting, -1, "approval");
  add("running", RunStatus::Running, -1, "");
  add("completed", RunStatus::Completed, -1, "");
  auto due = s.ListDue(2000);
  ASSERT_TRUE(due.ok()) << due.error().message;
  std::vector<std::string> ids;
  for (const auto& r : *due) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"running", "retry_due", "timer_due"}));
  EXPECT_EQ(due->front().lease_owner, "123@elsewhere");
  EXPECT_EQ(due->front().lease_expiry_ms, 5000);
  EXPECT_EQ(s.ListDue(1499)->size(), 2u);  // `due` is at or before now
  EXPECT_EQ(s.ListDue(9000)->size(), 4u);
  EXPECT_EQ(*s.NextWake(), std::optional<int64_t>(1200));
}

TEST_F(StoreTest, ListDueUsesTheStatusIndex) {
  auto st = OpenSqliteStore(Path("flow.db"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Path("flow.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT id FROM runs WHERE status = 'running' OR "
                               "(status = 'waiting' AND wake_at_ms <= 5)",
                               -1, &q, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(q) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 3))) + "\n";
  sqlite3_finalize(q);
  sqlite3_close(db);
  EXPECT_NE(plan.find("runs_by_status"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN runs"), std::string::npos) << plan;
}

// flow fork's creation: the started event and more, one transaction.
TEST_P(StoreContractTest, CreateRunWithEventsNumbersThemFromOne) {
  auto st = Open();
  ASSERT_TRUE(st.ok()) << st.error().message;
  Store& s = **st;
  ASSERT_TRUE(s.PutProgram("h1", "code").ok());
  std::vector<JournalEvent> head{Ev("started", -1, 0, "{}", 1000), Ev("effect", -1, 0, R"({"seq":1})", 1000)};
  ASSERT_TRUE(s.CreateRunWithEvents(NewRun("f1"), head, "S").ok());
  auto journal = s.Journal("f1");
  ASSERT_EQ(journal->size(), 2u);
  EXPECT_EQ((*journal)[1].seq, 2);
  EXPECT_EQ((*journal)[1].type, "effect");
  EXPECT_EQ(*s.LoadState("f1"), std::optional<std::string>("S"));
  DurableUpdate next;
  next.run_id = "f1";
  next.events = {Ev("checkpoint", -1, 0, "{}", 1100)};
  next.now_ms = 1100;
  EXPECT_EQ(s.Commit(next)->seqs, std::vector<int64_t>{3});
  EXPECT_FALSE(s.CreateRunWithEvents(NewRun("f1"), head, "S").ok());  // exists
  EXPECT_FALSE(s.CreateRunWithEvents(NewRun("f2"), {}, "S").ok());    // no started
  EXPECT_EQ(*s.GetRun("f2"), std::nullopt);
}

// Child runs (docs/composition.md): created in the parent's commit, found
// again (not recreated) when the parent re-executes the call, refused when
// the id belongs to another parent; a child's end wakes its waiting parent.
TEST_F(StoreTest, CommitCreatesAChildOnceAndWakesItsParent) {
  auto st = OpenSqliteStore(Path("flow.db"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  Store& s = **st;
  ASSERT_TRUE(s.PutProgram("h1", "code").ok());
  ASSERT_TRUE(s.CreateRun(NewRun("p"), Ev("started", -1, 0, "{}", 1000), "S").ok());
  auto start_child = [&](const std::string& parent, const std::string& child_id) {
    DurableUpdate u;
    u.run_id = parent;
    u.now_ms = 1100;
    DurableUpdate::NewChild child;
    child.run = NewRun(child_id);
    child.run.parent_id = parent;
    child.started = Ev("started", -1, 0, "{}", 1100);
    child.state = "C";
    u.create_child = child;
    u.events = {Ev("child_started", -1, 0, "{}", 1100)};
    return s.Commit(u);
  };
  auto first = start_child("p", "p/1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->child_existed);
  auto again = start_child("p", "p/1");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->child_existed);
  EXPECT_EQ(s.Journal("p/1")->size(), 1u);  // not recreated
  EXPECT_EQ((*s.GetRun("p/1"))->parent_id, "p");
  ASSERT_TRUE(s.CreateRun(NewRun("q"), Ev("started", -1, 0, "{}", 1000), "S").ok());
  auto foreign = start_child("q", "p/1");
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().message, "run 'p/1' exists but is not a child of run 'q'; it cannot be adopted");
  EXPECT_EQ(s.Journal("q")->size(), 1u);  // nothing of the commit was written
  auto children = s.ListChildren("p");
  ASSERT_EQ(children->size(), 1u);
  EXPECT_EQ((*children)[0].id, "p/1");
  EXPECT_TRUE(s.ListChildren("q")->empty());

  DurableUpdate wait;  // the parent waits on its child, no wake-up time
  wait.run_id = "p";
  wait.status = RunStatus::Waiting;
  wait.waiting_reason = "child";
  wait.wake_at_ms = -1;
  wait.now_ms = 1200;
  ASSERT_TRUE(s.Commit(wait).ok());
  DurableUpdate end;  // the child's end
  end.run_id = "p/1";
  end.status = RunStatus::Completed;
  end.wake_parent = "p";
  end.now_ms = 1300;
  ASSERT_TRUE(s.Commit(end).ok());
  EXPECT_EQ((*s.GetRun("p"))->wake_at_ms, 1300);
  auto due = s.ListDue(1300);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(std::any_of(due->begin(), due->end(), [](const RunRecord& r) { return r.id == "p"; }));
}

// A long-lived connection (flow worker's) sees what another connection
// committed after its earlier reads: no read left open pins a snapshot.
TEST_P(StoreContractTest, ReadsSeeOtherConnectionsCommitsAfterEarlierReads) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*b)->PutProgram("h1", "code").ok());
  ASSERT_TRUE((*b)->CreateRun(NewRun("r1"), Ev("started", -1, 0, "{}", 1000), "S").ok());
  ASSERT_TRUE((*a)->GetRun("r1")->has_value());  // a one-row read, left open
  ASSERT_TRUE((*a)->Journal("r1").ok());
  ASSERT_TRUE((*a)->LoadState("r1").ok());
  ASSERT_TRUE((*b)->CreateRun(NewRun("r2"), Ev("started", -1, 0, "{}", 1000), "S").ok());
  EXPECT_TRUE((*a)->GetRun("r2")->has_value());
  EXPECT_EQ((*a)->ListDue(0)->size(), 2u);
  EXPECT_EQ((*a)->ListRuns(std::nullopt)->size(), 2u);
}

// A database at `p` holding program h1 and run r1 (its started event).
void CreateOneRun(const std::string& p) {
  auto s = OpenSqliteStore(p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s)->PutProgram("h1", "code").ok());
  ASSERT_TRUE((*s)->CreateRun(NewRun("r1"), Ev("started", -1, 0, "{}", 1000), "S").ok());
}

// Opening a database that needs no migration takes no write lock (issue
// 10: 64 concurrent commands hit "database is locked" because every open
// began a write transaction to check the schema version). Another
// connection holds the write lock throughout; opening, reading and a
// read-only opening must not wait for it.
TEST_F(StoreTest, OpeningAnUpToDateDatabaseTakesNoWriteLock) {
  const std::string p = Path("flow.db");
  CreateOneRun(p);
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  SqliteOptions quick;
  quick.busy_timeout_ms = 50;  // a wait for the lock would fail within this
  auto opened = OpenSqliteStore(p, quick);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->ListRuns(std::nullopt)->size(), 1u);
  quick.read_only = true;
  auto reader = OpenSqliteStore(p, quick);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ((*reader)->Journal("r1")->size(), 1u);
  // A write still waits for the lock, and says so when it cannot get it.
  EXPECT_FALSE((*opened)->ReleaseLease("r1", "x").ok());
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
}

// A read-only store reads and never writes: not even a new file.
TEST_F(StoreTest, ReadOnlyStoreReadsAndRefusesWrites) {
  const std::string p = Path("flow.db");
  CreateOneRun(p);
  const std::string before = Slurp(p);
  SqliteOptions options;
  options.read_only = true;
  auto s = OpenSqliteStore(p, options);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->GetRun("r1")->value().workflow, "onboard");
  EXPECT_FALSE((*s)->PutProgram("h2", "more").ok());
  EXPECT_EQ(Slurp(p), before);
}

// ScanJournal streams a page of the journal (flow show --limit/--after)
// and a filtered scan (the compensation summary).
TEST_P(StoreContractTest, ScanJournalPagesFiltersAndStops) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  Store& s = **opened;
  ASSERT_TRUE(s.PutProgram("h1", "code").ok());
  ASSERT_TRUE(s.CreateRun(NewRun("r1"), Ev("started", -1, 0, "{}", 1000), "S").ok());
  DurableUpdate u;
  u.run_id = "r1";
  u.events = {Ev("step_started", 1, 1, "{}", 1), Ev("compensation_started", 2, 1, "{}", 2),
              Ev("compensation_x_y", 2, 1, "{}", 3), Ev("compensationXfailed", 2, 1, "{}", 4),
              Ev("failed", -1, 0, "{}", 5)};
  ASSERT_TRUE(s.Commit(u).ok());
  auto scan = [&](JournalQuery q, int stop_after = -1) {
    std::vector<int64_t> seqs;
    EXPECT_TRUE(s.ScanJournal("r1", q, [&](const JournalEvent& e) {
                   seqs.push_back(e.seq);
                   return static_cast<int>(seqs.size()) != stop_after;
                 }).ok());
    return seqs;
  };
  EXPECT_EQ(scan({}), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(scan({2, 3, ""}), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(scan({5, 10, ""}), (std::vector<int64_t>{6}));
  // The prefix is literal: '_' is not a wildcard.
  EXPECT_EQ(scan({0, -1, "compensation_"}), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(scan({}, 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(scan({0, -1, "nothing"}), std::vector<int64_t>{});
  // The store is usable after a scan stopped early.
  EXPECT_EQ(s.Journal("r1")->size(), 6u);
}

}  // namespace
}  // namespace flow::store

namespace flow::store {
namespace {

// A process killed inside the first transaction of a new database (the one
// that switches it to WAL) leaves a hot rollback journal that only a writer
// may roll back: opening must recover the file, not refuse it for ever
// ("attempt to write a readonly database", found by tests/crash/soak_test.py).
TEST_F(StoreTest, AHotJournalLeftByAKilledCreatorIsRolledBack) {
  const std::string p = Path("flow.db");
  pid_t child = ::fork();
  if (child == 0) {
    sqlite3* db = nullptr;
    sqlite3_open(p.c_str(), &db);
    // A tiny cache spills the transaction's pages into the file before commit.
    sqlite3_exec(db, "PRAGMA cache_size = 1; BEGIN; CREATE TABLE junk (x TEXT);", nullptr, nullptr, nullptr);
    for (int i = 0; i < 200; ++i) {
      sqlite3_exec(db, "INSERT INTO junk VALUES (hex(randomblob(200)))", nullptr, nullptr, nullptr);
    }
    ::_exit(0);  // no COMMIT, no close: the journal stays hot
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(std::filesystem::exists(p + "-journal"));
  ASSERT_GT(std::filesystem::file_size(p), 0u);
  auto s = OpenSqliteStore(p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s)->PutProgram("h1", "code").ok());
  EXPECT_TRUE((*s)->ListRuns(std::nullopt)->empty());
}

// `flow approve`/`signal` make the waiting run due, so that a worker
// delivers the record if the command is killed before it drives the run.
TEST_F(StoreTest, AnAppendCanMakeAWaitingRunDue) {
  auto s = OpenSqliteStore(Path("flow.db"));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->PutProgram("h1", "code").ok());
  RunRecord r;
  r.id = "r1";
  r.program_hash = "h1";
  r.workflow = "w";
  r.status = RunStatus::Waiting;
  r.waiting_reason = "signal";
  r.waiting = R"({"kind": "signal", "event": "reply"})";
  r.input = "{}";
  ASSERT_TRUE((*s)->CreateRun(r, Ev("started"), "S0").ok());
  AppendRowChange due;
  due.make_due = true;
  due.due_event = "other";
  due.now_ms = 1000;
  ASSERT_TRUE((*s)->AppendEventIf("r1", Ev("signal_received"), {}, due).ok());
  EXPECT_EQ((*(*s)->GetRun("r1"))->wake_at_ms, -1);  // it does not wait for that one
  due.due_event = "reply";
  ASSERT_TRUE((*s)->AppendEventIf("r1", Ev("signal_received"), {}, due).ok());
  EXPECT_EQ((*(*s)->GetRun("r1"))->wake_at_ms, 1000);
  EXPECT_EQ((*s)->ListDue(1000)->size(), 1u);
}

}  // namespace
}  // namespace flow::store

namespace flow::store {
namespace {

// --db / FLOW_DB text: a path as always, sqlite:PATH, or a refused scheme.
TEST(StoreUrl, PathsAndSqliteUrlsAreSqliteAndOtherSchemesAreRefused) {
  for (const char* text : {"flow.db", "/var/lib/flow/flow.db", "./a:b.db", "x:y.db", "dir/c:d.db"}) {
    auto location = ParseStoreUrl(text);
    ASSERT_TRUE(location.ok()) << text << ": " << location.error().message;
    EXPECT_EQ(location->backend, ::flow::store::Backend::Sqlite);
    EXPECT_EQ(location->path, text);
  }
  EXPECT_EQ(ParseStoreUrl("sqlite:runs.db")->path, "runs.db");
  EXPECT_EQ(ParseStoreUrl("SQLite:/tmp/a:b.db")->path, "/tmp/a:b.db");
  EXPECT_EQ(ParseStoreUrl("postgresql://db.example/flow").error().message,
            "database 'postgresql://db.example/flow': no store for scheme 'postgresql'; expected a file path or "
            "sqlite:PATH");
  EXPECT_EQ(ParseStoreUrl("ab:c").error().message,
            "database 'ab:c': no store for scheme 'ab'; expected a file path or sqlite:PATH");
  EXPECT_EQ(ParseStoreUrl("sqlite:").error().message, "database 'sqlite:': the path is empty");
  EXPECT_FALSE(ParseStoreUrl("").ok());
}

TEST_F(StoreTest, ExistingOnlyNeverCreatesADatabase) {
  StoreOptions existing;
  existing.existing_only = true;
  const std::string p = Path("flow.db");
  auto none = OpenStore("sqlite:" + p, existing);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(*none, nullptr);
  EXPECT_FALSE(fs::exists(p));
  ASSERT_TRUE(OpenStore(p).ok());  // creates it
  auto some = OpenStore("sqlite:" + p, existing);
  ASSERT_TRUE(some.ok()) << some.error().message;
  EXPECT_NE(*some, nullptr);
  // Reading: an empty file holds no runs, a directory is not a database.
  StoreOptions reading = existing;
  reading.read_only = true;
  Write(Path("empty.db"), "");
  EXPECT_EQ(*OpenStore(Path("empty.db"), reading), nullptr);
  EXPECT_EQ(Slurp(Path("empty.db")), "");
  fs::create_directories(Path("dir.db"));
  EXPECT_EQ(OpenStore(Path("dir.db"), reading).error().message, "'" + Path("dir.db") + "' is a directory, not a flow database");
}

}  // namespace
}  // namespace flow::store
