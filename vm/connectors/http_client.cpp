#include "vm/connectors/http_client.h"

// curl's GCC type-checking macros would wrap the calls below, which go
// through function pointers instead.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>

#include "vm/base/quote.h"

namespace flow::connectors {
namespace {

// libcurl is loaded with dlopen on the first HTTP request, not linked: it
// and its ~30 dependencies are built with BIND_NOW, so merely linking them
// cost every `flow` process (most never send a request) about half of its
// start-up instructions in the dynamic loader (docs/performance.md).
constexpr const char* kCurlLibrary = "libcurl.so.4";

struct CurlApi {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_getdate) getdate;
};

template <typename F>
auto Bind(void* lib, const char* name, F& out) -> bool {
  out = reinterpret_cast<F>(dlsym(lib, name));
  return out != nullptr;
}

// The loaded library once per process (never unloaded), or nullptr when it
// cannot be loaded; curl_global_init has run on it.
auto LoadCurl() -> const CurlApi* {
  static const CurlApi* api = []() -> const CurlApi* {
    void* lib = dlopen(kCurlLibrary, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return nullptr;
    static CurlApi a;
    bool ok = Bind(lib, "curl_global_init", a.global_init) && Bind(lib, "curl_easy_init", a.easy_init) &&
              Bind(lib, "curl_easy_cleanup", a.easy_cleanup) && Bind(lib, "curl_easy_reset", a.easy_reset) &&
              Bind(lib, "curl_easy_setopt", a.easy_setopt) && Bind(lib, "curl_easy_perform", a.easy_perform) &&
              Bind(lib, "curl_easy_getinfo", a.easy_getinfo) && Bind(lib, "curl_easy_strerror", a.easy_strerror) &&
              Bind(lib, "curl_slist_append", a.slist_append) && Bind(lib, "curl_slist_free_all", a.slist_free_all) &&
              Bind(lib, "curl_getdate", a.getdate);
    if (!ok || a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return nullptr;
    return &a;
  }();
  return api;
}

// Only after LoadCurl() returned non-null.
auto Api() -> const CurlApi& { return *LoadCurl(); }

// One handle per thread: curl handles are not thread-safe, and keeping one
// alive keeps its connection cache (keep-alive to the same API).
class ThreadCurl {
 public:
  ThreadCurl() {
    handle_ = Api().easy_init();
  }
  ~ThreadCurl() {
    if (handle_ != nullptr) Api().easy_cleanup(handle_);
  }
  ThreadCurl(const ThreadCurl&) = delete;
  auto operator=(const ThreadCurl&) -> ThreadCurl& = delete;
  auto get() -> CURL* { return handle_; }

 private:
  CURL* handle_ = nullptr;
};

class HeaderList {
 public:
  HeaderList() = default;
  ~HeaderList() {
    if (list_ != nullptr) Api().slist_free_all(list_);
  }
  HeaderList(const HeaderList&) = delete;
  auto operator=(const HeaderList&) -> HeaderList& = delete;
  void Add(const std::string& line) { list_ = Api().slist_append(list_, line.c_str()); }
  auto get() const -> curl_slist* { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

struct Sink {
  HttpResponse response;
  bool too_large = false;
};

auto OnBody(char* data, size_t size, size_t count, void* user) -> size_t {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->response.body.size() + n > kMaxResponseBytes) {
    sink->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->response.body.append(data, n);
  return n;
}

auto TrimSpace(std::string_view text) -> std::string_view {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// Called once per header line, including each response's status line: a
// status line starts a new response (100 Continue, then the final one), so
// only the last response's headers are kept.
auto OnHeader(char* data, size_t size, size_t count, void* user) -> size_t {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    sink->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(TrimSpace(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  sink->response.headers.emplace_back(std::move(name),
                                      std::string(TrimSpace(line.substr(colon + 1))));
  return n;
}

void SetMethodAndBody(CURL* curl, const HttpRequest& request) {
  if (request.method == "GET" && !request.body) {
    Api().easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (request.method != "POST")
    Api().easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.body) {
    Api().easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body->size()));
    Api().easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
  } else if (request.method == "POST") {
    Api().easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    Api().easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  }
}

auto Classify(CURLcode code, const char* detail, bool too_large) -> HttpFailure {
  HttpFailure failure;
  std::string text = detail[0] != '\0' ? detail : Api().easy_strerror(code);
  if (too_large) {
    failure.kind = HttpFailure::Kind::TooLarge;
    failure.message =
        "response body exceeds " + std::to_string(kMaxResponseBytes / (1024 * 1024)) + " MiB";
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    failure.kind = HttpFailure::Kind::Timeout;
    failure.message = text;
  } else if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
    failure.kind = HttpFailure::Kind::BadRequest;
    failure.message = text;
  } else {
    failure.kind = HttpFailure::Kind::Transport;
    failure.message = text;
  }
  return failure;
}

// RFC 9110 §5.6.2 tchar.
auto IsTokenChar(unsigned char c) -> bool {
  return std::isalnum(c) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// The first header line of `headers` ("Name: value") that must not be sent,
// with the reason, or nullopt.
auto RefusedHeader(const std::vector<std::string>& headers) -> std::optional<std::string> {
  for (const std::string& line : headers) {
    size_t colon = line.find(':');
    std::string_view name(line.data(), colon == std::string::npos ? line.size() : colon);
    std::string_view value;
    if (colon != std::string::npos) {
      value = std::string_view(line).substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (auto problem = HeaderProblem(name, value)) return problem;
  }
  return std::nullopt;
}

}  // namespace

auto HeaderProblem(std::string_view name, std::string_view value) -> std::optional<std::string> {
  if (name.empty()) return std::string("a header has an empty name");
  for (char c : name) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return "header name " + QuoteEscaped(name) + " is not a token";
  }
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", c);
      return "header " + QuoteEscaped(name) + " has a control character (" + code + ") in its value";
    }
  }
  return std::nullopt;
}

auto HttpResponse::Header(std::string_view name) const -> std::optional<std::string> {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

auto SendHttp(const HttpRequest& request) -> std::variant<HttpResponse, HttpFailure> {
  if (LoadCurl() == nullptr) {
    return HttpFailure{HttpFailure::Kind::Transport, std::string("cannot load ") + kCurlLibrary};
  }
  thread_local ThreadCurl thread_curl;
  CURL* curl = thread_curl.get();
  if (curl == nullptr)
    return HttpFailure{HttpFailure::Kind::Transport, "cannot initialise libcurl"};
  Api().easy_reset(curl);

  if (auto refused = RefusedHeader(request.headers)) {
    return HttpFailure{HttpFailure::Kind::BadRequest, *refused + "; nothing was sent"};
  }
  Sink sink;
  HeaderList headers;
  for (const std::string& line : request.headers) headers.Add(line);
  headers.Add("Expect:");  // no 100-continue round trip for large bodies
  char error_buffer[CURL_ERROR_SIZE] = {0};

  Api().easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  Api().easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  Api().easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  Api().easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  Api().easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  Api().easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  Api().easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  Api().easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  Api().easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  Api().easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  if (request.timeout.count() > 0) {
    Api().easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  }
  SetMethodAndBody(curl, request);

  CURLcode code = Api().easy_perform(curl);
  // The handle keeps pointers into this frame's buffers; drop them now.
  Api().easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  Api().easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (code != CURLE_OK) return Classify(code, error_buffer, sink.too_large);
  Api().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &sink.response.status);
  return std::move(sink.response);
}

auto UrlEscape(std::string_view text) -> std::string {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

auto ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now)
    -> std::optional<std::chrono::milliseconds> {
  using std::chrono::milliseconds;
  value = TrimSpace(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Anything longer than 9 digits is beyond any cap the caller applies.
    if (value.size() > 9) return milliseconds(999'999'999LL * 1000);
    return milliseconds(std::stoll(std::string(value)) * 1000);
  }
  if (LoadCurl() == nullptr) return std::nullopt;  // an HTTP date needs curl's parser
  std::string text(value);
  time_t when = Api().getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  auto delta = std::chrono::system_clock::from_time_t(when) - now;
  if (delta.count() < 0) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(delta);
}

}  // namespace flow::connectors
