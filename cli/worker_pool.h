// The machinery of `flow worker` (cmd_worker.cpp): a pool of threads that
// drive due runs, and the stop signal.
//
// WorkerPool: N threads, each with its own store connection (an SQLite
// connection is never shared between threads), taking run ids from one
// queue. A run id is queued or in hand at most once in this process: all
// threads share the process's lease owner ("PID@HOST"), under which the
// lease would not stop two of them driving the same run, so the pool
// itself must. Across processes, the lease does (engine::ResumeRun).
//
// StopSignal: SIGINT and SIGTERM are blocked in every thread of the process
// (child processes of the exec transport get an empty mask) and one watcher
// thread takes them with sigwait, so a signal never interrupts a run
// mid-step: it only sets a flag the main loop and the pool look at between
// runs, and that the engine looks at inside a run (EngineOptions::stop):
// pure code stops at once and an in-process backoff ends, the run is let go
// at its last durable point (a step in flight is waited for: its outcome is
// journaled). The main loop sleeps on it (Sleep) instead of a bare sleep, so
// a stop request ends the sleep at once.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/due_runs.h"

namespace flow::cli {

class StopSignal {
 public:
  // Blocks SIGINT/SIGTERM in the calling thread (and so in every thread it
  // starts afterwards: construct it before any other thread) and starts the
  // watcher.
  StopSignal();
  // Stops and joins the watcher; the signals stay blocked (the process is
  // about to exit).
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  auto operator=(const StopSignal&) -> StopSignal& = delete;

  // Whether SIGINT or SIGTERM arrived.
  auto Stopped() -> bool;
  // The same as a flag the engine polls from any thread.
  auto flag() const -> const std::atomic<bool>* { return &flag_; }
  // Sleeps `duration`, or less when a stop signal arrives; returns Stopped().
  auto Sleep(std::chrono::milliseconds duration) -> bool;
  // Calls `on_stop` (from the watcher thread) when the signal arrives;
  // at once when it already has. OnStop({}) returns once no call of the
  // previous callback is in progress: do it before what it uses goes away.
  void OnStop(std::function<void()> on_stop);

 private:
  void Watch();

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::atomic<bool> flag_{false};
  bool closing_ = false;
  std::mutex call_mu_;  // held while on_stop_ is set or called
  std::function<void()> on_stop_;
  std::thread watcher_;
};

class WorkerPool {
 public:
  // Starts `threads` threads, each opening the store at `db_path` and
  // driving runs with `options`. Each driven run's outcome is passed to
  // `on_done`, from the thread that drove it (so it must be thread-safe).
  WorkerPool(std::string db_path, int threads, engine::EngineOptions options,
             std::function<void(const DueOutcome&)> on_done);
  // Join()s.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  auto operator=(const WorkerPool&) -> WorkerPool& = delete;

  // Queues run `id` unless it is already queued or in hand; false then.
  auto Offer(const std::string& id) -> bool;
  // Whether run `id` is queued or in hand.
  auto Holds(const std::string& id) -> bool;
  // No more runs: the threads finish the queue (`drop_queued`: only the runs
  // in hand) and end.
  void Close(bool drop_queued);
  // Waits until every thread has ended (Close first, or this waits forever).
  void Join();

 private:
  void Loop();

  std::string db_path_;
  engine::EngineOptions options_;
  std::function<void(const DueOutcome&)> on_done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> held_;  // queued or in hand
  bool closed_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace flow::cli
