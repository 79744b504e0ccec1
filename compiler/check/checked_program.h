// The output of the checker: the AST plus everything the checker learned
// about it, as side tables indexed by the AST's ids. Codegen reads only this.
//
// Tables (all sized to the AST's vectors; entries for nodes of another kind
// keep their default value):
//   expr_types[ExprId]   the type of every value expression, as used at that
//                        point: a narrowed `x` (inside `if x != null`) has
//                        type T, not T?. Error where a diagnostic was given.
//                        The callee of a call has no type (invalid id).
//   names[ExprId]        for every NameRef: a local slot of the enclosing
//                        function, a function index, a connector index, or a
//                        built-in id (callee of a built-in call).
//   calls[ExprId]        for every CallExpr: built-in, user fn or step, with
//                        the argument-to-parameter mapping.
//   type_exprs[TypeExprId] every resolved type expression (params, results,
//                        annotations, `as T`, `wait ... as T`).
//   stmt_slots[StmtId]   the slot a LetStmt declares, the loop variable of a
//                        ForStmt, the `catch` variable of a TryStmt.
//   expr_slots[ExprId]   the loop variable of a ParallelForExpr.
//   functions[i]         per ast.functions[i]: its slots (params first, then
//                        every let/var/for/catch in source order; a slot is
//                        never reused within a function, so the VM never
//                        looks up a name), parameter and result types.
//
// The program is complete only when the Diagnostics have no errors; with
// errors some entries are None/-1/Error and codegen must not run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/builtins.h"
#include "compiler/schema/connector_types.h"
#include "compiler/types/types.h"

namespace flow::check {

enum class NameKind : uint8_t {
  None,       // unresolved (reported) or not a NameRef
  Local,      // index: slot in FunctionInfo::locals of the enclosing function
  Function,   // index: ast.functions (a fn, or a workflow: a child call)
  Connector,  // index: CheckedProgram::connectors (the object of a step)
  Builtin,    // index: static_cast<int>(BuiltinId) (the callee of a call)
};

struct NameTarget {
  NameKind kind = NameKind::None;
  int32_t index = -1;
};

enum class CallKind : uint8_t {
  None,      // reported (unknown function, not callable, ...)
  Builtin,   // builtin
  Function,  // function: index into ast.functions (a fn)
  Workflow,  // function: index into ast.functions (a workflow): a child run
  Step,      // connector + operation; both -1 when the connector failed to
             // load or the operation is unknown (already reported)
};

struct CallTarget {
  CallKind kind = CallKind::None;
  BuiltinId builtin = BuiltinId::Len;
  int32_t function = -1;
  int32_t connector = -1;  // CheckedProgram::connectors
  int32_t operation = -1;  // ConnectorSig::operations
  // For Function and Workflow: arg_params[i] is the parameter index ast args[i] binds
  // (positional or named). For Step: the ArgumentSig index in the operation.
  // -1 for an argument that was reported.
  std::vector<int32_t> arg_params;
};

enum class LocalKind : uint8_t { Param, Let, Var, ForVar, CatchVar };

struct LocalInfo {
  std::string name;
  types::TypeId type;
  LocalKind kind = LocalKind::Let;
  SourceRange range;  // the name at its declaration
};

struct FunctionInfo {
  std::vector<LocalInfo> locals;  // by slot; params are slots 0..n-1
  std::vector<types::TypeId> param_types;
  types::TypeId result;  // invalid when the function declares no result
};

struct CheckedProgram {
  ast::Ast ast;
  types::TypeTable types;
  // Declared connectors first (ast.connectors order, one entry per
  // declaration, an empty placeholder where the file failed to load), then
  // the built-in connectors.
  std::vector<schema::ConnectorSig> connectors;
  std::vector<bool> connector_loaded;  // parallel to connectors

  std::vector<types::TypeId> expr_types;
  std::vector<NameTarget> names;
  std::vector<CallTarget> calls;
  std::vector<types::TypeId> type_exprs;
  std::vector<int32_t> stmt_slots;
  std::vector<int32_t> expr_slots;
  std::vector<FunctionInfo> functions;
  std::vector<types::TypeId> type_decls;  // by ast.type_decls index
};

}  // namespace flow::check
