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

// A run id the user gave (or a row read back) that cannot be used.
auto Invalid(std::string message) -> Error { return Error{std::move(message), ErrorCode::kInvalidInput}; }

auto TooLong(std::string_view id, size_t limit) -> Error {
  // The id itself could be huge: show its start only.
  return Invalid(fmt::format("invalid run id {}...: {} bytes, more than the limit of {}", QuoteEscaped(id.substr(0, 32)),
                             id.size(), limit));
}

}  // namespace

auto CheckRunId(std::string_view id) -> Status {
  if (id.empty()) return Invalid("invalid run id: it is empty");
  if (id.size() > kMaxDerivedRunIdBytes) return TooLong(id, kMaxDerivedRunIdBytes);
  for (size_t i = 0; i < id.size(); ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    if (c == '/' && i > 0 && i + 1 < id.size() && id[i + 1] != '/') continue;  // a derived id's separator
    if (!Allowed(c)) {
      return Invalid(fmt::format("invalid run id {}: {} at byte {} is not allowed ({})", QuoteEscaped(id), CharName(c),
                                 i, kAllowedText));
    }
    const bool segment_start = i == 0 || id[i - 1] == '/';
    if (segment_start && (c == '-' || c == '.')) {
      if (i == 0) return Invalid(fmt::format("invalid run id {}: it may not start with '{}'", QuoteEscaped(id), id[i]));
      return Invalid(fmt::format("invalid run id {}: a segment may not start with '{}'", QuoteEscaped(id), id[i]));
    }
  }
  return Ok{};
}

auto CheckNewRunId(std::string_view id) -> Status {
  if (auto s = CheckRunId(id); !s) return s;
  if (size_t slash = id.find('/'); slash != std::string_view::npos) {
    return Invalid(fmt::format("invalid run id {}: '/' at byte {} is reserved for child runs ({})", QuoteEscaped(id),
                               slash, kAllowedText));
  }
  if (id.size() > kMaxRunIdBytes) return TooLong(id, kMaxRunIdBytes);
  return Ok{};
}

auto ChildRunId(std::string_view parent, int64_t n) -> std::string { return fmt::format("{}/{}", parent, n); }

}  // namespace flow::engine
