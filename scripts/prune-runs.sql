-- Retention: removes the runs that ended (completed, failed, cancelled)
-- more than @days days ago, with their journal, state and checkpoints, and
-- the programs no remaining run uses. Runs that are running or waiting are
-- never touched. docs/runs.md ("Operator's runbook", "Retention") explains
-- it; tests/ops/runbook_test.py runs it. Use exactly so:
--
--   sqlite3 -bail -cmd '.parameter set @days 90' flow.db < scripts/prune-runs.sql
--
-- -bail stops at the first error; the transaction is then rolled back, so
-- the database is either pruned completely or not at all. The journal is
-- append-only (a trigger refuses DELETE): the script drops that trigger and
-- creates it again inside its one transaction, so no other process ever
-- sees the journal without it. Other flow processes wait for the
-- transaction (their busy timeout is 5 s); the script waits up to 10 s for
-- theirs. A run removed here is gone: `flow fork` from its checkpoints too.
.timeout 10000
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
-- Without `.parameter set @days N` (N >= 0) this fails and nothing happens.
CREATE TEMP TABLE keep_days (n INTEGER NOT NULL CHECK (n >= 0));
INSERT INTO keep_days VALUES (@days);
CREATE TEMP TABLE doomed AS
  SELECT id FROM runs
  WHERE status IN ('completed', 'failed', 'cancelled')
    AND updated_ms < CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)  -- now, Unix ms
                     - (SELECT n FROM keep_days) * 86400000;
DROP TRIGGER journal_no_delete;
DELETE FROM journal     WHERE run_id IN (SELECT id FROM doomed);
DELETE FROM checkpoints WHERE run_id IN (SELECT id FROM doomed);
DELETE FROM state       WHERE run_id IN (SELECT id FROM doomed);
DELETE FROM runs        WHERE id     IN (SELECT id FROM doomed);
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
DELETE FROM programs WHERE hash NOT IN (SELECT program_hash FROM runs);
SELECT 'removed ' || count(*) || ' runs that ended more than ' || (SELECT n FROM keep_days) || ' days ago' FROM doomed;
COMMIT;
