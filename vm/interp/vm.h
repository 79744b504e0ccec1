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

namespace flow::interp {

using value::Value;

// Why calls nest at most this deep: enough for any sensible recursive helper
// (CPython's default recursion limit), small enough that runaway recursion
// fails in milliseconds with a clean "limit" error and a saved state stays
// small. The interpreter never recurses on the C++ stack, so this is the
// only bound.
inline constexpr size_t kMaxCallDepth = 1000;

enum class SuspendKind : uint8_t { Step, Approval, Signal, Timer, Checkpoint };

struct SuspendReason {
  SuspendKind kind = SuspendKind::Step;
  uint32_t step = 0;           // Step: step-descriptor id
  Value args;                  // Step: the argument record
  std::string text;            // Approval prompt, Signal event, Checkpoint name
  std::optional<std::string> from;  // Approval role
  int64_t timeout_ms = -1;     // Approval/Signal timeout, -1 when none
  int64_t duration_ms = 0;     // Timer
};

enum class RunStatus : uint8_t { Completed, Failed, Suspended };

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
  virtual auto Effect(bytecode::EffectId id, uint64_t seq) -> Result<Value>;
  // A fresh value: the clock, a random v4 UUID, a uniform float in [0, 1).
  static auto FreshEffect(bytecode::EffectId id) -> Value;
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

  // Runs until completion, failure or suspension.
  auto Run() -> Outcome;

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
  // Compensations registered so far, oldest first (they run newest first).
  auto compensations() const -> const std::vector<Compensation>& { return compensations_; }

 private:
  enum class Phase : uint8_t { Idle, Ready, Suspended, Done };
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

  auto Execute() -> Outcome;
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
  auto StepReason(bytecode::Instr i, const Value* regs, SuspendReason& out) -> bool;

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
  uint64_t effect_seq_ = 0;
  std::vector<Compensation> compensations_;
  std::string module_hash_;
};

}  // namespace flow::interp
