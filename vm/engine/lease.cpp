#include "vm/engine/lease.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

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
  std::string start;  // the process's start time, "" in an old owner id
  std::string boot;   // the boot id, "" in an old owner id
  std::string host;
};

auto ParseHolder(const std::string& owner) -> Holder {
  Holder h;
  auto at = owner.find('@');
  if (at == std::string::npos) return h;
  std::string who = owner.substr(0, at);
  h.host = owner.substr(at + 1);
  auto first = who.find(':');
  h.pid = std::strtol(who.substr(0, first).c_str(), nullptr, 10);
  if (first != std::string::npos) {
    auto second = who.find(':', first + 1);
    h.start = who.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
    if (second != std::string::npos) h.boot = who.substr(second + 1);
  }
  return h;
}

auto FirstLine(const std::string& path) -> std::string {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

auto ProcessStartTime(long pid) -> std::string {
  // Field 22 of /proc/PID/stat; field 2, the command name in parentheses,
  // may itself hold spaces and parentheses: count from the last ')'.
  std::string stat = FirstLine(fmt::format("/proc/{}/stat", pid));
  auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int k = 3; k <= 22 && (fields >> field); ++k) {
    if (k == 22) return field;
  }
  return "";
}

auto BootId() -> std::string { return FirstLine("/proc/sys/kernel/random/boot_id"); }

namespace {

// Whether the holder is certainly dead: its pid is gone, or the machine
// rebooted since it took the lease (another boot id), or the pid now
// belongs to another process (another start time). Anything this process
// cannot read (no /proc) counts as alive: a live owner is never robbed.
auto HolderIsGone(const Holder& h) -> bool {
  if (h.pid <= 0) return false;
  if (::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH) return true;
  if (!h.boot.empty()) {
    const std::string boot = BootId();
    if (!boot.empty() && boot != h.boot) return true;
  }
  if (!h.start.empty()) {
    const std::string start = ProcessStartTime(h.pid);
    if (!start.empty() && start != h.start) return true;
  }
  return false;
}

}  // namespace

namespace {

std::mutex claims_mutex;
std::set<std::string>& Claims() {
  static std::set<std::string> claims;
  return claims;
}

}  // namespace

InProcessClaim::InProcessClaim(std::string run_id) : run_id_(std::move(run_id)) {
  std::lock_guard<std::mutex> lock(claims_mutex);
  held_ = Claims().insert(run_id_).second;
}

InProcessClaim::~InProcessClaim() {
  if (!held_) return;
  std::lock_guard<std::mutex> lock(claims_mutex);
  Claims().erase(run_id_);
}

auto InProcessClaim::Conflict() const -> Error {
  return Error{fmt::format("run {} is owned by pid {} on this host (another thread of this process drives it)",
                           run_id_, static_cast<long>(::getpid())),
               ErrorCode::kLeaseHeld};
}

auto IsLeaseConflict(const Error& error) -> bool {
  return error.code == ErrorCode::kLeaseHeld;
}

auto ThisLeaseOwner() -> std::string {
  // The pid and boot id do not change while the process lives (nor does
  // the host name for our purpose); read /proc once.
  static const std::string owner = [] {
    const long pid = static_cast<long>(::getpid());
    return fmt::format("{}:{}:{}@{}", pid, ProcessStartTime(pid), BootId(), HostName());
  }();
  return owner;
}

auto LeaseTakeable(const store::RunRecord& run, const std::string& owner, int64_t now_ms) -> bool {
  const std::string& held = run.lease_owner;
  if (held.empty() || held == owner) return true;
  Holder holder = ParseHolder(held);
  if (holder.host == HostName()) return HolderIsGone(holder);
  return run.lease_expiry_ms < 0 || run.lease_expiry_ms < now_ms;
}

auto AcquireLease(store::Store& store, const std::string& id, const std::string& owner, int64_t now_ms) -> Status {
  auto run = store.GetRun(id);
  if (!run) return run.error();
  if (!*run) return Error{fmt::format("no run '{}'", id), ErrorCode::kNotFound};
  const std::string held = (*run)->lease_owner;
  Holder holder = ParseHolder(held);
  std::string takeover;
  if (!held.empty() && held != owner && holder.host == HostName()) {
    if (!HolderIsGone(holder)) {
      return Error{fmt::format("run {} is owned by pid {} on {}", id, holder.pid, holder.host), ErrorCode::kLeaseHeld};
    }
    takeover = held;
  }
  auto after = store.TakeLease(id, owner, now_ms, now_ms + kLeaseDuration.count(), takeover);
  if (!after) return after.error();
  if (*after == owner) return Ok{};
  Holder other = ParseHolder(*after);
  return Error{fmt::format("run {} is owned by pid {} on {}", id, other.pid, other.host), ErrorCode::kLeaseHeld};
}

}  // namespace flow::engine
