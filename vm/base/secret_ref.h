// A secret inside a JSON document (SPEC §2.5a): `secret("CRM_KEY")` passed to
// a step. The step's arguments are JSON with "***" where the secret stands;
// a SecretRef says where (a JSON pointer into those arguments) and which
// environment variable the transport reads there, at the moment it sends.
//
// This is how a secret's value stays out of everything durable: the VM state
// holds the variable's name (vm/interp/state.cpp), the journal and every
// output hold "***" (value::ToJson), and only the attempt being sent holds
// the value (connectors/secrets.h), for as long as the attempt lasts.
#pragma once

#include <string>
#include <string_view>

namespace flow {

// What a secret is written as, everywhere but on the wire.
inline constexpr std::string_view kSecretMask = "***";

struct SecretRef {
  std::string pointer;  // RFC 6901, e.g. "/headers/X-Api-Key"
  std::string env;      // the environment variable's name
  friend auto operator==(const SecretRef&, const SecretRef&) -> bool = default;
};

}  // namespace flow
