// Keeping secrets out of everything flow writes down (docs/security.md
// "Redaction"): the journal, the database, messages and the output of
// every command.
//
// Transports hold secrets while they send -- an http connector's token,
// password or header value, the values of the variables an exec connector
// passes to its tool ("env") -- and what comes back may echo them: an error
// body that repeats the Authorization header, a tool that prints its
// environment. A server rarely echoes a secret byte for byte: JSON encoders
// escape '/' as '\/', URL encoders write %2F or %2f, Basic credentials are
// base64, some servers upper-case what they echo. So a Redactor holds every
// form of every secret and replaces them all, in any ASCII letter case,
// and it runs on the raw text *before* anything is cut (a 512-byte excerpt
// that ends inside a secret would otherwise keep its first half).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace flow::connectors {

// What a secret becomes.
inline constexpr std::string_view kRedactedMask = "[redacted]";
// Values shorter than this are not redacted: they cannot be told apart from
// ordinary text ("1", "yes"), masking every occurrence would garble
// results, and no credential is that short. (The base64 of Basic
// credentials is always long enough, whatever the password.)
inline constexpr size_t kMinRedactedBytes = 4;

class Redactor {
 public:
  // Adds `secret` in each form it may come back in: as is; JSON-escaped
  // (also with '/' as '\/', and with every non-ASCII character as \uXXXX);
  // percent-encoded (also with '+' for a space); base64, standard and
  // URL-safe, with and without padding. Ignored when shorter than
  // kMinRedactedBytes.
  void Add(std::string_view secret);
  auto empty() const -> bool { return forms_.empty(); }

  // `text` with every occurrence of every form, matched without regard to
  // ASCII letter case, replaced by kRedactedMask (overlapping occurrences
  // become one mask).
  auto Apply(std::string_view text) const -> std::string;

 private:
  std::vector<std::string> forms_;  // ASCII lower-cased, distinct
};

// Replaces every occurrence of each secret (Redactor rules) in `text`.
auto RedactSecrets(std::string_view text, const std::vector<std::string>& secrets) -> std::string;

// Standard base64 (RFC 4648 §4, with padding), for Basic credentials.
auto Base64Encode(std::string_view bytes) -> std::string;

}  // namespace flow::connectors
