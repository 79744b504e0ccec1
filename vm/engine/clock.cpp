// The system clock (clock.h).
#include "vm/engine/clock.h"

#include <thread>

namespace flow::engine {
namespace {

class SystemClockImpl final : public Clock {
 public:
  auto NowMs() const -> int64_t override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  void SleepFor(std::chrono::milliseconds duration) const override {
    if (duration.count() > 0) std::this_thread::sleep_for(duration);
  }
};

}  // namespace

auto SystemClock() -> const Clock& {
  static const SystemClockImpl clock;
  return clock;
}

}  // namespace flow::engine
