// flow_bench_store: the rate of flow's own Store::Commit for step-shaped
// durable points, between the raw SQLite ceiling (raw_sqlite.cpp) and
// `flow run` (bench/durable/run.sh). The three figures split flow's
// distance from the ceiling into the store's share (SqliteStore on top of
// SQLite) and the engine's share (the VM, the state encoding, the number
// of commits per step).
//
// One Commit per transaction, as a step's durable point: K journal events
// of E bytes of JSON each (a step_completed and the next step_started), the
// VM state of S bytes, no status change.
//
// Usage: flow_bench_store [--dir DIR] [--n N] [--synchronous full|normal]
//          [--state-bytes S] [--event-bytes E] [--events K] [--json]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/durable/commit_bench_args.h"
#include "vm/store/store.h"

namespace {

constexpr const char* kProgram = "flow_bench_store";

using Options = flow::bench::CommitBenchOptions;

[[noreturn]] void Die(const std::string& why) { flow::bench::Die(kProgram, why); }

// The state is indexed modulo its size: at least one byte.
auto ParseArgs(int argc, char** argv) -> Options {
  return flow::bench::ParseCommitBenchArgs(argc, argv, kProgram, Options{}, /*min_state_bytes=*/1,
                                           /*allow_update_status=*/false);
}

auto NowMs() -> int64_t {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Creates the run and commits o.n step completions; returns the seconds.
auto Measure(flow::store::Store& store, const Options& o) -> double {
  using namespace flow::store;
  if (auto s = store.PutProgram("bench", "x"); !s) Die(s.error().message);
  RunRecord run;
  run.id = "bench";
  run.program_hash = "bench";
  run.workflow = "steps";
  run.input = "{}";
  run.created_ms = NowMs();
  JournalEvent started{0, "started", -1, 0, "{}", run.created_ms, ""};
  if (auto s = store.CreateRun(run, started, "x"); !s) Die(s.error().message);
  // {"r":"xxx"}: 8 bytes of JSON around the payload.
  std::string data = "{\"r\":\"" + std::string(static_cast<size_t>(o.event_bytes) - 8, 'x') + "\"}";
  std::string state(static_cast<size_t>(o.state_bytes), '\x5a');
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.n; ++i) {
    DurableUpdate u;
    u.run_id = "bench";
    u.now_ms = NowMs();
    state[static_cast<size_t>(i) % state.size()] = static_cast<char>(i);
    for (int k = 0; k < o.events; ++k) {
      const char* type = k % 2 == 0 ? "step_completed" : "step_started";
      u.events.push_back(JournalEvent{0, type, i + 1, 1, data, u.now_ms, ""});
    }
    u.state = state;
    if (auto r = store.Commit(u); !r) Die(r.error().message);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  std::string path = o.dir + "/flow_bench_store." + std::to_string(getpid()) + ".db";
  double seconds = 0;
  {
    flow::store::SqliteOptions options;
    options.synchronous_full = o.full;
    auto store = flow::store::OpenSqliteStore(path, options);
    if (!store) Die(store.error().message);
    seconds = Measure(**store, o);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  double rate = o.n / seconds;
  if (o.json) {
    std::printf("{\"transactions\": %d, \"seconds\": %.6f, \"transactions_per_s\": %.1f}\n", o.n, seconds, rate);
  } else {
    std::printf("%d Store::Commit in %.3f s: %.1f commits/s (synchronous=%s, state %d B, event %d B)\n", o.n,
                seconds, rate, o.full ? "full" : "normal", o.state_bytes, o.event_bytes);
  }
  return 0;
}
