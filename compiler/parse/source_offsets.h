// Mapping ANTLR character positions to byte offsets.
//
// ANTLR's input stream decodes UTF-8 into code points, so a token's start and
// stop indices count code points, while SourceRange counts bytes. For ASCII
// text (the common case) the two are equal and no table is kept; otherwise a
// table of one uint32_t per code point maps index -> byte offset.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace flow::parse {

class SourceOffsets {
 public:
  // `text` must be valid UTF-8 (see IsValidUtf8Text).
  explicit SourceOffsets(std::string_view text);

  // Byte offset of code point `index`; an index past the end maps to the
  // byte length of the text.
  auto ByteOffset(size_t index) const -> uint32_t {
    if (table_.empty()) return index < size_ ? static_cast<uint32_t>(index) : size_;
    return index < table_.size() ? table_[index] : size_;
  }

 private:
  uint32_t size_;
  std::vector<uint32_t> table_;  // empty for ASCII text
};

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, no
// code point past U+10FFFF) and holds no NUL byte: what flow accepts as a
// source file. Anything else is binary and is reported as E014.
auto IsValidUtf8Text(std::string_view text) -> bool;

}  // namespace flow::parse
