// Branch fibers: `parallel { }` and `parallel for` (docs/composition.md,
// "Fibers in the VM").
//
// A fiber is the interpreter's vectors (frames, stack, handlers) plus its
// pending delivery, its effect and step counters and its branch id. The
// running fiber's vectors are the Vm's own (stack_, frames_, handlers_), so
// the interpreter loop is the same for every fiber; switching fibers moves
// the vectors in and out of fibers_ (SwapIn / SwapOut). While no branch is
// alive fibers_ is empty and the root runs as it always did.
//
// A group is opened by ParJoin (`parallel`: the branches added by Spawn)
// or ParFor (`parallel for`: one branch per item, at most `limit` alive).
// Each branch runs on a copy of the parent's register window and ends with
// BranchEnd and its output list; when every branch of the group has ended
// the parent gets the outputs (in branch order) and is ready again.
//
// The first uncaught error of a branch becomes its group's error; the
// group starts no further item, and every fiber under it stops at its next
// durable point: one suspended at a step not yet taken by the host is
// discarded at once; one whose step is in flight (taken) is discarded at
// its next suspension, after its result was delivered and its pure code
// (a `compensate`) ran. When nothing of the group is left, the parent
// raises the error (a `try` around the block catches it), or, when the
// parent itself is stopping, it is discarded in turn.
//
// Scheduling order is oldest fiber first; nothing depends on it: keys,
// effects and step positions are per fiber.
#include <fmt/format.h>

#include "vm/interp/vm.h"

namespace flow::interp {

namespace {

// "2.3" -> "2", "2" -> "".
auto ParentPath(const std::string& path) -> std::string {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? std::string() : path.substr(0, dot);
}

// The 0-based index of branch "2.3" in its group: 2.
auto BranchIndex(const std::string& branch) -> uint32_t {
  auto dot = branch.rfind('.');
  return static_cast<uint32_t>(std::stoul(branch.substr(dot + 1)) - 1);
}

}  // namespace

auto Vm::FindFiber(const std::string& branch) -> int {
  for (size_t k = 0; k < fibers_.size(); ++k) {
    if (fibers_[k].branch == branch) return static_cast<int>(k);
  }
  return -1;
}

auto Vm::FindGroup(const std::string& prefix) -> int {
  for (size_t k = 0; k < groups_.size(); ++k) {
    if (groups_[k].prefix == prefix) return static_cast<int>(k);
  }
  return -1;
}

auto Vm::NextReady() const -> int {
  for (size_t k = 0; k < fibers_.size(); ++k) {
    if (fibers_[k].state == FiberState::Ready) return static_cast<int>(k);
  }
  return -1;
}

void Vm::SwapIn(int k) {
  Fiber& f = fibers_[k];
  stack_ = std::move(f.stack);
  frames_ = std::move(f.frames);
  handlers_ = std::move(f.handlers);
  spawns_ = std::move(f.spawns);
  f.stack.clear();
  f.frames.clear();
  f.handlers.clear();
  f.spawns.clear();
  pending_reg_ = f.pending_reg;
  pending_error_ = std::move(f.pending_error);
  f.pending_error.reset();
  effect_seq_ = f.effect_seq;
  branch_ = f.branch;
  branch_steps_ = f.steps;
  branch_groups_ = f.groups;
  phase_ = Phase::Ready;
  current_ = k;
}

void Vm::SwapOut(int k, FiberState state) {
  Fiber& f = fibers_[k];
  f.stack = std::move(stack_);
  f.frames = std::move(frames_);
  f.handlers = std::move(handlers_);
  f.spawns = std::move(spawns_);
  stack_.clear();
  frames_.clear();
  handlers_.clear();
  spawns_.clear();
  f.pending_reg = pending_reg_;
  f.pending_error = std::move(pending_error_);
  pending_error_.reset();
  pending_reg_ = kNoSlot;
  f.effect_seq = effect_seq_;
  f.steps = branch_steps_;
  f.groups = branch_groups_;
  f.state = state;
  current_ = -1;
}

auto Vm::OpenGroup(uint32_t a, uint32_t b, uint32_t c, bool is_for, uint32_t pc) -> bool {
  const Frame& top = frames_.back();
  Value* R = stack_.data() + top.base;
  Group g;
  g.parent = branch_;
  g.is_for = is_for;
  g.fn = top.fn;
  g.result_reg = a;
  size_t n = 0;
  if (!is_for) {
    g.starts = std::move(spawns_);
    spawns_.clear();
    n = g.starts.size();
  } else {
    if (!R[b].is_list()) return Fail(kKindType, fmt::format("cannot iterate over a {}", value::TagName(R[b].tag())));
    const Value& limit = R[b + 1];
    if (!limit.is_null()) {
      if (!limit.is_int()) return Fail(kKindType, "parallel for limit must be an int");
      if (limit.as_int() < 1) {
        return Fail(kKindLimit, fmt::format("parallel for limit must be at least 1, found {}", limit.as_int()));
      }
      g.limit = limit.as_int();
    }
    g.items = R[b];
    g.body_pc = pc + 1;  // after the Jmp at pc
    g.item_reg = c;
    n = g.items.list().size();
  }
  if (n == 0) {  // nothing runs: the value is at once
    R[a] = Value::List(std::vector<Value>{});
    return true;
  }
  ++branch_groups_;
  g.prefix = branch_.empty() ? std::to_string(branch_groups_) : fmt::format("{}.{}", branch_, branch_groups_);
  g.outputs.resize(n);
  if (fibers_.empty()) {  // the root opens the first group: it becomes fiber 0
    fibers_.push_back(Fiber{});
    current_ = 0;
  }
  groups_.push_back(std::move(g));
  opened_ = static_cast<int>(groups_.size() - 1);
  yield_ = YieldKind::Join;
  return true;
}

auto Vm::NewFiber(const Group& g, uint32_t j, uint32_t start_pc, const Value* item) -> Fiber {
  const Fiber& parent = fibers_[FindFiber(g.parent)];
  const Frame& top = parent.frames.back();
  const uint32_t n = module_.functions[g.fn].num_regs;
  Fiber f;
  f.branch = fmt::format("{}.{}", g.prefix, j + 1);
  f.stack.assign(parent.stack.begin() + top.base, parent.stack.begin() + top.base + n);
  if (item != nullptr) f.stack[g.item_reg] = *item;
  f.frames.push_back(Frame{g.fn, start_pc, 0, kNoSlot});
  return f;
}

void Vm::StartFibers(int gi) {
  Group& g = groups_[gi];
  if (!g.is_for) {
    if (g.live > 0 || g.error) return;
    for (uint32_t j = 0; j < g.starts.size(); ++j) {
      Fiber f = NewFiber(groups_[gi], j, groups_[gi].starts[j], nullptr);
      fibers_.push_back(std::move(f));
    }
    groups_[gi].live = static_cast<uint32_t>(groups_[gi].starts.size());
    return;
  }
  while (!groups_[gi].error && groups_[gi].live < groups_[gi].limit &&
         groups_[gi].next < groups_[gi].items.list().size()) {
    Group& h = groups_[gi];
    Fiber f = NewFiber(h, h.next, h.body_pc, &h.items.list()[h.next]);
    fibers_.push_back(std::move(f));
    ++h.next;
    ++h.live;
  }
}

auto Vm::Stopping(const std::string& branch) -> bool {
  std::string b = branch;
  while (!b.empty()) {
    int gi = FindGroup(ParentPath(b));
    if (gi < 0) return false;
    if (groups_[gi].error) return true;
    b = groups_[gi].parent;
  }
  return false;
}

void Vm::RemoveFiber(int k) { fibers_.erase(fibers_.begin() + k); }

void Vm::EndFiber(int k, Value output) {
  const std::string branch = fibers_[k].branch;
  int gi = FindGroup(ParentPath(branch));
  FLOW_CHECK(gi >= 0, "a branch fiber belongs to an open group");
  RemoveFiber(k);
  groups_[gi].outputs[BranchIndex(branch)] = std::move(output);
  --groups_[gi].live;
  GroupChanged(gi);
}

void Vm::FailFiber(int k, WorkflowError error) {
  const std::string branch = fibers_[k].branch;
  int gi = FindGroup(ParentPath(branch));
  FLOW_CHECK(gi >= 0, "a branch fiber belongs to an open group");
  RemoveFiber(k);
  --groups_[gi].live;
  const bool first = !groups_[gi].error;
  if (first) groups_[gi].error = std::move(error);
  GroupChanged(gi);
  if (first) DiscardStopped();
}

// Fibers under a failed group that wait at a step nobody sent are
// discarded: their next durable point is now.
void Vm::DiscardStopped() {
  for (;;) {
    int found = -1;
    for (size_t k = 0; k < fibers_.size() && found < 0; ++k) {
      if (fibers_[k].state == FiberState::Suspended && Stopping(fibers_[k].branch)) found = static_cast<int>(k);
    }
    if (found < 0) return;
    const std::string branch = fibers_[found].branch;
    int gi = FindGroup(ParentPath(branch));
    RemoveFiber(found);
    --groups_[gi].live;
    GroupChanged(gi);
  }
}

void Vm::GroupChanged(int gi) {
  if (groups_[gi].is_for) StartFibers(gi);
  if (groups_[gi].live > 0) return;
  Group done = std::move(groups_[gi]);
  groups_.erase(groups_.begin() + gi);
  int p = FindFiber(done.parent);
  FLOW_CHECK(p >= 0, "a group's parent fiber waits at its join");
  if (Stopping(done.parent)) {  // the parent stops here too
    int pg = FindGroup(ParentPath(done.parent));
    RemoveFiber(p);
    --groups_[pg].live;
    GroupChanged(pg);
    return;
  }
  Fiber& parent = fibers_[p];
  parent.state = FiberState::Ready;
  if (done.error) {
    parent.pending_error = std::move(done.error);
    return;
  }
  std::vector<Value> out;
  if (done.is_for) {
    for (Value& v : done.outputs) {
      if (v.is_list()) out.insert(out.end(), v.list().begin(), v.list().end());
    }
  } else {
    out = std::move(done.outputs);
  }
  parent.stack[parent.frames.back().base + done.result_reg] = Value::List(std::move(out));
}

auto Vm::Schedule() -> Outcome {
  for (;;) {
    Outcome o;
    if (current_ >= 0) {
      o.status = RunStatus::Yield;  // the root just opened its first group
    } else if (fibers_.size() == 1 && fibers_[0].state == FiberState::Ready) {
      // Every branch has ended: the root runs alone again.
      SwapIn(0);
      fibers_.clear();
      current_ = -1;
      o = RunCurrent();
      if (o.status != RunStatus::Yield) return o;
    } else {
      int k = NextReady();
      if (k < 0) {
        phase_ = Phase::Branches;
        StressReload();
        Outcome b;
        b.status = RunStatus::Branches;
        return b;
      }
      SwapIn(k);
      o = RunCurrent();
    }
    const int k = current_;
    switch (o.status) {
      case RunStatus::Yield:
        if (yield_ == YieldKind::Join) {
          yield_ = YieldKind::None;
          SwapOut(k, FiberState::Joining);
          StartFibers(opened_);
        } else {
          yield_ = YieldKind::None;
          SwapOut(k, FiberState::Ready);
          EndFiber(k, std::move(branch_output_));
          branch_output_ = Value();
        }
        break;
      case RunStatus::Suspended:
        if (o.suspend.kind == SuspendKind::Checkpoint) {
          // The compiler refuses checkpoints in a branch (E099).
          pending_error_ = WorkflowError{kKindInternal, "a branch cannot suspend here", std::nullopt, "", {}};
          pending_reg_ = kNoSlot;
          SwapOut(k, FiberState::Ready);
          break;
        }
        // Steps and waits share the fiber's positions: (branch, n) names
        // either. A child call is neither: its run id counts the fiber's
        // child calls (the engine's, from the journal).
        if (o.suspend.kind != SuspendKind::Child) ++branch_steps_;
        SwapOut(k, FiberState::Suspended);
        if (o.suspend.kind == SuspendKind::Step || o.suspend.kind == SuspendKind::Child) {
          fibers_[k].step_desc = o.suspend.step;
          fibers_[k].step_args = std::move(o.suspend.args);
        } else {
          fibers_[k].wait = std::move(o.suspend);
        }
        if (Stopping(fibers_[k].branch)) {
          const std::string branch = fibers_[k].branch;
          int gi = FindGroup(ParentPath(branch));
          RemoveFiber(k);
          --groups_[gi].live;
          GroupChanged(gi);
        }
        break;
      case RunStatus::Failed:
        if (fatal_) {  // a limit of the whole run: no `try` catches it
          fibers_.clear();
          groups_.clear();
          current_ = -1;
          phase_ = Phase::Done;
          return o;
        }
        stack_.clear();
        frames_.clear();
        handlers_.clear();
        spawns_.clear();
        current_ = -1;
        FailFiber(k, std::move(o.error));
        break;
      case RunStatus::Completed: {  // bad bytecode: a branch that returned
        SwapOut(k, FiberState::Ready);
        FailFiber(k, WorkflowError{kKindInternal, "a branch returned", std::nullopt, "", {}});
        break;
      }
      case RunStatus::Interrupted:
        SwapOut(k, FiberState::Ready);
        phase_ = Phase::Ready;
        return o;
      case RunStatus::Branches:
        FLOW_CHECK(false, "RunCurrent never returns Branches");
    }
  }
}

// Resume stress (VmOptions::resume_stress) for a state with branches: at
// every point where the host takes over.
void Vm::StressReload() {
  if (!options_.resume_stress) return;
  std::string bytes = SaveState();
  // A step in flight stays the host's: the state saves it as suspended
  // (a real reload sends it again), the stress reload keeps it taken.
  std::vector<std::string> taken;
  for (const Fiber& f : fibers_) {
    if (f.state == FiberState::Taken) taken.push_back(f.branch);
  }
  Reset();
  Status loaded = LoadState(bytes);
  FLOW_CHECK(loaded.ok(), "resume stress: the VM could not reload its own state");
  FLOW_CHECK(SaveState() == bytes, "resume stress: reloaded state differs");
  for (const std::string& branch : taken) fibers_[FindFiber(branch)].state = FiberState::Taken;
}

auto Vm::AtStep(const Fiber& f) const -> BranchSuspension {
  BranchSuspension s;
  s.branch = f.branch;
  s.step = f.steps;
  // The descriptor says which: a child call's has no connector.
  s.reason.kind = module_.steps[f.step_desc].IsChild() ? SuspendKind::Child : SuspendKind::Step;
  s.reason.step = f.step_desc;
  s.reason.args = f.step_args;
  return s;
}

auto Vm::TakeBranchSuspensions(size_t max) -> std::vector<BranchSuspension> {
  std::vector<BranchSuspension> out;
  for (Fiber& f : fibers_) {
    if (out.size() >= max) break;
    if (f.state != FiberState::Suspended || f.wait.kind != SuspendKind::Step) continue;
    f.state = FiberState::Taken;
    out.push_back(AtStep(f));
  }
  return out;
}

auto Vm::BranchesInFlight() const -> std::vector<BranchSuspension> {
  std::vector<BranchSuspension> out;
  for (const Fiber& f : fibers_) {
    if (f.state != FiberState::Taken) continue;
    out.push_back(AtStep(f));
  }
  return out;
}

auto Vm::BranchStopping(const std::string& branch) -> bool { return Stopping(branch); }

auto Vm::BranchWaits() const -> std::vector<BranchSuspension> {
  std::vector<BranchSuspension> out;
  for (const Fiber& f : fibers_) {
    if (f.state != FiberState::Suspended || f.wait.kind == SuspendKind::Step) continue;
    BranchSuspension s;
    s.branch = f.branch;
    s.step = f.steps;
    s.reason = f.wait;
    out.push_back(std::move(s));
  }
  return out;
}

auto Vm::DeliverTo(const std::string& branch, Value v) -> Status {
  int k = FindFiber(branch);
  if (k < 0 || (fibers_[k].state != FiberState::Taken && fibers_[k].state != FiberState::Suspended)) {
    return Error{fmt::format("branch {} is not waiting at a step or a wait", branch)};
  }
  Fiber& f = fibers_[k];
  if (f.pending_reg != kNoSlot) f.stack[f.frames.back().base + f.pending_reg] = std::move(v);
  f.pending_reg = kNoSlot;
  f.step_args = Value();
  f.wait = SuspendReason{};
  f.state = FiberState::Ready;
  phase_ = Phase::Ready;
  return Ok{};
}

auto Vm::DeliverErrorTo(const std::string& branch, std::string kind, std::string message,
                        std::optional<std::string> step) -> Status {
  int k = FindFiber(branch);
  if (k < 0 || (fibers_[k].state != FiberState::Taken && fibers_[k].state != FiberState::Suspended)) {
    return Error{fmt::format("branch {} is not waiting at a step or a wait", branch)};
  }
  Fiber& f = fibers_[k];
  f.pending_error = WorkflowError{std::move(kind), std::move(message), std::move(step), "", {}};
  f.pending_reg = kNoSlot;
  f.step_args = Value();
  f.wait = SuspendReason{};
  f.state = FiberState::Ready;
  phase_ = Phase::Ready;
  return Ok{};
}

}  // namespace flow::interp
