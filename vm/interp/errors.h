// Workflow errors: the value a run-time failure carries while it unwinds
// (SPEC §2.4: `catch err` sees { kind, message, step }). The VM raises the
// kinds below itself; connectors and the driver add theirs ("contract",
// "timeout", "rejected", "transport", "http", ...). Kinds are public: users
// match them in `retry ... on "kind"`, so never rename one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vm/bytecode/module.h"

namespace flow::interp {

inline constexpr const char* kKindFail = "fail";              // `fail "msg"`
inline constexpr const char* kKindArithmetic = "arithmetic";  // overflow, / or % by zero
inline constexpr const char* kKindIndex = "index";            // index out of range
inline constexpr const char* kKindConversion = "conversion";  // `as T`, int(x), parse_json
inline constexpr const char* kKindLimit = "limit";            // call depth, range size
inline constexpr const char* kKindType = "type";              // operands the checker should have rejected
inline constexpr const char* kKindInternal = "internal";      // the host failed (e.g. a journal mismatch)

struct WorkflowError {
  std::string kind;
  std::string message;
  std::optional<std::string> step;
  // Where it was raised: function name and source position (line 0 when
  // unknown: a cancellation, an error the host raised before any code ran).
  std::string function;
  bytecode::SourcePos pos;
};

}  // namespace flow::interp
