// Approval roles (SPEC §5): `approve "..." from "role"` names the role whose
// holders may decide. The env variable FLOW_ROLES (read in cli/, the only
// place configuration comes from the environment) names a JSON file mapping
// each person to the roles they hold:
//
//   {"ann": ["sre-lead", "ops"], "bob": ["ops"]}
//
// With a roles file, `flow approve/reject --as WHO` of an approval that asks
// for a role is refused (exit 2, nothing recorded) unless WHO holds it; an
// approval without `from` may be decided by anyone. Without a roles file any
// decider is accepted and `--as` is a claim written to the journal, not an
// identity: flow has no login. docs/cli.md says so.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "vm/base/result.h"

namespace flow::cli {

// A roles file names people and roles, a handful of lines; the bound stops
// a wrong path (a log, /dev/zero) from being read whole.
inline constexpr size_t kMaxRolesFileBytes = 1u << 20;

struct Roles {
  std::string path;                                   // the file, for messages
  std::map<std::string, std::set<std::string>> held;  // person -> roles

  // Whether `who` holds `role`.
  auto Holds(const std::string& who, const std::string& role) const -> bool;
  // The roles `who` holds, quoted and comma-separated ('a', 'b'), or "none".
  auto Describe(const std::string& who) const -> std::string;
};

// Reads the roles file at `path`: a JSON object whose every value is a list
// of role names (strings). An Error with a one-line reason naming the file
// for a missing, unreadable, oversized or malformed one.
auto LoadRoles(const std::string& path) -> Result<Roles>;

// The roles file FLOW_ROLES names, loaded; nullopt when FLOW_ROLES is unset
// or empty (then every decider is accepted).
auto ConfiguredRoles() -> std::optional<Result<Roles>>;

}  // namespace flow::cli
