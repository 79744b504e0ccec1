// The threads of a run's branch work in flight and the queue they post to
// (docs/composition.md, "Concurrency in the engine"): each transport
// attempt of a branch step (driver_branches.cpp), and each child run of a
// branch driven alongside its parent (driver_branch_children.cpp), runs on
// a thread of its own and posts its end here; the engine thread takes the
// ends one at a time, so every commit and every VM instruction stays on
// that thread. Private to the engine's Driver.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vm/base/result.h"
#include "vm/connectors/transport.h"
#include "vm/engine/clock.h"

namespace flow::engine {

// The outcome of one attempt, posted by its thread; or, `child` set, the
// end of a turn of a branch's child run (its driver let go: the child
// ended, waits, or another process drives it; `child_error` the Error its
// driver returned, if any).
struct Posted {
  std::string branch;
  connectors::StepOutcome out;
  int64_t sent_ms = 0;
  bool child = false;
  std::optional<Error> child_error = std::nullopt;
  // Withdrawn while it waited out its backoff (AttemptPool::Withdraw):
  // never sent, so `out` means nothing.
  bool withdrawn = false;
};

// The threads of the attempts in flight and the queue they post to. The
// destructor tells waiting threads to give up their backoff and joins them
// all: no thread outlives the Driver's stack frame.
class AttemptPool {
 public:
  AttemptPool() = default;
  AttemptPool(const AttemptPool&) = delete;
  auto operator=(const AttemptPool&) -> AttemptPool& = delete;
  ~AttemptPool() {
    {
      std::lock_guard lock(mu_);
      abort_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Runs `attempt` on a new thread after `delay_ms`; its outcome is posted
  // under `branch` (a blocked outcome when the pool is torn down first).
  template <class F>
  void Launch(std::string branch, int64_t delay_ms, const Clock& clock, F attempt) {
    threads_.emplace_back([this, branch = std::move(branch), delay_ms, &clock, attempt = std::move(attempt)]() mutable {
      if (delay_ms > 0) {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [&] { return abort_ || withdraw_; })) {
          if (abort_) return;
          Posted withdrawn{branch, {}, clock.NowMs()};
          withdrawn.withdrawn = true;
          done_.push_back(std::move(withdrawn));
          cv_.notify_all();
          return;
        }
      }
      Posted p{branch, {}, clock.NowMs()};
      p.out = attempt();
      std::lock_guard lock(mu_);
      done_.push_back(std::move(p));
      cv_.notify_all();
    });
  }

  // Runs `task` (returning a Posted) on a new thread and posts what it returns.
  template <class F>
  void Run(F task) {
    threads_.emplace_back([this, task = std::move(task)]() mutable {
      Posted p = task();
      std::lock_guard lock(mu_);
      done_.push_back(std::move(p));
      cv_.notify_all();
    });
  }

  // Attempts still waiting out their backoff give up and post `withdrawn`
  // (now and from then on); attempts already sent carry on.
  void Withdraw() {
    {
      std::lock_guard lock(mu_);
      if (withdraw_) return;
      withdraw_ = true;
    }
    cv_.notify_all();
  }

  // Posts an outcome computed on the calling thread.
  void Post(Posted p) {
    std::lock_guard lock(mu_);
    done_.push_back(std::move(p));
  }

  // The oldest posted outcome, waiting at most `ms` for one.
  auto Next(int64_t ms) -> std::optional<Posted> {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return !done_.empty(); });
    if (done_.empty()) return std::nullopt;
    Posted p = std::move(done_.front());
    done_.pop_front();
    return p;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Posted> done_;
  std::vector<std::thread> threads_;
  bool abort_ = false;
  bool withdraw_ = false;
};

}  // namespace flow::engine
