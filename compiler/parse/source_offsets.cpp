#include "compiler/parse/source_offsets.h"

namespace flow::parse {

namespace {

auto SequenceLength(unsigned char lead) -> int {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

}  // namespace

SourceOffsets::SourceOffsets(std::string_view text) : size_(static_cast<uint32_t>(text.size())) {
  bool ascii = true;
  for (unsigned char c : text) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return;
  table_.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    table_.push_back(static_cast<uint32_t>(i));
    int len = SequenceLength(static_cast<unsigned char>(text[i]));
    i += len > 0 ? len : 1;
  }
}

auto IsValidUtf8Text(std::string_view text) -> bool {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = SequenceLength(c);
    if (len == 0 || i + len > n) return false;
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace flow::parse
