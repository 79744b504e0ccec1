// Child processes of exec steps that cannot outlive the flow that started
// them (docs/transports.md "exec", docs/security.md).
//
// A `kill -9` of `flow` must not leave a step's tool running: the resumed
// run would send the step again while the first copy still works, and two
// copies of one step would run at once (an exec tool that ignores the
// idempotency key then acts twice). Three mechanisms:
//
// 1. The tool is started in a process group of its own with
//    PR_SET_PDEATHSIG=SIGKILL: the kernel kills it when the flow thread
//    that started it dies.
// 2. One guardian per flow process (forked at the first exec step; a copy of
//    flow that never execs and only makes system calls, in a process group
//    of its own so a signal to flow's group does not reach it) holds the
//    other end of a socket with flow and a list of the process groups of
//    the tools running now: each tool registers its group before it execs,
//    flow removes it after killing the group. When flow dies the socket
//    reaches end of file, and the guardian kills every group still listed
//    -- the tools' children and grandchildren, however deep -- then exits.
// 3. Before a step is resent after a crash, the processes of its previous
//    attempt that can still be found are killed and waited for: every
//    process of this user whose environment carries the same
//    FLOW_IDEMPOTENCY_KEY, FLOW_RUN_ID and FLOW_OPERATION (a grandchild
//    that left the group with setsid, or a group whose guardian was killed
//    too). The key is the step's identity towards the outside world
//    already, so a process carrying it *is* an attempt of that step --
//    unless another live flow process is its ancestor: then it belongs to
//    another database's run of the same id (on one host a live driver's
//    run is never taken over), and it is left alone.
//
// A tool is spawned with clone(CLONE_VM | CLONE_VFORK), as posix_spawn
// does: no copy of flow's memory per step.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vm/base/result.h"

namespace flow::connectors {

// How long KillPreviousAttempt waits for SIGKILLed processes to be gone. A
// killed process ends within milliseconds unless it is stuck in the kernel
// (uninterruptible I/O on a dead NFS server); then the resend is refused
// rather than run beside it.
inline constexpr std::chrono::milliseconds kPreviousAttemptWait{30'000};
// How many tool process groups the guardian keeps at once: far more than
// the steps one flow process runs at a time (a worker drives at most 64
// runs, each with one step in flight). A group beyond it still dies by
// (1) and (3), only not its escaped grandchildren at flow's death.
inline constexpr int kMaxGuardedGroups = 4096;

// A started tool: its pid (also its process group) and the parent's ends
// of its stdio.
struct GuardedChild {
  int pid = -1;
  int stdin_fd = -1;   // write end, non-blocking
  int stdout_fd = -1;  // read ends
  int stderr_fd = -1;
};

// Starts `path` with `argv` and `env` in `dir` ("" = the current one) as
// above: its own process group, registered with the guardian, killed with
// the calling thread, default signal dispositions, an empty signal mask,
// the three pipes as stdin, stdout and stderr. Returns the errno of the
// failure (pipe, clone, chdir, exec), or 0 with `child` set; the caller owns
// its descriptors, kills -child.pid, calls ReleaseGroup(child.pid), then
// reaps it. Called from the thread that waits for the child.
auto SpawnGuarded(const std::string& path, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env, const std::string& dir, GuardedChild& child) -> int;

// Takes the group of a tool that SpawnGuarded started off the guardian's
// list. Call it after killing the group and before reaping its leader:
// until then the group id cannot be reused, so the guardian never kills a
// stranger's group.
void ReleaseGroup(int pid);

// Kills every live process of this user (never flow itself or one of its
// ancestors) whose environment holds exactly these FLOW_IDEMPOTENCY_KEY,
// FLOW_RUN_ID and FLOW_OPERATION values, with its process group, and waits
// up to `wait` for them to be gone. Ok when none is left; an Error naming
// a survivor otherwise.
auto KillPreviousAttempt(const std::string& key, const std::string& run_id, const std::string& operation,
                         std::chrono::milliseconds wait = kPreviousAttemptWait) -> Status;

}  // namespace flow::connectors
