// See runtime.h.
#include "cli/runtime.h"

#include <cstdlib>
#include <string>

#include "stdlib/builtin_connectors.h"

namespace flow::cli {

auto Transports() -> const connectors::TransportRegistry& {
  static const connectors::TransportRegistry registry = connectors::DefaultTransports();
  return registry;
}

auto EngineOptionsForProcess() -> engine::EngineOptions {
  engine::EngineOptions options;
  const char* stress = std::getenv("FLOW_RESUME_STRESS");
  options.resume_stress = stress != nullptr && std::string(stress) == "1";
  return options;
}

auto MakeRuntime(store::Store& store) -> engine::Runtime {
  engine::Runtime runtime{store, Transports(), engine::SystemClock(), EngineOptionsForProcess()};
  for (const stdlib::BuiltinConnectorText& b : stdlib::BuiltinConnectorTexts()) {
    runtime.legacy_builtin_connectors.push_back(b.json);
  }
  return runtime;
}

}  // namespace flow::cli
