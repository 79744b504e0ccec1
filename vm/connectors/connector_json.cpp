// The connector file's strict readers (connector_json.h).
#include "vm/connectors/connector_json.h"

#include <algorithm>

namespace flow::connectors {

auto Fail(const std::string& path, const std::string& what) -> Error {
  return ErrorAbout(ErrorCode::kInvalidInput, path, what);
}

auto CheckKeys(const ojson& object, const std::string& path, std::initializer_list<std::string_view> allowed)
    -> Status {
  for (const auto& [key, value] : object.items()) {
    if (key == "description" || key == "$comment" || key.rfind("x-", 0) == 0) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Fail(path, "unknown key '" + key + "'");
    }
  }
  return Ok{};
}

auto GetString(const ojson& object, const std::string& path, const char* key, bool required, std::string& out)
    -> Status {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) return Fail(path, std::string("missing '") + key + "'");
    return Ok{};
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Fail(path + "." + key, std::string("'") + key + "' must be a non-empty string");
  }
  out = it->get<std::string>();
  return Ok{};
}

auto GetStringArray(const ojson& value, const std::string& path, const char* key, bool non_empty,
                    std::vector<std::string>& out) -> Status {
  std::string what = std::string("'") + key + "' must be " + (non_empty ? "a non-empty" : "an") +
                     " array of strings";
  if (!value.is_array() || (non_empty && value.empty())) return Fail(path, what);
  for (const ojson& item : value) {
    if (!item.is_string()) return Fail(path, what);
    out.push_back(item.get<std::string>());
  }
  return Ok{};
}

}  // namespace flow::connectors
