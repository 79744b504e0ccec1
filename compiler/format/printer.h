// The AST printer of `flow fmt`: walks one file's AST in source order and
// writes a layout Doc (doc.h), taking every token from the TokenCursor
// (token_cursor.h) so that comments stay where they were and nothing but
// layout changes.
//
// The canonical layout (docs/editors.md, "flow fmt", has examples):
//   - two spaces per block level; one statement per line (`;` separators go);
//     at most one blank line kept where the source had one or more;
//   - a space around binary operators, `=`, `->` and `|`, after `,` and `:`,
//     inside `{ }` of records; none inside `( )` and `[ ]`;
//   - a step's clauses each on a line of their own, two columns in from the
//     statement; clauses of its compensation two further in;
//   - a call, list, record or parameter list that does not fit in 100
//     columns is broken one item per line with a trailing comma; a long
//     binary expression breaks before its operators; approve and wait
//     clauses move to the next lines when the prompt is long;
//   - parentheses, string literals (interpolations included) and numbers
//     are kept exactly as written.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/format/doc.h"
#include "compiler/format/token_cursor.h"

namespace flow::format {

// Prints the whole of `ast` (a file without syntax errors) into a Doc,
// taking its tokens from `cursor`. Throws FormatBug when the AST and the
// tokens disagree (a bug in flow fmt).
auto PrintFile(const ast::Ast& ast, TokenCursor& cursor) -> Doc;

}  // namespace flow::format
