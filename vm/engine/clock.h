// The engine's clock: where a run's timestamps, wake-up times, lease
// expiries and in-process waits come from. An interface so the runtime is
// assembled at the edge (runtime.h): `flow` uses the system clock; a test
// may give a clock of its own.
#pragma once

#include <chrono>
#include <cstdint>

namespace flow::engine {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in Unix milliseconds (the store's time unit).
  virtual auto NowMs() const -> int64_t = 0;
  // Blocks the calling thread for `duration` (a retry backoff, a lease
  // renewal interval); zero or negative returns at once.
  virtual void SleepFor(std::chrono::milliseconds duration) const = 0;
};

// The system's real-time clock and std::this_thread::sleep_for. One
// instance for the process; safe from any thread.
auto SystemClock() -> const Clock&;

}  // namespace flow::engine
