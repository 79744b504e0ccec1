#include "compiler/check/cfg.h"

#include <deque>

#include <fmt/format.h>

namespace flow::check {
namespace {

class CfgBuilder {
 public:
  explicit CfgBuilder(const CheckedProgram& program) : program_(program) {
    NewBlock();  // entry
    NewBlock();  // exit
  }

  auto Build(const ast::FunctionDecl& fn) -> Cfg {
    cur_ = Cfg::kEntry;
    Stmts(fn.body);
    Edge(cur_, Cfg::kExit);
    return std::move(cfg_);
  }

 private:
  auto ast() const -> const ast::Ast& { return program_.ast; }

  auto NewBlock() -> int32_t {
    cfg_.blocks.emplace_back();
    return static_cast<int32_t>(cfg_.blocks.size() - 1);
  }
  void Edge(int32_t from, int32_t to) {
    cfg_.blocks[from].succs.push_back(to);
    cfg_.blocks[to].preds.push_back(from);
  }
  // Control leaves the current block for good (return, fail): what follows
  // starts a block nothing reaches.
  void Leave(int32_t to) {
    Edge(cur_, to);
    cur_ = NewBlock();
  }

  void Stmts(const ast::Block& block) {
    for (ast::StmtId s : block.stmts) Stmt(s);
  }

  void Stmt(ast::StmtId id);
  void Clauses(const ast::StepClauses& clauses, ast::ExprId expr);
  void Retry(const ast::RetryClause& r) {
    Expr(r.attempts);
    Expr(r.backoff);
    Expr(r.max);
  }
  void Expr(ast::ExprId id, const ast::StepClauses* clauses = nullptr, bool compensation = false);
  void Branch(ast::ExprId lhs, ast::ExprId rhs) {  // rhs may not run
    Expr(lhs);
    int32_t rhs_block = NewBlock();
    int32_t join = NewBlock();
    Edge(cur_, rhs_block);
    Edge(cur_, join);
    cur_ = rhs_block;
    Expr(rhs);
    Edge(cur_, join);
    cur_ = join;
  }

  // A loop: a header (evaluating `cond` when valid) with a back edge from
  // the end of the body and an exit edge for zero iterations.
  void Loop(const ast::Block& body, ast::ExprId cond) {
    int32_t header = NewBlock();
    Edge(cur_, header);
    cur_ = header;
    Expr(cond);
    int32_t first = NewBlock(), exit = NewBlock();
    Edge(cur_, first);
    Edge(cur_, exit);  // zero iterations
    loops_.push_back({header, exit});
    cur_ = first;
    Stmts(body);
    loops_.pop_back();
    Edge(cur_, header);
    cur_ = exit;
  }

  // A fork from the current block into one start block per branch, and a
  // join_any block after them.
  void Parallel(const ast::Block& body) {
    int32_t fork = cur_;
    int32_t join = NewBlock();
    cfg_.blocks[join].join_any = true;
    for (ast::StmtId branch : body.stmts) {
      cur_ = NewBlock();
      Edge(fork, cur_);
      Stmt(branch);
      Edge(cur_, join);
    }
    if (body.stmts.empty()) Edge(fork, join);
    cur_ = join;
  }

  struct LoopTargets {
    int32_t header;
    int32_t exit;
  };

  const CheckedProgram& program_;
  Cfg cfg_;
  int32_t cur_ = Cfg::kEntry;
  std::vector<int32_t> handlers_;  // innermost try handler last
  std::vector<LoopTargets> loops_;  // innermost loop last
};

void CfgBuilder::Clauses(const ast::StepClauses& clauses, ast::ExprId expr) {
  // The step itself was already visited with these clauses attached; here
  // only the clause expressions and the compensation step (registered right
  // after the step completes, so it sits after it in the graph).
  if (clauses.retry) Retry(*clauses.retry);
  if (clauses.timeout) Expr(clauses.timeout->duration);
  if (clauses.compensate) {
    const auto& c = *clauses.compensate;
    Expr(c.step, nullptr, true);
    if (!cfg_.blocks[cur_].events.empty() && c.retry) {
      auto& last = cfg_.blocks[cur_].events.back();
      if (last.compensation && last.expr == c.step) last.retry = &*c.retry;
    }
    if (c.retry) Retry(*c.retry);
    if (c.timeout) Expr(c.timeout->duration);
  }
}

void CfgBuilder::Stmt(ast::StmtId id) {
  std::visit(
      [&](const auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, ast::LetStmt>) {
          Expr(n.init, &n.clauses);
          Clauses(n.clauses, n.init);
        } else if constexpr (std::is_same_v<N, ast::AssignStmt> ||
                             std::is_same_v<N, ast::ExprStmt>) {
          ast::ExprId e;
          if constexpr (std::is_same_v<N, ast::AssignStmt>) e = n.value;
          else e = n.expr;
          Expr(e, &n.clauses);
          Clauses(n.clauses, e);
        } else if constexpr (std::is_same_v<N, ast::ReturnStmt>) {
          Expr(n.value, &n.clauses);
          Clauses(n.clauses, n.value);
          Leave(Cfg::kExit);
        } else if constexpr (std::is_same_v<N, ast::FailStmt>) {
          Expr(n.message);
          Leave(handlers_.empty() ? Cfg::kExit : handlers_.back());
        } else if constexpr (std::is_same_v<N, ast::IfStmt>) {
          Expr(n.cond);
          int32_t then_block = NewBlock(), else_block = NewBlock(), join = NewBlock();
          Edge(cur_, then_block);
          Edge(cur_, else_block);
          cur_ = then_block;
          Stmts(n.then_block);
          Edge(cur_, join);
          cur_ = else_block;
          if (n.else_block) Stmts(*n.else_block);
          Edge(cur_, join);
          cur_ = join;
        } else if constexpr (std::is_same_v<N, ast::ForStmt>) {
          Expr(n.iterable);
          Loop(n.body, ast::ExprId{});
        } else if constexpr (std::is_same_v<N, ast::WhileStmt>) {
          Loop(n.body, n.cond);
        } else if constexpr (std::is_same_v<N, ast::BreakStmt>) {
          // Outside a loop the checker reported E090: nothing to follow.
          if (!loops_.empty()) Leave(loops_.back().exit);
        } else if constexpr (std::is_same_v<N, ast::ContinueStmt>) {
          if (!loops_.empty()) Leave(loops_.back().header);
        } else if constexpr (std::is_same_v<N, ast::TryStmt>) {
          int32_t body = NewBlock(), handler = NewBlock(), join = NewBlock();
          Edge(cur_, body);
          Edge(cur_, handler);  // the body may fail before anything in it completes
          handlers_.push_back(handler);
          cur_ = body;
          Stmts(n.body);
          handlers_.pop_back();
          Edge(cur_, join);
          cur_ = handler;
          Stmts(n.handler);
          Edge(cur_, join);
          cur_ = join;
        } else if constexpr (std::is_same_v<N, ast::CheckpointStmt>) {
          Expr(n.label);
        } else if constexpr (std::is_same_v<N, ast::SleepStmt>) {
          Expr(n.duration);
        } else if constexpr (std::is_same_v<N, ast::ParallelStmt>) {
          Parallel(n.body);
        }
      },
      ast().stmt(id).node);
}

void CfgBuilder::Expr(ast::ExprId id, const ast::StepClauses* clauses, bool compensation) {
  if (!id.valid()) return;
  std::visit(
      [&](const auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, ast::StringLit>) {
          for (const auto& part : n.parts) Expr(part.expr);
        } else if constexpr (std::is_same_v<N, ast::ListLit>) {
          for (ast::ExprId item : n.items) Expr(item);
        } else if constexpr (std::is_same_v<N, ast::RecordLit>) {
          for (const auto& f : n.fields) Expr(f.value);
        } else if constexpr (std::is_same_v<N, ast::MemberExpr>) {
          Expr(n.object);
        } else if constexpr (std::is_same_v<N, ast::IndexExpr>) {
          Expr(n.object);
          Expr(n.index);
        } else if constexpr (std::is_same_v<N, ast::UnaryExpr>) {
          Expr(n.operand);
        } else if constexpr (std::is_same_v<N, ast::CastExpr>) {
          Expr(n.value);
        } else if constexpr (std::is_same_v<N, ast::WaitExpr>) {
          Expr(n.event);
          Expr(n.timeout);
        } else if constexpr (std::is_same_v<N, ast::ParallelForExpr>) {
          Expr(n.iterable);
          Expr(n.limit);
          Loop(n.body, ast::ExprId{});
        } else if constexpr (std::is_same_v<N, ast::ApproveExpr>) {
          Expr(n.prompt);
          Expr(n.from);
          Expr(n.timeout);
          cfg_.blocks[cur_].events.push_back({CfgEvent::Kind::Approve, id});
        } else if constexpr (std::is_same_v<N, ast::BinaryExpr>) {
          if (n.op == ast::BinaryOp::And || n.op == ast::BinaryOp::Or ||
              n.op == ast::BinaryOp::Coalesce) {
            Branch(n.lhs, n.rhs);
          } else {
            Expr(n.lhs);
            Expr(n.rhs);
          }
        } else if constexpr (std::is_same_v<N, ast::CallExpr>) {
          bool step = program_.calls[id.index].kind == CallKind::Step;
          if (!step) Expr(n.callee);
          for (const auto& arg : n.args) Expr(arg.value);
          if (step) {
            CfgEvent event{CfgEvent::Kind::Step, id};
            if (clauses) {
              event.retry = clauses->retry ? &*clauses->retry : nullptr;
              event.has_compensate = clauses->compensate.has_value();
            }
            event.compensation = compensation;
            cfg_.blocks[cur_].events.push_back(event);
          }
        }
      },
      ast().expr(id).node);
}

}  // namespace

auto BuildCfg(const CheckedProgram& program, int32_t function) -> Cfg {
  CfgBuilder builder(program);
  return builder.Build(program.ast.functions[function]);
}

auto ApprovedOnEntry(const Cfg& cfg) -> std::vector<bool> {
  size_t n = cfg.blocks.size();
  std::vector<bool> in(n, true), out(n, true), approves(n, false), queued(n, true);
  for (size_t b = 0; b < n; ++b) {
    for (const auto& e : cfg.blocks[b].events) {
      if (e.kind == CfgEvent::Kind::Approve) approves[b] = true;
    }
  }
  std::deque<int32_t> work;
  for (size_t b = 0; b < n; ++b) work.push_back(static_cast<int32_t>(b));
  while (!work.empty()) {
    int32_t b = work.front();
    work.pop_front();
    queued[b] = false;
    const CfgBlock& block = cfg.blocks[b];
    bool new_in = b != Cfg::kEntry;
    if (block.join_any && !block.preds.empty()) {
      new_in = false;
      for (int32_t p : block.preds) new_in = new_in || out[p];
    } else {
      for (int32_t p : block.preds) new_in = new_in && out[p];
    }
    bool new_out = new_in || approves[b];
    in[b] = new_in;
    if (new_out == out[b]) continue;
    out[b] = new_out;
    for (int32_t s : cfg.blocks[b].succs) {
      if (!queued[s]) {
        queued[s] = true;
        work.push_back(s);
      }
    }
  }
  return in;
}

auto UnapprovedSteps(const Cfg& cfg) -> std::vector<ast::ExprId> {
  std::vector<bool> in = ApprovedOnEntry(cfg);
  std::vector<ast::ExprId> steps;
  for (size_t b = 0; b < cfg.blocks.size(); ++b) {
    bool approved = in[b];
    for (const auto& e : cfg.blocks[b].events) {
      if (e.kind == CfgEvent::Kind::Approve) approved = true;
      else if (!approved) steps.push_back(e.expr);
    }
  }
  return steps;
}

auto DumpCfg(const Cfg& cfg) -> std::string {
  std::string out;
  for (size_t b = 0; b < cfg.blocks.size(); ++b) {
    out += fmt::format("b{} ->", b);
    for (int32_t s : cfg.blocks[b].succs) out += fmt::format(" b{}", s);
    out += ":";
    for (const auto& e : cfg.blocks[b].events) {
      out += fmt::format(" {}#{}", e.kind == CfgEvent::Kind::Approve ? "approve" : "step",
                         e.expr.index);
    }
    out += "\n";
  }
  return out;
}

}  // namespace flow::check
