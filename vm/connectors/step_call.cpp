#include "vm/connectors/step_call.h"

#include <exception>

#include "vm/base/json_text.h"
#include "vm/connectors/secrets.h"
#include "vm/connectors/transport.h"
#include "vm/schema/validate.h"

namespace flow::connectors {
namespace {

// Checks the arguments before anything is sent: a contract error on input
// is the caller's bug and must not reach the external system.
auto CheckInput(const ConnectorFile& connector, const Operation& op, const nlohmann::json& args)
    -> std::optional<StepOutcome> {
  if (!args.is_null() && !args.is_object()) {
    return FailOutcome(kKindContract,
                       "arguments: expected an object, got " +
                           std::string(jsonschema::JsonTypeName(jsonschema::KindOf(args))));
  }
  if (!op.input.valid()) {
    if (args.is_object() && !args.empty()) {
      return FailOutcome(kKindContract, "arguments: " + op.name + " takes no arguments");
    }
    return std::nullopt;
  }
  const nlohmann::json& value = args.is_null() ? nlohmann::json::object() : args;
  if (auto mismatch = jsonschema::Validate(connector.schemas, op.input, value)) {
    return FailOutcome(kKindContract, "arguments: " + *mismatch);
  }
  return std::nullopt;
}

// The attempt over the transport registered under its connector's kind.
auto Dispatch(const TransportRegistry& transports, const StepAttempt& attempt) -> StepOutcome {
  std::string_view name = TransportKindName(attempt.connector->transport.kind);
  const Transport* transport = transports.Find(name);
  if (transport == nullptr) {
    return FailOutcome(kKindConfig, "no transport '" + std::string(name) + "' in this runtime");
  }
  return transport->Perform(attempt);
}

// The attempt with its secrets read and put in place; their values masked
// out of whatever comes back (a server may echo a header).
auto PerformWithSecrets(const TransportRegistry& transports, const StepAttempt& attempt) -> StepOutcome {
  const ConnectorFile& connector = *attempt.connector;
  if (connector.transport.kind == TransportKind::Builtin && connector.name != "http") {
    return FailOutcome(kKindContract, "arguments: only http.request may send a secret");
  }
  auto resolved = ResolveSecrets(attempt.args, attempt.secrets);
  if (auto* failed = std::get_if<StepOutcome>(&resolved)) return std::move(*failed);
  auto& secrets = std::get<ResolvedSecrets>(resolved);
  StepAttempt sent = attempt;
  sent.args = std::move(secrets.args);
  sent.secrets.clear();
  sent.secret_values = secrets.values;
  StepOutcome outcome;
  if (auto rejected = CheckInput(connector, *attempt.op, sent.args)) {
    outcome = std::move(*rejected);
  } else {
    outcome = Dispatch(transports, sent);
  }
  outcome.message = MaskSecrets(std::move(outcome.message), secrets.values);
  MaskSecrets(outcome.output, secrets.values);
  return outcome;
}

// Continuation bytes of UTF-8 are 10xxxxxx.
auto IsUtf8Continuation(char c) -> bool {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

auto OkOutcome(nlohmann::json output) -> StepOutcome {
  StepOutcome outcome;
  outcome.status = StepOutcome::Status::Ok;
  outcome.output = std::move(output);
  return outcome;
}

auto FailOutcome(std::string_view kind, std::string message) -> StepOutcome {
  const ErrorKindInfo* info = FindErrorKind(kind);
  FLOW_CHECK(info != nullptr, "a transport used an error kind missing from kErrorKinds");
  StepOutcome outcome;
  outcome.status =
      info->retryable ? StepOutcome::Status::Retryable : StepOutcome::Status::Permanent;
  outcome.error_kind = std::string(kind);
  outcome.message = std::move(message);
  return outcome;
}

auto BlockedOutcome(std::string message) -> StepOutcome {
  StepOutcome outcome = FailOutcome(kKindConfig, std::move(message));
  outcome.status = StepOutcome::Status::Blocked;
  return outcome;
}

auto ValidateOutput(const ConnectorFile& connector, const Operation& op, nlohmann::json output)
    -> StepOutcome {
  if (op.output.valid()) {
    if (auto mismatch = jsonschema::Validate(connector.schemas, op.output, output)) {
      return FailOutcome(kKindContract, *mismatch);
    }
  }
  return OkOutcome(std::move(output));
}

auto ParseAndValidateOutput(const ConnectorFile& connector, const Operation& op,
                            std::string_view text, std::string_view what) -> StepOutcome {
  if (FindTooDeep(text, kMaxJsonDepth) != std::string_view::npos) {
    return FailOutcome(kKindContract, std::string(what) + " is " + TooDeepMessage());
  }
  nlohmann::json output = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (output.is_discarded()) {
    std::string shown = text.empty() ? "(empty)" : "'" + Excerpt(text, 64) + "'";
    return FailOutcome(kKindContract, std::string(what) + " is not JSON: " + shown);
  }
  return ValidateOutput(connector, op, std::move(output));
}

auto Excerpt(std::string_view text, size_t max_bytes) -> std::string {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
    if (out.size() > max_bytes) break;
  }
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && IsUtf8Continuation(out[cut])) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

auto AttemptTimeout(std::optional<std::chrono::milliseconds> clause, const Operation& op)
    -> std::chrono::milliseconds {
  if (clause && clause->count() > 0) return *clause;
  if (op.timeout.count() > 0) return op.timeout;
  return kDefaultStepTimeout;
}

auto PerformAttempt(const TransportRegistry& transports, const StepAttempt& attempt) -> StepOutcome {
  FLOW_CHECK(attempt.connector != nullptr && attempt.op != nullptr,
             "PerformAttempt needs a connector and one of its operations");
  try {
    if (attempt.secrets.empty()) {
      if (auto rejected = CheckInput(*attempt.connector, *attempt.op, attempt.args)) {
        return std::move(*rejected);
      }
      return Dispatch(transports, attempt);
    }
    return PerformWithSecrets(transports, attempt);
  } catch (const std::exception& e) {
    // Only resource exhaustion gets here (the transports catch library
    // errors themselves); another attempt may well succeed.
    return FailOutcome(kKindTransport, std::string("internal error: ") + e.what());
  } catch (...) {
    return FailOutcome(kKindTransport, "internal error");
  }
}

}  // namespace flow::connectors
