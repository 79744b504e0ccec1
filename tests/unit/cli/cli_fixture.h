// The fixture of the tests that drive the real `flow` binary (FLOW_BINARY)
// as a user does, in a fresh directory per test: running it with its exit
// code, stdout and stderr, writing files, reading the database directly,
// and a store filled with three runs (tests/unit/cli/cli_*_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vm/store/store.h"

namespace flow::testing {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline auto Slurp(const fs::path& p) -> std::string {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline auto Quote(const std::string& arg) -> std::string {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline auto LineCount(const std::string& text) -> size_t {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flow_cli_run_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& bytes) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }

  // Runs `flow args...` in the test directory without FLOW_DB, with the
  // extra environment `env` ("NAME=value ...", or "-u NAME").
  auto Flow(const std::vector<std::string>& args, const std::string& env = "") -> Outcome {
    std::string cmd = "cd " + Quote(dir_.string()) + " && env -u FLOW_DB " + env + " " + Quote(FLOW_BINARY);
    for (const std::string& a : args) cmd += " " + Quote(a);
    cmd += " >.out 2>.err </dev/null";
    int status = std::system(cmd.c_str());
    Outcome o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = Slurp(dir_ / ".out");
    o.err = Slurp(dir_ / ".err");
    fs::remove(dir_ / ".out");
    fs::remove(dir_ / ".err");
    return o;
  }

  // How many runs the database holds; 0 when there is no database.
  auto RunCount(const std::string& name = "flow.db") -> int {
    fs::path p = dir_ / name;
    if (!fs::exists(p) || fs::file_size(p) == 0) return 0;
    sqlite3* db = nullptr;
    int count = -1;
    if (sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &s, nullptr) == SQLITE_OK &&
          sqlite3_step(s) == SQLITE_ROW) {
        count = sqlite3_column_int(s, 0);
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return count;
  }

  void Sql(const std::string& name, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / name).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // Fills flow.db through the store: a completed run r1, a waiting run r2
  // (newer) and a failed run r3 (newest) with a compensation.
  void FillStore() {
    auto s = store::OpenSqliteStore((dir_ / "flow.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store::Store& st = **s;
    ASSERT_TRUE(st.PutProgram("h1", "code").ok());
    auto add = [&](const char* id, int64_t created) {
      store::RunRecord r;
      r.id = id;
      r.program_hash = "h1";
      r.workflow = "onboard";
      r.input = R"({"n":1})";
      r.created_ms = created;
      r.updated_ms = created;
      ASSERT_TRUE(st.CreateRun(r, store::JournalEvent{0, "started", -1, 0, R"({"input":{"n":1}})", created}, "S0").ok());
    };
    add("r1", 1000);
    add("r2", 2000);
    add("r3", 3000);
    store::DurableUpdate done;
    done.run_id = "r1";
    done.status = store::RunStatus::Completed;
    done.result = R"({"ok":true})";
    done.events = {{0, "step_completed", 1, 1, R"({"operation":"billing.charge"})", 1100},
                   {0, "completed", -1, 0, R"({"result":{"ok":true}})", 1200}};
    done.now_ms = 1200;
    ASSERT_TRUE(st.Commit(done).ok());
    store::DurableUpdate wait;
    wait.run_id = "r2";
    wait.status = store::RunStatus::Waiting;
    wait.waiting_reason = "approval";
    wait.waiting = R"({"prompt":"ok?","from":"ops"})";
    wait.events = {{0, "approval_requested", -1, 0, R"({"prompt":"ok?"})", 2100}};
    wait.now_ms = 2100;
    ASSERT_TRUE(st.Commit(wait).ok());
    store::DurableUpdate fail;
    fail.run_id = "r3";
    fail.status = store::RunStatus::Failed;
    fail.error = R"({"kind":"fail","message":"boom","step":null})";
    fail.events = {{0, "step_completed", 1, 1, R"({"operation":"billing.charge"})", 3100},
                   {0, "compensation_started", 1, 1, R"({"operation":"billing.refund"})", 3200},
                   {0, "compensation_completed", 1, 1, R"({"operation":"billing.refund"})", 3300},
                   {0, "failed", -1, 0, R"({"error":{"kind":"fail","message":"boom"}})", 3400}};
    fail.now_ms = 3400;
    fail.checkpoint = "after-charge";
    fail.state = "S1";
    ASSERT_TRUE(st.Commit(fail).ok());
  }

  fs::path dir_;
};

}  // namespace flow::testing
