// Child processes of exec steps that cannot outlive the flow that started
// them (docs/transports.md "exec", docs/security.md).
//
// A `kill -9` of `flow` must not leave a step's tool running: the resumed
// run would send the step again while the first copy still works, and two
// copies of one step would run at once (an exec tool that ignores the
// idempotency key then acts twice). Two mechanisms:
//
// 1. A guardian per attempt. flow forks a small guardian (a copy of flow
//    that never execs and only makes system calls) which leads a new
//    process group and starts the tool in it. The guardian asks the kernel
//    for a signal when its parent dies (PR_SET_PDEATHSIG) and then kills
//    the whole group -- the tool and everything it started, however deep.
//    The tool itself gets PR_SET_PDEATHSIG=SIGKILL against the guardian. The
//    guardian exits as the tool did (same code, or the same signal), so the
//    caller sees the tool's exit; killing the guardian's group (timeout,
//    output cap) kills everything.
// 2. Before a step is resent after a crash, the processes of its previous
//    attempt that can still be found are killed and waited for: every
//    process of this user whose environment carries the same
//    FLOW_IDEMPOTENCY_KEY, FLOW_RUN_ID and FLOW_OPERATION (a tool that
//    escaped the group with setsid, or one whose guardian was killed too).
//    The key is the step's identity towards the outside world already, so
//    a process carrying it *is* an attempt of that step.
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

// A started guardian: its pid (also the process group of the tool and of
// everything the tool starts) and the parent's ends of the tool's stdio.
struct GuardedChild {
  int pid = -1;
  int stdin_fd = -1;   // write end, non-blocking
  int stdout_fd = -1;  // read ends
  int stderr_fd = -1;
};

// Starts `path` with `argv` and `env` in `dir` ("" = the current one) under
// a guardian (above): default signal dispositions, an empty signal mask,
// the three pipes as stdin, stdout and stderr, no other descriptor. Returns
// the errno of the failure (pipe, fork, chdir, exec), or 0 with `child` set;
// the caller owns its descriptors, and reaps `child.pid` after killing
// -child.pid. Called from the thread that waits for the child: the
// guardian's parent-death signal follows that thread.
auto SpawnGuarded(const std::string& path, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env, const std::string& dir, GuardedChild& child) -> int;

// Kills every live process of this user (never flow itself or one of its
// ancestors) whose environment holds exactly these FLOW_IDEMPOTENCY_KEY,
// FLOW_RUN_ID and FLOW_OPERATION values, and waits up to `wait` for them to
// be gone. Ok when none is left; an Error naming a survivor otherwise.
auto KillPreviousAttempt(const std::string& key, const std::string& run_id, const std::string& operation,
                         std::chrono::milliseconds wait = kPreviousAttemptWait) -> Status;

}  // namespace flow::connectors
