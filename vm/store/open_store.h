// Opening a store by URL: the one factory every command and test goes
// through, so a second backend (PostgreSQL, SPEC §4) is one new Store
// implementation and one branch here.
//
// `--db` / FLOW_DB accept a plain file path (SQLite, as always) or a URL
// `scheme:rest`. `sqlite:PATH` is SQLite at PATH; any other scheme
// (`postgresql://...`, `mysql:...`) is refused with a one-line reason
// before anything is opened. A scheme is RFC 3986's `ALPHA *(ALPHA /
// DIGIT / "+" / "-" / ".")` of at least two characters followed by ':';
// a file whose name has such a prefix (`a:b.db`) is written `./a:b.db` or
// `sqlite:a:b.db`. docs/store.md.
#pragma once

#include <memory>
#include <string>

#include "vm/base/result.h"
#include "vm/store/store.h"

namespace flow::store {

enum class Backend : uint8_t { Sqlite };

// Where a store is: its backend and the backend's address (for SQLite, the
// database file's path exactly as given).
struct StoreLocation {
  Backend backend = Backend::Sqlite;
  std::string path;
};

// Parses the text of --db / FLOW_DB. An Error, one line naming the scheme
// and what is accepted, for an empty path or a scheme flow has no store
// for; nothing touches the file system.
auto ParseStoreUrl(const std::string& url) -> Result<StoreLocation>;

// Opens the store at `location` (OpenSqliteStore for SQLite). nullptr, not
// an Error, when options.existing_only and there is no database yet.
auto OpenStore(const StoreLocation& location, const StoreOptions& options = {})
    -> Result<std::unique_ptr<Store>>;
// ParseStoreUrl, then OpenStore.
auto OpenStore(const std::string& url, const StoreOptions& options = {}) -> Result<std::unique_ptr<Store>>;

}  // namespace flow::store
