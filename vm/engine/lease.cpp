#include "vm/engine/lease.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "vm/engine/run_driver.h"

namespace flow::engine {

namespace {

auto HostName() -> std::string {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

struct Holder {
  long pid = 0;
  std::string host;
};

auto ParseHolder(const std::string& owner) -> Holder {
  Holder h;
  auto at = owner.find('@');
  if (at == std::string::npos) return h;
  h.pid = std::strtol(owner.substr(0, at).c_str(), nullptr, 10);
  h.host = owner.substr(at + 1);
  return h;
}

auto PidIsGone(long pid) -> bool { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

auto IsLeaseConflict(const Error& error) -> bool {
  return error.message.rfind("run ", 0) == 0 && error.message.find(" is owned by pid ") != std::string::npos;
}

auto ThisLeaseOwner() -> std::string { return fmt::format("{}@{}", ::getpid(), HostName()); }

auto LeaseTakeable(const store::RunRecord& run, const std::string& owner, int64_t now_ms) -> bool {
  const std::string& held = run.lease_owner;
  if (held.empty() || held == owner) return true;
  Holder holder = ParseHolder(held);
  if (holder.host == HostName()) return PidIsGone(holder.pid);
  return run.lease_expiry_ms < 0 || run.lease_expiry_ms < now_ms;
}

auto AcquireLease(store::Store& store, const std::string& id, const std::string& owner) -> Status {
  auto run = store.GetRun(id);
  if (!run) return run.error();
  if (!*run) return Error{fmt::format("no run '{}'", id)};
  const std::string held = (*run)->lease_owner;
  Holder holder = ParseHolder(held);
  std::string takeover;
  if (!held.empty() && held != owner && holder.host == HostName()) {
    if (!PidIsGone(holder.pid)) {
      return Error{fmt::format("run {} is owned by pid {} on {}", id, holder.pid, holder.host)};
    }
    takeover = held;
  }
  const int64_t now = NowMs();
  auto after = store.TakeLease(id, owner, now, now + kLeaseDuration.count(), takeover);
  if (!after) return after.error();
  if (*after == owner) return Ok{};
  Holder other = ParseHolder(*after);
  return Error{fmt::format("run {} is owned by pid {} on {}", id, other.pid, other.host)};
}

}  // namespace flow::engine
