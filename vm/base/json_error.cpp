// See json_error.h.
#include "vm/base/json_error.h"

#include <algorithm>

namespace flow {

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
