// The flow virtual machine: one interpreter loop over one Module.
//
// A Vm runs a single workflow run (or one call of a pure fn). Run() executes
// until the run completes, fails with an uncaught workflow error, or reaches
// a durable point that needs the outside world: a step, approve, wait,
// sleep or checkpoint. Then it leaves the loop through the one Suspend path
// and returns the SuspendReason; its whole state can be saved (SaveState)
// and resumed later in a fresh Vm in another process (LoadState), after the
// host Delivers the step result / decision / payload (or DeliverError).
//
// State holds only indices and offsets -- function index, integer pc, base
// slot, handler pcs -- never an address (STYLE §5), so it serialises as is.
//
// Run-time errors (overflow, division by zero, index out of range, failed
// conversion, call depth, `fail`) are workflow errors {kind, message, step}
// unwound through one path (Unwind) to the innermost `try` of any frame, or
// out of Run() as a failure. The kinds are listed in docs/bytecode.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/result.h"
#include "vm/bytecode/module.h"
#include "vm/interp/errors.h"
#include "vm/value/shape.h"
#include "vm/value/value.h"

namespace flow::bytecode {
class ByteReader;
}

namespace flow::interp {

using value::Value;

// Why calls nest at most this deep: enough for any sensible recursive helper
// (CPython's default recursion limit), small enough that runaway recursion
// fails in milliseconds with a clean "limit" error and a saved state stays
// small. The interpreter never recurses on the C++ stack, so this is the
// only bound.
inline constexpr size_t kMaxCallDepth = 1000;

// SPEC §4 "Nothing hangs for ever": the pure computation between two
// durable points is bounded. Why a billion instructions: a few seconds of
// this interpreter, and about a thousand times what an honest workflow
// computes between two steps (transforming a 100,000-element list costs a
// few million); `while true {}` fails with kind `limit` instead of holding
// a worker for ever. Counted per Run() call: each starts after a durable
// point (a delivery) or a load.
inline constexpr int64_t kDefaultInstructionBudget = 1'000'000'000;
// Why 512 MiB: the values of one run (value::HeapBytes) may grow to this
// before the run fails with kind `limit`. An honest workflow holds a few
// megabytes; a worker drives several runs at once on one machine, and an
// unbounded allocation must fail the run, not the process (std::bad_alloc,
// or the kernel's OOM killer, which would kill every later worker that
// picks the run up again).
inline constexpr int64_t kDefaultMemoryLimit = int64_t{512} << 20;
// How often Run() looks at the budget, the memory cap and Host::ShouldStop
// (in budget units, about instructions): rare enough to cost nothing, often
// enough (~0.1 ms) that a stop request is seen at once. The budget is
// charged at backward jumps, by the length of the loop they close, and at
// calls, one unit each (vm_loop.cpp, VM_CHARGE): no cost per instruction;
// the instructions executed are at most the units times the length of the
// longest function.
inline constexpr int64_t kTickInstructions = 1 << 16;

enum class SuspendKind : uint8_t { Step, Approval, Signal, Timer, Checkpoint, Child };

struct SuspendReason {
  SuspendKind kind = SuspendKind::Step;
  uint32_t step = 0;           // Step, Child: step-descriptor id
  Value args;                  // Step, Child: the argument record
  std::string text;            // Approval prompt, Signal event, Checkpoint name
  std::optional<std::string> from;  // Approval role
  int64_t timeout_ms = -1;     // Approval/Signal timeout, -1 when none
  int64_t duration_ms = 0;     // Timer
};

// Interrupted: Host::ShouldStop() asked the VM to stop in the middle of pure
// code; the VM is still ready (Run() would go on from where it stopped).
// Branches: the root fiber waits at a `parallel` join and no fiber is ready:
// the branch fibers suspended at steps are listed by TakeBranchSuspensions
// and each resumed by DeliverTo / DeliverErrorTo (docs/composition.md).
// Yield is internal to the VM (a fiber joined or ended), never returned.
enum class RunStatus : uint8_t { Completed, Failed, Suspended, Interrupted, Branches, Yield };

// The default and the bound of `parallel for ... limit N` (SPEC §2.5).
inline constexpr int64_t kDefaultParallelLimit = 8;

// A branch fiber suspended at a step: its branch id ("2.3"), the step's
// position in that fiber (from 1: the n of its key "<run>:<branch>:<n>"),
// and the step. Or at a child workflow call (reason.kind Child; `step` is
// then the position of the fiber's last step).
struct BranchSuspension {
  std::string branch;
  int64_t step = 0;
  SuspendReason reason;
};

// A registered compensation: step descriptor and its argument record.
struct Compensation {
  uint32_t step = 0;
  Value args;
};

struct Outcome {
  RunStatus status = RunStatus::Completed;
  Value result;             // Completed
  WorkflowError error;      // Failed
  SuspendReason suspend;    // Suspended
};

// The host side of effects (now/uuid/random). `seq` numbers the run's
// effects from 1; a journaling host (EffectLog, effect_log.h) returns the
// recorded value for a seq it has seen, so a resumed run replays the same
// values. An Error (a journal that does not match the program) fails the
// run with kind "internal".
class Host {
 public:
  virtual ~Host() = default;
  // `branch`: the fiber drawing it ("" for the root), whose own counter `seq` is.
  virtual auto Effect(bytecode::EffectId id, uint64_t seq, std::string_view branch) -> Result<Value>;
  // Asked every kTickInstructions of pure computation: true makes Run()
  // return Interrupted (a worker told to stop, a run being cancelled).
  virtual auto ShouldStop() -> bool { return false; }
  // The clock now() reads, in Unix milliseconds: the system's real-time
  // clock here; the engine's host answers from its Runtime's clock
  // (engine/clock.h), so a test's clock drives now() as it drives leases.
  virtual auto NowMs() const -> int64_t;
  // A fresh value: NowMs(), a random v4 UUID, a uniform float in [0, 1).
  auto FreshEffect(bytecode::EffectId id) const -> Value;
};

struct VmOptions {
  Host* host = nullptr;  // nullptr: fresh values, nothing recorded
  // Resume stress (STYLE §6): at every suspension the VM saves its state,
  // drops it and reloads it from the bytes, checking the reload saves the
  // same bytes. Behaviour must be identical with and without it. `flow`
  // turns it on when FLOW_RESUME_STRESS=1 (read in cli/, passed down as
  // engine::EngineOptions::resume_stress), so the golden tests can run the
  // whole suite in both modes.
  bool resume_stress = false;
  // Instructions one Run() may execute before the run fails with kind
  // `limit` (kDefaultInstructionBudget). That failure, like the memory
  // one, cannot be caught by `try`: a handler would let the run compute on.
  int64_t instruction_budget = kDefaultInstructionBudget;
  // The most value::HeapBytes() may reach while the VM runs before the run
  // fails with kind `limit` (kDefaultMemoryLimit).
  int64_t memory_limit = kDefaultMemoryLimit;
};

class Vm {
 public:
  // `module` must be verified and outlive the Vm.
  explicit Vm(const bytecode::Module& module, VmOptions options = {});
  ~Vm();
  Vm(const Vm&) = delete;
  auto operator=(const Vm&) -> Vm& = delete;

  // Prepares a call of function `fn` with `args` (arity checked).
  auto Start(uint32_t fn, std::vector<Value> args) -> Status;
  // Prepares a workflow run from its JSON input object, validating each
  // parameter against its type ("input: $.customer.id: expected string, got
  // number").
  auto StartWorkflow(uint32_t fn, const nlohmann::json& input) -> Status;

  // Runs until completion, failure, suspension or interruption, executing
  // at most `budget` instructions (default: the options' budget).
  auto Run() -> Outcome;
  auto Run(int64_t budget) -> Outcome;

  // After a suspension: the value of the suspending expression (step
  // result, approval record, signal payload; null for sleep/checkpoint).
  auto Deliver(Value v) -> Status;
  // After a suspension: the suspending expression raises this error.
  auto DeliverError(std::string kind, std::string message, std::optional<std::string> step) -> Status;

  // The complete state as bytes (format in state.cpp), and back. LoadState
  // needs a Vm of the same module (checked by hash) that has not started.
  auto SaveState() const -> std::string;
  auto LoadState(std::string_view bytes) -> Status;

  auto module() const -> const bytecode::Module& { return module_; }
  auto suspended() const -> bool { return phase_ == Phase::Suspended; }
  // Started or delivered: Run() may be called.
  auto ready() const -> bool { return phase_ == Phase::Ready; }
  // Branch fibers (docs/composition.md, "Fibers in the VM"; fibers.cpp).
  // Whether branches are alive (the root fiber waits at a join).
  auto in_branches() const -> bool { return !fibers_.empty(); }
  // After Run() returned Branches: the suspended branch fibers not taken
  // yet, oldest first, at most `max`; each is then in flight until
  // delivered. A reloaded state's suspended fibers are all untaken.
  auto TakeBranchSuspensions(size_t max) -> std::vector<BranchSuspension>;
  // The branch fibers taken and not delivered yet (their steps in
  // flight), oldest first; the state is unchanged.
  auto BranchesInFlight() const -> std::vector<BranchSuspension>;
  // Whether branch `branch` is under a failed group, so that it stops at
  // its next durable point (the engine cancels a child run it waits on).
  auto BranchStopping(const std::string& branch) -> bool;
  // The result or error of the step branch `branch` is suspended at.
  // The branch fibers suspended at an approval, a signal wait or a sleep
  // (docs/composition.md, "Waits inside branches as built"), oldest fiber
  // first; `step` is the wait's position in its fiber (its steps and waits
  // count together), `reason` the wait. Never taken: each stays here until
  // DeliverTo / DeliverErrorTo answers it.
  auto BranchWaits() const -> std::vector<BranchSuspension>;
  // The result or error of the step or wait branch `branch` is suspended at.
  auto DeliverTo(const std::string& branch, Value v) -> Status;
  auto DeliverErrorTo(const std::string& branch, std::string kind, std::string message,
                      std::optional<std::string> step) -> Status;
  // Compensations registered so far, oldest first (they run newest first).
  auto compensations() const -> const std::vector<Compensation>& { return compensations_; }

 private:
  enum class Phase : uint8_t { Idle, Ready, Suspended, Done, Branches };
  struct Frame {
    uint32_t fn;
    uint32_t pc;    // next instruction
    uint32_t base;  // absolute stack slot of R[0]
    uint32_t ret;   // absolute slot receiving the result; kNoSlot for the entry frame
  };
  struct Handler {
    uint32_t frame;     // index into frames_
    uint32_t catch_pc;
    uint32_t reg;       // frame-relative register receiving the error
  };
  struct FieldCache {
    const value::Shape* shape = nullptr;  // global shapes are never freed
    int32_t slot = -1;
  };
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  enum class FiberState : uint8_t { Ready, Suspended, Taken, Joining };
  // A parked fiber: the interpreter's vectors of a fiber not running now.
  // While branches are alive, fibers_[0] is the root ("").
  struct Fiber {
    std::string branch;
    FiberState state = FiberState::Ready;
    std::vector<Value> stack;
    std::vector<Frame> frames;
    std::vector<Handler> handlers;
    uint32_t pending_reg = kNoSlot;
    std::optional<WorkflowError> pending_error;
    uint64_t effect_seq = 0;
    int64_t steps = 0;               // steps started by this fiber (branches only)
    uint32_t groups = 0;             // groups this fiber opened
    std::vector<uint32_t> spawns;    // start pcs added by Spawn, not joined yet
    uint32_t step_desc = 0;          // Suspended/Taken: the step
    Value step_args;
    // Suspended at a wait (approval, signal, timer) instead of a step: the
    // wait; `wait.kind` is Step for a step.
    SuspendReason wait;
  };
  // A fiber suspended (or taken) at a step, as the engine sees it.
  auto AtStep(const Fiber& f) const -> BranchSuspension;
  // A group of branches opened by ParJoin or ParFor in fiber `parent`;
  // its fibers are `prefix.1`, `prefix.2`, ...
  struct Group {
    std::string prefix, parent;
    bool is_for = false;
    uint32_t fn = 0;                 // the function whose code the branches run
    uint32_t result_reg = 0;         // in the parent's top frame
    std::vector<uint32_t> starts;    // parallel: each branch's start pc
    uint32_t body_pc = 0, item_reg = 0;  // parallel for
    Value items;
    int64_t limit = kDefaultParallelLimit;
    uint32_t next = 0;               // parallel for: items started
    std::vector<Value> outputs;      // per branch or item, null until it ends
    uint32_t live = 0;
    std::optional<WorkflowError> error;
  };

  auto Execute() -> Outcome;
  // Execute, with allocation failures (std::bad_alloc, std::length_error)
  // turned into a `limit` failure of the run.
  auto ExecuteGuarded() -> Outcome;
  // Every kTickInstructions: false when the budget is spent or the memory
  // cap exceeded (error_ is set, fatal) or the host asks to stop
  // (stop_requested_).
  auto Tick() -> bool;
  // Whether value::HeapBytes() exceeds the cap; sets a fatal error if so.
  auto OverMemory() -> bool;
  auto PushFrame(uint32_t fn, uint32_t base, uint32_t ret) -> bool;
  void PopFrame();
  void EnsureStack(size_t slots);
  // Fills in the location and unwinds; false when nothing caught it.
  auto Raise() -> bool;
  auto Suspend(SuspendReason reason, uint32_t dst) -> Outcome;
  auto Fail(const char* kind, std::string message) -> bool;
  auto ErrorRecord(const WorkflowError& e) -> Value;
  void Reset();

  // Slow paths of the loop, each a named helper (STYLE §5).
  auto Arith(bytecode::Op op, Value& dst, const Value& b, const Value& c) -> bool;
  auto CompareOp(bytecode::Op op, Value& dst, const Value& b, const Value& c) -> bool;
  auto Negate(Value& dst, const Value& b) -> bool;
  auto GetField(Value& dst, const Value& obj, uint32_t name, FieldCache& cache) -> bool;
  auto GetIndex(Value& dst, const Value& obj, const Value& index) -> bool;
  auto Concat(Value* regs, uint32_t a, uint32_t b, uint32_t n) -> bool;
  auto Append(Value& list, const Value& item) -> bool;
  auto DepthLimit() -> bool;
  // A `limit` error that no `try` catches (budget, memory).
  auto FatalLimit(std::string message) -> bool;
  auto StepReason(bytecode::Instr i, const Value* regs, SuspendReason& out) -> bool;

  // fibers.cpp
  // Raises a delivered error, then executes the current fiber.
  auto RunCurrent() -> Outcome;
  auto Schedule() -> Outcome;
  auto FindFiber(const std::string& branch) -> int;
  auto FindGroup(const std::string& prefix) -> int;
  void SwapIn(int k);
  void SwapOut(int k, FiberState state);
  // ParJoin/ParFor in the current fiber (yield_ set): opens its group.
  auto OpenGroup(uint32_t a, uint32_t b, uint32_t c, bool is_for, uint32_t pc) -> bool;
  void StartFibers(int g);
  auto NewFiber(const Group& g, uint32_t j, uint32_t start_pc, const Value* item) -> Fiber;
  void EndFiber(int k, Value output);
  void FailFiber(int k, WorkflowError error);
  void RemoveFiber(int k);
  void GroupChanged(int g);
  auto Stopping(const std::string& branch) -> bool;
  void DiscardStopped();
  auto NextReady() const -> int;
  auto ReadFiberBody(bytecode::ByteReader& r, std::vector<Frame>& frames, std::vector<Handler>& handlers,
                     std::vector<Value>& stack, uint32_t pending, bool suspended) -> Status;
  void StressReload();

  friend class StateCodec;
  friend class BuiltinCaller;

  const bytecode::Module& module_;
  VmOptions options_;
  std::unique_ptr<Host> default_host_;
  std::vector<uint32_t> name_map_;                  // module name id -> global name id
  std::vector<Value> constants_;
  std::vector<const value::Shape*> shapes_;         // module shape id -> Shape
  std::vector<std::vector<FieldCache>> field_caches_;  // per function, per pc

  std::vector<Value> stack_;
  std::vector<Frame> frames_;
  std::vector<Handler> handlers_;
  Phase phase_ = Phase::Idle;
  uint32_t pending_reg_ = kNoSlot;  // frame-relative register awaiting Deliver
  std::optional<WorkflowError> pending_error_;
  WorkflowError error_;             // the error being raised
  bool fatal_ = false;              // error_ unwinds past every handler
  int64_t budget_left_ = 0;         // instructions this Run() may still execute
  bool stop_requested_ = false;     // Tick saw Host::ShouldStop()
  uint64_t effect_seq_ = 0;
  std::vector<Compensation> compensations_;
  std::string module_hash_;
  // Branches (fibers.cpp): parked fibers and open groups, both empty when
  // only the root runs (then its vectors are the ones above).
  std::vector<Fiber> fibers_;
  std::vector<Group> groups_;
  std::string branch_;               // the running fiber's branch id
  int64_t branch_steps_ = 0;         // its step counter (branches only)
  uint32_t branch_groups_ = 0;       // groups it opened
  std::vector<uint32_t> spawns_;     // its Spawn start pcs
  enum class YieldKind : uint8_t { None, Join, End };
  YieldKind yield_ = YieldKind::None;
  Value branch_output_;              // BranchEnd's output
  int current_ = -1;                 // fibers_ index of the running fiber, -1 between runs
  int opened_ = -1;                  // groups_ index OpenGroup just made
};

}  // namespace flow::interp
