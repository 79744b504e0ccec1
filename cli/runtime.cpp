// See runtime.h.
#include "cli/runtime.h"

#include "stdlib/builtin_connectors.h"

namespace flow::cli {

auto Transports() -> const connectors::TransportRegistry& {
  static const connectors::TransportRegistry registry = connectors::DefaultTransports();
  return registry;
}

auto MakeRuntime(store::Store& store, const engine::EngineOptions& options) -> engine::Runtime {
  engine::Runtime runtime{store, Transports(), engine::SystemClock(), options};
  for (const stdlib::BuiltinConnectorText& b : stdlib::BuiltinConnectorTexts()) {
    runtime.legacy_builtin_connectors.push_back(b.json);
  }
  return runtime;
}

}  // namespace flow::cli
