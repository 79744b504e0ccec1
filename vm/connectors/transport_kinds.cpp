// The table of transports and the keys each reads (transport_kinds.h): one
// section per transport, then the table.
#include "vm/connectors/transport_kinds.h"

#include <algorithm>
#include <array>

#include "vm/schema/json_schema.h"

namespace flow::connectors {

namespace {

// ---- http: "base_url", "base_url_env", "auth"; operations carry "http".

auto ParseAuth(const ojson& auth, const std::string& path, HttpAuth& out) -> Status {
  if (!auth.is_object()) return Fail(path, "'auth' must be an object");
  std::string kind;
  FLOW_TRY(GetString(auth, path, "kind", true, kind));
  if (kind == "bearer") {
    out.kind = AuthKind::Bearer;
    FLOW_TRY(CheckKeys(auth, path, {"kind", "token_env"}));
    return GetString(auth, path, "token_env", true, out.token_env);
  }
  if (kind == "basic") {
    out.kind = AuthKind::Basic;
    FLOW_TRY(CheckKeys(auth, path, {"kind", "username_env", "password_env"}));
    FLOW_TRY(GetString(auth, path, "username_env", true, out.username_env));
    return GetString(auth, path, "password_env", true, out.password_env);
  }
  if (kind == "header") {
    out.kind = AuthKind::Header;
    FLOW_TRY(CheckKeys(auth, path, {"kind", "header", "value_env"}));
    FLOW_TRY(GetString(auth, path, "header", true, out.header));
    return GetString(auth, path, "value_env", true, out.value_env);
  }
  return Fail(path + ".kind", "unknown auth kind '" + kind + "'; expected bearer, basic or header");
}

auto ParseHttpConfig(const ojson& t, const std::string& path, TransportConfig& out) -> Status {
  FLOW_TRY(CheckKeys(t, path, {"kind", "base_url", "base_url_env", "auth"}));
  FLOW_TRY(GetString(t, path, "base_url", true, out.base_url));
  if (out.base_url.rfind("http://", 0) != 0 && out.base_url.rfind("https://", 0) != 0) {
    return Fail(path + ".base_url", "base_url must start with http:// or https://");
  }
  FLOW_TRY(GetString(t, path, "base_url_env", false, out.base_url_env));
  if (auto a = t.find("auth"); a != t.end()) return ParseAuth(*a, path + ".auth", out.auth);
  return Ok{};
}

// The `{name}` parameters of an HTTP path, each an identifier.
auto ParsePathParams(const std::string& route, const std::string& path, std::vector<std::string>& out) -> Status {
  size_t pos = 0;
  while ((pos = route.find_first_of("{}", pos)) != std::string::npos) {
    if (route[pos] == '}') return Fail(path, "unmatched '}' in path '" + route + "'");
    size_t close = route.find('}', pos);
    if (close == std::string::npos) return Fail(path, "unclosed '{' in path '" + route + "'");
    std::string name = route.substr(pos + 1, close - pos - 1);
    if (!jsonschema::IsIdentifier(name)) {
      return Fail(path, "path parameter '{" + name + "}' is not an identifier");
    }
    out.push_back(std::move(name));
    pos = close + 1;
  }
  return Ok{};
}

auto ParseRoute(const ojson& http, const std::string& path, HttpRoute& out) -> Status {
  if (!http.is_object()) return Fail(path, "'http' must be an object");
  FLOW_TRY(CheckKeys(http, path, {"method", "path"}));
  FLOW_TRY(GetString(http, path, "method", true, out.method));
  static constexpr std::array<std::string_view, 5> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  if (std::find(kMethods.begin(), kMethods.end(), out.method) == kMethods.end()) {
    return Fail(path + ".method", "unknown method '" + out.method + "'; expected GET, POST, PUT, PATCH or DELETE");
  }
  FLOW_TRY(GetString(http, path, "path", true, out.path));
  if (out.path[0] != '/') return Fail(path + ".path", "path must start with '/'");
  return ParsePathParams(out.path, path + ".path", out.path_params);
}

auto ParseHttpOperation(const ojson* http, const std::string& path, Operation& out) -> Status {
  if (http == nullptr) return Fail(path, "missing 'http' (method and path)");
  return ParseRoute(*http, path + ".http", out.http);
}

void CheckPathParams(const Operation& out, const jsonschema::SchemaPool& pool, bool declares_input,
                     const std::string& path, std::vector<Error>& problems) {
  for (const std::string& param : out.http.path_params) {
    const auto* props = out.input.valid() ? &pool.node(pool.Resolve(out.input)).properties : nullptr;
    bool found = props && std::any_of(props->begin(), props->end(), [&](const auto& p) { return p.name == param; });
    // An input that failed to parse has had its problem reported already.
    if (!found && (out.input.valid() || !declares_input)) {
      problems.push_back(Fail(path + ".http.path", "path parameter '{" + param + "}' is not an input property"));
    }
  }
}

// ---- exec: "command", "env"; operations may carry "args".

auto ParseExecConfig(const ojson& t, const std::string& path, TransportConfig& out) -> Status {
  FLOW_TRY(CheckKeys(t, path, {"kind", "command", "env"}));
  auto c = t.find("command");
  if (c == t.end()) return Fail(path, "missing 'command'");
  FLOW_TRY(GetStringArray(*c, path + ".command", "command", true, out.command));
  auto env = t.find("env");
  if (env == t.end()) return Ok{};
  FLOW_TRY(GetStringArray(*env, path + ".env", "env", false, out.env));
  for (const std::string& name : out.env) {
    if (!jsonschema::IsIdentifier(name)) {
      return Fail(path + ".env", "'" + name + "' is not an environment variable name");
    }
  }
  return Ok{};
}

auto ParseExecOperation(const ojson* args, const std::string& path, Operation& out) -> Status {
  if (args == nullptr) return Ok{};
  return GetStringArray(*args, path + ".args", "args", false, out.args);
}

// ---- builtin: no keys of its own (the operations are flow's own).

auto ParseBuiltinConfig(const ojson& t, const std::string& path, TransportConfig&) -> Status {
  return CheckKeys(t, path, {"kind"});
}

// The table. TransportKind::Http and friends name these rows' names.
constexpr std::array<TransportKindSpec, 3> kTransportKinds = {{
    {TransportKind::Http, ParseHttpConfig, "http", ParseHttpOperation, CheckPathParams, true},
    {TransportKind::Exec, ParseExecConfig, "args", ParseExecOperation, nullptr, true},
    {TransportKind::Builtin, ParseBuiltinConfig, "", nullptr, nullptr, false},
}};

}  // namespace

auto TransportKinds() -> std::span<const TransportKindSpec> { return kTransportKinds; }

auto FindTransportKind(std::string_view name) -> const TransportKindSpec* {
  for (const TransportKindSpec& spec : kTransportKinds) {
    if (spec.kind.name == name) return &spec;
  }
  return nullptr;
}

auto TransportKindList() -> std::string {
  std::string out;
  for (size_t i = 0; i < kTransportKinds.size(); ++i) {
    if (i > 0) out += i + 1 == kTransportKinds.size() ? " or " : ", ";
    out += kTransportKinds[i].kind.name;
  }
  return out;
}

}  // namespace flow::connectors
