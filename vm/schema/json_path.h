// Finding a JSON path ("$.operations.charge.input.properties.amount.type")
// in the text of a JSON document, so an error found in the parsed value can
// point at the exact line and column of the file (E013 in `flow check`).
//
// nlohmann::json keeps no source positions, so this re-scans the text. It is
// only called after the text parsed successfully, once per reported error.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace flow::jsonschema {

struct ByteSpan {
  uint32_t begin = 0;
  uint32_t end = 0;  // exclusive
};

// The byte span of the value at `path` (the syntax JsonPathMember and the
// validator produce: `$`, `.name`, `["any name"]`, `[3]`). When a segment does
// not exist (an error about a missing key names the key's would-be path), the
// span of the deepest enclosing value that does exist. nullopt when `path` is
// not a JSON path or `text` is not the JSON it describes.
auto LocateJsonPath(std::string_view text, std::string_view path) -> std::optional<ByteSpan>;

}  // namespace flow::jsonschema
