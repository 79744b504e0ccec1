// The journal event vocabulary of a run (SPEC §4), as one table of names.
//
// The run engine (run_driver.h) writes these; `flow show`, `flow runs`, the
// approve/signal commands and the golden run tests read them generically.
// docs/runs.md documents each event's `step`, `attempt` and `data` fields.
// Names are stored in databases: append, never rename.
#pragma once

#include <string_view>

namespace flow::engine::events {

// data {"workflow", "program", "input"}, and for a fork (ForkRun)
// "forked_from": {"run", "checkpoint"}; always seq 1.
inline constexpr std::string_view kStarted = "started";
// data {"seq", "effect", "value"} (interp/effect_log.h): a now()/uuid()/random() value.
inline constexpr std::string_view kEffect = "effect";
// step = position, attempt = n; data {"operation", "step_id", "args", "key"}:
// written in the transaction that records the attempt's end
// (step_completed, step_failed) or its blocking, never alone before the
// send (docs/runs.md, "Durable points"); at_ms is when it was sent.
// "resent": true when a previous process may have sent this attempt
// already (the first step sent after a driver died while the run was
// running). Journals written before this rule may hold a step_started
// without an end: that attempt was in flight, and a resume resends it.
inline constexpr std::string_view kStepStarted = "step_started";
// data {"operation", "result"}.
inline constexpr std::string_view kStepCompleted = "step_completed";
// data {"operation", "kind", "message", "final"}; when another attempt
// follows ("final": false) also "retry_in_ms" and "retry_at_ms".
inline constexpr std::string_view kStepFailed = "step_failed";
// The step could not be sent because of the machine (a command, folder or
// environment variable is missing): step = position, attempt = n, data
// {"operation", "step_id", "args", "key", "message", "retry_at_ms"}. The
// run waits with reason `blocked`; a resume sends the same attempt.
inline constexpr std::string_view kStepBlocked = "step_blocked";
// data {"name"}.
inline constexpr std::string_view kCheckpoint = "checkpoint";
// data {"prompt", "from" (string or null), "timeout_ms" (or null)}.
inline constexpr std::string_view kApprovalRequested = "approval_requested";
// Written by `flow approve`/`flow reject`: data {"approved": bool, "by",
// "comment", "at" (RFC 3339)}. The engine delivers it on resume.
inline constexpr std::string_view kApprovalDecided = "approval_decided";
// data {"event", "timeout_ms" (or null)}.
inline constexpr std::string_view kSignalAwaited = "signal_awaited";
// Written by `flow signal`: data {"event", "payload"}.
inline constexpr std::string_view kSignalReceived = "signal_received";
// The engine delivered a recorded decision or payload and the run goes on:
// data {"after": "approval"|"signal", "seq"} (the journal seq of the
// approval_decided / signal_received it consumed; a signal's also has
// "event"). A signal is consumed once: the oldest unconsumed one of the
// awaited event is delivered, also one recorded before the wait began.
inline constexpr std::string_view kRunResumed = "resumed";
// data {"duration_ms", "wake_at_ms"}.
inline constexpr std::string_view kTimerStarted = "timer_started";
// data {}: the sleep is over.
inline constexpr std::string_view kTimerFired = "timer_fired";
// An approval or signal wait ran out: data {"what": "approval"|"signal"}.
inline constexpr std::string_view kWaitTimedOut = "wait_timed_out";
// Compensations: step = position (after the run's steps), attempt = n;
// data as the step events ("operation", then "result" or "kind"/"message").
inline constexpr std::string_view kCompensationStarted = "compensation_started";
inline constexpr std::string_view kCompensationCompleted = "compensation_completed";
inline constexpr std::string_view kCompensationFailed = "compensation_failed";
// A compensation that could not be sent (as step_blocked).
inline constexpr std::string_view kCompensationBlocked = "compensation_blocked";
// Written by `flow cancel` (RequestCancel), without the lease, before
// anything is compensated: data {"reason", "status" (the run's status
// before the request)}. From then on the run only goes towards
// `cancelled`: whoever drives it next finishes the cancellation.
inline constexpr std::string_view kCancelRequested = "cancel_requested";
// A child workflow call started its child run (docs/composition.md),
// written in the transaction that creates the child: data {"child" (its
// run id), "workflow", "step_id" (the child descriptor), "deadline_ms" (the
// call's timeout as a time, or null)}. The run waits on it (reason
// `child` when it cannot drive it).
inline constexpr std::string_view kChildStarted = "child_started";
// The child completed: data {"child", "result"}, delivered to the call.
inline constexpr std::string_view kChildCompleted = "child_completed";
// The child failed, was cancelled, or did not end within the call's
// timeout: data {"child", "error": {kind, message, step}}, raised at the call.
inline constexpr std::string_view kChildFailed = "child_failed";
// A wait of a branch fiber (approval_requested, signal_awaited,
// timer_started with a `branch`) whose fiber was discarded because another
// branch of its block failed: data {"request" (the wait's seq)}. Waits in
// branches: their events carry the branch and step = the wait's position
// in its fiber; an answer names the wait's seq as "request"
// (docs/composition.md, "Waits inside branches as built").
inline constexpr std::string_view kBranchStopped = "branch_stopped";
// data {"result"}.
inline constexpr std::string_view kCompleted = "completed";
// data {"error": {kind, message, step}, "compensations": [{step, status}]}.
inline constexpr std::string_view kFailed = "failed";
// The end of a cancelled run: data as `failed`, error kind "cancelled".
inline constexpr std::string_view kCancelled = "cancelled";

}  // namespace flow::engine::events
