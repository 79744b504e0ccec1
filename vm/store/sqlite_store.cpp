// The SQLite implementation of Store (store.h): migrations, and one BEGIN
// IMMEDIATE transaction per durable point. Opening and inspecting a file is
// sqlite_open.h's.
#include <sys/stat.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "vm/store/schema.h"
#include "vm/store/sqlite_open.h"
#include "vm/store/sqlite.h"
#include "vm/store/store.h"

namespace flow::store {

namespace {

// The columns ReadRun expects, in order (a macro so it joins literals).
#define FLOW_SELECT_RUN                                                                                   \
  "SELECT id, program_hash, workflow, status, waiting_reason, waiting, input, result, error, wake_at_ms, " \
  "created_ms, updated_ms, lease_owner, lease_expiry_ms, cancel_requested_ms, parent_id FROM runs"

// Rolls back unless committed: every early return leaves nothing behind.
// BEGIN/COMMIT/ROLLBACK are cached prepared statements like the rest: a
// durable point is a transaction, and preparing them again for each one
// cost about 2 % of a step's instructions.
class Tx {
 public:
  explicit Tx(Db& db) : db_(db) {}
  ~Tx() {
    if (open_) (void)Run("ROLLBACK");
  }
  auto Begin() -> Status {
    db_.EndReads();
    auto s = Run("BEGIN IMMEDIATE");
    open_ = s.ok();
    return s;
  }
  auto Commit() -> Status {
    auto s = Run("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  auto Run(const char* sql) -> Status {
    auto s = db_.Prepare(sql);
    if (!s) return s.error();
    return (*s)->Run();
  }

  Db& db_;
  bool open_ = false;
};

// kFreshReads: every read method first ends the reads an earlier call left
// in the middle of their rows (a one-row SELECT is read and left, not
// stepped to its end). Such a statement keeps its read snapshot open, so a
// long-lived connection -- `flow worker`'s, polling for minutes -- would
// go on reading the database as it was then and never see another
// process's new runs or commits.
class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Db> db, std::string path, SqliteOptions options)
      : db_(std::move(db)), path_(std::move(path)), options_(options) {}

  auto Connect() -> Result<std::unique_ptr<Store>> override {
    SqliteOptions options = options_;
    options.existing_only = false;  // it exists: this connection opened it
    return OpenSqliteStore(path_, options);
  }

  // Migrations take the write lock only when there is something to do: a
  // database at the current version is checked with a plain read, so
  // commands that only read never write, and 64 commands opening one file
  // at once do not queue for the lock just to learn that nothing changes.
  auto Migrate() -> Status {
    auto current = db_->Prepare("PRAGMA user_version");
    if (!current) return current.error();
    auto row = (*current)->Step();
    if (!row) return row.error();
    const int64_t version = (*current)->Int(0);
    (*current)->Reset();
    if (version >= kSchemaVersion) return Ok{};
    for (const Migration& m : kMigrations) {
      // A no-op inside a transaction: set before BEGIN, restored after.
      if (m.needs_foreign_keys_off) FLOW_TRY(db_->Exec("PRAGMA foreign_keys = OFF"));
      auto s = MigrateTo(m);
      if (m.needs_foreign_keys_off) FLOW_TRY(db_->Exec("PRAGMA foreign_keys = ON"));
      FLOW_TRY(s);
    }
    return Ok{};
  }

  auto MigrateTo(const Migration& m) -> Status {
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    // Re-read inside the transaction: another process may have migrated.
    auto v = db_->Prepare("PRAGMA user_version");
    if (!v) return v.error();
    FLOW_TRY((*v)->Step());
    if ((*v)->Int(0) >= m.version) return Ok{};
    (*v)->Reset();
    FLOW_TRY(db_->Exec(m.sql));
    if (m.needs_foreign_keys_off) {
      auto check = db_->Prepare("PRAGMA foreign_key_check");
      if (!check) return check.error();
      auto row = (*check)->Step();
      if (!row) return row.error();
      if (*row) return Error{fmt::format("migration {} would break a reference from '{}'", m.version, (*check)->Text(0))};
    }
    return tx.Commit();
  }

  // A write transaction of its own (BEGIN IMMEDIATE waits for the lock):
  // an autocommit INSERT after the read got SQLITE_BUSY at once when
  // another process wrote in between.
  auto PutProgram(const std::string& hash, const std::string& bytes) -> Status override {
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    auto existing = GetProgram(hash);
    if (existing) {
      if (*existing != bytes) return Error{"program " + hash + " is stored with different bytes"};
      return Ok{};
    }
    auto s = db_->Prepare("INSERT INTO programs (hash, bytes, created_ms) VALUES (?1, ?2, strftime('%s','now') * 1000)");
    if (!s) return s.error();
    (*s)->Bind(1, hash);
    (*s)->BindBlob(2, bytes);
    FLOW_TRY((*s)->Run());
    return tx.Commit();
  }

  auto GetProgram(const std::string& hash) -> Result<std::string> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare("SELECT bytes FROM programs WHERE hash = ?1");
    if (!s) return s.error();
    (*s)->Bind(1, hash);
    auto row = (*s)->Step();
    if (!row) return row.error();
    if (!*row) return Error{"no stored program " + hash, ErrorCode::kNotFound};
    return (*s)->Text(0);
  }

  auto CreateRun(const RunRecord& run, const JournalEvent& started, const std::string& state) -> Status override {
    return CreateRunWithEvents(run, std::vector<JournalEvent>{started}, state);
  }

  auto CreateRunWithEvents(const RunRecord& run, const std::vector<JournalEvent>& events, const std::string& state)
      -> Status override {
    if (events.empty()) return Error{"run '" + run.id + "' needs its started event"};
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    auto exists = GetRun(run.id);
    if (!exists) return exists.error();
    if (*exists) return Error{"run '" + run.id + "' already exists", ErrorCode::kAlreadyExists};
    FLOW_TRY(InsertRun(run, events, state));
    return tx.Commit();
  }

  // The run row, its first events and its state, inside the caller's transaction.
  auto InsertRun(const RunRecord& run, const std::vector<JournalEvent>& events, const std::string& state) -> Status {
    auto s = db_->Prepare(
        "INSERT INTO runs (id, program_hash, workflow, status, waiting_reason, waiting, input, result, error, "
        "wake_at_ms, created_ms, updated_ms, lease_owner, lease_expiry_ms, parent_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14)");
    if (!s) return s.error();
    Stmt& st = **s;
    st.Bind(1, run.id);
    st.Bind(2, run.program_hash);
    st.Bind(3, run.workflow);
    st.Bind(4, StatusName(run.status));
    st.BindOptText(5, run.waiting_reason);
    st.BindOptText(6, run.waiting);
    st.Bind(7, run.input);
    st.BindOptText(8, run.result);
    st.BindOptText(9, run.error);
    if (run.wake_at_ms >= 0) st.Bind(10, run.wake_at_ms); else st.BindNull(10);
    st.Bind(11, run.created_ms);
    st.BindOptText(12, run.lease_owner);
    if (run.lease_expiry_ms >= 0) st.Bind(13, run.lease_expiry_ms); else st.BindNull(13);
    st.BindOptText(14, run.parent_id);
    if (auto r = st.Run(); !r) {
      if (sqlite3_extended_errcode(db_->handle()) == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return Error{"run '" + run.id + "' names program " + run.program_hash + ", which is not stored"};
      }
      return r;
    }
    int64_t seq = 0;
    for (const JournalEvent& e : events) FLOW_TRY(AppendEvent(run.id, ++seq, e));
    FLOW_TRY(SaveState(run.id, state, seq, run.created_ms));
    return Ok{};
  }

  auto ListChildren(const std::string& parent_id) -> Result<std::vector<RunRecord>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare(FLOW_SELECT_RUN " WHERE parent_id = ?1 ORDER BY created_ms, rowid");
    if (!s) return s.error();
    (*s)->Bind(1, parent_id);
    return ReadAll<RunRecord>(**s, [](const Stmt& st) { return ReadRun(st); });
  }

  // DurableUpdate::create_child, inside the commit's transaction.
  auto CreateChild(const DurableUpdate::NewChild& child, bool& existed) -> Status {
    auto exists = GetRun(child.run.id);
    if (!exists) return exists.error();
    existed = exists->has_value();
    if (!existed) return InsertRun(child.run, {child.started}, child.state);
    if ((*exists)->parent_id != child.run.parent_id) {
      return Error{fmt::format("run '{}' exists but is not a child of run '{}'; it cannot be adopted", child.run.id,
                               child.run.parent_id)};
    }
    return Ok{};
  }

  // DurableUpdate::wake_parent.
  auto WakeParent(const std::string& parent_id, int64_t now_ms) -> Status {
    auto s = db_->Prepare(
        "UPDATE runs SET wake_at_ms = ?2 WHERE id = ?1 AND status = 'waiting' AND waiting_reason = 'child' "
        "AND (wake_at_ms IS NULL OR wake_at_ms > ?2)");
    if (!s) return s.error();
    (*s)->Bind(1, parent_id);
    (*s)->Bind(2, now_ms);
    return (*s)->Run();
  }

  auto GetRun(const std::string& id) -> Result<std::optional<RunRecord>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare(FLOW_SELECT_RUN " WHERE id = ?1");
    if (!s) return s.error();
    (*s)->Bind(1, id);
    auto row = (*s)->Step();
    if (!row) return row.error();
    if (!*row) return std::optional<RunRecord>();
    return std::optional<RunRecord>(ReadRun(**s));
  }

  auto ListRuns(std::optional<RunStatus> status) -> Result<std::vector<RunRecord>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare(FLOW_SELECT_RUN " WHERE ?1 IS NULL OR status = ?1 ORDER BY created_ms DESC, rowid DESC");
    if (!s) return s.error();
    if (status) (*s)->Bind(1, StatusName(*status)); else (*s)->BindNull(1);
    return ReadAll<RunRecord>(**s, [](const Stmt& st) { return ReadRun(st); });
  }

  // The OR of two ranges of runs_by_status (status, wake_at_ms): SQLite
  // answers it with one index search per term (MULTI-INDEX OR), never a
  // scan of the finished runs.
  auto ListDue(int64_t now_ms) -> Result<std::vector<RunRecord>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare(FLOW_SELECT_RUN
                          " WHERE status = 'running' OR (status = 'waiting' AND wake_at_ms <= ?1)"
                          " ORDER BY status = 'waiting', wake_at_ms, created_ms");
    if (!s) return s.error();
    (*s)->Bind(1, now_ms);
    return ReadAll<RunRecord>(**s, [](const Stmt& st) { return ReadRun(st); });
  }

  auto NextWake() -> Result<std::optional<int64_t>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare("SELECT MIN(wake_at_ms) FROM runs WHERE status = 'waiting' AND wake_at_ms IS NOT NULL");
    if (!s) return s.error();
    auto row = (*s)->Step();
    if (!row) return row.error();
    std::optional<int64_t> next;
    if (*row && !(*s)->IsNull(0)) next = (*s)->Int(0);
    (*s)->Reset();
    return next;
  }

  // The journal's last seq of a run comes from last_seq_ when this store
  // wrote it, else from the database. Another process may have appended
  // since (`flow signal` to a running run): then the first INSERT hits the
  // primary key, the transaction rolls back, and it is redone with the seq
  // read from the database.
  // Every row of a stepped statement, each read by `read`.
  template <typename T, typename Read>
  static auto ReadAll(Stmt& st, Read read) -> Result<std::vector<T>> {
    std::vector<T> out;
    for (;;) {
      auto row = st.Step();
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(read(st));
    }
  }

  auto Commit(const DurableUpdate& u) -> Result<CommitOutcome> override {
    bool stale = false;
    auto out = CommitOnce(u, stale);
    if (!out && stale) {
      last_seq_.erase(u.run_id);
      out = CommitOnce(u, stale);
    }
    return out;
  }

  auto CommitOnce(const DurableUpdate& update, bool& stale) -> Result<CommitOutcome> {
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    CommitOutcome out;
    auto changes = Changes(update);
    if (!changes) return changes.error();
    if (changes->cancel_requested && update.unless_cancel_requested) {
      out.cancel_requested = out.refused = true;
      return out;  // rolled back: nothing written
    }
    // A run being cancelled never goes back to waiting (CommitOutcome).
    std::optional<DurableUpdate> running;
    // (A blocked run keeps waiting: its wake-up time makes it due.)
    if (changes->cancel_requested && update.status == RunStatus::Waiting && update.waiting_reason != "blocked") {
      running = update;
      running->status = RunStatus::Running;
      running->waiting_reason = running->waiting = "";
      running->wake_at_ms = -1;
      changes = Changes(*running);
      if (!changes) return changes.error();
    }
    const DurableUpdate& u = running ? *running : update;
    if (u.create_child) FLOW_TRY(CreateChild(*u.create_child, out.child_existed));
    if (!u.wake_parent.empty()) FLOW_TRY(WakeParent(u.wake_parent, u.now_ms));
    auto cached = last_seq_.find(u.run_id);
    int64_t seq = 0;
    if (cached != last_seq_.end()) {
      seq = cached->second;
    } else {
      auto last = db_->Prepare("SELECT COALESCE(MAX(seq), 0), (SELECT count(*) FROM runs WHERE id = ?1) FROM journal WHERE run_id = ?1");
      if (!last) return last.error();
      (*last)->Bind(1, u.run_id);
      FLOW_TRY((*last)->Step());
      seq = (*last)->Int(0);
      if ((*last)->Int(1) == 0) return Error{"unknown run '" + u.run_id + "'", ErrorCode::kNotFound};
    }
    std::vector<int64_t>& seqs = out.seqs;
    for (const JournalEvent& e : u.events) {
      if (auto s = AppendEvent(u.run_id, ++seq, e); !s) {
        stale = cached != last_seq_.end() && sqlite3_extended_errcode(db_->handle()) == SQLITE_CONSTRAINT_PRIMARYKEY;
        return s.error();
      }
      seqs.push_back(seq);
    }
    auto cancel = UpdateRun(u, *changes);
    if (!cancel) return cancel.error();
    out.cancel_requested = *cancel;
    if (u.state) FLOW_TRY(SaveState(u.run_id, *u.state, seq, u.now_ms));
    if (u.checkpoint) {
      if (!u.state) return Error{"a checkpoint needs the state to keep"};
      auto c = db_->Prepare("INSERT INTO checkpoints (run_id, name, journal_seq, bytes, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!c) return c.error();
      (*c)->Bind(1, u.run_id);
      (*c)->Bind(2, *u.checkpoint);
      (*c)->Bind(3, seq);
      (*c)->BindBlob(4, *u.state);
      (*c)->Bind(5, u.now_ms);
      FLOW_TRY((*c)->Run());
    }
    FLOW_TRY(tx.Commit());
    last_seq_[u.run_id] = seq;
    return out;
  }

  // The whole check runs inside BEGIN IMMEDIATE: a second writer waits for
  // this transaction and then sees the event it appended.
  auto AppendEventIf(const std::string& run_id, const JournalEvent& event, const AppendCondition& c,
                     const AppendRowChange& change) -> Result<AppendOutcome> override {
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    AppendOutcome out;
    auto run = GetRun(run_id);
    if (!run) return run.error();
    out.run = *run;
    if (!*run) {
      out.refusal = AppendRefusal::UnknownRun;
      return out;
    }
    const RunRecord& r = **run;
    const bool status_ok = c.statuses.empty() || std::find(c.statuses.begin(), c.statuses.end(), r.status) != c.statuses.end();
    if (!status_ok || (c.waiting_reason && r.waiting_reason != *c.waiting_reason)) {
      out.refusal = AppendRefusal::Status;
      return out;
    }
    if (!c.opened_by.empty() && !c.answered_by.empty()) {
      auto answer = FirstAnswer(run_id, c.opened_by, c.answered_by);
      if (!answer) return answer.error();
      if (*answer) {
        out.refusal = AppendRefusal::Answered;
        out.answer = std::move(*answer);
        return out;
      }
    }
    if (c.unanswered_request >= 0) {
      auto answer = RequestAnswer(run_id, c.unanswered_request);
      if (!answer) return answer.error();
      if (*answer) {
        out.refusal = AppendRefusal::Answered;
        out.answer = std::move(*answer);
        return out;
      }
    }
    if (c.not_due_at_ms >= 0 && r.wake_at_ms >= 0 && r.wake_at_ms <= c.not_due_at_ms) {
      out.refusal = AppendRefusal::Due;
      return out;
    }
    if (c.waiting && r.waiting != *c.waiting) {
      out.refusal = AppendRefusal::Changed;
      return out;
    }
    auto last = db_->Prepare("SELECT COALESCE(MAX(seq), 0) FROM journal WHERE run_id = ?1");
    if (!last) return last.error();
    (*last)->Bind(1, run_id);
    FLOW_TRY((*last)->Step());
    const int64_t seq = (*last)->Int(0) + 1;
    (*last)->Reset();
    FLOW_TRY(AppendEvent(run_id, seq, event));
    if (change.request_cancel) FLOW_TRY(RequestCancel(run_id, change.now_ms));
    if (change.make_due) FLOW_TRY(MakeDue(run_id, change.now_ms, change.due_event));
    FLOW_TRY(tx.Commit());
    last_seq_[run_id] = seq;
    out.seq = seq;
    return out;
  }

  auto TakeLease(const std::string& id, const std::string& owner, int64_t now_ms, int64_t expiry_ms,
                 const std::string& takeover) -> Result<std::string> override {
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    auto s = db_->Prepare(
        "UPDATE runs SET lease_owner = ?2, lease_expiry_ms = ?3 WHERE id = ?1 AND (lease_owner IS NULL "
        "OR lease_owner = ?2 OR lease_expiry_ms IS NULL OR lease_expiry_ms < ?4 OR (?5 <> '' AND lease_owner = ?5))");
    if (!s) return s.error();
    (*s)->Bind(1, id);
    (*s)->Bind(2, owner);
    (*s)->Bind(3, expiry_ms);
    (*s)->Bind(4, now_ms);
    (*s)->Bind(5, takeover);
    FLOW_TRY((*s)->Run());
    auto run = GetRun(id);
    if (!run) return run.error();
    if (!*run) return Error{"unknown run '" + id + "'", ErrorCode::kNotFound};
    FLOW_TRY(tx.Commit());
    return (*run)->lease_owner;
  }

  // In a transaction of its own like every write: an autocommit UPDATE on a
  // connection with a read left open upgrades a stale snapshot and gets
  // SQLITE_BUSY at once instead of waiting.
  auto ReleaseLease(const std::string& id, const std::string& owner) -> Status override {
    Tx tx(*db_);
    FLOW_TRY(tx.Begin());
    auto s = db_->Prepare("UPDATE runs SET lease_owner = NULL, lease_expiry_ms = NULL WHERE id = ?1 AND lease_owner = ?2");
    if (!s) return s.error();
    (*s)->Bind(1, id);
    (*s)->Bind(2, owner);
    FLOW_TRY((*s)->Run());
    return tx.Commit();
  }

  auto Journal(const std::string& run_id) -> Result<std::vector<JournalEvent>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare("SELECT seq, type, step, attempt, data, at_ms, branch FROM journal WHERE run_id = ?1 ORDER BY seq");
    if (!s) return s.error();
    (*s)->Bind(1, run_id);
    return ReadAll<JournalEvent>(**s, [](const Stmt& st) {
      return ReadEvent(st);
    });
  }

  // One statement stepped row by row: SQLite holds one row at a time, so
  // memory does not grow with the journal. The prefix test is
  // substr(type, 1, n) = prefix (LIKE would treat '_' as a wildcard).
  auto ScanJournal(const std::string& run_id, const JournalQuery& q,
                   const std::function<bool(const JournalEvent&)>& visit) -> Status override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare(
        "SELECT seq, type, step, attempt, data, at_ms, branch FROM journal WHERE run_id = ?1 AND seq > ?2 "
        "AND (?3 = '' OR substr(type, 1, length(?3)) = ?3) ORDER BY seq LIMIT ?4");
    if (!s) return s.error();
    Stmt& st = **s;
    st.Bind(1, run_id);
    st.Bind(2, q.after_seq);
    st.Bind(3, q.type_prefix);
    st.Bind(4, q.limit < 0 ? int64_t{-1} : q.limit);
    for (;;) {
      auto row = st.Step();
      if (!row) return row.error();
      if (!*row) return Ok{};
      if (!visit(ReadEvent(st))) {
        st.Reset();
        return Ok{};
      }
    }
  }

  auto LoadState(const std::string& run_id) -> Result<std::optional<std::string>> override {
    return OneBlob("SELECT bytes FROM state WHERE run_id = ?1", run_id, "");
  }

  auto Checkpoints(const std::string& run_id) -> Result<std::vector<Checkpoint>> override {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare("SELECT name, journal_seq, created_ms FROM checkpoints WHERE run_id = ?1 ORDER BY journal_seq");
    if (!s) return s.error();
    (*s)->Bind(1, run_id);
    return ReadAll<Checkpoint>(**s, [](const Stmt& st) { return Checkpoint{st.Text(0), st.Int(1), st.Int(2)}; });
  }

  auto CheckpointState(const std::string& run_id, const std::string& name) -> Result<std::optional<std::string>> override {
    // The latest checkpoint with that name.
    return OneBlob("SELECT bytes FROM checkpoints WHERE run_id = ?1 AND name = ?2 ORDER BY journal_seq DESC LIMIT 1",
                   run_id, name);
  }

 private:
  // A row of "SELECT seq, type, step, attempt, data, at_ms, branch FROM journal".
  static auto ReadEvent(const Stmt& st) -> JournalEvent {
    return JournalEvent{st.Int(0), st.Text(1), st.IsNull(2) ? -1 : st.Int(2), st.Int(3), st.Text(4), st.Int(5),
                        st.IsNull(6) ? std::string() : st.Text(6)};
  }

  static auto ReadRun(const Stmt& st) -> RunRecord {
    RunRecord r;
    r.id = st.Text(0);
    r.program_hash = st.Text(1);
    r.workflow = st.Text(2);
    r.status = ParseStatus(st.Text(3)).value_or(RunStatus::Failed);
    r.waiting_reason = st.Text(4);
    r.waiting = st.Text(5);
    r.input = st.Text(6);
    r.result = st.Text(7);
    r.error = st.Text(8);
    r.wake_at_ms = st.IsNull(9) ? -1 : st.Int(9);
    r.created_ms = st.Int(10);
    r.updated_ms = st.Int(11);
    r.lease_owner = st.Text(12);
    r.lease_expiry_ms = st.IsNull(13) ? -1 : st.Int(13);
    r.cancel_requested_ms = st.IsNull(14) ? -1 : st.Int(14);
    r.parent_id = st.Text(15);
    return r;
  }

  // AppendRowChange::make_due.
  auto MakeDue(const std::string& run_id, int64_t now_ms, const std::string& event) -> Status {
    auto s = db_->Prepare(
        "UPDATE runs SET wake_at_ms = ?2 WHERE id = ?1 AND status = 'waiting' "
        "AND (wake_at_ms IS NULL OR wake_at_ms > ?2) "
        "AND (?3 = '' OR (waiting_reason = 'signal' AND json_extract(waiting, '$.event') = ?3))");
    if (!s) return s.error();
    (*s)->Bind(1, run_id);
    (*s)->Bind(2, now_ms);
    (*s)->Bind(3, event);
    return (*s)->Run();
  }

  // AppendRowChange::request_cancel.
  auto RequestCancel(const std::string& run_id, int64_t now_ms) -> Status {
    auto s = db_->Prepare(
        "UPDATE runs SET cancel_requested_ms = COALESCE(cancel_requested_ms, ?2), "
        "status = 'running', waiting_reason = NULL, waiting = NULL, wake_at_ms = NULL, updated_ms = ?2 "
        "WHERE id = ?1 AND status IN ('running', 'waiting')");
    if (!s) return s.error();
    (*s)->Bind(1, run_id);
    (*s)->Bind(2, now_ms);
    return (*s)->Run();
  }

  auto OneBlob(const char* sql, const std::string& a, const std::string& b) -> Result<std::optional<std::string>> {
    db_->EndReads();  // kFreshReads
    auto s = db_->Prepare(sql);
    if (!s) return s.error();
    (*s)->Bind(1, a);
    if (!b.empty()) (*s)->Bind(2, b);
    auto row = (*s)->Step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>((*s)->Text(0));
  }

  // The first event of type `answered` after the run's latest event of
  // type `opened` (any, when there is no `opened`), or nullopt.
  auto FirstAnswer(const std::string& run_id, const std::string& opened, const std::string& answered)
      -> Result<std::optional<JournalEvent>> {
    auto s = db_->Prepare(
        "SELECT seq, type, step, attempt, data, at_ms, branch FROM journal WHERE run_id = ?1 AND type = ?3 AND seq > "
        "COALESCE((SELECT MAX(seq) FROM journal WHERE run_id = ?1 AND type = ?2), 0) ORDER BY seq LIMIT 1");
    if (!s) return s.error();
    Stmt& st = **s;
    st.Bind(1, run_id);
    st.Bind(2, opened);
    st.Bind(3, answered);
    auto row = st.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<JournalEvent>();
    JournalEvent e = ReadEvent(st);
    st.Reset();
    return std::optional<JournalEvent>(std::move(e));
  }

  // The first event after `request` whose data names it as its "request"
  // (AppendCondition::unanswered_request), or nullopt.
  auto RequestAnswer(const std::string& run_id, int64_t request) -> Result<std::optional<JournalEvent>> {
    auto s = db_->Prepare(
        "SELECT seq, type, step, attempt, data, at_ms, branch FROM journal WHERE run_id = ?1 AND seq > ?2 AND "
        "json_valid(data) AND json_extract(data, '$.request') = ?2 ORDER BY seq LIMIT 1");
    if (!s) return s.error();
    Stmt& st = **s;
    st.Bind(1, run_id);
    st.Bind(2, request);
    auto row = st.Step();
    if (!row) return row.error();
    if (!*row) return std::optional<JournalEvent>();
    JournalEvent e = ReadEvent(st);
    st.Reset();
    return std::optional<JournalEvent>(std::move(e));
  }

  auto AppendEvent(const std::string& run_id, int64_t seq, const JournalEvent& e) -> Status {
    auto s = db_->Prepare("INSERT INTO journal (run_id, seq, type, step, attempt, data, at_ms, branch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!s) return s.error();
    Stmt& st = **s;
    st.Bind(1, run_id);
    st.Bind(2, seq);
    st.Bind(3, e.type);
    if (e.step >= 0) st.Bind(4, e.step); else st.BindNull(4);
    st.Bind(5, e.attempt);
    st.Bind(6, e.data.empty() ? std::string("{}") : e.data);
    st.Bind(7, e.at_ms);
    if (e.branch.empty()) st.BindNull(8); else st.Bind(8, e.branch);
    return st.Run();
  }

  auto SaveState(const std::string& run_id, const std::string& bytes, int64_t seq, int64_t now) -> Status {
    auto s = db_->Prepare(
        "INSERT INTO state (run_id, bytes, journal_seq, updated_ms) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (run_id) DO UPDATE SET bytes = excluded.bytes, journal_seq = excluded.journal_seq, "
        "updated_ms = excluded.updated_ms");
    if (!s) return s.error();
    (*s)->Bind(1, run_id);
    (*s)->BindBlob(2, bytes);
    (*s)->Bind(3, seq);
    (*s)->Bind(4, now);
    return (*s)->Run();
  }

  // Which of the run row's indexed or CHECKed columns the update really
  // changes. One indexed read: much cheaper than what assigning them costs
  // (see UpdateRun), and most durable points (every step) write `running`,
  // no wake-up time, over the same.
  struct RowChanges {
    bool status = true;  // status or waiting_reason
    bool wake = true;    // wake_at_ms
    bool cancel_requested = false;  // as read (only when the update sets status or wake_at_ms)
  };
  auto Changes(const DurableUpdate& u) -> Result<RowChanges> {
    RowChanges c{u.status || u.waiting_reason, u.wake_at_ms.has_value()};
    if (!c.status && !c.wake) return c;
    auto s = db_->Prepare("SELECT status, waiting_reason, wake_at_ms, cancel_requested_ms FROM runs WHERE id = ?1");
    if (!s) return s.error();
    (*s)->Bind(1, u.run_id);
    auto row = (*s)->Step();
    if (!row) return row.error();
    if (!*row) return c;  // no such run: the UPDATE changes nothing either
    c.status = (u.status && (*s)->Text(0) != StatusName(*u.status)) ||
               (u.waiting_reason && (*s)->Text(1) != *u.waiting_reason);
    const int64_t wake = (*s)->IsNull(2) ? -1 : (*s)->Int(2);
    c.wake = u.wake_at_ms && std::max<int64_t>(*u.wake_at_ms, -1) != wake;
    c.cancel_requested = !(*s)->IsNull(3);
    (*s)->Reset();
    return c;
  }

  // Each optional column has a flag bind: 1 = set it (NULL for ""), 0 = keep.
  // Columns that do not change are left out of the statement: `status` and
  // `waiting_reason` carry CHECK (x IN (...)) constraints, which SQLite
  // evaluates whenever a statement assigns the column, even to a literal,
  // building an ephemeral b-tree for each IN list (a pager and an ~87 KB
  // page-cache allocation, freed at once, which also makes glibc trim and
  // re-grow the heap: ~12 page faults each); `status` and `wake_at_ms` are
  // the columns of the runs_by_status index, whose page SQLite rewrites
  // whenever they are assigned (one more WAL frame per commit). Unused
  // binds are harmless.
  //
  // Returns whether the run has a cancellation request, at no cost on the
  // path of every step: the statement only updates a row without one
  // (`AND cancel_requested_ms IS NULL`); when it changed nothing, the run has
  // a request (or does not exist), and the same update is made without that
  // condition. (`RETURNING cancel_requested_ms` cost a fifth of a step's
  // instructions: SQLite buffers returned rows in an ephemeral table.)
  auto UpdateRun(const DurableUpdate& u, const RowChanges& changes) -> Result<bool> {
    static const std::string kSql[2][2][2] = {
        {{UpdateRunSql(false, false, false), UpdateRunSql(false, false, true)},
         {UpdateRunSql(false, true, false), UpdateRunSql(false, true, true)}},
        {{UpdateRunSql(true, false, false), UpdateRunSql(true, false, true)},
         {UpdateRunSql(true, true, false), UpdateRunSql(true, true, true)}}};
    for (bool guarded : {true, false}) {
      auto s = db_->Prepare(kSql[changes.status][changes.wake][guarded].c_str());
      if (!s) return s.error();
      Stmt& st = **s;
      st.Bind(1, u.run_id);
      auto opt_text = [&](int flag, const std::optional<std::string>& v) {
        st.Bind(flag, int64_t{v.has_value()});
        if (v) st.BindOptText(flag + 1, *v); else st.BindNull(flag + 1);
      };
      opt_text(2, u.status ? std::optional<std::string>(StatusName(*u.status)) : std::nullopt);
      opt_text(4, u.waiting_reason);
      opt_text(6, u.waiting);
      opt_text(8, u.result);
      opt_text(10, u.error);
      st.Bind(12, int64_t{u.wake_at_ms.has_value()});
      if (u.wake_at_ms && *u.wake_at_ms >= 0) st.Bind(13, *u.wake_at_ms); else st.BindNull(13);
      st.Bind(14, u.now_ms);
      FLOW_TRY(st.Run());
      if (sqlite3_changes(db_->handle()) > 0) return !guarded;
    }
    return false;  // no such run: the UPDATE changed nothing either way
  }

  // The run row's UPDATE, with only the assignments that change (see
  // above); `guarded`: only while the run has no cancellation request.
  static auto UpdateRunSql(bool status, bool wake, bool guarded) -> std::string {
    std::string sql = "UPDATE runs SET ";
    if (status) {
      sql += "status = CASE ?2 WHEN 1 THEN ?3 ELSE status END, "
             "waiting_reason = CASE ?4 WHEN 1 THEN ?5 ELSE waiting_reason END, ";
    }
    if (wake) sql += "wake_at_ms = CASE ?12 WHEN 1 THEN ?13 ELSE wake_at_ms END, ";
    return sql + "waiting = CASE ?6 WHEN 1 THEN ?7 ELSE waiting END, "
                 "result = CASE ?8 WHEN 1 THEN ?9 ELSE result END, "
                 "error = CASE ?10 WHEN 1 THEN ?11 ELSE error END, "
                 "updated_ms = ?14 WHERE id = ?1" + std::string(guarded ? " AND cancel_requested_ms IS NULL" : "");
  }

  std::unique_ptr<Db> db_;
  std::string path_;        // as opened: Connect() opens it again
  SqliteOptions options_;
  std::unordered_map<std::string, int64_t> last_seq_;  // run id -> the last seq this store committed
};

}  // namespace

auto StatusName(RunStatus s) -> const char* {
  switch (s) {
    case RunStatus::Running: return "running";
    case RunStatus::Waiting: return "waiting";
    case RunStatus::Completed: return "completed";
    case RunStatus::Failed: return "failed";
    case RunStatus::Cancelled: return "cancelled";
  }
  return "?";
}

auto ParseStatus(const std::string& name) -> std::optional<RunStatus> {
  for (auto s : {RunStatus::Running, RunStatus::Waiting, RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled}) {
    if (name == StatusName(s)) return s;
  }
  return std::nullopt;
}

namespace {

// StoreOptions::existing_only: true when there is no database at `path` yet
// (the store opens as nullptr); an Error for a directory under read_only.
auto NoDatabaseYet(const std::string& path, const SqliteOptions& options) -> Result<bool> {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    // A reader treats any unreadable location as "no runs"; a writer only a
    // missing file (it reports anything else when it opens the path).
    return options.read_only || errno == ENOENT || errno == ENOTDIR;
  }
  if (S_ISDIR(st.st_mode) && options.read_only) return Error{"'" + path + "' is a directory, not a flow database"};
  return options.read_only && st.st_size == 0;
}

}  // namespace

auto OpenSqliteStore(const std::string& path, SqliteOptions options) -> Result<std::unique_ptr<Store>> {
  if (options.existing_only) {
    auto absent = NoDatabaseYet(path, options);
    if (!absent) return absent.error();
    if (*absent) return std::unique_ptr<Store>();
  }
  struct stat st {};
  int version = kNewDatabase;
  std::unique_ptr<Db> reader;
  if (stat(path.c_str(), &st) == 0 && st.st_size > 0) {
    bool immutable = false;
    auto opened = OpenReadOnly(path, options.busy_timeout_ms, immutable);
    if (!opened) return opened.error();
    auto inspected = Inspect(**opened, path);
    if (!inspected) return inspected.error();
    version = *inspected;
    reader = std::move(*opened);
  }
  // A file without tables (another process is creating it, or crashed
  // doing so) is initialised below even for a reader, as it always was.
  if (options.read_only && version != kNewDatabase) {
    if (version < kSchemaVersion) {
      return Error{fmt::format("'{}' has schema version {}; open it once with a command that writes to upgrade it",
                               path, version)};
    }
    return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(reader), path, options));
  }
  reader.reset();
  int flags = SQLITE_OPEN_READWRITE | (version == kNewDatabase ? SQLITE_OPEN_CREATE : 0);
  auto db = Db::Open(path, flags);
  if (!db) return db.error();
  sqlite3_busy_timeout((*db)->handle(), options.busy_timeout_ms);
  // An existing database is in WAL mode already (the mode is kept in the
  // file): setting it again would wait for locks for nothing.
  if (version == kNewDatabase) FLOW_TRY(EnterWal(**db, options.busy_timeout_ms));
  FLOW_TRY((*db)->Exec("PRAGMA foreign_keys = ON"));
  FLOW_TRY((*db)->Exec(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  auto store = std::make_unique<SqliteStore>(std::move(*db), path, options);
  if (auto m = store->Migrate(); !m) return Error{"cannot initialise '" + path + "': " + m.error().message};
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace flow::store
