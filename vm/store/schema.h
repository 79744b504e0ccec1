// The SQLite schema as numbered migrations. Migration N brings a database
// from user_version N-1 to N; each runs in its own BEGIN IMMEDIATE
// transaction and ends by setting PRAGMA user_version. APPEND ONLY: never
// edit a released migration, add the next one (and document its columns in
// docs/store.md).
#pragma once

namespace flow::store {

struct Migration {
  int version;
  const char* sql;
  // Rebuilds a table other tables refer to: runs with foreign keys off,
  // then PRAGMA foreign_key_check must find nothing before the commit.
  bool needs_foreign_keys_off = false;
};

inline constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('application', 'flow');

CREATE TABLE programs (
  hash       TEXT PRIMARY KEY,
  bytes      BLOB NOT NULL,
  created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
  id              TEXT PRIMARY KEY,
  program_hash    TEXT NOT NULL REFERENCES programs (hash),
  workflow        TEXT NOT NULL,
  status          TEXT NOT NULL
                  CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
  waiting_reason  TEXT CHECK (waiting_reason IN ('approval', 'signal', 'timer', 'retry')),
  waiting         TEXT,
  input           TEXT NOT NULL,
  result          TEXT,
  error           TEXT,
  wake_at_ms      INTEGER,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  lease_owner     TEXT,
  lease_expiry_ms INTEGER
) STRICT;
CREATE INDEX runs_by_status ON runs (status, wake_at_ms);

CREATE TABLE journal (
  run_id  TEXT NOT NULL REFERENCES runs (id),
  seq     INTEGER NOT NULL CHECK (seq >= 1),
  type    TEXT NOT NULL,
  step    INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  data    TEXT NOT NULL DEFAULT '{}',
  at_ms   INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

CREATE TABLE state (
  run_id      TEXT PRIMARY KEY REFERENCES runs (id),
  bytes       BLOB NOT NULL,
  journal_seq INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE checkpoints (
  run_id      TEXT NOT NULL REFERENCES runs (id),
  name        TEXT NOT NULL,
  journal_seq INTEGER NOT NULL,
  bytes       BLOB NOT NULL,
  created_ms  INTEGER NOT NULL,
  PRIMARY KEY (run_id, journal_seq)
) STRICT;

PRAGMA user_version = 1;
)sql"},
    // 2: the waiting reasons `child` and `blocked` (SPEC §4), and
    // cancel_requested_ms, the durable record that `flow cancel` asked for
    // the run's cancellation (docs/runs.md, "Cancel"). SQLite cannot change
    // a CHECK constraint in place, so `runs` is rebuilt (the procedure of
    // the SQLite manual, "Making Other Kinds Of Table Schema Changes"): the
    // store runs this migration with foreign keys off (needs_foreign_keys_off)
    // and checks them before it commits.
    {2, R"sql(
CREATE TABLE runs_v2 (
  id                  TEXT PRIMARY KEY,
  program_hash        TEXT NOT NULL REFERENCES programs (hash),
  workflow            TEXT NOT NULL,
  status              TEXT NOT NULL
                      CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
  waiting_reason      TEXT CHECK (waiting_reason IN ('approval', 'signal', 'timer', 'retry', 'child', 'blocked')),
  waiting             TEXT,
  input               TEXT NOT NULL,
  result              TEXT,
  error               TEXT,
  wake_at_ms          INTEGER,
  created_ms          INTEGER NOT NULL,
  updated_ms          INTEGER NOT NULL,
  lease_owner         TEXT,
  lease_expiry_ms     INTEGER,
  cancel_requested_ms INTEGER
) STRICT;
INSERT INTO runs_v2 (id, program_hash, workflow, status, waiting_reason, waiting, input, result, error,
                     wake_at_ms, created_ms, updated_ms, lease_owner, lease_expiry_ms)
  SELECT id, program_hash, workflow, status, waiting_reason, waiting, input, result, error,
         wake_at_ms, created_ms, updated_ms, lease_owner, lease_expiry_ms FROM runs ORDER BY rowid;
DROP TABLE runs;
ALTER TABLE runs_v2 RENAME TO runs;
CREATE INDEX runs_by_status ON runs (status, wake_at_ms);

PRAGMA user_version = 2;
)sql", true},
    // 3: child runs (docs/composition.md): the run that started a run as a
    // child workflow call, NULL for a top-level run, and the index `flow
    // show` lists a run's children with.
    {3, R"sql(
ALTER TABLE runs ADD COLUMN parent_id TEXT REFERENCES runs (id);
CREATE INDEX runs_by_parent ON runs (parent_id);

PRAGMA user_version = 3;
)sql"},
    // 4: parallel branches (docs/composition.md): the branch fiber an event
    // belongs to ("2.3"), NULL for the root fiber; `step` is then the
    // position in that fiber, so (run_id, branch, step) names a step.
    {4, R"sql(
ALTER TABLE journal ADD COLUMN branch TEXT;

PRAGMA user_version = 4;
)sql"},
};

inline constexpr int kSchemaVersion = 4;

}  // namespace flow::store
