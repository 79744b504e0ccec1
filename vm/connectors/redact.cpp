// See redact.h.
#include "vm/connectors/redact.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "vm/connectors/http_client.h"

namespace flow::connectors {
namespace {

auto Lower(std::string_view text) -> std::string {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

auto Replace(std::string text, std::string_view from, std::string_view to) -> std::string {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The secret as the inside of a JSON string literal.
auto JsonEscaped(std::string_view secret, bool ascii_only) -> std::string {
  std::string quoted = nlohmann::json(std::string(secret)).dump(-1, ' ', ascii_only,
                                                                nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

void Redactor::Add(std::string_view secret) {
  if (secret.size() < kMinRedactedBytes) return;
  const std::string base64 = Base64Encode(secret);
  std::string unpadded = base64.substr(0, base64.find('='));
  const std::string url_safe = Replace(Replace(base64, "+", "-"), "/", "_");
  const std::string url_encoded = UrlEscape(secret);
  const std::string forms[] = {
      std::string(secret),
      JsonEscaped(secret, false),
      Replace(JsonEscaped(secret, false), "/", "\\/"),
      JsonEscaped(secret, true),
      Replace(JsonEscaped(secret, true), "/", "\\/"),
      url_encoded,
      Replace(url_encoded, "%20", "+"),
      base64,
      unpadded,
      url_safe,
      url_safe.substr(0, url_safe.find('=')),
  };
  for (const std::string& form : forms) {
    std::string lower = Lower(form);
    if (lower.size() >= kMinRedactedBytes && std::find(forms_.begin(), forms_.end(), lower) == forms_.end()) {
      forms_.push_back(std::move(lower));
    }
  }
}

auto Redactor::Apply(std::string_view text) const -> std::string {
  if (forms_.empty() || text.empty()) return std::string(text);
  const std::string lower = Lower(text);
  std::vector<std::pair<size_t, size_t>> hits;  // [begin, end)
  for (const std::string& form : forms_) {
    for (size_t at = lower.find(form); at != std::string::npos; at = lower.find(form, at + 1)) {
      hits.emplace_back(at, at + form.size());
    }
  }
  if (hits.empty()) return std::string(text);
  std::sort(hits.begin(), hits.end());
  std::string out;
  out.reserve(text.size());
  size_t done = 0;
  for (size_t i = 0; i < hits.size();) {
    size_t begin = hits[i].first, end = hits[i].second;
    for (++i; i < hits.size() && hits[i].first < end; ++i) end = std::max(end, hits[i].second);
    out.append(text.substr(done, begin - done));
    out.append(kRedactedMask);
    done = end;
  }
  out.append(text.substr(done));
  return out;
}

auto RedactSecrets(std::string_view text, const std::vector<std::string>& secrets) -> std::string {
  Redactor redactor;
  for (const std::string& secret : secrets) redactor.Add(secret);
  return redactor.Apply(text);
}

auto Base64Encode(std::string_view bytes) -> std::string {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  size_t left = bytes.size() - i;
  if (left > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (left == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(left == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace flow::connectors
