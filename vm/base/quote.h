// Quoting untrusted text for one-line messages: a run id, a header name, a
// value a user or a server supplied. The message must stay one line and
// must not carry what it reports (a CR/LF, a terminal escape), so every
// byte outside printable ASCII is escaped.
#pragma once

#include <string>
#include <string_view>

namespace flow {

// `text` as a double-quoted literal: `"` and `\` backslash-escaped, CR, LF
// and TAB as \r \n \t, every other byte below 0x20 or from 0x7F up as
// \u00XX (byte-wise: a UTF-8 sequence shows as its bytes), the rest as is.
//   QuoteEscaped("order-7\r\nX: a") == "\"order-7\\r\\nX: a\""
auto QuoteEscaped(std::string_view text) -> std::string;

}  // namespace flow
