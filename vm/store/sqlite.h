// A thin RAII layer over the SQLite C API for the store: a connection and
// prepared statements with typed binds and columns. Every SQLite failure
// becomes a Result error carrying sqlite3_errmsg; nothing here throws.
// SQL text is always a constant; data only ever goes through binds.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "vm/base/result.h"

namespace flow::store {

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  // Binds are 1-based, as in SQLite.
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, std::string_view v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void BindBlob(int i, std::string_view v) { sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  // An empty string binds NULL: used for optional text columns.
  void BindOptText(int i, const std::string& v) { if (v.empty()) BindNull(i); else Bind(i, v); }

  // One step: true with a row, false when done, Error on failure.
  auto Step() -> Result<bool>;
  // Steps to completion (for statements without rows).
  auto Run() -> Status;
  // Resets for reuse and clears the binds.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  auto Int(int col) const -> int64_t { return sqlite3_column_int64(stmt_, col); }
  auto IsNull(int col) const -> bool { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  auto Text(int col) const -> std::string;  // NULL -> ""

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens `path` with sqlite3_open_v2 `flags`; an Error names the file.
  static auto Open(const std::string& path, int flags) -> Result<std::unique_ptr<Db>>;
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;

  // A cached prepared statement for constant `sql`, reset and ready.
  auto Prepare(const char* sql) -> Result<Stmt*>;
  // Resets every statement still in the middle of its rows (a one-row
  // SELECT that was read and left): such a statement keeps a read snapshot
  // open, and a connection whose snapshot is older than another
  // connection's commit gets SQLITE_BUSY at once from BEGIN IMMEDIATE,
  // without waiting ("database is locked").
  void EndReads() {
    for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s != nullptr; s = sqlite3_next_stmt(db_, s)) {
      if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
    }
  }
  // Runs every statement of a constant script (migrations, pragmas).
  auto Exec(const char* sql) -> Status;
  auto ErrorText() const -> std::string { return sqlite3_errmsg(db_); }
  auto handle() -> sqlite3* { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
};

}  // namespace flow::store
