// An in-process Transport for engine tests (vm/connectors/transport.h):
// registered in a test's Runtime under the name of a real transport
// ("http", say), it answers every attempt from a script, in the test's own
// process, and records what it was asked. Engine tests whose subject is the
// engine -- the journal, retries, resends, compensations -- use it instead
// of a Python server; the transport tests keep the real servers, which are
// their subject.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/connectors/transport.h"

namespace flow::testing {

class ScriptedTransport final : public connectors::Transport {
 public:
  // What one attempt carried.
  struct Call {
    std::string operation;  // "billing.charge" (the file's connector name)
    nlohmann::json args;
    std::string key;        // the idempotency key
    bool resent = false;
  };
  using Script = std::function<connectors::StepOutcome(const connectors::StepAttempt&, int call)>;

  // `script` answers attempt number `call` (from 1, across all operations).
  explicit ScriptedTransport(Script script) : script_(std::move(script)) {}

  auto Perform(const connectors::StepAttempt& a) const -> connectors::StepOutcome override {
    int n = 0;
    {
      std::lock_guard lock(mu_);
      calls_.push_back(Call{a.connector->name + "." + a.op->name, a.args, a.idempotency_key, a.resent});
      n = static_cast<int>(calls_.size());
    }
    return script_(a, n);
  }

  auto calls() const -> std::vector<Call> {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  Script script_;
  mutable std::mutex mu_;
  mutable std::vector<Call> calls_;
};

}  // namespace flow::testing
