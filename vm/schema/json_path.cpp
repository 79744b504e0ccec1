#include "vm/schema/json_path.h"

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

namespace flow::jsonschema {
namespace {

using Segment = std::variant<std::string, size_t>;  // member name or index

auto SkipString(std::string_view s, size_t pos) -> size_t {
  for (++pos; pos < s.size(); ++pos) {
    if (s[pos] == '\\') ++pos;
    else if (s[pos] == '"') return pos + 1;
  }
  return s.size();
}

auto DecodeString(std::string_view quoted) -> std::optional<std::string> {
  if (quoted.find('\\') == std::string_view::npos) {
    return std::string(quoted.substr(1, quoted.size() - 2));
  }
  try {
    return nlohmann::json::parse(quoted).get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

auto ParsePath(std::string_view path) -> std::optional<std::vector<Segment>> {
  if (path.empty() || path[0] != '$') return std::nullopt;
  std::vector<Segment> out;
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = path.find_first_of(".[", i + 1);
      if (j == std::string_view::npos) j = path.size();
      out.emplace_back(std::string(path.substr(i + 1, j - i - 1)));
      i = j;
    } else if (path[i] == '[' && i + 1 < path.size() && path[i + 1] == '"') {
      size_t end = SkipString(path, i + 1);
      auto name = DecodeString(path.substr(i + 1, end - i - 1));
      if (!name || end >= path.size() || path[end] != ']') return std::nullopt;
      out.emplace_back(std::move(*name));
      i = end + 1;
    } else if (path[i] == '[') {
      size_t end = path.find(']', i);
      if (end == std::string_view::npos || end == i + 1) return std::nullopt;
      size_t index = 0;
      for (size_t k = i + 1; k < end; ++k) {
        if (path[k] < '0' || path[k] > '9') return std::nullopt;
        index = index * 10 + static_cast<size_t>(path[k] - '0');
      }
      out.emplace_back(index);
      i = end + 1;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  auto SkipWs(size_t pos) const -> size_t {
    while (pos < s_.size() && (s_[pos] == ' ' || s_[pos] == '\n' || s_[pos] == '\r' || s_[pos] == '\t')) ++pos;
    return pos;
  }
  auto SkipValue(size_t pos) const -> size_t {
    if (pos >= s_.size()) return pos;
    if (s_[pos] == '"') return SkipString(s_, pos);
    if (s_[pos] == '{' || s_[pos] == '[') {
      int depth = 0;
      for (; pos < s_.size(); ++pos) {
        char c = s_[pos];
        if (c == '"') {
          pos = SkipString(s_, pos) - 1;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          return pos + 1;
        }
      }
      return pos;
    }
    while (pos < s_.size() && std::string_view(",]} \t\r\n").find(s_[pos]) == std::string_view::npos) ++pos;
    return pos;
  }
  // Position of the member `name` of the object at `pos`, or npos.
  auto FindMember(size_t pos, const std::string& name) const -> size_t {
    if (pos >= s_.size() || s_[pos] != '{') return std::string_view::npos;
    pos = SkipWs(pos + 1);
    while (pos < s_.size() && s_[pos] == '"') {
      size_t key_end = SkipString(s_, pos);
      auto key = DecodeString(s_.substr(pos, key_end - pos));
      pos = SkipWs(key_end);
      if (pos >= s_.size() || s_[pos] != ':') return std::string_view::npos;
      pos = SkipWs(pos + 1);
      if (key && *key == name) return pos;
      pos = SkipWs(SkipValue(pos));
      if (pos >= s_.size() || s_[pos] != ',') return std::string_view::npos;
      pos = SkipWs(pos + 1);
    }
    return std::string_view::npos;
  }
  // Position of element `index` of the array at `pos`, or npos.
  auto FindElement(size_t pos, size_t index) const -> size_t {
    if (pos >= s_.size() || s_[pos] != '[') return std::string_view::npos;
    pos = SkipWs(pos + 1);
    for (size_t k = 0; k < index; ++k) {
      pos = SkipWs(SkipValue(pos));
      if (pos >= s_.size() || s_[pos] != ',') return std::string_view::npos;
      pos = SkipWs(pos + 1);
    }
    if (pos >= s_.size() || s_[pos] == ']') return std::string_view::npos;
    return pos;
  }

 private:
  std::string_view s_;
};

}  // namespace

auto LocateJsonPath(std::string_view text, std::string_view path) -> std::optional<ByteSpan> {
  auto segments = ParsePath(path);
  if (!segments) return std::nullopt;
  Scanner scan(text);
  size_t pos = scan.SkipWs(0);
  if (pos >= text.size()) return std::nullopt;
  for (const Segment& seg : *segments) {
    size_t next = std::holds_alternative<std::string>(seg)
                      ? scan.FindMember(pos, std::get<std::string>(seg))
                      : scan.FindElement(pos, std::get<size_t>(seg));
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return ByteSpan{static_cast<uint32_t>(pos), static_cast<uint32_t>(scan.SkipValue(pos))};
}

}  // namespace flow::jsonschema
