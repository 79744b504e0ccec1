// A compiled flow program: the unit codegen produces, `flow compile` writes,
// and the store keeps content-addressed. It is pure data -- no Values, no
// pointers -- so it can be hashed, serialised (serialize.h), verified
// (verify.h) and shared by every VM that runs it. Everything refers to
// everything else by index into the vectors below.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "vm/bytecode/opcodes.h"

namespace flow::bytecode {

// Bumped on any change to opcodes.def, builtins.def or the layout below.
// Version 2 appended ForRange; version 3 appended the wait table
// (Module::waits); version 4 added the column to the position table
// (before it, lines only: such positions load with column 0) and appended
// the `secret` built-in. A program of an older version is read as it is and
// written back in its own version (Module::format_version), so its hash --
// its content address in every database -- never changes. Version 5
// appended Child (child workflow calls, docs/composition.md), whose step
// descriptor has an empty connector. Version 6 appended Spawn, ParJoin,
// ParFor and BranchEnd (parallel branches, docs/composition.md).
inline constexpr uint32_t kBytecodeFormatVersion = 6;
// The first version whose payload ends with the wait table.
inline constexpr uint32_t kFirstVersionWithWaits = 3;
// The first version whose position table holds columns.
inline constexpr uint32_t kFirstVersionWithColumns = 4;
inline constexpr uint32_t kOldestReadableBytecodeVersion = 1;

enum class BuiltinId : uint16_t {
#define FLOW_BUILTIN(name, flow_name, min, max, ...) name,
#include "vm/bytecode/builtins.def"
#undef FLOW_BUILTIN
  kCount
};
enum class EffectId : uint16_t {
#define FLOW_EFFECT(name, flow_name) name,
#include "vm/bytecode/builtins.def"
#undef FLOW_EFFECT
  kCount
};
struct BuiltinInfo {
  const char* name;
  int min_args, max_args;
};
auto GetBuiltinInfo(BuiltinId id) -> const BuiltinInfo&;
auto GetEffectName(EffectId id) -> const char*;

// A duration constant in milliseconds (a distinct type from int).
struct DurationMs {
  int64_t ms = 0;
  friend auto operator==(DurationMs, DurationMs) -> bool = default;
};
using Constant = std::variant<int64_t, double, std::string, DurationMs>;

// A run-time type, for `as T`, `int(x)` narrowing and input validation. The
// kinds mirror compiler/types (minus Error/Never).
enum class TypeKind : uint8_t {
  Null, Int, Float, Bool, String, Duration, Time, Json, List, Record, Optional, Literal,
};
struct TypeField {
  uint32_t name = 0;  // field-name id
  uint32_t type = 0;  // type-descriptor id
  friend auto operator==(const TypeField&, const TypeField&) -> bool = default;
};
struct TypeDesc {
  TypeKind kind = TypeKind::Json;
  uint32_t element = 0;               // List element / Optional inner
  std::vector<TypeField> fields;      // Record, sorted by field name text
  std::vector<std::string> literals;  // Literal members
  friend auto operator==(const TypeDesc&, const TypeDesc&) -> bool = default;
};

// A step's static description, data for the connector runtime. kNone marks
// an absent clause.
inline constexpr int64_t kNone = -1;
// A Child instruction's descriptor has an empty `connector` and the callee
// workflow's name as `operation` (IsChild); only timeout_ms, the
// compensation and output_type apply to it.
struct StepDesc {
  std::string connector;
  std::string operation;
  int64_t retry_attempts = kNone;
  int64_t backoff_ms = kNone;
  int64_t backoff_max_ms = kNone;
  std::vector<std::string> retry_on;
  int64_t timeout_ms = kNone;
  // The compensation: a step descriptor, plus the function computing its
  // argument record from the step's result (kNone when absent).
  int64_t compensate_step = kNone;
  int64_t compensate_args_fn = kNone;
  // The type descriptor of the operation's output: the runtime converts the
  // response with it (value::FromJson) before delivering it. kNone: json.
  int64_t output_type = kNone;
  uint32_t line = 0;
  friend auto operator==(const StepDesc&, const StepDesc&) -> bool = default;

  // Whether this describes a child workflow call (Op::Child).
  auto IsChild() const -> bool { return connector.empty(); }
};

// A connector the program uses, embedded so a stored program needs no file
// to resume (SPEC §4): `text` is the connector JSON exactly as the checker
// read it. Built-in connectors (`log`, `http`) have an empty path and are
// embedded too, so a run is validated against the builtin schemas it was
// checked against; a program compiled before that (an empty text and path)
// gets the resuming binary's (engine::Runtime::legacy_builtin_connectors).
// The layout did not change, so the format version did not either: an
// older flow reads an embedded builtin text like any connector's.
struct ConnectorDesc {
  std::string name;
  std::string path;  // resolved at compile time; its folder is exec's working directory
  std::string text;  // filled by codegen::Lower from the checked text
  friend auto operator==(const ConnectorDesc&, const ConnectorDesc&) -> bool = default;
};

// A `wait` of the program (one per Wait instruction), so that `flow signal`
// can check a signal against the run's program before recording it (SPEC
// §5): is there a wait for this event, and does the payload fit its `as T`?
struct WaitDesc {
  uint32_t function = 0;  // the function holding the Wait instruction
  uint32_t pc = 0;        // that Wait instruction
  std::string event;      // the event name, when it is a constant
  bool computed = false;  // the event is computed at run time (`wait "ack-${id}"`)
  int64_t type = kNone;   // the type descriptor of `as T`; kNone: any JSON
  friend auto operator==(const WaitDesc&, const WaitDesc&) -> bool = default;
};

enum class FunctionKind : uint8_t { Fn, Workflow, Helper };

// Where an instruction came from in the .flow file: 1-based line and byte
// column, as diagnostics count them. 0 means unknown (a hand-built module,
// or a column from a program of version 3 or older, which stored lines only).
struct SourcePos {
  uint32_t line = 0;
  uint32_t column = 0;
  friend auto operator==(SourcePos, SourcePos) -> bool = default;
};

struct Function {
  std::string name;
  FunctionKind kind = FunctionKind::Fn;
  uint32_t arity = 0;
  uint32_t num_regs = 0;                // registers 0..arity-1 are the parameters
  std::vector<uint32_t> param_names;    // field-name ids (workflow input keys)
  std::vector<uint32_t> param_types;    // type-descriptor ids
  uint32_t result_type = 0;
  std::vector<Instr> code;
  std::vector<SourcePos> positions;     // positions[pc]: where code[pc] came from
  friend auto operator==(const Function&, const Function&) -> bool = default;
};

struct Module {
  // The format the module was read in (or is new in): it is written back in
  // the same one, so a stored program keeps its content address (hash)
  // across an upgrade of flow that changed the layout.
  uint32_t format_version = kBytecodeFormatVersion;
  std::string source_name;                  // the .flow file, for messages
  std::vector<Constant> constants;
  std::vector<std::string> names;           // field names, unique
  std::vector<std::vector<uint32_t>> shapes;  // name ids sorted by name text
  std::vector<TypeDesc> types;
  std::vector<StepDesc> steps;
  std::vector<Function> functions;
  std::vector<ConnectorDesc> connectors;  // StepDesc::connector names one
  std::vector<WaitDesc> waits;            // in (function, pc) order
  // False for a program of a version before kFirstVersionWithWaits: it has
  // waits the table does not list, so nothing can be concluded from it.
  bool waits_known = true;
  friend auto operator==(const Module&, const Module&) -> bool = default;

  // The index of the function called `name`, or -1.
  auto FindFunction(const std::string& name) const -> int;
};

// The source position of instruction `pc` of `fn`; {0, 0} when `pc` is out
// of range. The one lookup every run-time error uses (Vm::Raise, and any
// error raised outside an instruction, such as an instruction budget).
auto PositionAt(const Function& fn, size_t pc) -> SourcePos;

// "file:line:col" ("file:line" when the column is unknown); "" when the
// line is unknown. This is the `at` of error objects (SPEC §2.4).
auto FormatPosition(const std::string& source_name, SourcePos pos) -> std::string;

}  // namespace flow::bytecode
