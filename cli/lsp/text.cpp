#include "cli/lsp/text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace flow::lsp {

namespace {

// The byte length of the UTF-8 sequence that starts with `lead` (1 for a
// byte that cannot start one, so a broken text still advances).
auto SequenceLength(unsigned char lead) -> uint32_t {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC2 && lead < 0xE0) return 2;
  return 1;
}

}  // namespace

LineIndex::LineIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (uint32_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

auto LineIndex::Offset(Position p) const -> uint32_t {
  if (p.line >= starts_.size()) return static_cast<uint32_t>(text_.size());
  uint32_t offset = starts_[p.line];
  uint32_t line_end = p.line + 1 < starts_.size() ? starts_[p.line + 1] - 1
                                                  : static_cast<uint32_t>(text_.size());
  // Stop before a CRLF's '\r' as before its '\n'.
  if (line_end > offset && text_[line_end - 1] == '\r') --line_end;
  uint32_t units = 0;
  while (offset < line_end && units < p.character) {
    uint32_t len = std::min(SequenceLength(static_cast<unsigned char>(text_[offset])),
                            line_end - offset);
    uint32_t width = len == 4 ? 2 : 1;  // outside the BMP: a surrogate pair
    if (units + width > p.character) break;
    units += width;
    offset += len;
  }
  return offset;
}

auto LineIndex::At(uint32_t offset) const -> Position {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - starts_.begin()) - 1;
  uint32_t units = 0;
  for (uint32_t i = starts_[line]; i < offset;) {
    uint32_t len = SequenceLength(static_cast<unsigned char>(text_[i]));
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return Position{line, units};
}

void ApplyEdit(std::string& text, const Range& range, std::string_view replacement) {
  LineIndex index(text);
  uint32_t begin = index.Offset(range.start);
  uint32_t end = index.Offset(range.end);
  if (end < begin) std::swap(begin, end);
  text.replace(begin, end - begin, replacement);
}

auto UriToPath(std::string_view uri) -> std::string {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) != kScheme) return "";
  std::string_view rest = uri.substr(kScheme.size());
  // file://host/path: only the local host (empty or localhost) is a path.
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view host = rest.substr(0, slash);
  if (!host.empty() && host != "localhost") return "";
  std::string out;
  for (size_t i = slash; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

auto PathToUri(std::string_view path) -> std::string {
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace flow::lsp
