// What `flow signal` checks before it records a signal (SPEC §5), from the
// run's stored program alone: does the run's workflow have a `wait` for
// this event at all, and does the payload fit one of the `as T` types of
// those waits? A signal that fails either could never be consumed as sent
// (an unknown event is buffered for ever, a payload of the wrong shape
// fails the run at its `wait` and runs its compensations), so the command
// refuses it with exit 2 and records nothing.
//
// The program's wait table (bytecode::Module::waits) lists every wait with
// its event and type. A wait whose event is computed (`wait "ack-${id}"`)
// may match any name, so its presence accepts any event (and its type, if
// any, joins the candidates); a program compiled before the table existed
// (format version 2 or older) accepts every signal, as before.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/bytecode/module.h"

namespace flow::engine {

struct SignalVerdict {
  enum class Kind { Accepted, UnknownEvent, PayloadMismatch };
  Kind kind = Kind::Accepted;
  // UnknownEvent: the events the workflow's waits name, in program order,
  // each once (empty when it has no wait).
  std::vector<std::string> events;
  // PayloadMismatch: why the payload fits the first candidate type
  // ("$.level: expected int, got string"), and how many distinct types the
  // waits on the event accept.
  std::string mismatch;
  size_t types = 0;
};

// Judges signal `event` with `payload` (null without --data) for a run of
// workflow `workflow` of the verified program `module`: the waits of that
// workflow's function and of the helper functions codegen made for it.
// A payload fits a wait without `as T` whatever it is, and a wait with one
// exactly when the run's `as T` would accept it (value::FromJson).
auto CheckSignal(const bytecode::Module& module, const std::string& workflow, const std::string& event,
                 const nlohmann::json& payload) -> SignalVerdict;

}  // namespace flow::engine
