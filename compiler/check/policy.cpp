#include "compiler/check/policy.h"

#include <unordered_set>

#include "compiler/check/cfg.h"

namespace flow::check {
namespace {

// The builtin http.request is idempotent when its method is, and the method
// is known at compile time only when written as a literal.
auto IsIdempotentHttpRequest(const CheckedProgram& p, const CallTarget& target,
                             const ast::CallExpr& call) -> bool {
  const schema::ConnectorSig& sig = p.connectors[target.connector];
  if (!sig.builtin || sig.name != "http" || sig.operations[target.operation].name != "request") {
    return false;
  }
  for (const auto& arg : call.args) {
    if (arg.name != "method") continue;
    auto* s = std::get_if<ast::StringLit>(&p.ast.expr(arg.value).node);
    if (!s || !s->is_plain()) return false;
    std::string method;
    for (const auto& part : s->parts) method += part.text;
    return method == "GET" || method == "PUT" || method == "DELETE";
  }
  return false;
}

}  // namespace

void CheckPolicy(const CheckedProgram& program, int32_t function, Diagnostics& diags) {
  Cfg cfg = BuildCfg(program, function);
  const ast::Ast& ast = program.ast;
  auto op_of = [&](ast::ExprId id) -> const schema::OperationSig* {
    const CallTarget& t = program.calls[id.index];
    if (t.kind != CallKind::Step || t.operation < 0) return nullptr;
    return &program.connectors[t.connector].operations[t.operation];
  };
  auto callee_range = [&](ast::ExprId id) {
    return ast.expr(std::get<ast::CallExpr>(ast.expr(id).node).callee).range;
  };
  auto label = [&](const schema::OperationSig& op) { return op.connector + "." + op.name; };

  for (ast::ExprId id : UnapprovedSteps(cfg)) {
    const schema::OperationSig* op = op_of(id);
    if (op && op->requires_approval) {
      diags.Report(DiagKind::ApprovalRequired, callee_range(id), label(*op));
    }
  }
  for (const CfgBlock& block : cfg.blocks) {
    for (const CfgEvent& e : block.events) {
      if (e.kind != CfgEvent::Kind::Step) continue;
      const schema::OperationSig* op = op_of(e.expr);
      if (!op) continue;
      if (op->effect == schema::Effect::Irreversible && !e.has_compensate && !e.compensation) {
        diags.Report(DiagKind::IrreversibleWithoutCompensate, callee_range(e.expr), label(*op));
      }
      if (e.retry && !op->idempotent && !op->sends_idempotency_key &&
          !IsIdempotentHttpRequest(program, program.calls[e.expr.index],
                                   std::get<ast::CallExpr>(ast.expr(e.expr).node))) {
        diags.Report(DiagKind::RetryNotIdempotent, e.retry->range, label(*op));
      }
    }
  }
}

}  // namespace flow::check
