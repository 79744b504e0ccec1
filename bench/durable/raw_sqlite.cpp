// flow_bench_sqlite: the raw rate of SQLite transactions shaped like one
// durable step commit of flow's store, the ceiling `flow run` is measured
// against (bench/durable/run.sh, docs/performance.md "Durable steps").
//
// One transaction here writes what SqliteStore::Commit (vm/store/
// sqlite_store.cpp) writes for a step: BEGIN IMMEDIATE, K journal rows
// (INSERT), one run row UPDATE (updated_ms; a step does not change the status), one VM
// state UPSERT of S bytes, COMMIT. It uses flow's own schema (the
// migrations of vm/store/schema.h, so the same tables, indexes, triggers
// and STRICT/WITHOUT ROWID choices) and the same connection settings
// (WAL, foreign_keys=ON, synchronous FULL or NORMAL, default page size),
// with every statement prepared once, BEGIN and COMMIT included. What it
// leaves out is everything flow does around the store: the VM, the state
// encoding, JSON, the transport. So flow's steps/s divided by this rate is
// the share of the disk-bound ceiling flow reaches.
//
// Usage: flow_bench_sqlite [--dir DIR] [--n N] [--synchronous full|normal]
//          [--state-bytes S] [--event-bytes E] [--events K] [--json]
//          [--update-status]
// DIR must be on the disk the flow benchmark uses (fsync cost is the whole
// point); a fresh database file is created in it and removed afterwards.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/durable/commit_bench_args.h"
#include "vm/store/schema.h"

namespace {

// Defaults: the sizes of one step commit of bench/durable/steps.flow as
// measured on the flow database after a run (run.sh measures and passes
// the real ones; these only make a bare invocation sensible).
constexpr int kDefaultStateBytes = 9000;
constexpr int kDefaultEventBytes = 60;
constexpr const char* kProgram = "flow_bench_sqlite";

// --update-status: assign runs.status from a bind in every transaction, as
// the store did before it split its UPDATE (see UpdateRun in
// sqlite_store.cpp): shows what the CHECK's ephemeral IN-list b-tree costs.
using Options = flow::bench::CommitBenchOptions;

[[noreturn]] void Die(const std::string& why) { flow::bench::Die(kProgram, why); }

auto ParseArgs(int argc, char** argv) -> Options {
  Options defaults;
  defaults.state_bytes = kDefaultStateBytes;
  defaults.event_bytes = kDefaultEventBytes;
  return flow::bench::ParseCommitBenchArgs(argc, argv, kProgram, defaults, /*min_state_bytes=*/0,
                                           /*allow_update_status=*/true);
}

class Bench {
 public:
  explicit Bench(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      Die("cannot open '" + path + "': " + sqlite3_errmsg(db_));
    }
  }
  ~Bench() {
    for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path_ + suffix).c_str());
  }

  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) Die(std::string("setup: ") + (err ? err : "?"));
  }
  auto Prepare(const char* sql) -> sqlite3_stmt* {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      Die(std::string("prepare: ") + sqlite3_errmsg(db_));
    }
    stmts_.push_back(s);
    return s;
  }
  void Run(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) Die(std::string("step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }

  sqlite3* db_ = nullptr;

 private:
  std::string path_;
  std::vector<sqlite3_stmt*> stmts_;
};

auto NowMs() -> int64_t {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Creates flow's schema, one program and one run, as `flow run` would.
void Setup(Bench& b, bool full) {
  b.Exec("PRAGMA journal_mode = WAL");
  b.Exec("PRAGMA foreign_keys = ON");
  b.Exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  for (const auto& m : flow::store::kMigrations) {
    b.Exec("BEGIN IMMEDIATE");
    b.Exec(m.sql);
    b.Exec("COMMIT");
  }
  b.Exec("INSERT INTO programs (hash, bytes, created_ms) VALUES ('p', x'00', 0);"
         "INSERT INTO runs (id, program_hash, workflow, status, input, created_ms, updated_ms) "
         "VALUES ('bench', 'p', 'steps', 'running', '{}', 0, 0);"
         "INSERT INTO journal (run_id, seq, type, attempt, data, at_ms) VALUES ('bench', 1, 'started', 0, '{}', 0);"
         "INSERT INTO state (run_id, bytes, journal_seq, updated_ms) VALUES ('bench', x'00', 1, 0);");
}

// Runs `o.n` step-sized transactions; returns the elapsed seconds.
auto Measure(Bench& b, const Options& o) -> double {
  sqlite3_stmt* begin = b.Prepare("BEGIN IMMEDIATE");
  sqlite3_stmt* commit = b.Prepare("COMMIT");
  sqlite3_stmt* event = b.Prepare(
      "INSERT INTO journal (run_id, seq, type, step, attempt, data, at_ms) VALUES ('bench', ?1, 'step_completed', ?2, 1, ?3, ?4)");
  sqlite3_stmt* run = b.Prepare(o.update_status ? "UPDATE runs SET status = ?2, updated_ms = ?1 WHERE id = 'bench'"
                                                : "UPDATE runs SET updated_ms = ?1 WHERE id = 'bench'");
  sqlite3_stmt* state = b.Prepare(
      "INSERT INTO state (run_id, bytes, journal_seq, updated_ms) VALUES ('bench', ?1, ?2, ?3) "
      "ON CONFLICT (run_id) DO UPDATE SET bytes = excluded.bytes, journal_seq = excluded.journal_seq, "
      "updated_ms = excluded.updated_ms");
  // The event is a JSON text of the requested size; the state varies a
  // little per step, as a VM state with a changing loop counter does.
  // {"r":"xxx"}: 8 bytes of JSON around the payload.
  std::string data = "{\"r\":\"" + std::string(static_cast<size_t>(o.event_bytes) - 8, 'x') + "\"}";
  std::string blob(static_cast<size_t>(o.state_bytes), '\x5a');
  int64_t seq = 1;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.n; ++i) {
    int64_t now = NowMs();
    if (!blob.empty()) blob[static_cast<size_t>(i) % blob.size()] = static_cast<char>(i);
    b.Run(begin);
    for (int k = 0; k < o.events; ++k) {
      sqlite3_bind_int64(event, 1, ++seq);
      sqlite3_bind_int64(event, 2, i);
      sqlite3_bind_text(event, 3, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
      sqlite3_bind_int64(event, 4, now);
      b.Run(event);
    }
    sqlite3_bind_int64(run, 1, now);
    if (o.update_status) sqlite3_bind_text(run, 2, "running", -1, SQLITE_STATIC);
    b.Run(run);
    sqlite3_bind_blob(state, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    sqlite3_bind_int64(state, 2, seq);
    sqlite3_bind_int64(state, 3, now);
    b.Run(state);
    b.Run(commit);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  std::string path = o.dir + "/flow_bench_sqlite." + std::to_string(getpid()) + ".db";
  double seconds = 0;
  {
    Bench b(path);
    Setup(b, o.full);
    seconds = Measure(b, o);
  }
  double rate = o.n / seconds;
  if (o.json) {
    std::printf(
        "{\"transactions\": %d, \"seconds\": %.6f, \"transactions_per_s\": %.1f, \"synchronous\": \"%s\", "
        "\"state_bytes\": %d, \"event_bytes\": %d, \"events_per_commit\": %d}\n",
        o.n, seconds, rate, o.full ? "full" : "normal", o.state_bytes, o.event_bytes, o.events);
  } else {
    std::printf("%d transactions in %.3f s: %.1f transactions/s (synchronous=%s, state %d B, %d event(s) of %d B)\n",
                o.n, seconds, rate, o.full ? "full" : "normal", o.state_bytes, o.events, o.event_bytes);
  }
  return 0;
}
