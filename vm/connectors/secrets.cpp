// See secrets.h.
#include "vm/connectors/secrets.h"

#include <cstdlib>

#include "vm/connectors/redact.h"

namespace flow::connectors {

namespace {

auto Pointer(const std::string& text) -> std::optional<nlohmann::json::json_pointer> {
  try {
    return nlohmann::json::json_pointer(text);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

auto ResolveSecrets(const nlohmann::json& args, const std::vector<SecretRef>& refs)
    -> std::variant<ResolvedSecrets, StepOutcome> {
  ResolvedSecrets out{args, {}};
  for (const SecretRef& ref : refs) {
    auto pointer = Pointer(ref.pointer);
    if (!pointer || !out.args.contains(*pointer) || out.args[*pointer] != kSecretMask) {
      return FailOutcome(kKindConfig, "the step's record of secret " + ref.env + " is damaged");
    }
    const char* value = std::getenv(ref.env.c_str());
    if (value == nullptr || value[0] == '\0') {
      return BlockedOutcome("secret variable " + ref.env + " is not set");
    }
    out.args[*pointer] = value;
    out.values.emplace_back(value);
  }
  return out;
}

auto MaskSecrets(std::string text, const std::vector<std::string>& values) -> std::string {
  Redactor redactor;
  for (const std::string& value : values) redactor.Add(value);
  return redactor.Apply(text);
}

void MaskSecrets(nlohmann::json& j, const std::vector<std::string>& values) {
  Redactor redactor;
  for (const std::string& value : values) redactor.Add(value);
  if (redactor.empty()) return;
  // A stack, not recursion: a response may nest deeper than the C++ stack.
  std::vector<nlohmann::json*> stack{&j};
  while (!stack.empty()) {
    nlohmann::json* node = stack.back();
    stack.pop_back();
    if (node->is_string()) {
      *node = redactor.Apply(node->get_ref<const std::string&>());
    } else if (node->is_array()) {
      for (auto& item : *node) stack.push_back(&item);
    } else if (node->is_object()) {
      nlohmann::json masked = nlohmann::json::object();
      for (auto& [key, value] : node->items()) masked[redactor.Apply(key)] = std::move(value);
      *node = std::move(masked);
      for (auto& [key, value] : node->items()) stack.push_back(&value);
    }
  }
}

}  // namespace flow::connectors
