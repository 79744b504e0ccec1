// The reporting and run commands driven as a user drives them: the real
// `flow` binary (FLOW_BINARY) in a fresh directory. Covers the bad input of
// SPEC §5's last paragraph that applies to run/runs/show — each must give a
// non-zero exit, exactly one line of reason, and leave no run row (and no
// changed byte in a database that is not ours) — and the JSON shapes of
// `flow runs --json` / `flow show --json` over a store filled directly, so
// they do not depend on the engine (docs/cli.md documents the shapes); and
// what approve/reject/signal do that the golden tests cannot express: the
// default decider, approvers racing, a decision another process holds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/cli/cli_fixture.h"
#include "vm/store/store.h"

namespace flow {
namespace {

namespace fs = std::filesystem;

using testing::CliTest;
using testing::LineCount;
using testing::Outcome;
using testing::Quote;
using testing::Slurp;

class CliRunTest : public CliTest {};

// ---- flow runs / flow show over a store filled directly -------------------

TEST_F(CliRunTest, RunsOnMissingDatabaseListsNothingAndCreatesNothing) {
  Outcome o = Flow({"runs", "--json"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "{\"runs\":[]}\n");
  EXPECT_FALSE(fs::exists(dir_ / "flow.db"));
  o = Flow({"runs"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.out, "no runs\n");
  EXPECT_FALSE(fs::exists(dir_ / "flow.db"));
}

TEST_F(CliRunTest, RunsListsNewestFirstWithTheDocumentedShape) {
  FillStore();
  Outcome o = Flow({"runs", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  ASSERT_EQ(LineCount(o.out), 1u);
  auto j = nlohmann::json::parse(o.out);
  ASSERT_EQ(j["runs"].size(), 3u);
  EXPECT_EQ(j["runs"][0]["run"], "r3");
  EXPECT_EQ(j["runs"][1]["run"], "r2");
  EXPECT_EQ(j["runs"][2]["run"], "r1");
  EXPECT_EQ(j["runs"][2]["status"], "completed");
  EXPECT_EQ(j["runs"][2]["workflow"], "onboard");
  EXPECT_EQ(j["runs"][2]["created"], "1970-01-01T00:00:01Z");
  EXPECT_EQ(j["runs"][2]["waiting"], nullptr);
  EXPECT_EQ(j["runs"][1]["waiting"], nlohmann::json::parse(R"({"kind":"approval","prompt":"ok?","from":"ops"})"));
}

TEST_F(CliRunTest, RunsCreatedInTheSameMillisecondListLatestInsertedFirst) {
  {
    auto s = store::OpenSqliteStore((dir_ / "flow.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE((*s)->PutProgram("h1", "code").ok());
    for (const char* id : {"b-first", "a-second"}) {
      store::RunRecord r;
      r.id = id;
      r.program_hash = "h1";
      r.workflow = "w";
      r.input = "{}";
      r.created_ms = r.updated_ms = 5000;
      ASSERT_TRUE((*s)->CreateRun(r, store::JournalEvent{0, "started"}, "S0").ok());
    }
  }
  Outcome o = Flow({"runs", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["run"], "a-second");
  EXPECT_EQ(j["runs"][1]["run"], "b-first");
}

TEST_F(CliRunTest, RunsFiltersByStatus) {
  FillStore();
  Outcome o = Flow({"runs", "--status", "waiting", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["run"], "r2");
  o = Flow({"runs", "--status", "cancelled", "--json"});
  EXPECT_EQ(o.out, "{\"runs\":[]}\n");
}

// A report goes to stdout (SPEC §5), so `flow runs | grep waiting` works.
TEST_F(CliRunTest, RunsHumanTableGoesToStdout) {
  FillStore();
  Outcome o = Flow({"runs"});
  ASSERT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(LineCount(o.out), 4u);  // header + 3 runs
  EXPECT_NE(o.out.find("r2"), std::string::npos);
  EXPECT_NE(o.out.find("approval"), std::string::npos);
}

TEST_F(CliRunTest, RunsRejectsAnUnknownStatusListingTheValidOnes) {
  Outcome o = Flow({"runs", "--status", "done"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(LineCount(o.err), 1u);
  EXPECT_NE(o.err.find("running waiting completed failed cancelled"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST_F(CliRunTest, ShowPrintsRunJournalCheckpointsAndCompensations) {
  FillStore();
  Outcome o = Flow({"show", "r3", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  ASSERT_EQ(LineCount(o.out), 1u);
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["run"], "r3");
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["program"], "h1");
  EXPECT_EQ(j["input"], nlohmann::json::parse(R"({"n":1})"));
  EXPECT_EQ(j["result"], nullptr);
  EXPECT_EQ(j["error"]["message"], "boom");
  ASSERT_EQ(j["journal"].size(), 5u);
  EXPECT_EQ(j["journal"][0]["seq"], 1);
  EXPECT_EQ(j["journal"][0]["event"], "started");
  EXPECT_EQ(j["journal"][0]["step"], nullptr);
  EXPECT_EQ(j["journal"][1]["step"], 1);
  EXPECT_EQ(j["journal"][1]["attempt"], 1);
  EXPECT_EQ(j["journal"][1]["data"]["operation"], "billing.charge");
  EXPECT_EQ(j["journal"][4]["at"], "1970-01-01T00:00:03.400Z");
  ASSERT_EQ(j["compensations"].size(), 1u);
  EXPECT_EQ(j["compensations"][0]["step"], "billing.refund");
  EXPECT_EQ(j["compensations"][0]["position"], 1);
  EXPECT_EQ(j["compensations"][0]["status"], "completed");
  ASSERT_EQ(j["checkpoints"].size(), 1u);
  EXPECT_EQ(j["checkpoints"][0]["name"], "after-charge");
}

TEST_F(CliRunTest, ShowHumanTextGoesToStdout) {
  FillStore();
  Outcome o = Flow({"show", "r3"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_NE(o.out.find("compensation_completed"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("billing.refund (step 1): completed"), std::string::npos) << o.out;
}

TEST_F(CliRunTest, ShowOfAnUnknownRunIsBadInput) {
  Outcome o = Flow({"show", "nope"});  // no database at all
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "flow: unknown run 'nope'\n");
  EXPECT_FALSE(fs::exists(dir_ / "flow.db"));
  FillStore();
  o = Flow({"show", "nope", "--json"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "flow: unknown run 'nope'\n");
  EXPECT_EQ(o.out, "");
}

// ---- databases that are not ours: exit 4, one line, file untouched --------

TEST_F(CliRunTest, CorruptDatabaseIsRefusedAndLeftUntouched) {
  std::mt19937 gen(42);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(gen());
  Write("flow.db", bytes);
  for (auto args : std::vector<std::vector<std::string>>{{"runs"}, {"runs", "--json"}, {"show", "r1"}}) {
    Outcome o = Flow(args);
    EXPECT_EQ(o.exit_code, 4) << args[0];
    EXPECT_EQ(LineCount(o.err), 1u) << o.err;
    EXPECT_EQ(o.out, "");
  }
  Write("prog.flow", "workflow main() -> int { return 1 }\n");
  Outcome o = Flow({"run", "prog.flow", "--json"});
  EXPECT_EQ(o.exit_code, 4) << o.err;
  EXPECT_NE(o.err.find("not a flow database"), std::string::npos) << o.err;
  EXPECT_EQ(Slurp(dir_ / "flow.db"), bytes);
  EXPECT_FALSE(fs::exists(dir_ / "flow.db-wal"));
}

TEST_F(CliRunTest, ForeignSqliteDatabaseIsRefusedAndLeftUntouched) {
  Sql("other.db", "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);");
  std::string before = Slurp(dir_ / "other.db");
  Outcome o = Flow({"runs", "--db", "other.db"});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(o.err, "flow: 'other.db' is not a flow database (an SQLite file without flow's tables)\n");
  o = Flow({"show", "r1", "--db", "other.db", "--json"});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(o.out, "");
  Write("prog.flow", "workflow main() -> int { return 1 }\n");
  o = Flow({"run", "prog.flow", "--db", "other.db"});
  EXPECT_EQ(o.exit_code, 4) << o.err;
  EXPECT_NE(o.err.find("not a flow database"), std::string::npos) << o.err;
  EXPECT_EQ(Slurp(dir_ / "other.db"), before);
}

TEST_F(CliRunTest, NewerSchemaDatabaseIsRefusedAndLeftUntouched) {
  FillStore();
  Sql("flow.db", "PRAGMA user_version = 999");
  std::string before = Slurp(dir_ / "flow.db");
  Outcome o = Flow({"runs", "--json"});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(LineCount(o.err), 1u);
  EXPECT_NE(o.err.find("newer than this flow supports"), std::string::npos) << o.err;
  o = Flow({"show", "r1"});
  EXPECT_EQ(o.exit_code, 4);
  Write("prog.flow", "workflow main() -> int { return 1 }\n");
  o = Flow({"run", "prog.flow"});
  EXPECT_EQ(o.exit_code, 4) << o.err;
  EXPECT_NE(o.err.find("newer than this flow supports"), std::string::npos) << o.err;
  EXPECT_EQ(Slurp(dir_ / "flow.db"), before);
}

// ---- flow run: bad input leaves no run behind ------------------------------

// Expects exit 2, one line on stderr mentioning `needle`, nothing on stdout
// and no run row.
#define EXPECT_BAD_INPUT(outcome, needle)                                         \
  do {                                                                            \
    EXPECT_EQ((outcome).exit_code, 2) << (outcome).err;                           \
    EXPECT_NE((outcome).err.find(needle), std::string::npos) << (outcome).err;   \
    EXPECT_EQ(RunCount(), 0);                                                     \
  } while (0)

constexpr const char* kTyped = R"(type Customer = { id: string, seats: int? }
workflow onboard(customer: Customer, n: int) -> int { return n }
workflow other() -> int { return 0 }
)";

TEST_F(CliRunTest, RunOfAMissingFileIsBadInput) {
  Outcome o = Flow({"run", "missing.flow", "--json"});
  EXPECT_BAD_INPUT(o, "missing.flow");
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
}

TEST_F(CliRunTest, RunOfAMalformedFileIsACompileError) {
  Write("bad.flow", "workflow main( -> int { return }\n");
  Outcome o = Flow({"run", "bad.flow", "--json"});
  EXPECT_BAD_INPUT(o, "bad.flow:1:");
}

TEST_F(CliRunTest, RunWithBrokenConnectorJsonIsBadInput) {
  Write("bad.flow", "connector billing = \"billing.json\"\nworkflow main() -> int { return 1 }\n");
  Write("billing.json", "{ \"connector\": \"billing\", \"operations\": { ");
  Outcome o = Flow({"run", "bad.flow"});
  EXPECT_BAD_INPUT(o, "billing.json");
}

TEST_F(CliRunTest, RunWithInputThatDoesNotParseIsBadInput) {
  Write("w.flow", kTyped);
  Outcome o = Flow({"run", "w.flow", "--workflow", "onboard", "--input", "{\"customer\": {", "--json"});
  EXPECT_BAD_INPUT(o, "input");
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST_F(CliRunTest, RunWithInputOfTheWrongTypeNamesTheJsonPath) {
  Write("w.flow", kTyped);
  Outcome o = Flow({"run", "w.flow", "--workflow", "onboard", "--input",
                    R"({"customer": {"id": "c1", "seats": "many"}, "n": 1})"});
  EXPECT_BAD_INPUT(o, "$.customer.seats");
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
  o = Flow({"run", "w.flow", "--workflow", "onboard", "--input", R"({"customer": {"id": "c1"}})"});
  EXPECT_BAD_INPUT(o, "$.n");
}

TEST_F(CliRunTest, RunWithInputFromAMissingFileIsBadInput) {
  Write("w.flow", kTyped);
  Outcome o = Flow({"run", "w.flow", "--workflow", "onboard", "--input", "@nothere.json"});
  EXPECT_BAD_INPUT(o, "nothere.json");
}

TEST_F(CliRunTest, RunOfAnUnknownWorkflowIsBadInput) {
  Write("w.flow", kTyped);
  Outcome o = Flow({"run", "w.flow", "--workflow", "onbord"});
  EXPECT_BAD_INPUT(o, "onbord");
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
}

TEST_F(CliRunTest, RunWithoutWorkflowInAFileOfSeveralIsBadInput) {
  Write("w.flow", kTyped);
  Outcome o = Flow({"run", "w.flow"});
  EXPECT_BAD_INPUT(o, "--workflow");
}

TEST_F(CliRunTest, RunThenShowAndRuns) {
  Write("w.flow", "workflow main(n: int) -> int { return n * 2 }\n");
  Outcome o = Flow({"run", "w.flow", "--input", R"({"n": 21})", "--id", "run-1", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(nlohmann::json::parse(o.out), nlohmann::json::parse(R"({"run":"run-1","status":"completed","result":42})"));
  o = Flow({"show", "run-1", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["result"], 42);
  EXPECT_EQ(j["input"], nlohmann::json::parse(R"({"n": 21})"));
  EXPECT_EQ(j["journal"][0]["event"], "started");
  EXPECT_EQ(j["journal"].back()["event"], "completed");
  o = Flow({"runs", "--json"});
  EXPECT_EQ(nlohmann::json::parse(o.out)["runs"].size(), 1u);
}

TEST_F(CliRunTest, ProcessesStartingRunsOnOneNewDatabaseAtOnceAllSucceed) {
  // Several `flow run` creating the same database file at the same time
  // (a cron job firing a few workflows): switching a new file to WAL and
  // storing the program must wait for the others, not fail with "database
  // is locked". 12 rounds of 4 processes: before the fix, about one process
  // in 15 failed, so 48 processes caught it nearly always.
  Write("w.flow", "workflow w() -> int { return 1 }\n");
  constexpr int kRounds = 12, kProcesses = 4;
  for (int round = 0; round < kRounds; ++round) {
    const std::string db = "r" + std::to_string(round) + ".db";
    std::string cmd = "cd " + Quote(dir_.string()) + " && for k in";
    for (int k = 0; k < kProcesses; ++k) cmd += " " + std::to_string(k);
    cmd += "; do " + Quote(FLOW_BINARY) + " run w.flow --db " + db + " >err-" + std::to_string(round) +
           "-$k.txt 2>&1 & done; wait";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    for (int k = 0; k < kProcesses; ++k) {
      std::string err = Slurp(dir_ / ("err-" + std::to_string(round) + "-" + std::to_string(k) + ".txt"));
      EXPECT_NE(err.find("completed"), std::string::npos) << "round " << round << ", process " << k << ": " << err;
    }
    auto o = Flow({"runs", "--db", db, "--json"});
    ASSERT_EQ(o.exit_code, 0) << o.err;
    EXPECT_EQ(nlohmann::json::parse(o.out)["runs"].size(), static_cast<size_t>(kProcesses));
  }
}

// ---- flow approve / reject / signal ---------------------------------------

TEST_F(CliRunTest, ApproveWithoutAsRecordsTheOperatingSystemUser) {
  Write("w.flow", "workflow w() -> string {\n  let d = approve \"go?\"\n  return d.by + \"|\" + d.comment\n}\n");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 3);
  Outcome o = Flow({"approve", "r1", "--json"}, "USER=carol");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(nlohmann::json::parse(o.out), nlohmann::json::parse(R"({"run":"r1","status":"completed","result":"carol|"})"));
  EXPECT_EQ(o.err, "");  // --json: the report object alone, nothing else
  // The journal keeps who, the comment and when, as RFC 3339.
  auto show = nlohmann::json::parse(Flow({"show", "r1", "--json"}).out);
  nlohmann::json decided;
  for (const auto& e : show["journal"]) {
    if (e["event"] == "approval_decided") decided = e["data"];
  }
  EXPECT_EQ(decided["approved"], true);
  EXPECT_EQ(decided["by"], "carol");
  EXPECT_EQ(decided["comment"], "");
  EXPECT_TRUE(std::regex_match(decided["at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z)")))
      << decided;
}

TEST_F(CliRunTest, ApproversRacingRecordExactlyOneDecision) {
  Write("w.flow", "workflow w() -> string {\n  let d = approve \"go?\"\n  return d.by\n}\n");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 3);
  constexpr int kApprovers = 4;
  std::string cmd = "cd " + Quote(dir_.string()) + " && for k in";
  for (int k = 0; k < kApprovers; ++k) cmd += " " + std::to_string(k);
  cmd += "; do (env -u FLOW_DB " + Quote(FLOW_BINARY) +
         " approve r1 --as w$k >/dev/null 2>err-$k.txt; echo $? >exit-$k.txt) & done; wait";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  int accepted = 0;
  std::string winner;
  for (int k = 0; k < kApprovers; ++k) {
    std::string code = Slurp(dir_ / ("exit-" + std::to_string(k) + ".txt"));
    std::string err = Slurp(dir_ / ("err-" + std::to_string(k) + ".txt"));
    if (code == "0\n") {
      ++accepted;
      winner = "w" + std::to_string(k);
    } else {
      EXPECT_EQ(code, "2\n") << err;
      EXPECT_EQ(LineCount(err), 1u) << err;
      EXPECT_NE(err.find("flow: run 'r1' is not waiting for approval ("), std::string::npos) << err;
    }
  }
  ASSERT_EQ(accepted, 1);
  auto show = nlohmann::json::parse(Flow({"show", "r1", "--json"}).out);
  EXPECT_EQ(show["result"], winner);
  int decisions = 0;
  for (const auto& e : show["journal"]) decisions += e["event"] == "approval_decided";
  EXPECT_EQ(decisions, 1);
}

TEST_F(CliRunTest, ADecisionAnotherProcessHoldsIsRecordedOnceAndDeliveredOnResume) {
  Write("w.flow", "workflow w() -> string {\n  let d = approve \"go?\"\n  return d.by\n}\n");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 3);
  // A live process (pid 1, on this host) holds the run: the approval is
  // recorded, the command waits for it to let go, then reports the run as
  // stored and still exits 0.
  char host[256] = {0};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const std::string hold = "UPDATE runs SET lease_owner = '1@" + std::string(host) + "', lease_expiry_ms = 0";
  Sql("flow.db", hold.c_str());
  Outcome o = Flow({"approve", "r1", "--as", "ann", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(nlohmann::json::parse(o.out)["status"], "waiting");
  EXPECT_NE(o.err.find("flow: note: run r1 is owned by pid 1 on "), std::string::npos) << o.err;
  // Decided but not delivered: a second decision is refused, and the
  // inbox no longer lists the run.
  o = Flow({"reject", "r1", "--as", "bob"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "flow: run 'r1' is not waiting for approval (it was already approved by ann)\n");
  EXPECT_EQ(Flow({"inbox", "--json"}).out, "{\"inbox\":[]}\n");
  Sql("flow.db", "UPDATE runs SET lease_owner = NULL, lease_expiry_ms = NULL");
  o = Flow({"resume", "r1", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(nlohmann::json::parse(o.out)["result"], "ann");
}

// The checks against the stored program and the roles file refuse before
// anything is written: the journal is unchanged, and the run goes on.
TEST_F(CliRunTest, RefusedSignalsAndDecidersWithoutTheRoleWriteNothing) {
  Write("w.flow",
        "type Ack = { level: int }\n"
        "workflow w() -> int {\n  approve \"go?\" from \"sre-lead\"\n  let a = wait \"ack\" as Ack\n  return a.level\n}\n");
  Write("roles.json", R"({"ann": ["sre-lead"], "bob": ["ops"]})");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 3);
  auto journal = [&] { return nlohmann::json::parse(Flow({"show", "r1", "--json"}).out)["journal"]; };
  const auto before = journal();
  Outcome o = Flow({"approve", "r1", "--as", "bob"}, "FLOW_ROLES=roles.json");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(Flow({"approve", "r1"}, "FLOW_ROLES=roles.json USER=mallory").exit_code, 2);
  o = Flow({"signal", "r1", "acked"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("did you mean 'ack'?"), std::string::npos) << o.err;
  o = Flow({"signal", "r1", "ack", "--data", R"({"level":"high"})"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("$.level: expected int, got string"), std::string::npos) << o.err;
  EXPECT_EQ(journal(), before);
  // The right decider and the right payload go through.
  EXPECT_EQ(Flow({"approve", "r1", "--as", "ann"}, "FLOW_ROLES=roles.json").exit_code, 0);
  o = Flow({"signal", "r1", "ack", "--data", R"({"level":3})", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(nlohmann::json::parse(o.out)["result"], 3);
}

// kMaxRolesFileBytes (cli/roles.h, 1 MiB): a bigger file is not read whole.
TEST_F(CliRunTest, ARolesFileOverTheLimitIsRefused) {
  Write("w.flow", "workflow w() -> int {\n  approve \"go?\"\n  return 1\n}\n");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 3);
  Write("roles.json", "{\"ann\": [\"ops\"]}" + std::string((1u << 20) + 1, ' '));
  Outcome o = Flow({"approve", "r1", "--as", "ann"}, "FLOW_ROLES=roles.json");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(LineCount(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find("roles file (FLOW_ROLES): cannot read 'roles.json': larger than"), std::string::npos) << o.err;
  Write("roles.json", "{\"ann\": [\"ops\"]}" + std::string((1u << 20) - 20, ' '));
  EXPECT_EQ(Flow({"approve", "r1", "--as", "ann"}, "FLOW_ROLES=roles.json").exit_code, 0);
}

TEST_F(CliRunTest, RefusedDecisionsAndSignalsWriteNothing) {
  Write("w.flow", "workflow w() -> int {\n  return 1\n}\n");
  ASSERT_EQ(Flow({"run", "w.flow", "--id", "r1"}).exit_code, 0);
  const std::string before = Flow({"show", "r1", "--json"}).out;
  EXPECT_EQ(Flow({"approve", "r1"}).exit_code, 2);
  EXPECT_EQ(Flow({"reject", "r1", "--as", "x"}).exit_code, 2);
  EXPECT_EQ(Flow({"signal", "r1", "reply", "--data", "1"}).exit_code, 2);
  EXPECT_EQ(Flow({"approve", "r1", "--as", ""}).exit_code, 2);
  EXPECT_EQ(Flow({"signal", "r1", ""}).exit_code, 2);
  EXPECT_EQ(Flow({"show", "r1", "--json"}).out, before);
  // Without a database nothing is created.
  EXPECT_EQ(Flow({"approve", "r1", "--db", "other.db"}).exit_code, 2);
  EXPECT_EQ(Flow({"signal", "r1", "e", "--db", "other.db"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "other.db"));
}

}  // namespace
}  // namespace flow
