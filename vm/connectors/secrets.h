// Secrets in a step's arguments, at the moment an attempt is sent (SPEC
// §2.5a; the model is vm/base/secret_ref.h).
//
// The arguments the VM hands over carry "***" where a `secret("ENV")` stands
// and a list of SecretRefs saying where and which variable. ResolveSecrets
// reads each variable now, from the environment of the process that sends,
// and returns the arguments with the values in place plus the values
// themselves; the transport redacts the values (every encoded form, as it
// does its own credentials) from what comes back before reading it, and
// PerformAttempt redacts the outcome (message and output) once more before
// anything is journaled. A secret argument is written "***"; a secret a
// server echoed, "[redacted]". Nothing here keeps
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

// Redacts each of `values`, in every form a server may echo it in (a
// Redactor, redact.h: "[redacted]"), from the strings of `j` (object keys
// included). The transports already redact them from raw text before they
// parse or cut it; this is the last pass over what an attempt returns.
void MaskSecrets(nlohmann::json& j, const std::vector<std::string>& values);

// `text` redacted the same way.
auto MaskSecrets(std::string text, const std::vector<std::string>& values) -> std::string;

}  // namespace flow::connectors
