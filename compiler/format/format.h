// `flow fmt` as one call: .flow source text in, the same program in the
// canonical layout out (printer.h describes the layout, docs/editors.md the
// decisions). Used by `flow fmt` and by `flow lsp` for textDocument/formatting.
//
// Guarantees, each checked on every call rather than trusted:
//   - meaning: the output parses without a diagnostic to the same AST
//     (compared without positions) as the input;
//   - comments: the output holds every comment of the input, in order;
//   - tokens: the output has the input's tokens in order, except `;`
//     separators and trailing commas.
// A failed check is a bug in flow fmt; Format then returns an Error and the
// caller leaves the file alone. Formatting is idempotent: Format of the
// output is the output (tests/unit/compiler/format_test.cpp runs every .flow file of
// the repository through it twice).
#pragma once

#include <string>

#include "compiler/diag/diagnostics.h"
#include "compiler/source/source.h"
#include "vm/base/result.h"

namespace flow::format {

// Formats `file` (registered in a SourceManager as `id`). A file with lexical
// or syntax errors is not formatted: the errors go to `diags` and the result
// is an Error saying so. Any other Error is a bug in flow fmt, with the
// reason. Files that are not UTF-8 text are syntax errors like in ParseFile.
auto Format(const SourceFile& file, FileId id, Diagnostics& diags) -> Result<std::string>;

}  // namespace flow::format
