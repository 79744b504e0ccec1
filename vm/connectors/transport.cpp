// The transport registry and the three transports of SPEC §3 as
// implementations of the Transport interface (transport.h). Each class is a
// thin adapter over its transport's attempt function.
#include "vm/connectors/transport.h"

#include "vm/connectors/builtin_transport.h"
#include "vm/connectors/exec_transport.h"
#include "vm/connectors/http_transport.h"
#include "vm/connectors/transport_kinds.h"

namespace flow::connectors {
namespace {

class HttpTransport final : public Transport {
 public:
  auto Perform(const StepAttempt& attempt) const -> StepOutcome override { return PerformHttpAttempt(attempt); }
};

class ExecTransport final : public Transport {
 public:
  auto Perform(const StepAttempt& attempt) const -> StepOutcome override { return PerformExecAttempt(attempt); }
};

class BuiltinTransport final : public Transport {
 public:
  auto Perform(const StepAttempt& attempt) const -> StepOutcome override { return PerformBuiltinAttempt(attempt); }
};

}  // namespace

void TransportRegistry::Register(std::string name, std::shared_ptr<const Transport> transport) {
  FLOW_CHECK(FindTransportKind(name) != nullptr, "a transport is registered under a name of TransportKinds()");
  transports_[std::move(name)] = std::move(transport);
}

auto TransportRegistry::Find(std::string_view name) const -> const Transport* {
  auto it = transports_.find(name);
  return it == transports_.end() ? nullptr : it->second.get();
}

auto DefaultTransports() -> TransportRegistry {
  TransportRegistry registry;
  registry.Register(std::string(TransportKind::Http.name), std::make_shared<HttpTransport>());
  registry.Register(std::string(TransportKind::Exec.name), std::make_shared<ExecTransport>());
  registry.Register(std::string(TransportKind::Builtin.name), std::make_shared<BuiltinTransport>());
  return registry;
}

}  // namespace flow::connectors
