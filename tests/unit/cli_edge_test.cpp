// Hostile input and hostile conditions through the real `flow` binary
// (issue 10, docs/security.md): run ids that would inject headers, JSON
// nested 65,000 deep, integers beyond 64 bits, 64 commands at once on one
// database, a database on a read-only mount, and the paged, streamed
// `flow show`. Each refusal is exit 2 with one line and nothing written.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/unit/cli_fixture.h"
#include "vm/engine/run_id.h"

namespace flow {
namespace {

namespace fs = std::filesystem;

using testing::CliTest;
using testing::LineCount;
using testing::Outcome;
using testing::Quote;
using testing::Slurp;

class CliEdgeTest : public CliTest {
 protected:
  // A workflow with a step (log.info) before an approval: `flow run` of it
  // waits (exit 3) with a short journal.
  void WriteApprovalFlow() {
    Write("w.flow",
          "workflow w(n: int) -> int {\n  log.info(message: \"start\")\n  let d = approve \"go?\"\n  return n\n}\n");
  }
};

// The header-injection scenario of issue 10: two customers' runs whose ids
// differ only after a CR/LF would have shared the key "order-7".
TEST_F(CliEdgeTest, RunIdsWithControlCharactersAreRefusedEverywhereAndWriteNothing) {
  WriteApprovalFlow();
  const std::string bad = "order-7\r\nX-Tenant: a";
  Outcome o = Flow({"run", "w.flow", "--id", bad, "--input", R"({"n":1})"});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find(R"(invalid run id "order-7\r\nX-Tenant: a": U+000D at byte 7 is not allowed)"),
            std::string::npos)
      << o.err;
  EXPECT_FALSE(fs::exists(dir_ / "flow.db"));
  // Every command that names a run.
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1", "--input", R"({"n":1})"}).exit_code, 3);
  const std::vector<std::vector<std::string>> commands = {
      {"resume", bad}, {"approve", bad}, {"reject", bad}, {"signal", bad, "e"}, {"cancel", bad},
      {"show", bad},   {"fork", bad, "--from", "x"},     {"fork", "r1", "--from", "x", "--id", bad}};
  const std::string before = Slurp(dir_ / "flow.db");
  for (const auto& args : commands) {
    o = Flow(args);
    EXPECT_EQ(o.exit_code, 2) << args[0] << ": " << o.err;
    EXPECT_EQ(LineCount(o.err), 1u) << args[0] << ": " << o.err;
    EXPECT_NE(o.err.find("invalid run id"), std::string::npos) << args[0] << ": " << o.err;
    EXPECT_EQ(o.err.find('\r'), std::string::npos) << args[0];
  }
  EXPECT_EQ(Slurp(dir_ / "flow.db"), before);
  EXPECT_EQ(RunCount(), 1);
}

// A run row written before ids were checked (here: directly through the
// store) is never driven by the worker: its id would reach a header. It is
// reported as an error, with the id escaped on the operator's screen.
TEST_F(CliEdgeTest, TheWorkerDoesNotDriveARunWhoseStoredIdBreaksTheRule) {
  {
    auto s = store::OpenSqliteStore((dir_ / "flow.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE((*s)->PutProgram("h1", "code").ok());
    store::RunRecord r;
    r.id = "order-7\r\nX-Tenant: a";
    r.program_hash = "h1";
    r.workflow = "w";
    r.input = "{}";
    ASSERT_TRUE((*s)->CreateRun(r, store::JournalEvent{0, "started", -1, 0, "{}", 1}, "S0").ok());
  }
  Outcome o = Flow({"worker", "--once", "--json"});
  EXPECT_EQ(o.exit_code, 4) << o.err;
  EXPECT_EQ(o.err.find('\r'), std::string::npos) << o.err;
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
  auto j = nlohmann::json::parse(o.out);
  ASSERT_EQ(j["errors"].size(), 1u) << o.out;
  EXPECT_NE(j["errors"][0]["message"].get<std::string>().find("invalid run id \"order-7\\r\\nX-Tenant: a\""),
            std::string::npos)
      << o.out;
  // The human table shows it escaped too.
  o = Flow({"runs"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ((o.err + o.out).find('\r'), std::string::npos) << o.err;
  EXPECT_NE((o.err + o.out).find("\"order-7\\r\\nX-Tenant: a\""), std::string::npos) << o.err;
}

TEST_F(CliEdgeTest, RunIdRuleAtItsEdges) {
  Write("w.flow", "workflow w() -> int { return 1 }\n");
  // Accepted: the whole allowed set, and exactly the maximum length.
  EXPECT_EQ(Flow({"run", "w.flow", "--id", "Order_7.a-b:c@d"}).exit_code, 0);
  EXPECT_EQ(Flow({"run", "w.flow", "--id", std::string(engine::kMaxRunIdBytes, 'x')}).exit_code, 0);
  // Refused: one byte too long, a leading '-' (the run could not be named
  // on a command line) or '.', a space, a slash, a non-ASCII letter, empty.
  for (const std::string& id : {std::string(engine::kMaxRunIdBytes + 1, 'x'), std::string("-r1"),
                                std::string(".r1"), std::string("a b"), std::string("a/b"), std::string("caf\xc3\xa9")}) {
    Outcome o = Flow({"run", "w.flow", "--id=" + id});
    EXPECT_EQ(o.exit_code, 2) << id << ": " << o.err;
    EXPECT_EQ(LineCount(o.err), 1u) << o.err;
    EXPECT_NE(o.err.find("invalid run id"), std::string::npos) << o.err;
  }
  // An empty --id is a missing value to the option parser: also exit 2.
  Outcome empty = Flow({"run", "w.flow", "--id="});
  EXPECT_EQ(empty.exit_code, 2) << empty.err;
  EXPECT_EQ(LineCount(empty.err), 1u) << empty.err;
  EXPECT_EQ(RunCount(), 2);
}

TEST_F(CliEdgeTest, InputNested65000DeepIsInvalidInputNotACrash) {
  Write("w.flow", "workflow w(n: int, extra: json) -> int { return n }\n");
  Write("deep.json", "{\"n\": 1, \"extra\": " + std::string(65000, '[') + std::string(65000, ']') + "}");
  Outcome o = Flow({"run", "w.flow", "--input", "@deep.json"});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(o.err, "flow: invalid input: input is nested deeper than 512 levels\n");
  EXPECT_FALSE(fs::exists(dir_ / "flow.db"));
  // At the limit it is accepted (and stored, and shown).
  Write("ok.json", "{\"n\": 1, \"extra\": " + std::string(511, '[') + std::string(511, ']') + "}");
  o = Flow({"run", "w.flow", "--input", "@ok.json", "--id", "r1", "--json"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(Flow({"show", "r1", "--json"}).exit_code, 0);
}

TEST_F(CliEdgeTest, SignalDataNested65000DeepIsInvalidInputNotACrash) {
  Write("w.flow", "workflow w() -> json {\n  let p = wait \"e\"\n  return p\n}\n");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 3);
  const std::string before = Slurp(dir_ / "flow.db");
  Outcome o = Flow({"signal", "r1", "e", "--data", std::string(65000, '[') + std::string(65000, ']')});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(o.err, "flow: invalid --data: nested deeper than 512 levels\n");
  EXPECT_EQ(Slurp(dir_ / "flow.db"), before);
}

TEST_F(CliEdgeTest, AnIntegerBeyond64BitsInTheInputIsInvalidInput) {
  Write("w.flow", "workflow w(n: int, xs: [int]) -> int { return n }\n");
  Outcome o = Flow({"run", "w.flow", "--input", R"({"n": 9223372036854775808, "xs": []})"});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(o.err, "flow: invalid input: $.n: 9223372036854775808 does not fit in a 64-bit integer\n");
  o = Flow({"run", "w.flow", "--input", R"({"n": 1, "xs": [1, 18446744073709551615]})"});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_EQ(o.err, "flow: invalid input: $.xs[1]: 18446744073709551615 does not fit in a 64-bit integer\n");
  EXPECT_FALSE(fs::exists(dir_ / "flow.db"));
  // The largest int is fine.
  o = Flow({"run", "w.flow", "--input", R"({"n": 9223372036854775807, "xs": []})", "--json"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("9223372036854775807"), std::string::npos) << o.out;
}

// `flow show` pages: --limit N events, --after SEQ; `next_after` says where
// the next page starts (null at the end) and appears only when paging.
TEST_F(CliEdgeTest, ShowPagesThroughTheJournal) {
  FillStore();  // r3: 5 events, a compensation and a checkpoint
  auto page = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"show", "r3", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    Outcome o = Flow(args);
    EXPECT_EQ(o.exit_code, 0) << o.err;
    EXPECT_EQ(LineCount(o.out), 1u);
    return nlohmann::json::parse(o.out);
  };
  auto seqs = [](const nlohmann::json& shown) {
    std::vector<int> out;
    for (const auto& e : shown["journal"]) out.push_back(e["seq"].get<int>());
    return out;
  };
  auto whole = page({});
  EXPECT_EQ(seqs(whole), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(whole.contains("next_after"));
  auto first = page({"--limit", "2"});
  EXPECT_EQ(seqs(first), (std::vector<int>{1, 2}));
  EXPECT_EQ(first["next_after"], 2);
  auto second = page({"--limit", "2", "--after", "2"});
  EXPECT_EQ(seqs(second), (std::vector<int>{3, 4}));
  EXPECT_EQ(second["next_after"], 4);
  auto last = page({"--limit", "2", "--after", "4"});
  EXPECT_EQ(seqs(last), (std::vector<int>{5}));
  EXPECT_EQ(last["next_after"], nullptr);
  // The run's summary is whole on every page.
  for (const auto* shown : {&first, &second, &last}) {
    EXPECT_EQ((*shown)["compensations"], whole["compensations"]);
    EXPECT_EQ((*shown)["checkpoints"], whole["checkpoints"]);
    EXPECT_EQ((*shown)["status"], "failed");
  }
  // Human output: the page, then how to get the next one.
  Outcome o = Flow({"show", "r3", "--limit", "1"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("  ... more events: flow show r3 --after 1 --limit 1\n"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("billing.refund (step 1): completed"), std::string::npos) << o.err;
  EXPECT_EQ(Flow({"show", "r3", "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(Flow({"show", "r3", "--after", "-1"}).exit_code, 2);
}

// 64 commands of every kind on one database at the same instant: reads and
// the schema check take no write lock, writers wait for each other.
TEST_F(CliEdgeTest, SixtyFourConcurrentCommandsOnOneDatabaseAllSucceed) {
  WriteApprovalFlow();
  constexpr int kApprovals = 16, kResumes = 8;
  for (int i = 0; i < kApprovals; ++i) {
    ASSERT_EQ(Flow({"run", "w.flow", "--id", "a" + std::to_string(i), "--input", R"({"n":1})"}).exit_code, 3);
  }
  for (int i = 0; i < kResumes; ++i) {
    ASSERT_EQ(Flow({"run", "w.flow", "--id", "c" + std::to_string(i), "--input", R"({"n":1})"}).exit_code, 3);
  }
  // Each writer has a run of its own (two commands driving one run is a
  // lease conflict, exit 4 by design): 16 approvals (exit 0), 16 new runs
  // and 8 resumes of runs still waiting (exit 3); and 24 readers.
  std::vector<std::pair<std::string, int>> commands;
  for (int i = 0; i < kApprovals; ++i) {
    commands.push_back({"approve a" + std::to_string(i) + " --as ann --json", 0});
    commands.push_back({"run w.flow --input '{\"n\":2}' --id b" + std::to_string(i), 3});
  }
  for (int i = 0; i < kResumes; ++i) {
    commands.push_back({"resume c" + std::to_string(i) + " --json", 3});
    commands.push_back({"runs --json", 0});
    commands.push_back({"show a" + std::to_string(i) + " --json", 0});
    commands.push_back({"inbox --json", 0});
  }
  ASSERT_EQ(commands.size(), 64u);
  std::string script = "cd " + Quote(dir_.string()) + " || exit 1; export FLOW_DB=flow.db; ";
  for (size_t k = 0; k < commands.size(); ++k) {
    const std::string n = std::to_string(k);
    script += "( " + Quote(FLOW_BINARY) + " " + commands[k].first + " >out-" + n + " 2>err-" + n +
              "; echo $? >exit-" + n + " ) & ";
  }
  script += "wait";
  ASSERT_EQ(std::system(script.c_str()), 0);
  int failures = 0;
  for (size_t k = 0; k < commands.size(); ++k) {
    const std::string code = Slurp(dir_ / ("exit-" + std::to_string(k)));
    const std::string err = Slurp(dir_ / ("err-" + std::to_string(k)));
    const bool ok = code == std::to_string(commands[k].second) + "\n";
    EXPECT_TRUE(ok) << commands[k].first << " exited " << code << err;
    EXPECT_EQ(err.find("locked"), std::string::npos) << commands[k].first << ": " << err;
    failures += ok ? 0 : 1;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(RunCount(), 2 * kApprovals + kResumes);
}

// The deterministic half of the test above: while another connection holds
// the write lock (a long commit, a migration), the reading commands answer
// at once -- before, each queued for the lock to check the schema version
// and failed with "database is locked" after the 5 s busy timeout.
TEST_F(CliEdgeTest, ReadingCommandsNeverWaitForTheWriteLock) {
  WriteApprovalFlow();
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1", "--input", R"({"n":1})"}).exit_code, 3);
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "flow.db").c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"runs", "--json"}, {"show", "r1", "--json"}, {"inbox", "--json"}}) {
    Outcome o = Flow(args);
    EXPECT_EQ(o.exit_code, 0) << args[0] << ": " << o.err;
    EXPECT_EQ(o.err, "") << args[0];
  }
  // A writer waits for the lock, and says so in one line when it cannot get it.
  Outcome approve = Flow({"approve", "r1", "--as", "ann"});
  EXPECT_EQ(approve.exit_code, 4) << approve.err;
  EXPECT_EQ(LineCount(approve.err), 1u) << approve.err;
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
}

// A database on a read-only mount (issue 10): `runs`, `show` and `inbox`
// read it, though SQLite cannot create the WAL index (-shm) beside it;
// commands that write say why they cannot, in one line, exit 4. A
// read-only bind mount in a private mount namespace (`unshare -rm`) is the
// honest way to make a location read-only for root too, where chmod stops
// nothing; without user namespaces the test is reported as skipped.
TEST_F(CliEdgeTest, ADatabaseOnAReadOnlyMountCanBeListedAndShown) {
  if (std::system("unshare -rm true >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "no user namespaces here (unshare -rm): cannot make a read-only mount";
  }
  WriteApprovalFlow();
  fs::create_directories(dir_ / "ro");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1", "--input", R"({"n":1})", "--db", "ro/flow.db"}).exit_code, 3);
  ASSERT_FALSE(fs::exists(dir_ / "ro" / "flow.db-shm"));  // a clean close leaves the file alone
  const std::string before = Slurp(dir_ / "ro" / "flow.db");
  const std::vector<std::string> commands = {"runs --json", "show r1 --json", "inbox --json", "show r1",
                                             "approve r1 --as ann"};
  std::string inner = "mount --bind ro ro && mount -o remount,bind,ro ro";
  for (size_t k = 0; k < commands.size(); ++k) {
    const std::string n = std::to_string(k);
    inner += "; \"$FLOW\" " + commands[k] + " --db ro/flow.db >out-" + n + " 2>err-" + n + "; echo $? >exit-" + n;
  }
  const std::string cmd = "cd " + Quote(dir_.string()) + " && FLOW=" + Quote(FLOW_BINARY) +
                          " unshare -rm sh -c " + Quote(inner);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto result = [&](size_t k) {
    return Outcome{std::stoi(Slurp(dir_ / ("exit-" + std::to_string(k)))), Slurp(dir_ / ("out-" + std::to_string(k))),
                   Slurp(dir_ / ("err-" + std::to_string(k)))};
  };
  Outcome runs = result(0);
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(nlohmann::json::parse(runs.out)["runs"][0]["run"], "r1");
  Outcome show = result(1);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["waiting"]["kind"], "approval");
  Outcome inbox = result(2);
  ASSERT_EQ(inbox.exit_code, 0) << inbox.err;
  EXPECT_EQ(nlohmann::json::parse(inbox.out)["inbox"][0]["prompt"], "go?");
  EXPECT_EQ(result(3).exit_code, 0) << result(3).err;
  Outcome approve = result(4);
  EXPECT_EQ(approve.exit_code, 4) << approve.err;
  EXPECT_EQ(LineCount(approve.err), 1u) << approve.err;
  EXPECT_EQ(Slurp(dir_ / "ro" / "flow.db"), before);
}

}  // namespace
}  // namespace flow
