// See json_text.h.
#include "vm/base/json_text.h"

#include <algorithm>
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
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    JsonSyntaxError error = DescribeJsonError(text, e);
    return Error{"not valid JSON: line " + std::to_string(error.line) + ", column " + std::to_string(error.column) +
                 ": " + error.reason};
  } catch (const nlohmann::json::out_of_range&) {
    return Error{"not valid JSON: a number is too large"};
  } catch (const nlohmann::json::exception&) {
    // Belt and braces for anything else the library may throw on hostile text.
    return Error{"not valid JSON"};
  }
}

auto JsonErrorReason(std::string message) -> std::string {
  size_t at = message.find("parse error");
  if (at != std::string::npos) {
    size_t colon = message.find(": ", at);
    if (colon != std::string::npos) message = message.substr(colon + 2);
  }
  size_t last_read = message.find("; last read: ");
  if (last_read != std::string::npos) {
    size_t quote_end = message.find("'", last_read + 14);
    message.erase(last_read, quote_end == std::string::npos ? std::string::npos : quote_end + 1 - last_read);
  }
  return message;
}

auto DescribeJsonError(std::string_view text, const nlohmann::json::parse_error& e) -> JsonSyntaxError {
  JsonSyntaxError out;
  // e.byte counts the characters read, the offending one included.
  out.offset = e.byte == 0 ? 0 : std::min<size_t>(e.byte - 1, text.size());
  for (size_t i = 0; i < out.offset; ++i) {
    if (text[i] == '\n') {
      ++out.line;
      out.column = 1;
    } else {
      ++out.column;
    }
  }
  out.reason = JsonErrorReason(e.what());
  return out;
}

}  // namespace flow
