// What the commands that touch a run from outside share (`flow approve`,
// `flow reject`, `flow signal`, `flow cancel`): opening the store of an
// existing run without ever creating a database, and, once a decision or
// payload is recorded, driving the run in-process (SPEC §4: the command that
// touches a run drives it until it completes, fails or suspends again).
//
// Recording and driving are two steps on purpose: the record is one
// conditional append (Store::AppendEventIf), made without the run's lease,
// so it never waits for whoever drives the run; delivering it is the
// engine's job (engine::ResumeRun, under the lease). SPEC §5: these commands
// exit 0 once the record is made, whatever the run does next.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "vm/store/store.h"

namespace flow::cli {

// After recording, how long to wait for another process to let go of a run
// that is `waiting`: such a holder is only suspending it or finding that it
// still waits, which takes milliseconds, and the record just written must
// then be delivered by someone. A run that is `running` is not waited for:
// its holder finds a signal at its next wait (docs/runs.md).
inline constexpr std::chrono::milliseconds kHandOffWait{5000};
// How long `flow cancel` waits for a live process that drives the run to
// act on the cancellation and compensate: longer, since that holder runs
// compensations (subprocesses, requests), which a loaded machine slows.
inline constexpr std::chrono::milliseconds kCancelHandOffWait{30'000};
// How often the lease is tried again within kHandOffWait.
inline constexpr std::chrono::milliseconds kHandOffPoll{20};

// Opens the store of --db option `db` for a command about run `id`. A
// missing database means the run is unknown: prints `flow: unknown run
// 'X' (no database at 'P')` and sets `exit_code` to 2 without creating a
// file; a refused database prints its reason and sets 4. nullptr then.
auto OpenStoreForRun(const std::string& db, const std::string& id, int& exit_code) -> std::unique_ptr<store::Store>;

// Run `id` as the store has it now. nullopt after printing why: a store
// error (`exit_code` 4) or `flow: unknown run 'X'` (2).
auto ReadKnownRun(store::Store& store, const std::string& id, int& exit_code) -> std::optional<store::RunRecord>;

// The outcome of a conditional append for run `id` that the commands report
// alike: a store error (its line, exit 4) or an unknown run (`flow: unknown
// run 'X'`, exit 2). nullopt when the append was answered otherwise (made,
// or refused for a reason the command words itself).
auto AppendFailureExit(const Result<store::AppendOutcome>& out, const std::string& id) -> std::optional<int>;

// Drives run `id` after `what` ("decision", "signal", "cancellation") was
// recorded: ResumeRun with the engine options of the environment, waiting
// up to kHandOffWait for a live holder of a waiting run -- or, up to
// kCancelHandOffWait, of any run with `wait_for_running` (a cancellation,
// which the holder acts on at its next durable point) -- to let go; then prints the run report (`json`: the
// `flow run --json` object on stdout, else a line on stderr). Returns 0
// (the record is made, whatever the run did), 2 when the environment's
// engine options are invalid, or 4 after a one-line reason when the store
// failed while driving.
auto DriveRecordedRun(store::Store& store, const std::string& id, const char* what, bool json,
                      bool wait_for_running = false) -> int;

}  // namespace flow::cli
