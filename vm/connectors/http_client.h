// One HTTP exchange over libcurl, shared by the http transport
// (http_transport.h) and the builtin `http.request` step (stdlib).
//
// This is the only file that includes curl. It knows nothing about
// connectors or error kinds: it sends one request and returns either the
// final response (any status) or why no response arrived. Each thread keeps
// one CURL handle, reset before every request, so connections are reused
// across steps; libcurl is loaded (dlopen) and curl_global_init run once per
// process, on the first request. TLS verification
// stays at libcurl's defaults (on), only http and https URLs are allowed,
// redirects are not followed (a 3xx is a response like any other), and
// CURLOPT_NOSIGNAL keeps curl away from signals in a threaded VM.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace flow::connectors {

// Response bodies above this are refused rather than buffered: a step result
// is stored in the database and held in VM memory, and no JSON API answers
// a single call with more.
inline constexpr size_t kMaxResponseBytes = 16 * 1024 * 1024;

struct HttpRequest {
  std::string method;  // GET POST PUT PATCH DELETE
  std::string url;
  std::vector<std::string> headers;      // "Name: value"
  std::optional<std::string> body;       // sent as is when present
  std::chrono::milliseconds timeout{0};  // whole exchange; zero = none
};

struct HttpResponse {
  long status = 0;
  // The final response's headers in order, names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header named `name` (lower case), or nullopt.
  auto Header(std::string_view name) const -> std::optional<std::string>;
};

struct HttpFailure {
  enum class Kind {
    Transport,   // could not connect, connection reset, TLS failure...
    Timeout,     // the request's timeout expired
    TooLarge,    // the body exceeded kMaxResponseBytes
    BadRequest,  // a malformed URL or an unsupported scheme: retrying cannot help
  };
  Kind kind = Kind::Transport;
  std::string message;  // curl's explanation, one line; never contains headers
};

// Why the header `name: value` must not be sent, or nullopt when it may:
// the name must be an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~)
// and the value may hold no control character but TAB -- a CR or LF would
// end the header line and start another (header injection), a NUL would cut
// it. The reason is one line with the offending text escaped:
//   header "X-Tenant" has a control character (U+000D) in its value
auto HeaderProblem(std::string_view name, std::string_view value) -> std::optional<std::string>;

// Sends `request` and waits for the final response. Never throws. A header
// line that HeaderProblem refuses sends nothing: a BadRequest failure.
auto SendHttp(const HttpRequest& request) -> std::variant<HttpResponse, HttpFailure>;

// Percent-encodes every byte outside RFC 3986's unreserved set.
auto UrlEscape(std::string_view text) -> std::string;

// A Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct
// 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms), relative
// to `now`. A date in the past is zero; nullopt when the value is neither.
auto ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now)
    -> std::optional<std::chrono::milliseconds>;

}  // namespace flow::connectors
