// The Transport interface: how one attempt of a step reaches the outside
// world, and the registry that names the transports a runtime may use.
//
// A transport is one entry point, Perform(attempt) -> StepOutcome: the
// arguments in (already checked against the operation's input schema by
// PerformAttempt, step_call.h), one classified outcome out (Ok with the
// output validated against the output schema, or a failure whose kind from
// error_kinds.h says whether another attempt may help). It keeps no state
// about the run between attempts and never throws.
//
// `http`, `exec` and `builtin` are three implementations, registered under
// the name a connector file gives in "transport": {"kind": ...}
// (DefaultTransports). The registry is assembled at the edge -- cli/ for the
// `flow` binary, each test for itself -- and handed to the engine inside its
// Runtime (vm/engine/run_driver.h), so a test can register an in-process
// transport under "http" and drive the engine without any server. A new
// transport is one class and one Register line here, and one row (the keys
// it reads from a connector file) in transport_kinds.h, which the compiler
// shares. docs/transports.md.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "vm/connectors/step_call.h"

namespace flow::connectors {

class Transport {
 public:
  virtual ~Transport() = default;
  // One attempt of `attempt.op` over this transport. `attempt.args` has
  // passed the input schema. Every problem is an outcome (the engine
  // journals it and the workflow may catch it); may be called from several
  // threads at once.
  virtual auto Perform(const StepAttempt& attempt) const -> StepOutcome = 0;
};

// Transports by name. A name is one of TransportKinds() (transport_kinds.h:
// the table that says which transports exist and reads their keys in a
// connector file); registering another is a bug. Registering a name twice
// replaces the first (a test swapping the real `http` transport for an
// in-process one).
class TransportRegistry {
 public:
  void Register(std::string name, std::shared_ptr<const Transport> transport);
  // The transport registered under `name`, or nullptr.
  auto Find(std::string_view name) const -> const Transport*;

 private:
  std::map<std::string, std::shared_ptr<const Transport>, std::less<>> transports_;
};

// A registry with the three transports of SPEC §3: "http" (libcurl),
// "exec" (child processes) and "builtin" (`log`, `http.request`).
auto DefaultTransports() -> TransportRegistry;

}  // namespace flow::connectors
