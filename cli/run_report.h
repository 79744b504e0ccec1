// What the reporting commands (`flow runs`, `flow show`) share: where the
// database is, opening it without ever creating or altering a file, and the
// JSON shapes of a run (docs/cli.md documents them). These commands only
// read: a missing database means "no runs yet", never a new file.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "vm/base/result.h"
#include "vm/store/store.h"

namespace flow::cli {

// Output objects keep the order fields are added in (the order docs/cli.md
// shows: "run" first), which plain nlohmann::json would sort.
using Json = nlohmann::ordered_json;

// Adds `--db PATH` to `app`, storing into `path` ("" when absent; resolved
// like every command's, by DatabasePath in program_loader.h: --db, else
// $FLOW_DB, else ./flow.db).
void AddDbOption(CLI::App& app, std::string& path);

// Opens the store named by the --db option `option` for reading. A missing or empty (0-byte) file
// gives a null store and no file is created; a file that is not a flow
// database, or one of a newer schema, is an Error and stays byte-identical.
auto OpenStoreForReading(const std::string& option) -> Result<std::unique_ptr<store::Store>>;

// A run id read from the database, fit for one line of a log or a table: as it is
// when it follows the run-id rule, else quoted with every control byte
// escaped (a row written before ids were checked must not put a CR/LF or a
// terminal escape on the operator's screen).
auto ShownId(const std::string& id) -> std::string;

// Unix milliseconds as RFC 3339 UTC text ("2026-01-15T09:30:00Z").
auto FormatMs(int64_t ms) -> std::string;

// Parses stored JSON text; "" (absent) is null, and text that does not parse
// is kept as a JSON string rather than lost.
auto ParseStoredJson(const std::string& text) -> Json;

// `{"kind": reason, ...details}` of a waiting run, or null when not waiting.
auto WaitingJson(const store::RunRecord& run) -> Json;

// The summary of a run that `flow runs --json` lists:
// {run, workflow, status, waiting, created, updated}.
auto RunSummaryJson(const store::RunRecord& run) -> Json;

// Prints `rows` (the first is the header) to stdout as a table, each
// column padded to its widest cell, two spaces apart.
void PrintColumns(const std::vector<std::vector<std::string>>& rows);

// Exactly one line of compact JSON (invalid UTF-8 replaced, never thrown on).
auto DumpLine(const Json& value) -> std::string;
// DumpLine(value) on stdout: the one object a `--json` command prints.
void PrintJsonLine(const Json& value);

}  // namespace flow::cli
