// See sqlite_open.h.
#include "vm/store/sqlite_open.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "vm/store/schema.h"

namespace flow::store {
namespace {

// "file:PATH?immutable=1": every byte that is special in a URI escaped.
auto ImmutableUri(const std::string& path) -> std::string {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri.push_back(c);
    }
  }
  return uri + "?immutable=1";
}

// Whether a first read of a read-only connection failed because SQLite
// could not create or write the WAL index (the -shm file) next to the
// database: the file's folder or mount is read-only.
auto IsReadOnlyLocation(int code) -> bool {
  return (code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_READONLY;
}

// Whether a rollback journal lies next to the database (SQLite calls it
// hot when the transaction that wrote it never ended).
auto HasHotJournal(const std::string& path) -> bool {
  struct stat st {};
  return stat((path + "-journal").c_str(), &st) == 0 && st.st_size > 0;
}

}  // namespace

// A read-only connection to an existing file, and whether it had to be
// `immutable`. mode=ro first; when the location is read-only (a read-only
// mount, a folder the user cannot write) a WAL database cannot be read
// that way, because even a reader creates the -shm file. Then the file is
// opened immutable: read as it is, without locks and without its WAL --
// which nobody can be writing through a read-only location. Probed with a
// first read, which is where SQLite reports it.
auto OpenReadOnly(const std::string& path, int busy_timeout_ms, bool& immutable) -> Result<std::unique_ptr<Db>> {
  immutable = false;
  auto db = Db::Open(path, SQLITE_OPEN_READONLY);
  if (!db) return db.error();
  sqlite3_busy_timeout((*db)->handle(), busy_timeout_ms);  // a writer may be migrating it now
  auto probe = (*db)->Prepare("SELECT count(*) FROM sqlite_schema");
  if (probe && (*probe)->Step().ok()) {
    (*probe)->Reset();
    return db;
  }
  const int code = sqlite3_extended_errcode((*db)->handle());
  if ((code & 0xff) == SQLITE_READONLY && HasHotJournal(path)) {
    // A process was killed inside a rollback-journal transaction (the
    // first one of a new database, which switches it to WAL): only a
    // writer may roll it back, as any SQLite client opening the file does
    // (the soak test kills `flow run` there).
    auto writer = Db::Open(path, SQLITE_OPEN_READWRITE);
    if (writer) {
      sqlite3_busy_timeout((*writer)->handle(), busy_timeout_ms);
      auto again = (*writer)->Prepare("SELECT count(*) FROM sqlite_schema");
      if (again && (*again)->Step().ok()) {
        (*again)->Reset();
        return writer;
      }
    }
  }
  if (!IsReadOnlyLocation(code)) return db;  // Inspect words it
  immutable = true;
  return Db::Open(ImmutableUri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

// Looks at an existing file through the read-only connection `db`: its
// schema version, kNewDatabase when it has no tables, or an Error when it
// is not ours or too new.
auto Inspect(Db& db, const std::string& path) -> Result<int> {
  auto count = db.Prepare("SELECT count(*) FROM sqlite_schema");
  if (!count) {
    int code = sqlite3_extended_errcode(db.handle());
    if (code == SQLITE_NOTADB) return Error{"'" + path + "' is not a flow database (not an SQLite file)"};
    return Error{"'" + path + "' cannot be read: " + db.ErrorText()};
  }
  auto row = (*count)->Step();
  if (!row) return Error{"'" + path + "' is corrupt or not a database: " + db.ErrorText()};
  const int64_t tables = (*count)->Int(0);
  (*count)->Reset();
  if (tables == 0) return kNewDatabase;
  auto meta = db.Prepare("SELECT value FROM meta WHERE key = 'application'");
  if (!meta) return Error{"'" + path + "' is not a flow database (an SQLite file without flow's tables)"};
  auto app = (*meta)->Step();
  if (!app || !*app || (*meta)->Text(0) != "flow") {
    return Error{"'" + path + "' is not a flow database (its meta table does not say flow)"};
  }
  (*meta)->Reset();
  auto version = db.Prepare("PRAGMA user_version");
  if (!version || !(*version)->Step().ok()) return Error{"'" + path + "' cannot be read: " + db.ErrorText()};
  int v = static_cast<int>((*version)->Int(0));
  (*version)->Reset();
  if (v > kSchemaVersion) {
    return Error{fmt::format("'{}' has schema version {}, newer than this flow supports ({}); upgrade flow", path, v,
                             kSchemaVersion)};
  }
  return v;
}

// PRAGMA journal_mode = WAL needs an exclusive lock and does not wait for
// it through the busy handler: when several processes open a new file at
// once, the losers get SQLITE_BUSY at once. Retried here until the busy
// timeout, with growing pauses between tries.
auto EnterWal(Db& db, int busy_timeout_ms) -> Status {
  constexpr auto kFirstPause = std::chrono::milliseconds(1);
  constexpr auto kLongestPause = std::chrono::milliseconds(50);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  auto pause = kFirstPause;
  for (;;) {
    auto s = db.Exec("PRAGMA journal_mode = WAL");
    const int code = sqlite3_errcode(db.handle()) & 0xff;
    if (s || code != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) return s;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kLongestPause);
  }
}

}  // namespace flow::store
