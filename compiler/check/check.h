// The checker as one call (STYLE.md §2): AST and connector signatures in,
// CheckedProgram out, problems into Diagnostics. The passes and rules are
// described in docs/checker.md; the output tables in checked_program.h.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/schema/connector_types.h"
#include "compiler/types/types.h"

namespace flow::check {

struct CheckInput {
  ast::Ast ast;
  // One entry per ast.connectors[i]: the loaded signature, or nullopt when
  // the file failed to load (already reported: every use is silent).
  std::vector<std::optional<schema::ConnectorSig>> declared;
  // BuiltinConnectors(); a declared connector of the same name shadows one.
  std::vector<schema::ConnectorSig> builtins;
  // The table every TypeId above (and in the connectors) belongs to.
  types::TypeTable types;
  // The text of the .flow file, used to quote expressions in messages
  // ("'c.seats' may be null"); may be empty (quotes are then rebuilt from
  // the AST for names and field paths).
  std::string_view source_text;
};

// Checks the whole program: names, types, calls, steps, control flow, purity
// and policy. Never fails: every problem is a diagnostic, and the program is
// returned regardless (complete only when `diags` has no errors).
auto Check(CheckInput input, Diagnostics& diags) -> std::unique_ptr<CheckedProgram>;

}  // namespace flow::check
