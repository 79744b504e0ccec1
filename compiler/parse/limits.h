// Limits of the parser, each a named constant with the reason for its value.
//
// ANTLR's generated parser is recursive descent: every `(`, `[`, `{`, `${`
// and every prefix operator (`-`, `not`) costs a handful of C++ stack frames.
// Later phases walk the AST recursively too. These limits keep both far below
// the 8 MB main-thread stack, whatever the input; going past one is the
// diagnostic E007 nesting-too-deep, never a crash.
#pragma once

#include <cstddef>

namespace flow::parse {

// Brackets (`(` `[` `{` `${`) plus runs of prefix operators open at once.
// Each level is ~4 ANTLR rule frames (expr -> postfixExpr -> primary -> expr)
// of a few hundred bytes each plus prediction frames: 256 levels stay under
// 1 MB, and no hand-written program nests anywhere near 256 deep. Checked by a
// pre-scan of the tokens before parsing (the parse is then skipped).
inline constexpr int kMaxNestingDepth = 256;

// Depth of the AST the builder produces (an operator chain `a + b + ...`, a
// member chain `a.b.c...` or an else-if chain counts one level per link).
// The checker and codegen recurse over the tree; 2,000 levels at under 2 KB
// per frame stays below 4 MB of stack. A deeper expression is E007.
inline constexpr int kMaxAstDepth = 2000;

}  // namespace flow::parse
