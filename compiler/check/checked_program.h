// The output of the checker: the AST plus everything the checker learned
// about it, as side tables indexed by the AST's ids. Codegen (issue 4) reads
// only this. The checker owns and extends this header.
#pragma once

#include <memory>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/schema/connector_types.h"
#include "compiler/types/types.h"

namespace flow::check {

struct CheckedProgram {
  ast::Ast ast;
  types::TypeTable types;
  std::vector<schema::ConnectorSig> connectors;
  // The type of every expression, indexed by ExprId (Error where reported).
  std::vector<types::TypeId> expr_types;
};

}  // namespace flow::check
