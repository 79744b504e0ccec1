// See worker_pool.h.
#include "cli/worker_pool.h"

#include <signal.h>

#include <utility>

#include "cli/program_loader.h"

namespace flow::cli {

namespace {

auto StopSet() -> sigset_t {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

StopSignal::StopSignal() {
  sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this] { Watch(); });
}

StopSignal::~StopSignal() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  // Wakes the watcher's sigwait: the signal is blocked, so it stays
  // pending for that thread until sigwait takes it.
  pthread_kill(watcher_.native_handle(), SIGTERM);
  watcher_.join();
}

void StopSignal::Watch() {
  sigset_t set = StopSet();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      stopped_ = true;
      flag_ = true;
    }
    cv_.notify_all();
    std::lock_guard call(call_mu_);
    if (on_stop_) on_stop_();
  }
}

auto StopSignal::Stopped() -> bool {
  std::lock_guard lock(mu_);
  return stopped_;
}

auto StopSignal::Sleep(std::chrono::milliseconds duration) -> bool {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, duration, [this] { return stopped_; });
  return stopped_;
}

void StopSignal::OnStop(std::function<void()> on_stop) {
  std::lock_guard call(call_mu_);
  on_stop_ = std::move(on_stop);
  if (on_stop_ && Stopped()) on_stop_();
}

WorkerPool::WorkerPool(std::string db_path, int threads, engine::EngineOptions options,
                       std::function<void(const DueOutcome&)> on_done)
    : db_path_(std::move(db_path)), options_(std::move(options)), on_done_(std::move(on_done)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  Close(true);
  Join();
}

auto WorkerPool::Offer(const std::string& id) -> bool {
  {
    std::lock_guard lock(mu_);
    if (closed_ || !held_.insert(id).second) return false;
    queue_.push_back(id);
  }
  cv_.notify_one();
  return true;
}

auto WorkerPool::Holds(const std::string& id) -> bool {
  std::lock_guard lock(mu_);
  return held_.count(id) != 0;
}

void WorkerPool::Close(bool drop_queued) {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    if (drop_queued) {
      for (const auto& id : queue_) held_.erase(id);
      queue_.clear();
    }
  }
  cv_.notify_all();
}

void WorkerPool::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::Loop() {
  // This thread's own connection, opened once (not per run).
  auto store = OpenStore(db_path_);
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closed and drained
      id = std::move(queue_.front());
      queue_.pop_front();
    }
    DueOutcome outcome;
    if (store) {
      outcome = DriveDueRun(**store, id, options_);
    } else {
      outcome.run = id;
      outcome.error = store.error().message;
    }
    on_done_(outcome);
    std::lock_guard lock(mu_);
    held_.erase(id);
  }
}

}  // namespace flow::cli
