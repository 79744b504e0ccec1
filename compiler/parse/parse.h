// The parsing phase: one .flow source file in, its AST out (STYLE.md §2).
//
// ParseFile is the only entry point and the only place ANTLR is driven (ANTLR
// stops at compiler/parse/). It always returns an Ast and never throws or
// crashes: binary input, unterminated strings, runaway nesting and syntax
// errors are diagnostics, and whatever part of the tree could be built is
// built (with Error nodes in the holes) so the checker can still report on
// the rest. The lexical rules it implements (newlines, contextual keywords)
// are written down in docs/language.md, "Lexical decisions".
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/source/source.h"

namespace flow::parse {

// Parses `file` (registered as `id`), reporting lexical and syntax problems
// (E001-E009, E014) into `diags`. An empty file gives an empty Ast. Input
// that is not UTF-8 text, or that nests deeper than kMaxNestingDepth (see
// limits.h), gives an empty Ast and one diagnostic.
auto ParseFile(const SourceFile& file, FileId id, Diagnostics& diags) -> ast::Ast;

// Which prediction mode the last ParseFile on this thread needed: the fast
// SLL pass alone, or the LL re-parse after SLL failed (tests and benchmarks).
enum class ParseMode { None, Sll, Ll };
auto LastParseMode() -> ParseMode;

}  // namespace flow::parse
