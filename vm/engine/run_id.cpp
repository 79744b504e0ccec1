// See run_id.h.
#include "vm/engine/run_id.h"

#include <fmt/format.h>

#include "vm/base/quote.h"

namespace flow::engine {
namespace {

auto Allowed(unsigned char c) -> bool {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':' || c == '@';
}

// How a refused character is named: 'x' when printable, else U+XXXX (a byte
// of a multi-byte UTF-8 sequence is named as the byte, "byte 0xNN").
auto CharName(unsigned char c) -> std::string {
  if (c >= 0x20 && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
  if (c < 0x80) return fmt::format("U+{:04X}", c);
  return fmt::format("byte 0x{:02X}", c);
}

constexpr std::string_view kAllowedText = "letters, digits and _ - . : @ only";

}  // namespace

auto CheckRunId(std::string_view id) -> Status {
  if (id.empty()) return Error{"invalid run id: it is empty"};
  if (id.size() > kMaxRunIdBytes) {
    // The id itself could be huge: show its start only.
    return Error{fmt::format("invalid run id {}...: {} bytes, more than the limit of {}",
                             QuoteEscaped(id.substr(0, 32)), id.size(), kMaxRunIdBytes)};
  }
  for (size_t i = 0; i < id.size(); ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    if (!Allowed(c)) {
      return Error{fmt::format("invalid run id {}: {} at byte {} is not allowed ({})", QuoteEscaped(id), CharName(c),
                               i, kAllowedText)};
    }
  }
  if (id.front() == '-' || id.front() == '.') {
    return Error{fmt::format("invalid run id {}: it may not start with '{}'", QuoteEscaped(id), id.front())};
  }
  return Ok{};
}

}  // namespace flow::engine
