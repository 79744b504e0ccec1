// The durable store of runs: one interface, so the SQLite store of this
// milestone and the PostgreSQL store of a later one are interchangeable.
//
// Everything a durable point writes goes through Commit() as one
// DurableUpdate, applied in one transaction (SPEC §4: the step result, the
// VM state after it and the journal event land together or not at all).
// The journal is append-only; its seq numbers are assigned by the store,
// from 1 per run. docs/store.md describes every table and column.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/base/result.h"

namespace flow::store {

enum class RunStatus : uint8_t { Running, Waiting, Completed, Failed, Cancelled };
auto StatusName(RunStatus s) -> const char*;
auto ParseStatus(const std::string& name) -> std::optional<RunStatus>;

struct RunRecord {
  std::string id;
  std::string program_hash;
  std::string workflow;
  RunStatus status = RunStatus::Running;
  std::string waiting_reason;  // "", "approval", "signal", "timer", "retry", "child", "blocked"
  std::string waiting;         // JSON details of the wait ("" when not waiting)
  std::string input;           // JSON
  std::string result;          // JSON, "" unless completed
  std::string error;           // JSON {kind, message, step}, "" unless failed/cancelled
  int64_t wake_at_ms = -1;     // when a timer/retry/approval timeout is due, -1 if never
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string lease_owner;     // "" when no process owns the run (CreateRun writes it too)
  int64_t lease_expiry_ms = -1;
  // When `flow cancel` first asked for the run's cancellation, -1 if never
  // (AppendRowChange::request_cancel).
  int64_t cancel_requested_ms = -1;
  // The run whose workflow call started this one as a child run
  // (docs/composition.md), "" for a top-level run.
  std::string parent_id;
};

struct JournalEvent {
  int64_t seq = 0;             // assigned by the store on append
  std::string type;            // started, step_started, step_completed, ...
  int64_t step = -1;           // step position (the run's step counter), -1 if none
  int64_t attempt = 0;         // 1.. for step events, 0 otherwise
  std::string data = "{}";     // JSON
  int64_t at_ms = 0;
  // The branch fiber it belongs to ("2.3", docs/composition.md), "" for the
  // root; `step` then counts that fiber's steps.
  std::string branch = "";
};

// One durable point. Absent optionals leave the column as it is.
struct DurableUpdate {
  std::string run_id;
  std::optional<RunStatus> status;
  std::optional<std::string> waiting_reason;
  std::optional<std::string> waiting;
  std::optional<std::string> result;
  std::optional<std::string> error;
  std::optional<int64_t> wake_at_ms;
  std::vector<JournalEvent> events;   // appended in order
  std::optional<std::string> state;   // the VM state after this point
  std::optional<std::string> checkpoint;  // also keep `state` under this label
  int64_t now_ms = 0;
  // A run's end: when its cancellation was requested, write nothing and
  // answer `refused` (the run must end cancelled, not completed or failed).
  bool unless_cancel_requested = false;
  // A child run to create in the same transaction (docs/composition.md),
  // before the events are appended: `run` (parent_id set), its first
  // journal event and its initial state. Created when absent; when a run of
  // that id exists with the same parent it is left as it is (a parent that
  // crashed after creating it reaches the same call again) and
  // CommitOutcome::child_existed says so; with another parent, an Error.
  struct NewChild {
    RunRecord run;
    JournalEvent started;
    std::string state;
  };
  std::optional<NewChild> create_child;
  // A run's end as a child: its parent, when it waits on a child (reason
  // `child`), becomes due at now_ms (wake_at_ms lowered to it), so whoever
  // polls for due runs delivers the child's end to it. "" for none.
  std::string wake_parent;
};

// What a Commit did. While the run has a cancellation request, an update
// that would set it `waiting` sets it plain `running` instead (no waiting
// reason, no wake-up time), so a run being cancelled is always due
// (ListDue) until it ends, whoever crashed on the way -- except a `blocked`
// one, whose wake-up time makes it due when the worker should try again.
struct CommitOutcome {
  std::vector<int64_t> seqs;     // the seqs assigned to update.events (empty when refused)
  bool cancel_requested = false; // the run has a cancellation request (read in the transaction)
  bool refused = false;          // unless_cancel_requested held: nothing was written
  bool child_existed = false;    // DurableUpdate::create_child found the child already there
};

// What AppendEventIf changes in the run row besides appending the event
// (nothing by default), in the same transaction.
struct AppendRowChange {
  // `flow cancel`: sets cancel_requested_ms to `now_ms` unless already set,
  // and a `waiting` run becomes plain `running` (no waiting reason, details
  // or wake-up time), so that whoever picks it up next -- this command,
  // `flow resume`, `flow worker` -- finishes the cancellation.
  bool request_cancel = false;
  // `flow approve`/`flow signal`: a run waiting (for a signal: for the
  // signal `due_event`, when not empty) becomes due at `now_ms` (its
  // wake_at_ms lowered to it), so that `flow worker` delivers the record
  // even if the command is killed before it drives the run. The engine
  // delivers a recorded decision or signal before it looks at a timeout.
  bool make_due = false;
  std::string due_event;
  int64_t now_ms = 0;
};

// A precondition of Store::AppendEventIf, checked inside the append's
// transaction, so that two writers answering the same wait at the same
// moment cannot both pass it (two `flow approve`: the second is refused).
struct AppendCondition {
  // The run's status must be one of these (empty: any).
  std::vector<RunStatus> statuses;
  // When set, the run's waiting_reason must be exactly this.
  std::optional<std::string> waiting_reason;
  // When both are set: no event of type `answered_by` may follow the run's
  // latest event of type `opened_by` (the wait is still unanswered).
  std::string opened_by;
  std::string answered_by;
  // When >= 0 (instead of opened_by/answered_by): no event after the one
  // with this seq may name it as its `"request"` (a wait inside a branch,
  // answered by a decision, a timeout or its branch's stop; AppendRefusal::
  // Answered with that event; docs/composition.md, "Waits inside branches
  // as built").
  int64_t unanswered_request = -1;
  // When >= 0: the run's wake_at_ms must be unset or later than this (a
  // wait whose timeout is due can no longer be answered).
  int64_t not_due_at_ms = -1;
  // When set: the run's `waiting` details must be exactly this text, the
  // wait the caller read and judged (`flow approve` under a roles file
  // checked the role of this approval, not of the next one).
  std::optional<std::string> waiting;
};

// Why AppendEventIf did not append (None: it did). Changed: the run's
// waiting details are no longer AppendCondition::waiting.
enum class AppendRefusal : uint8_t { None, UnknownRun, Status, Answered, Due, Changed };

struct AppendOutcome {
  AppendRefusal refusal = AppendRefusal::None;
  std::optional<RunRecord> run;       // the row as read in the transaction (nullopt: unknown run)
  int64_t seq = 0;                    // the appended event's seq (when appended)
  std::optional<JournalEvent> answer; // Answered: the `answered_by` event that answered the wait
};

// Which events Store::ScanJournal visits.
struct JournalQuery {
  int64_t after_seq = 0;    // only events with a greater seq
  int64_t limit = -1;       // at most this many; negative: no limit
  std::string type_prefix;  // only types starting with this ("" = all)
};

struct Checkpoint {
  std::string name;
  int64_t journal_seq = 0;
  int64_t created_ms = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores a compiled program under its content hash; storing the same
  // hash again is a no-op. A hash already stored with different bytes is an
  // Error (a collision or a corrupt row, never silently replaced).
  virtual auto PutProgram(const std::string& hash, const std::string& bytes) -> Status = 0;
  // The bytes of a stored program; an Error when unknown.
  virtual auto GetProgram(const std::string& hash) -> Result<std::string> = 0;

  // Creates a run with its `started` event and initial state, atomically.
  // An Error when the id exists ("run 'x' already exists", code
  // kAlreadyExists) or the program is not stored.
  virtual auto CreateRun(const RunRecord& run, const JournalEvent& started, const std::string& state)
      -> Status = 0;
  // As CreateRun, with `events` as the journal's first events (seq 1, 2,
  // ...; events[0] is `started`), all in the same transaction: `flow fork`
  // opens its journal with the original's effect records.
  virtual auto CreateRunWithEvents(const RunRecord& run, const std::vector<JournalEvent>& events,
                                   const std::string& state) -> Status = 0;
  // The run, or nullopt when there is none with this id.
  virtual auto GetRun(const std::string& id) -> Result<std::optional<RunRecord>> = 0;
  // All runs, newest first (creation time, then insertion order for runs
  // created in the same millisecond), optionally only those with `status`.
  virtual auto ListRuns(std::optional<RunStatus> status) -> Result<std::vector<RunRecord>> = 0;

  // The child runs of `parent_id` (runs whose parent_id it is), oldest
  // first (creation time, then insertion order).
  virtual auto ListChildren(const std::string& parent_id) -> Result<std::vector<RunRecord>> = 0;

  // The runs `flow worker` may have to drive at `now_ms`: every `running`
  // run (its owner may have died; the caller judges the lease columns) and
  // every `waiting` run whose wake_at_ms is at or before `now_ms` -- running
  // runs first, then soonest due first. One query on runs_by_status.
  virtual auto ListDue(int64_t now_ms) -> Result<std::vector<RunRecord>> = 0;
  // The earliest wake_at_ms of any waiting run, or nullopt when no waiting
  // run has one (a worker sleeps until then).
  virtual auto NextWake() -> Result<std::optional<int64_t>> = 0;

  // Applies one durable point in one transaction (see CommitOutcome). An
  // Error leaves nothing changed.
  virtual auto Commit(const DurableUpdate& update) -> Result<CommitOutcome> = 0;

  // Appends `event` to the journal of run `run_id` (seq assigned as by
  // Commit) in one transaction, only when `condition` holds then; the run
  // row is not changed but for `change`. A refusal is not an Error: the outcome says which
  // part of the condition failed and carries the row as it was. An Error
  // is a store problem only, and leaves nothing changed.
  virtual auto AppendEventIf(const std::string& run_id, const JournalEvent& event, const AppendCondition& condition,
                             const AppendRowChange& change = {}) -> Result<AppendOutcome> = 0;

  // The run's journal in seq order.
  virtual auto Journal(const std::string& run_id) -> Result<std::vector<JournalEvent>> = 0;
  // Streams part of the run's journal in seq order, one row at a time, in
  // bounded memory (`flow show` of a run with half a million events):
  // `visit` gets each event with seq > `query.after_seq` whose type starts
  // with `query.type_prefix` (any when empty), at most `query.limit` of
  // them (all when negative), and stops the scan by returning false.
  // `visit` must not call this store: the scan's statement is open.
  virtual auto ScanJournal(const std::string& run_id, const JournalQuery& query,
                           const std::function<bool(const JournalEvent&)>& visit) -> Status = 0;
  // The latest VM state of the run, or nullopt when it has none.
  virtual auto LoadState(const std::string& run_id) -> Result<std::optional<std::string>> = 0;
  // Checkpoints of a run, oldest first, and the state saved with one.
  virtual auto Checkpoints(const std::string& run_id) -> Result<std::vector<Checkpoint>> = 0;
  virtual auto CheckpointState(const std::string& run_id, const std::string& name)
      -> Result<std::optional<std::string>> = 0;

  // Leases (SPEC §4: one process drives a run at a time). Takes or renews
  // the lease of run `id` for `owner` until `expiry_ms`, in one
  // transaction, when it is free, expired at `now_ms`, already `owner`'s,
  // or held by `takeover` (a holder the caller found dead; "" for none).
  // Returns the holder afterwards: `owner` when taken, else the current
  // one. An Error for an unknown run.
  virtual auto TakeLease(const std::string& id, const std::string& owner, int64_t now_ms, int64_t expiry_ms,
                         const std::string& takeover) -> Result<std::string> = 0;
  // Frees the lease when `owner` holds it; otherwise does nothing.
  virtual auto ReleaseLease(const std::string& id, const std::string& owner) -> Status = 0;

  // A new connection to the same database, opened as this one was, for a
  // thread of its own (a child run of a parallel branch is driven on its
  // own thread while the parent's engine thread commits on this one;
  // docs/composition.md, "Child calls in branches as built"). An Error when
  // the database cannot be opened again.
  virtual auto Connect() -> Result<std::unique_ptr<Store>> = 0;
};

// How to open a store (OpenStore, open_store.h). The SQLite store reads
// every field; a later backend maps each to its own setting or ignores it.
struct StoreOptions {
  // synchronous=FULL by default: a committed durable point survives power
  // loss. NORMAL is faster and only risks the last commits on power loss.
  bool synchronous_full = true;
  // How long a writer waits for another process's transaction.
  int busy_timeout_ms = 5000;
  // Open for reading only (`flow runs`, `show`, `inbox`): the file must
  // exist; nothing is created, migrated or written, not even the WAL mode,
  // and a database on a read-only location (a read-only mount, a folder
  // the user may not write) can still be read. Writing methods then fail.
  bool read_only = false;
  // Never create a database: when there is none yet the store opens as
  // nullptr (no Error), so a command about existing runs reports "no such
  // run" and leaves nothing behind. SQLite: no file at the path; with
  // read_only also an empty (0-byte) file, and a directory is an Error.
  bool existing_only = false;
};
using SqliteOptions = StoreOptions;

// Opens (creating if absent, unless options.existing_only) the SQLite store
// at `path`; callers outside vm/store use OpenStore(url) (open_store.h). A file that is not
// an SQLite database, not a flow database, or has a newer schema version is
// an Error, and the file is left untouched: it is inspected read-only first
// and tables are only created in a new or empty file. With
// `options.read_only` nothing is ever created or written (docs/store.md
// "Read-only opening").
auto OpenSqliteStore(const std::string& path, SqliteOptions options = {}) -> Result<std::unique_ptr<Store>>;

}  // namespace flow::store
