// Secrets in a step's arguments, at the moment an attempt is sent (SPEC
// §2.5a; the model is vm/base/secret_ref.h).
//
// The arguments the VM hands over carry "***" where a `secret("ENV")` stands
// and a list of SecretRefs saying where and which variable. ResolveSecrets
// reads each variable now, from the environment of the process that sends,
// and returns the arguments with the values in place plus the values
// themselves; PerformAttempt then masks every value out of the outcome (its
// message and its output) before anything is journaled. Nothing here keeps
// a value beyond the attempt.
//
// An unset (or empty) variable is not the workflow's fault but the
// machine's: the outcome is a `config` failure marked `blocked` (SPEC §4:
// the run should wait until the operator sets it, then resume), naming the
// variable and never a value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/secret_ref.h"
#include "vm/connectors/step_call.h"

namespace flow::connectors {

struct ResolvedSecrets {
  nlohmann::json args;              // the arguments with every value in place
  std::vector<std::string> values;  // what must never appear in an outcome
};

// Puts the value of each ref's variable at its pointer in a copy of `args`.
// A variable that is unset or empty gives a blocked `config` outcome; a
// pointer that does not name a "***" in `args` (a damaged journal) a
// `config` outcome. `args` itself is never changed.
auto ResolveSecrets(const nlohmann::json& args, const std::vector<SecretRef>& refs)
    -> std::variant<ResolvedSecrets, StepOutcome>;

// Replaces every occurrence of each of `values` in the strings of `j`
// (object keys included) by "***".
void MaskSecrets(nlohmann::json& j, const std::vector<std::string>& values);

// `text` with every occurrence of each of `values` replaced by "***".
auto MaskSecrets(std::string text, const std::vector<std::string>& values) -> std::string;

}  // namespace flow::connectors
