#include "vm/store/sqlite.h"

namespace flow::store {

auto Stmt::Step() -> Result<bool> {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error{std::string("database error: ") + sqlite3_errmsg(db_), ErrorCode::kIo};
}

auto Stmt::Run() -> Status {
  for (;;) {
    auto r = Step();
    if (!r) return r.error();
    if (!*r) return Ok{};
  }
}

auto Stmt::Text(int col) const -> std::string {
  const auto* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

auto Db::Open(const std::string& path, int flags) -> Result<std::unique_ptr<Db>> {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Error{"cannot open database '" + path + "': " + why, ErrorCode::kIo};
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Db>(new Db(db));
}

auto Db::Prepare(const char* sql) -> Result<Stmt*> {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return Error{std::string("database error: ") + sqlite3_errmsg(db_), ErrorCode::kIo};
  }
  auto owned = std::make_unique<Stmt>(db_, stmt);
  Stmt* raw = owned.get();
  cache_.emplace(sql, std::move(owned));
  return raw;
}

auto Db::Exec(const char* sql) -> Status {
  const char* rest = sql;
  while (rest != nullptr && *rest != '\0') {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, rest, -1, &stmt, &tail) != SQLITE_OK) {
      return Error{std::string("database error: ") + sqlite3_errmsg(db_), ErrorCode::kIo};
    }
    if (stmt != nullptr) {
      Stmt s(db_, stmt);
      if (auto r = s.Run(); !r) return r;
    }
    rest = tail;
  }
  return Ok{};
}

}  // namespace flow::store
