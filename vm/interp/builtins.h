// The pure built-in functions of SPEC §2.5a (len, range, int, ..., to_json),
// called by the CallB instruction. Effects (now/uuid/random) are not here:
// they go through the VM's Host so they can be journaled.
#pragma once

#include <cstdint>

#include "vm/bytecode/module.h"
#include "vm/interp/errors.h"
#include "vm/value/shape.h"
#include "vm/value/value.h"

namespace flow::interp {

// Why range() is bounded: it materialises a list, and 10M ints are 160 MB.
inline constexpr int64_t kMaxRangeLength = 10'000'000;

// Calls built-in `id` on args[0..argc) (arity already verified). On success
// stores the result in `out` and returns true; otherwise fills `error`'s
// kind and message and returns false. `room` is how many bytes the result
// may take (the run's memory cap minus what its values hold): the built-ins
// whose result can be far larger than their arguments (replace, join,
// split) refuse one that would not fit with kind `limit` before building
// it, instead of exhausting the machine's memory.
auto CallBuiltin(bytecode::BuiltinId id, const value::Value* args, uint32_t argc, value::Value& out,
                 value::Symbols& symbols, WorkflowError& error, int64_t room = INT64_MAX) -> bool;

}  // namespace flow::interp
