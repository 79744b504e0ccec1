// BuildGraph (graph.h): one pass over a workflow's statements, carrying the
// "frontier" -- the open ends (node, edge label) that the next node drawn
// connects to. A branch forks the frontier, a loop feeds its body's
// frontier back to its head, `return` and `fail` close it; `break` moves it
// to the loop's exit, `continue` back to the loop's head (in a `parallel
// for`, to the end of the item).
#include <algorithm>
#include <optional>
#include <variant>

#include "compiler/graph/graph.h"

namespace flow::graph {

namespace {

// Source text quoted in a label (a condition, a prompt) is cut here: a
// diagram is not the place to read a whole expression.
constexpr size_t kMaxQuotedChars = 48;

struct Exit {
  int node;
  std::string label;
};
using Frontier = std::vector<Exit>;

class Builder {
 public:
  Builder(const check::CheckedProgram& program, std::string_view source)
      : p_(program), ast_(program.ast), source_(source) {}

  auto Run(size_t function) -> Graph {
    const ast::FunctionDecl& f = ast_.functions[function];
    graph_.workflow = f.name;
    std::string params;
    for (const auto& param : f.params) params += (params.empty() ? "" : ", ") + param.name;
    int start = Add(NodeKind::Start, "workflow " + f.name + "(" + params + ")", 0);
    Frontier end = Block(f.body, {{start, ""}});
    int finish = Add(NodeKind::End, "end", 0);
    Connect(returns_, finish);
    Connect(end, finish);
    return std::move(graph_);
  }

 private:
  // ------------------------------------------------------------ nodes and edges

  auto Add(NodeKind kind, std::string title, uint32_t line) -> int {
    graph_.nodes.push_back(Node{kind, std::move(title), {}, line});
    return static_cast<int>(graph_.nodes.size()) - 1;
  }
  auto Add(NodeKind kind, std::string title, SourceRange range) -> int {
    return Add(kind, std::move(title), LineOf(range.begin));
  }
  auto LineOf(uint32_t offset) const -> uint32_t {
    uint32_t end = std::min<uint32_t>(offset, static_cast<uint32_t>(source_.size()));
    return 1 + static_cast<uint32_t>(std::count(source_.begin(), source_.begin() + end, '\n'));
  }
  void Connect(const Frontier& from, int to) {
    for (const Exit& e : from) graph_.edges.push_back(Edge{e.node, to, EdgeKind::Flow, e.label});
  }
  // A node in the main flow: everything open connects to it; it is what is open next.
  auto Chain(Frontier& frontier, NodeKind kind, std::string title, SourceRange range) -> int {
    int id = Add(kind, std::move(title), range);
    Connect(frontier, id);
    frontier = {{id, ""}};
    return id;
  }

  // Source text on one line, blanks collapsed, cut at kMaxQuotedChars.
  auto Quote(SourceRange range) const -> std::string {
    std::string out;
    size_t end = std::min<size_t>(range.end, source_.size());
    for (size_t i = range.begin; i < end; ++i) {
      char c = source_[i];
      bool blank = c == ' ' || c == '\t' || c == '\n' || c == '\r';
      if (blank) {
        if (!out.empty() && out.back() != ' ') out += ' ';
        continue;
      }
      out += c;
    }
    if (out.size() > kMaxQuotedChars) {
      size_t cut = kMaxQuotedChars;
      while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
      out = out.substr(0, cut) + "...";
    }
    return out;
  }
  auto Quote(ast::ExprId id) const -> std::string { return Quote(ast_.expr(id).range); }

  // ------------------------------------------------------------ statements

  auto Block(const ast::Block& block, Frontier frontier) -> Frontier {
    for (ast::StmtId s : block.stmts) {
      if (frontier.empty()) break;  // after return/fail: unreachable, not drawn
      frontier = Stmt(s, std::move(frontier));
    }
    return frontier;
  }

  auto Stmt(ast::StmtId id, Frontier f) -> Frontier {
    const ast::Stmt& s = ast_.stmt(id);
    std::visit(ast::Overload{
        [&](const ast::ErrorStmt&) {},
        [&](const ast::LetStmt& l) { Effects(l.init, l.clauses, l.name, f); },
        [&](const ast::AssignStmt& a) {
          Effects(a.value, a.clauses, Quote(a.target), f);
        },
        [&](const ast::ExprStmt& e) { Effects(e.expr, e.clauses, "", f); },
        [&](const ast::IfStmt& i) { f = If(i, s.range, std::move(f)); },
        [&](const ast::ForStmt& l) {
          f = Loop("for " + l.var + " in " + Quote(l.iterable), s.range, l.iterable, l.body,
                   std::move(f), "each");
        },
        [&](const ast::WhileStmt& w) {
          f = Loop("while " + Quote(w.cond), s.range, w.cond, w.body, std::move(f), "yes");
        },
        [&](const ast::ReturnStmt& r) {
          if (r.value.valid()) Effects(r.value, r.clauses, "", f);
          returns_.insert(returns_.end(), f.begin(), f.end());
          f.clear();
        },
        [&](const ast::FailStmt& x) {
          Effects(x.message, {}, "", f);
          Chain(f, NodeKind::Fail, "fail " + Quote(x.message), s.range);
          f.clear();
        },
        [&](const ast::TryStmt& t) { f = Try(t, s.range, std::move(f)); },
        [&](const ast::CheckpointStmt& c) {
          Effects(c.label, {}, "", f);
          Chain(f, NodeKind::Checkpoint, "checkpoint " + Quote(c.label), s.range);
        },
        [&](const ast::SleepStmt& z) {
          Effects(z.duration, {}, "", f);
          Chain(f, NodeKind::Sleep, "sleep " + Quote(z.duration), s.range);
        },
        [&](const ast::ParallelStmt& par) { f = Parallel(par.body, s.range, std::move(f)); },
        [&](const ast::BreakStmt&) { Jump(f, true); },
        [&](const ast::ContinueStmt&) { Jump(f, false); },
    }, s.node);
    return f;
  }

  // `break`/`continue`: the open ends leave for the innermost loop's exit,
  // its head (a back edge), or the end of a `parallel for` item.
  void Jump(Frontier& f, bool is_break) {
    if (loops_.empty()) {  // outside a loop: reported by the checker
      f.clear();
      return;
    }
    LoopTargets& loop = loops_.back();
    for (Exit& e : f) {
      // An open end keeps its own label (the `yes` of the `if` around the
      // jump); an unlabelled one says how it leaves.
      std::string label = !e.label.empty() ? e.label : is_break ? "break" : "continue";
      if (is_break) {
        loop.breaks.push_back({e.node, std::move(label)});
      } else if (loop.item_end) {
        loop.continues.push_back({e.node, std::move(label)});
      } else {
        graph_.edges.push_back(Edge{e.node, loop.head, EdgeKind::Back, std::move(label)});
      }
    }
    f.clear();
  }

  auto If(const ast::IfStmt& i, SourceRange range, Frontier f) -> Frontier {
    Effects(i.cond, {}, "", f);
    bool draws = Draws(i.then_block) || (i.else_block && Draws(*i.else_block));
    if (!draws) return f;
    int decision = Chain(f, NodeKind::Decision, "if " + Quote(i.cond), range);
    Frontier yes = Block(i.then_block, {{decision, "yes"}});
    Frontier no = i.else_block ? Block(*i.else_block, {{decision, "no"}})
                               : Frontier{{decision, "no"}};
    yes.insert(yes.end(), no.begin(), no.end());
    return yes;
  }

  auto Loop(std::string title, SourceRange range, ast::ExprId head, const ast::Block& body,
            Frontier f, const char* enter) -> Frontier {
    Effects(head, {}, "", f);
    if (!Draws(body)) return f;
    int loop = Chain(f, NodeKind::Loop, std::move(title), range);
    loops_.push_back(LoopTargets{loop, false, {}, {}});
    Frontier end = Block(body, {{loop, enter}});
    Frontier breaks = std::move(loops_.back().breaks);
    loops_.pop_back();
    for (const Exit& e : end) graph_.edges.push_back(Edge{e.node, loop, EdgeKind::Back, e.label});
    Frontier after{{loop, "done"}};
    after.insert(after.end(), breaks.begin(), breaks.end());
    return after;
  }

  // One branch per item: the body drawn once from a fork, to a join.
  void ParallelFor(const ast::ParallelForExpr& p, SourceRange range, Frontier& f) {
    Expr(p.iterable, f);
    Expr(p.limit, f);
    std::string title = "parallel for " + p.var + " in " + Quote(p.iterable);
    if (p.limit.valid()) title += " limit " + Quote(p.limit);
    int fork = Chain(f, NodeKind::Fork, std::move(title), range);
    loops_.push_back(LoopTargets{fork, true, {}, {}});
    Frontier end = Block(p.body, {{fork, "each"}});
    Frontier continues = std::move(loops_.back().continues);
    loops_.pop_back();
    end.insert(end.end(), continues.begin(), continues.end());
    int join = Add(NodeKind::Join, "all items done", LineOf(p.body.range.end));
    Connect(end, join);
    f = {{join, ""}};
  }

  auto Try(const ast::TryStmt& t, SourceRange range, Frontier f) -> Frontier {
    if (!Draws(t.body) && !Draws(t.handler)) return f;
    int entry = Chain(f, NodeKind::Try, "try", range);
    Frontier body = Block(t.body, f);
    int handler = Add(NodeKind::Catch, "catch " + t.err_name, t.handler.range);
    graph_.edges.push_back(Edge{entry, handler, EdgeKind::Error, "error"});
    Frontier caught = Block(t.handler, {{handler, ""}});
    body.insert(body.end(), caught.begin(), caught.end());
    return body;
  }

  // Every top-level statement of the block is a branch (SPEC 2.5).
  auto Parallel(const ast::Block& block, SourceRange range, Frontier f) -> Frontier {
    int fork = Chain(f, NodeKind::Fork, "parallel", range);
    Frontier ends;
    for (ast::StmtId s : block.stmts) {
      Frontier branch = Stmt(s, {{fork, ""}});
      ends.insert(ends.end(), branch.begin(), branch.end());
    }
    if (block.stmts.empty()) ends.push_back({fork, ""});
    int join = Add(NodeKind::Join, "all branches done", LineOf(block.range.end));
    Connect(ends, join);
    return {{join, ""}};
  }

  // True when the block draws anything (so an `if` around it is worth a
  // diamond): drawn on a scratch copy, so the rule is the drawing's own.
  auto Draws(const ast::Block& block) -> bool {
    Graph saved = graph_;
    auto saved_returns = returns_;
    auto saved_loops = loops_;
    Frontier probe{{-1, ""}};
    Frontier after = Block(block, probe);
    bool draws = graph_.nodes.size() != saved.nodes.size() || after.size() != 1 ||
                 after[0].node != -1 || returns_.size() != saved_returns.size();
    graph_ = std::move(saved);
    returns_ = std::move(saved_returns);
    loops_ = std::move(saved_loops);
    return draws;
  }

  // ------------------------------------------------------------ expressions

  // The durable things inside `expr`, in evaluation order, then the step
  // clauses of the statement on the last one drawn (the step itself).
  void Effects(ast::ExprId expr, const ast::StepClauses& clauses, const std::string& bound,
               Frontier& f) {
    if (!expr.valid()) return;
    int before = static_cast<int>(graph_.nodes.size());
    Expr(expr, f);
    int last = static_cast<int>(graph_.nodes.size()) - 1;
    if (last < before) return;
    Node& node = graph_.nodes[last];
    if (!bound.empty() && (node.kind == NodeKind::Step || node.kind == NodeKind::ChildCall ||
                           node.kind == NodeKind::Approve || node.kind == NodeKind::Wait)) {
      node.title = bound + " = " + node.title;
    }
    if (clauses.retry) node.details.push_back(Quote(clauses.retry->range));
    if (clauses.timeout) node.details.push_back(Quote(clauses.timeout->range));
    if (clauses.compensate) Compensation(last, *clauses.compensate);
  }

  void Compensation(int step, const ast::CompensateClause& c) {
    const ast::Expr& e = ast_.expr(c.step);
    std::string title = "undo: " + Quote(e.range);
    if (const auto* call = std::get_if<ast::CallExpr>(&e.node)) {
      title = "undo: " + Quote(ast_.expr(call->callee).range);
    }
    int id = Add(NodeKind::Compensation, title, e.range);
    if (c.retry) graph_.nodes[id].details.push_back(Quote(c.retry->range));
    if (c.timeout) graph_.nodes[id].details.push_back(Quote(c.timeout->range));
    graph_.edges.push_back(Edge{step, id, EdgeKind::Compensate, "compensate"});
  }

  void Expr(ast::ExprId id, Frontier& f) {
    if (!id.valid()) return;
    const ast::Expr& e = ast_.expr(id);
    std::visit(ast::Overload{
        [&](const ast::ErrorExpr&) {}, [&](const ast::IntLit&) {}, [&](const ast::FloatLit&) {},
        [&](const ast::BoolLit&) {}, [&](const ast::NullLit&) {}, [&](const ast::DurationLit&) {},
        [&](const ast::NameRef&) {},
        [&](const ast::StringLit& s) {
          for (const auto& part : s.parts) Expr(part.expr, f);
        },
        [&](const ast::ListLit& l) {
          for (auto item : l.items) Expr(item, f);
        },
        [&](const ast::RecordLit& r) {
          for (const auto& field : r.fields) Expr(field.value, f);
        },
        [&](const ast::MemberExpr& m) { Expr(m.object, f); },
        [&](const ast::IndexExpr& x) {
          Expr(x.object, f);
          Expr(x.index, f);
        },
        [&](const ast::CallExpr& c) { Call(id, c, f); },
        [&](const ast::UnaryExpr& u) { Expr(u.operand, f); },
        [&](const ast::BinaryExpr& b) {
          Expr(b.lhs, f);
          Expr(b.rhs, f);
        },
        [&](const ast::CastExpr& c) { Expr(c.value, f); },
        [&](const ast::ApproveExpr& a) {
          Expr(a.prompt, f);
          int node = Chain(f, NodeKind::Approve, "approve " + Quote(a.prompt), e.range);
          if (a.from.valid()) graph_.nodes[node].details.push_back("from " + Quote(a.from));
          if (a.timeout.valid()) graph_.nodes[node].details.push_back("timeout " + Quote(a.timeout));
        },
        [&](const ast::WaitExpr& w) {
          Expr(w.event, f);
          int node = Chain(f, NodeKind::Wait, "wait " + Quote(w.event), e.range);
          if (w.timeout.valid()) graph_.nodes[node].details.push_back("timeout " + Quote(w.timeout));
          if (w.type.valid()) {
            graph_.nodes[node].details.push_back("as " + Quote(ast_.type(w.type).range));
          }
        },
        [&](const ast::ParallelForExpr& p) { ParallelFor(p, e.range, f); },
    }, e.node);
  }

  void Call(ast::ExprId id, const ast::CallExpr& c, Frontier& f) {
    if (const auto* m = std::get_if<ast::MemberExpr>(&ast_.expr(c.callee).node)) {
      Expr(m->object, f);
    }
    for (const auto& arg : c.args) Expr(arg.value, f);
    const ast::Expr& e = ast_.expr(id);
    const check::CallTarget* target =
        static_cast<size_t>(id.index) < p_.calls.size() ? &p_.calls[id.index] : nullptr;
    if (target != nullptr && target->kind == check::CallKind::Step) {
      int node = Chain(f, NodeKind::Step, Quote(ast_.expr(c.callee).range), e.range);
      StepFlags(*target, graph_.nodes[node]);
      return;
    }
    if (IsWorkflowCall(c, target)) {
      Chain(f, NodeKind::ChildCall, "child " + Quote(ast_.expr(c.callee).range), e.range);
    }
  }

  // A call of another workflow of the file: a child run (SPEC 2.5).
  auto IsWorkflowCall(const ast::CallExpr& c, const check::CallTarget* target) const -> bool {
    if (target != nullptr && target->kind == check::CallKind::Workflow) return true;
    const auto* name = std::get_if<ast::NameRef>(&ast_.expr(c.callee).node);
    if (name == nullptr) return false;
    return std::any_of(ast_.functions.begin(), ast_.functions.end(), [&](const auto& fn) {
      return fn.is_workflow && fn.name == name->name;
    });
  }

  void StepFlags(const check::CallTarget& target, Node& node) const {
    if (target.connector < 0 || target.operation < 0 ||
        static_cast<size_t>(target.connector) >= p_.connectors.size()) {
      return;
    }
    const auto& ops = p_.connectors[target.connector].operations;
    if (static_cast<size_t>(target.operation) >= ops.size()) return;
    const schema::OperationSig& op = ops[target.operation];
    if (op.effect == schema::Effect::Irreversible) node.details.push_back("irreversible");
    if (op.requires_approval) node.details.push_back("requires approval");
  }

  const check::CheckedProgram& p_;
  const ast::Ast& ast_;
  std::string_view source_;
  // The loops (and `parallel for` bodies) around the statement being drawn,
  // innermost last.
  struct LoopTargets {
    int head;                // the Loop node, or the Fork of a `parallel for`
    bool item_end;           // `parallel for`: `continue` ends the item
    Frontier breaks;         // open ends leaving by `break`
    Frontier continues;      // `parallel for`: open ends leaving by `continue`
  };

  Graph graph_;
  Frontier returns_;  // every `return`: connected to the end node
  std::vector<LoopTargets> loops_;
};

}  // namespace

auto BuildGraph(const check::CheckedProgram& program, std::string_view source, size_t function)
    -> Graph {
  return Builder(program, source).Run(function);
}

}  // namespace flow::graph
