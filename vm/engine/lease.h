// Run leases (SPEC §4): one process drives a run at a time.
//
// The lease is the run row's (lease_owner, lease_expiry_ms). Its owner is
// "PID:START:BOOT@HOST": the process id, its start time (field 22 of
// /proc/PID/stat, clock ticks since boot) and the boot id
// (/proc/sys/kernel/random/boot_id), because a pid alone is reused: a dead
// holder's pid may belong to another live process by the time someone
// looks. Starting a run takes it in the CreateRun transaction; resuming
// takes it in its own transaction first. The driver renews it at durable
// points and while it waits, and releases it when it lets go of the run.
// Another process wanting the run:
// - same host: takes it at once when the holder is gone -- its pid does not
//   exist (kill(pid, 0) fails with ESRCH), or the boot id differs (a
//   reboot), or the process with that pid started at another time (the pid
//   was reused) -- and never while the holder lives, expired or not (a live
//   owner may be inside a long attempt). An owner id of an older flow,
//   "PID@HOST", is judged by its pid alone;
// - other host: takes it once the lease expired (kLeaseDuration after the
//   last renewal).
// Otherwise it fails with "run X is owned by pid P on HOST" (code
// ErrorCode::kLeaseHeld; exit 4).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "vm/base/result.h"
#include "vm/store/store.h"

namespace flow::engine {

// How long a lease lasts without renewal (SPEC §4 default).
inline constexpr std::chrono::milliseconds kLeaseDuration{30'000};
// Renewed when a third of it has passed, so two missed renewals still hold it.
inline constexpr std::chrono::milliseconds kLeaseRenewInterval{10'000};

// This process's owner id: "PID:START:BOOT@HOST".
auto ThisLeaseOwner() -> std::string;
// The start time of process `pid` (field 22 of /proc/PID/stat), "" when it
// cannot be read; the boot id, "" when it cannot be read.
auto ProcessStartTime(long pid) -> std::string;
auto BootId() -> std::string;

// Takes the lease of run `id` for `owner` (rules above) at `now_ms` (the
// Runtime's clock), until now_ms + kLeaseDuration; renews it when `owner`
// already holds it. Another host's lease counts as expired when its expiry
// is before `now_ms`.
auto AcquireLease(store::Store& store, const std::string& id, const std::string& owner, int64_t now_ms) -> Status;

// Whether AcquireLease by `owner` could take the lease of `run` (as read)
// at `now_ms` by the rules above: no holder, `owner` itself, a holder on
// this host whose pid is gone, or one on another host whose lease expired.
// Reads nothing: `flow worker` uses it to pass over runs a live process
// drives without a write transaction per run and poll.
auto LeaseTakeable(const store::RunRecord& run, const std::string& owner, int64_t now_ms) -> bool;

// Inside one process every thread has the same lease owner id, so the
// lease alone cannot keep two threads of it apart: a `flow worker` thread
// and a parent run driving its child in-process (docs/composition.md). A
// claim marks a run as driven by a thread of this process for the claim's
// lifetime; a second claim of the same run fails (held() false) until the
// first is released. ResumeRun and StartRun hold one while they drive.
class InProcessClaim {
 public:
  explicit InProcessClaim(std::string run_id);
  ~InProcessClaim();
  InProcessClaim(const InProcessClaim&) = delete;
  auto operator=(const InProcessClaim&) -> InProcessClaim& = delete;
  auto held() const -> bool { return held_; }
  // The error of a claim that is not held, in AcquireLease's words (so
  // IsLeaseConflict is true of it).
  auto Conflict() const -> Error;

 private:
  std::string run_id_;
  bool held_ = false;
};

// True when `error` is AcquireLease's "run X is owned by ..." (another
// live process drives the run; its code is ErrorCode::kLeaseHeld), as
// opposed to a store failure.
auto IsLeaseConflict(const Error& error) -> bool;

}  // namespace flow::engine
