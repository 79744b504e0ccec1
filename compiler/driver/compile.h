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

// Checks the file at `path`. A file that cannot be read (missing, a
// directory) is an Error (the caller prints it, exit 2); everything wrong
// *inside* the file or its connectors is a diagnostic in `diags`. The
// returned program is complete only when `diags` has no errors.
auto CheckFile(const std::string& path, SourceManager& sources, Diagnostics& diags)
    -> Result<std::unique_ptr<check::CheckedProgram>>;

}  // namespace flow
