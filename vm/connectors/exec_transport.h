// The exec transport (SPEC §3): one attempt of a connector operation as one
// child process, without a shell.
//
// argv = transport.command + op.args. A command containing a '/' is resolved
// against the connector file's folder (so "tools/crm.py" works wherever flow
// was started), a bare name through PATH. The child runs in the connector's
// folder, in its own process group under a guardian that kills the group
// when flow dies (process_guard.h), with the arguments as JSON on stdin and
// only the environment SPEC §3 allows: PATH, HOME, LANG, TZ, the variables
// the transport lists in "env", and FLOW_IDEMPOTENCY_KEY, FLOW_RUN_ID and
// FLOW_OPERATION. stdout and stderr are read concurrently (poll), each with
// a cap, and the values of the "env" variables are redacted from both
// before anything reads them. Exit 0: stdout is the output JSON, validated
// against the schema; 75 (EX_TEMPFAIL): retryable; anything else:
// permanent, stderr is the message. The per-attempt timeout kills the
// whole process group with SIGKILL; when the child exits, whatever it left
// running in its group is killed too, so a step never leaves processes
// behind. A resent attempt first kills what is left of the previous one.
// Every descriptor is opened O_CLOEXEC and the child is always reaped.
// docs/transports.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "vm/connectors/step_call.h"

namespace flow::connectors {

// stdout above this is refused (the child is killed): the output becomes a
// step result stored in the database and held in VM memory, and a JSON
// document that large is a bug in the tool, not a result.
inline constexpr size_t kMaxOutputBytes = 16 * 1024 * 1024;
// Only the start of stderr is kept (the rest is read and dropped so the
// child never blocks on a full pipe): the message quotes at most
// kMaxMessageExcerptBytes of it anyway.
inline constexpr size_t kMaxStderrBytes = 64 * 1024;
// The exit code that asks for a retry: EX_TEMPFAIL from <sysexits.h>.
inline constexpr int kExitRetryable = 75;

// One attempt over exec. `attempt.args` has passed the input schema.
auto PerformExecAttempt(const StepAttempt& attempt) -> StepOutcome;

// The executable for argv[0]: with a '/', relative to `connector_dir`
// (made absolute); otherwise the first executable regular file named so in
// PATH. nullopt when there is none.
auto ResolveCommand(const std::string& command, const std::string& connector_dir)
    -> std::optional<std::string>;

}  // namespace flow::connectors
