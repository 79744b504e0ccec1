// See roles.h.
#include "cli/roles.h"

#include <fmt/format.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "vm/base/file_io.h"

namespace flow::cli {

auto Roles::Holds(const std::string& who, const std::string& role) const -> bool {
  auto it = held.find(who);
  return it != held.end() && it->second.count(role) > 0;
}

auto Roles::Describe(const std::string& who) const -> std::string {
  auto it = held.find(who);
  if (it == held.end() || it->second.empty()) return "none";
  std::string out;
  for (const std::string& role : it->second) out += (out.empty() ? "'" : ", '") + role + "'";
  return out;
}

auto LoadRoles(const std::string& path) -> Result<Roles> {
  auto text = ReadFileBounded(path, kMaxRolesFileBytes);
  if (!text) return Error{fmt::format("roles file (FLOW_ROLES): {}", text.error().message)};
  auto bad = [&](const std::string& why) { return Error{fmt::format("roles file '{}' (FLOW_ROLES): {}", path, why)}; };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    // e.what() carries nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string what = e.what();
    auto at = what.find("] ");
    return bad("not valid JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
  }
  if (!j.is_object()) return bad(R"(expected an object of people and their roles, like {"ann": ["sre-lead"]})");
  Roles roles;
  roles.path = path;
  for (const auto& [who, list] : j.items()) {
    if (!list.is_array()) return bad(fmt::format("'{}' must be a list of role names", who));
    for (const auto& role : list) {
      if (!role.is_string()) return bad(fmt::format("the roles of '{}' must be strings", who));
      roles.held[who].insert(role.get<std::string>());
    }
  }
  return roles;
}

auto ConfiguredRoles() -> std::optional<Result<Roles>> {
  const char* path = std::getenv("FLOW_ROLES");
  if (path == nullptr || *path == '\0') return std::nullopt;
  return LoadRoles(path);
}

}  // namespace flow::cli
