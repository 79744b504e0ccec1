// See json_text.h.
#include "vm/base/json_text.h"

#include <string>

namespace flow {

auto FindTooDeep(std::string_view text, int max_depth) -> size_t {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

auto TooDeepMessage(int max_depth) -> std::string {
  return "nested deeper than " + std::to_string(max_depth) + " levels";
}

auto ParseJsonText(std::string_view text, int max_depth) -> Result<nlohmann::json> {
  if (FindTooDeep(text, max_depth) != std::string_view::npos) return Error{TooDeepMessage(max_depth)};
  try {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Error{"not valid JSON"};
    return j;
  } catch (const nlohmann::json::exception&) {
    // allow_exceptions=false covers syntax errors; this is belt and braces
    // for anything else the library may throw on hostile text.
    return Error{"not valid JSON"};
  }
}

}  // namespace flow
