// Opening an SQLite file for the store (sqlite_store.cpp): looking at an
// existing file read-only before anything else, so a file that is not ours
// is refused untouched; reading a database on a read-only location; and
// switching a new file to WAL. docs/store.md "Discipline".
#pragma once

#include <memory>
#include <string>

#include "vm/base/result.h"
#include "vm/store/sqlite.h"

namespace flow::store {

// What Inspect returns for a file without tables (new, or being created).
inline constexpr int kNewDatabase = -1;

// A read-only connection to an existing file (SQLITE_OPEN_READONLY), with
// `busy_timeout_ms`. When the location is read-only (a read-only mount, a
// folder the user may not write), SQLite cannot create the WAL index a
// reader of a WAL database needs; the first read fails, and the file is
// opened again `immutable` (read as it is, without locks or its -wal file)
// and `immutable` set. Errors other than that are left for Inspect to word.
auto OpenReadOnly(const std::string& path, int busy_timeout_ms, bool& immutable) -> Result<std::unique_ptr<Db>>;

// The schema version of the file behind the read-only connection `db`,
// kNewDatabase when it has no tables, or an Error (one line naming `path`)
// when it is not an SQLite file, not flow's, corrupt, or newer than this
// flow supports.
auto Inspect(Db& db, const std::string& path) -> Result<int>;

// PRAGMA journal_mode = WAL, retried until `busy_timeout_ms`: it needs an
// exclusive lock and does not wait for it through the busy handler.
auto EnterWal(Db& db, int busy_timeout_ms) -> Status;

}  // namespace flow::store
