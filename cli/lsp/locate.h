// Finding things in an Analysis by position, shared by the features
// (hover, definition, completion): the innermost expression or type under a
// byte offset, the function around it, the step a callee names, and a key
// inside a connector's JSON text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/lsp/analysis.h"

namespace flow::lsp {

// True when `offset` is inside `r` or right at its end (the cursor just
// after a name is still "on" it).
auto Touches(SourceRange r, uint32_t offset) -> bool;

// The smallest expression of the document whose range touches `offset`
// (an invalid id when none does).
auto InnermostExpr(const Analysis& a, uint32_t offset) -> ast::ExprId;
// The same for type expressions.
auto InnermostType(const Analysis& a, uint32_t offset) -> ast::TypeExprId;
// The index of the fn or workflow whose declaration contains `offset`, or -1.
auto FunctionAt(const Analysis& a, uint32_t offset) -> int;
// The CallExpr whose callee is `callee`, or an invalid id.
auto CallOf(const Analysis& a, ast::ExprId callee) -> ast::ExprId;

// The operation a step call resolved to, or nullptr (not a step, or an
// unknown operation).
auto StepOperation(const Analysis& a, ast::ExprId call) -> const schema::OperationSig*;
// The connector called `name` (declared or built-in), or nullptr.
auto FindConnector(const Analysis& a, std::string_view name) -> const schema::ConnectorSig*;

// The local variables of function `function` declared before `offset`,
// the latest of each name (what a name at `offset` most likely means).
auto LocalsBefore(const Analysis& a, int function, uint32_t offset)
    -> std::vector<const check::LocalInfo*>;

// The byte offset of the key at `path` (object keys from the root, e.g.
// {"operations", "charge"}) in JSON `text`, or -1. A scanner, not a parser:
// it never fails on broken JSON, it just does not find the key.
auto FindJsonKey(std::string_view text, const std::vector<std::string>& path) -> int64_t;

// The text of a connector file as it is on disk now; "" when it cannot be
// read (built-ins have no file).
auto ConnectorText(const schema::ConnectorSig& c) -> std::string;

// Markdown describing a connector operation: its signature in flow types,
// its policy flags and its JSON from the connector file (hover.cpp; the
// completion items of operations reuse it).
auto OperationMarkdown(const Analysis& a, const schema::OperationSig& op) -> std::string;

}  // namespace flow::lsp
