// The compiler as calls: CheckFile (read a .flow file, parse it, load its
// connectors, check it; `flow check`, `flow graph`) and CompileFile, the
// one pipeline that turns a .flow file into a stored program (check ->
// lower -> absolute connector paths -> embed -> serialise), used by `flow
// run`/`compile`/`disasm`/`fork` and by every test that needs a program.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/source/source.h"
#include "vm/bytecode/module.h"

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

// A program ready to run, store or write to a .flowc.
struct CompiledProgram {
  bytecode::Module module;
  std::string bytes;  // bytecode::SerializeModule(module): what the store and a .flowc hold
  FileId file;        // the .flow file, in the SourceManager given to CompileFile
};

struct CompileOptions {
  // The built-in connector texts (`log`, `http`) to check against and
  // embed; empty: this binary's (stdlib/builtin_connectors.h). Tests give
  // others to build a program as another version of flow would have.
  std::vector<std::string> builtin_connectors;
};

// The one compile pipeline: CheckFile, then, when there is no error, Lower
// (with line tables), each declared connector's path made absolute (an exec
// connector runs in its file's folder, and a stored program or .flowc may
// be run from any directory), every connector's text embedded exactly as
// the checker read it (each file is read once), and the module serialised.
// An Error for a file that cannot be read; diagnostics (warnings included)
// go to `diags`, and the result is null when there is an error among them.
auto CompileFile(const std::string& path, SourceManager& sources, Diagnostics& diags,
                 const CompileOptions& options = {}) -> Result<std::unique_ptr<CompiledProgram>>;

}  // namespace flow
