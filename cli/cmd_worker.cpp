// `flow worker [--once] [--concurrency N] [--json] [--db PATH]`
//
// Drives every run that is due (SPEC §4 "Who drives a run"; due_runs.h):
// waiting runs whose wake_at_ms has passed (timer, long retry backoff, an
// approval or signal wait that timed out) and running runs whose owner died.
// Each is driven with engine::ResumeRun until it lets go (completes, fails
// or suspends), up to N at once (worker_pool.h).
//
// --once: one pass over what is due now, then exit 0 (4 when a run hit a
// store error); --json prints {"resumed": [report...], "skipped": [id...],
// "errors": [{"run", "message"}]}. Without --once: loops until SIGINT or
// SIGTERM, sleeping until the next wake_at_ms or kPollInterval, whichever is
// sooner; on the signal it starts no new run, lets the runs in hand reach
// their next durable point where they let go, and exits 0. It prints one
// report line per run on stdout (its own notes and errors on stderr); --json needs --once (one object per command).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "cli/command.h"
#include "cli/due_runs.h"
#include "cli/run_report.h"
#include "cli/program_loader.h"
#include "cli/worker_pool.h"
#include "vm/value/convert.h"

namespace flow::cli {
namespace {

// Why 64: each slot is a thread with its own SQLite connection, and SQLite
// serialises writers, so more slots than that only add lock waits.
constexpr int kMaxConcurrency = 64;
// Why 1 s: other processes (`flow run`, `signal`, `approve`, a crashed
// owner) make runs due without telling the worker; polling bounds that
// delay at one indexed read per second. Timers are woken at their time.
constexpr std::chrono::milliseconds kPollInterval{1000};
// Why: a run that hit a store or journal error fails the same way when
// retried at once; it is tried again after this, not on every poll.
constexpr int64_t kErrorRetryMs = 30'000;

struct WorkerOptions {
  std::string db;
  bool once = false;
  int concurrency = 1;
  bool json = false;
  engine::EngineOptions engine;  // from the environment (RunWorker)
};

// The engine's options for the pool: the stop signal's flag lets a run in
// long pure code or a backoff go at once.
auto Options(const WorkerOptions& o, const StopSignal& stop) -> engine::EngineOptions {
  engine::EngineOptions options = o.engine;
  options.stop = stop.flag();
  return options;
}

// What the runs driven so far came to (shared by the pool's threads).
class Tally {
 public:
  explicit Tally(bool json) : json_(json) {}

  void Record(const DueOutcome& o) {
    std::lock_guard lock(mu_);
    if (o.report) {
      ++driven_;
      if (json_) resumed_.push_back(o.report->ToJson());
      else {
        PrintReport(*o.report, false);
        std::fflush(stdout);  // a long-running worker's lines reach a pipe as they happen
      }
    } else if (o.skipped) {
      skipped_.push_back(o.run);
      if (!json_) std::fprintf(stderr, "flow: worker: skipped: %s\n", o.error.c_str());
    } else {
      errors_.push_back(nlohmann::json{{"run", o.run}, {"message", o.error}});
      failed_at_[o.run] = engine::NowMs();
      std::fprintf(stderr, "flow: worker: %s: %s\n", ShownId(o.run).c_str(), o.error.c_str());
    }
  }
  // Whether run `id` hit an error less than kErrorRetryMs before `now`.
  auto RecentlyFailed(const std::string& id, int64_t now) -> bool {
    std::lock_guard lock(mu_);
    auto it = failed_at_.find(id);
    return it != failed_at_.end() && now - it->second < kErrorRetryMs;
  }
  // How many runs were driven (reported).
  auto Driven() -> size_t {
    std::lock_guard lock(mu_);
    return driven_;
  }
  auto HadErrors() -> bool {
    std::lock_guard lock(mu_);
    return !errors_.empty();
  }
  auto Json() -> nlohmann::json {
    std::lock_guard lock(mu_);
    return nlohmann::json{{"resumed", resumed_}, {"skipped", skipped_}, {"errors", errors_}};
  }

 private:
  bool json_;
  std::mutex mu_;
  nlohmann::json resumed_ = nlohmann::json::array();
  nlohmann::json skipped_ = nlohmann::json::array();
  nlohmann::json errors_ = nlohmann::json::array();
  std::map<std::string, int64_t> failed_at_;
  size_t driven_ = 0;
};

// Queues the runs due now that the pool does not hold yet. False on a store error (logged).
auto OfferDue(store::Store& store, WorkerPool& pool, Tally& tally) -> bool {
  const int64_t now = engine::NowMs();
  auto due = ListDueRuns(store, now);
  if (!due) {
    std::fprintf(stderr, "flow: worker: %s\n", due.error().message.c_str());
    return false;
  }
  for (const auto& r : *due) {
    if (!tally.RecentlyFailed(r.id, now)) pool.Offer(r.id);
  }
  return true;
}

// How long to sleep: until the next wake-up time, at most kPollInterval.
auto NextSleep(store::Store& store) -> std::chrono::milliseconds {
  auto next = store.NextWake();
  if (!next || !*next) return kPollInterval;
  const int64_t left = **next - engine::NowMs();
  // Due already (a run in hand, or one a live process holds): poll.
  if (left <= 0) return kPollInterval;
  return std::min(kPollInterval, std::chrono::milliseconds(left));
}

auto RunOnce(const WorkerOptions& o, store::Store& store) -> int {
  StopSignal stop;
  Tally tally(o.json);
  int exit_code = kExitOk;
  {
    WorkerPool pool(DatabasePath(o.db), o.concurrency, Options(o, stop), [&](const DueOutcome& d) { tally.Record(d); });
    stop.OnStop([&] { pool.Close(/*drop_queued=*/true); });
    if (!OfferDue(store, pool, tally)) exit_code = kExitInternal;
    pool.Close(/*drop_queued=*/false);
    pool.Join();
    stop.OnStop({});
  }
  if (tally.HadErrors()) exit_code = kExitInternal;
  if (o.json) std::printf("%s\n", value::DumpJson(tally.Json()).c_str());
  else std::fprintf(stderr, "flow: worker: %zu run(s) resumed\n", tally.Driven());
  return exit_code;
}

auto RunForever(const WorkerOptions& o, store::Store& store) -> int {
  StopSignal stop;
  Tally tally(false);
  WorkerPool pool(DatabasePath(o.db), o.concurrency, Options(o, stop), [&](const DueOutcome& d) { tally.Record(d); });
  stop.OnStop([&] { pool.Close(/*drop_queued=*/true); });
  std::fprintf(stderr, "flow: worker: watching '%s' (%d at once); stop with SIGINT or SIGTERM\n",
               DatabasePath(o.db).c_str(), o.concurrency);
  while (!stop.Stopped()) {
    OfferDue(store, pool, tally);
    if (stop.Sleep(NextSleep(store))) break;
  }
  std::fprintf(stderr, "flow: worker: stopping once the runs in hand let go\n");
  pool.Close(/*drop_queued=*/true);
  pool.Join();
  stop.OnStop({});
  return kExitOk;
}

auto RunWorker(WorkerOptions o) -> int {
  auto engine = EngineOptionsFromEnvironment();
  if (!engine) {
    std::fprintf(stderr, "flow: %s\n", engine.error().message.c_str());
    return kExitUsage;
  }
  o.engine = *engine;
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    std::fprintf(stderr, "flow: worker: --concurrency must be between 1 and %d; see 'flow --help'\n",
                 kMaxConcurrency);
    return kExitUsage;
  }
  if (o.json && !o.once) {
    std::fprintf(stderr, "flow: worker: --json needs --once (a long-running worker prints one line per run "
                         "on stdout); see 'flow --help'\n");
    return kExitUsage;
  }
  // One pass over no database: nothing is due, and nothing is created.
  auto store = OpenStore(o.db, /*existing_only=*/o.once);
  if (!store) {
    std::fprintf(stderr, "flow: %s\n", store.error().message.c_str());
    return kExitInternal;
  }
  if (!*store) {
    if (o.json) std::printf("{\"errors\":[],\"resumed\":[],\"skipped\":[]}\n");
    return kExitOk;
  }
  return o.once ? RunOnce(o, **store) : RunForever(o, **store);
}

}  // namespace

auto RegisterWorker(CLI::App& app) -> Command {
  auto o = std::make_shared<WorkerOptions>();
  CLI::App* sub = app.add_subcommand("worker", "Drive every due run (timers, retries, runs whose owner died) "
                                               "until SIGINT/SIGTERM");
  sub->add_flag("--once", o->once, "One pass over the runs due now, then exit");
  sub->add_option("--concurrency", o->concurrency, "How many runs to drive at once (1..64, default 1)");
  sub->add_option("--db", o->db, "The database (default: $FLOW_DB, else ./flow.db)");
  sub->add_flag("--json", o->json, "With --once: print one JSON object on stdout");
  return Command{sub, [o] { return RunWorker(*o); }};
}

}  // namespace flow::cli
