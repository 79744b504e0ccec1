// The front end as one call: read a .flow file, parse it, load its
// connectors, check it. Used by `flow check`, and by `run`/`compile` once
// codegen exists.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/source/source.h"

namespace flow {

// Seconds spent in each phase of one CheckFile call, for `flow check
// --timings` (the parser benchmarks read them). `parse` covers reading and
// parsing the file, `check` covers connector loading and type checking.
struct PhaseTimings {
  double parse = 0;
  double check = 0;
};

// Checks the file at `path`. A file that cannot be read (missing, a
// directory) is an Error (the caller prints it, exit 2); everything wrong
// *inside* the file or its connectors is a diagnostic in `diags`. The
// returned program is complete only when `diags` has no errors. When
// `timings` is not null it receives the time spent in each phase.
auto CheckFile(const std::string& path, SourceManager& sources, Diagnostics& diags,
               PhaseTimings* timings = nullptr)
    -> Result<std::unique_ptr<check::CheckedProgram>>;

// CheckFile for a file already in `sources` (registered with
// SourceManager::Add: an editor's unsaved buffer, for `flow lsp`). Its path
// resolves the connector paths as on disk. Never fails: everything wrong is
// a diagnostic.
auto CheckLoaded(FileId id, SourceManager& sources, Diagnostics& diags,
                 PhaseTimings* timings = nullptr) -> std::unique_ptr<check::CheckedProgram>;

}  // namespace flow
