// See open_store.h.
#include "vm/store/open_store.h"

#include <cctype>

namespace flow::store {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite";

// The scheme of `url` ("" when it is a plain path): at least two characters
// so that no one-letter prefix is ever taken for one.
auto SchemeOf(const std::string& url) -> std::string {
  size_t colon = url.find(':');
  if (colon == std::string::npos || colon < 2) return "";
  if (!std::isalpha(static_cast<unsigned char>(url[0]))) return "";
  for (size_t i = 1; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(url[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return url.substr(0, colon);
}

}  // namespace

auto ParseStoreUrl(const std::string& url) -> Result<StoreLocation> {
  std::string scheme = SchemeOf(url);
  std::string lower = scheme;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  StoreLocation location;
  if (scheme.empty()) {
    location.path = url;
  } else if (lower == kSqliteScheme) {
    location.path = url.substr(scheme.size() + 1);
  } else {
    return Error{"database '" + url + "': no store for scheme '" + scheme +
                 "'; expected a file path or sqlite:PATH"};
  }
  if (location.path.empty()) return Error{"database '" + url + "': the path is empty"};
  return location;
}

auto OpenStore(const StoreLocation& location, const StoreOptions& options) -> Result<std::unique_ptr<Store>> {
  switch (location.backend) {
    case Backend::Sqlite: return OpenSqliteStore(location.path, options);
  }
  return Error{"unknown store backend"};
}

auto OpenStore(const std::string& url, const StoreOptions& options) -> Result<std::unique_ptr<Store>> {
  auto location = ParseStoreUrl(url);
  if (!location) return location.error();
  return OpenStore(*location, options);
}

}  // namespace flow::store
