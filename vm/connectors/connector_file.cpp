#include "vm/connectors/connector_file.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "vm/base/json_text.h"
#include "vm/value/time_format.h"

namespace flow::connectors {

using ojson = nlohmann::ordered_json;
using jsonschema::JsonPathMember;

namespace {

auto Fail(const std::string& path, const std::string& what) -> Error {
  return Error{path + ": " + what};
}

// Problems found so far: the parse goes on after most of them, so that a
// connector file with three mistakes gets three messages at once.
using Problems = std::vector<Error>;

void Collect(Problems& out, const Status& status) {
  if (!status) out.push_back(status.error());
}

// Rejects keys outside `allowed` (typos must not silently change behaviour).
// "description", "$comment" and "x-" extensions are always allowed.
auto CheckKeys(const ojson& object, const std::string& path,
               std::initializer_list<std::string_view> allowed) -> Status {
  for (const auto& [key, value] : object.items()) {
    if (key == "description" || key == "$comment" || key.rfind("x-", 0) == 0) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Fail(path, "unknown key '" + key + "'");
    }
  }
  return Ok{};
}

// CheckKeys, reporting every unknown key rather than the first.
void CheckEveryKey(const ojson& object, const std::string& path,
                   std::initializer_list<std::string_view> allowed, Problems& out) {
  for (const auto& [key, value] : object.items()) {
    if (key == "description" || key == "$comment" || key.rfind("x-", 0) == 0) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      out.push_back(Fail(path, "unknown key '" + key + "'"));
    }
  }
}

// A required (or, with `required` false, optional) string member.
auto GetString(const ojson& object, const std::string& path, const char* key, bool required,
               std::string& out) -> Status {
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

auto GetBool(const ojson& object, const std::string& path, const char* key, bool& out) -> Status {
  auto it = object.find(key);
  if (it == object.end()) return Ok{};
  if (!it->is_boolean()) return Fail(path + "." + key, std::string("'") + key + "' must be true or false");
  out = it->get<bool>();
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

auto ParseAuth(const ojson& auth, const std::string& path, HttpAuth& out) -> Status {
  if (!auth.is_object()) return Fail(path, "'auth' must be an object");
  std::string kind;
  if (auto s = GetString(auth, path, "kind", true, kind); !s) return s;
  if (kind == "bearer") {
    out.kind = AuthKind::Bearer;
    if (auto s = CheckKeys(auth, path, {"kind", "token_env"}); !s) return s;
    return GetString(auth, path, "token_env", true, out.token_env);
  }
  if (kind == "basic") {
    out.kind = AuthKind::Basic;
    if (auto s = CheckKeys(auth, path, {"kind", "username_env", "password_env"}); !s) return s;
    if (auto s = GetString(auth, path, "username_env", true, out.username_env); !s) return s;
    return GetString(auth, path, "password_env", true, out.password_env);
  }
  if (kind == "header") {
    out.kind = AuthKind::Header;
    if (auto s = CheckKeys(auth, path, {"kind", "header", "value_env"}); !s) return s;
    if (auto s = GetString(auth, path, "header", true, out.header); !s) return s;
    return GetString(auth, path, "value_env", true, out.value_env);
  }
  return Fail(path + ".kind", "unknown auth kind '" + kind + "'; expected bearer, basic or header");
}

auto ParseTransport(const ojson& doc, TransportConfig& out) -> Status {
  const std::string path = "$.transport";
  auto it = doc.find("transport");
  if (it == doc.end()) return Fail("$", "missing 'transport'");
  const ojson& t = *it;
  if (!t.is_object()) return Fail(path, "'transport' must be an object");
  std::string kind;
  if (auto s = GetString(t, path, "kind", true, kind); !s) return s;
  if (kind == "http") {
    out.kind = TransportKind::Http;
    if (auto s = CheckKeys(t, path, {"kind", "base_url", "base_url_env", "auth"}); !s) return s;
    if (auto s = GetString(t, path, "base_url", true, out.base_url); !s) return s;
    if (out.base_url.rfind("http://", 0) != 0 && out.base_url.rfind("https://", 0) != 0) {
      return Fail(path + ".base_url", "base_url must start with http:// or https://");
    }
    if (auto s = GetString(t, path, "base_url_env", false, out.base_url_env); !s) return s;
    if (auto a = t.find("auth"); a != t.end()) return ParseAuth(*a, path + ".auth", out.auth);
    return Ok{};
  }
  if (kind == "exec") {
    out.kind = TransportKind::Exec;
    if (auto s = CheckKeys(t, path, {"kind", "command", "env"}); !s) return s;
    auto c = t.find("command");
    if (c == t.end()) return Fail(path, "missing 'command'");
    if (auto s = GetStringArray(*c, path + ".command", "command", true, out.command); !s) return s;
    auto env = t.find("env");
    if (env == t.end()) return Ok{};
    if (auto s = GetStringArray(*env, path + ".env", "env", false, out.env); !s) return s;
    for (const std::string& name : out.env) {
      if (!jsonschema::IsIdentifier(name)) {
        return Fail(path + ".env", "'" + name + "' is not an environment variable name");
      }
    }
    return Ok{};
  }
  if (kind == "builtin") {
    out.kind = TransportKind::Builtin;
    return CheckKeys(t, path, {"kind"});
  }
  return Fail(path + ".kind", "unknown transport kind '" + kind + "'; expected http, exec or builtin");
}

// The `{name}` parameters of an HTTP path, each an identifier.
auto ParsePathParams(const std::string& route, const std::string& path,
                     std::vector<std::string>& out) -> Status {
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
  if (auto s = CheckKeys(http, path, {"method", "path"}); !s) return s;
  if (auto s = GetString(http, path, "method", true, out.method); !s) return s;
  static constexpr std::array<std::string_view, 5> kMethods = {"GET", "POST", "PUT", "PATCH",
                                                               "DELETE"};
  if (std::find(kMethods.begin(), kMethods.end(), out.method) == kMethods.end()) {
    return Fail(path + ".method",
                "unknown method '" + out.method + "'; expected GET, POST, PUT, PATCH or DELETE");
  }
  if (auto s = GetString(http, path, "path", true, out.path); !s) return s;
  if (out.path[0] != '/') return Fail(path + ".path", "path must start with '/'");
  return ParsePathParams(out.path, path + ".path", out.path_params);
}

// The input must be an object schema with properties (they are the named
// arguments), possibly through a `$ref`; each property name an identifier.
auto CheckInput(const jsonschema::SchemaPool& pool, jsonschema::NodeId input,
                const std::string& path) -> Status {
  const auto& top = pool.node(input);
  const auto& n = pool.node(pool.Resolve(input));
  bool object = n.types.empty() || n.types.only(jsonschema::JsonType::Object);
  if (top.nullable || !object || !n.has_properties) {
    return Fail(path, "'input' must be an object schema with 'properties'");
  }
  for (const auto& p : n.properties) {
    if (!jsonschema::IsIdentifier(p.name)) {
      return Fail(JsonPathMember(path + ".properties", p.name),
                  "argument name '" + p.name + "' is not an identifier");
    }
  }
  return Ok{};
}

auto ParseEffect(const ojson& op, const std::string& path, Effect& out) -> Status {
  auto it = op.find("effect");
  if (it == op.end()) return Ok{};
  std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  if (text == "none") out = Effect::None;
  else if (text == "reversible") out = Effect::Reversible;
  else if (text == "irreversible") out = Effect::Irreversible;
  else return Fail(path + ".effect", "unknown effect '" + text + "'; expected none, reversible or irreversible");
  return Ok{};
}

// "timeout": a positive duration of SPEC §2.1 ("500ms", "30s", "5m").
auto ParseTimeout(const ojson& op, const std::string& path, std::chrono::milliseconds& out) -> Status {
  auto it = op.find("timeout");
  if (it == op.end()) return Ok{};
  const std::string where = path + ".timeout";
  if (!it->is_string()) return Fail(where, "'timeout' must be a duration such as \"30s\"");
  const std::string& text = it->get_ref<const std::string&>();
  auto ms = value::ParseDuration(text);
  if (!ms) {
    return Fail(where, "'" + text + "' is not a duration; expected an integer and a unit (ms, s, m, h, d), e.g. \"30s\"");
  }
  if (*ms <= 0) return Fail(where, "'timeout' must be positive, not '" + text + "'");
  out = std::chrono::milliseconds(*ms);
  return Ok{};
}

auto ParseHttpRoute(const ojson& op, const std::string& path, TransportKind transport,
                    Operation& out) -> Status {
  auto http = op.find("http");
  if (transport != TransportKind::Http) {
    if (http != op.end()) return Fail(path + ".http", "'http' applies only to the http transport");
    return Ok{};
  }
  if (http == op.end()) return Fail(path, "missing 'http' (method and path)");
  return ParseRoute(*http, path + ".http", out.http);
}

// Each part of an operation is checked even when another is wrong.
void ParseOperation(const ojson& op, const std::string& path, TransportKind transport,
                    jsonschema::SchemaPool& pool, Operation& out, Problems& problems) {
  if (!op.is_object()) return problems.push_back(Fail(path, "an operation must be an object"));
  CheckEveryKey(op, path, {"http", "args", "input", "output", "effect", "idempotent", "requires_approval",
                           "idempotency_key", "timeout"},
                problems);
  Collect(problems, ParseHttpRoute(op, path, transport, out));
  if (auto args = op.find("args"); args != op.end()) {
    if (transport != TransportKind::Exec) {
      problems.push_back(Fail(path + ".args", "'args' applies only to the exec transport"));
    } else {
      Collect(problems, GetStringArray(*args, path + ".args", "args", false, out.args));
    }
  }
  if (auto input = op.find("input"); input != op.end()) {
    auto id = pool.Parse(*input, path + ".input");
    if (!id) {
      problems.push_back(id.error());
    } else if (auto s = CheckInput(pool, *id, path + ".input"); !s) {
      problems.push_back(s.error());
    } else {
      out.input = *id;
    }
  }
  for (const std::string& param : out.http.path_params) {
    const auto* props = out.input.valid() ? &pool.node(pool.Resolve(out.input)).properties : nullptr;
    bool found = props && std::any_of(props->begin(), props->end(),
                                      [&](const auto& p) { return p.name == param; });
    if (!found && (out.input.valid() || op.find("input") == op.end())) {
      problems.push_back(Fail(path + ".http.path", "path parameter '{" + param + "}' is not an input property"));
    }
  }
  out.output = pool.Any();
  if (auto output = op.find("output"); output != op.end()) {
    auto id = pool.Parse(*output, path + ".output");
    if (id) out.output = *id;
    else problems.push_back(id.error());
  }
  out.idempotency_key = transport != TransportKind::Builtin;
  Collect(problems, ParseEffect(op, path, out.effect));
  Collect(problems, ParseTimeout(op, path, out.timeout));
  Collect(problems, GetBool(op, path, "idempotent", out.idempotent));
  Collect(problems, GetBool(op, path, "requires_approval", out.requires_approval));
  Collect(problems, GetBool(op, path, "idempotency_key", out.idempotency_key));
}

void ParseDocument(const ojson& doc, ConnectorFile& file, Problems& problems) {
  if (!doc.is_object()) return problems.push_back(Fail("$", "a connector file must be a JSON object"));
  CheckEveryKey(doc, "$", {"connector", "version", "transport", "types", "operations", "$schema"}, problems);
  if (auto s = GetString(doc, "$", "connector", true, file.name); !s) {
    problems.push_back(s.error());
  } else if (!jsonschema::IsIdentifier(file.name)) {
    problems.push_back(Fail("$.connector", "connector name '" + file.name + "' is not an identifier"));
  }
  Collect(problems, GetString(doc, "$", "version", false, file.version));
  Collect(problems, ParseTransport(doc, file.transport));
  if (auto types = doc.find("types"); types != doc.end()) {
    Collect(problems, file.schemas.AddTypes(*types, "$.types"));
  }
  auto ops = doc.find("operations");
  if (ops == doc.end()) return problems.push_back(Fail("$", "missing 'operations'"));
  if (!ops->is_object()) return problems.push_back(Fail("$.operations", "'operations' must be an object"));
  for (const auto& [name, op] : ops->items()) {
    std::string path = JsonPathMember("$.operations", name);
    if (!jsonschema::IsIdentifier(name)) {
      problems.push_back(Fail(path, "operation name '" + name + "' is not an identifier"));
      continue;
    }
    Operation operation;
    operation.name = name;
    ParseOperation(op, path, file.transport.kind, file.schemas, operation, problems);
    file.operations.push_back(std::move(operation));
  }
}

// Splits "<json path>: <what>"; the path may hold quoted names with ": ".
void SplitPathMessage(const std::string& message, ParseProblem& out) {
  bool in_string = false;
  for (size_t i = 0; i + 1 < message.size(); ++i) {
    char c = message[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ':' && message[i + 1] == ' ') {
      out.json_path = message.substr(0, i);
      out.what = message.substr(i + 2);
      return;
    }
  }
  out.json_path = "$";
  out.what = message;
}

// Where the number named in nlohmann's "number overflow parsing 'TOKEN'"
// first appears in `text` (0 when it cannot be found).
auto OverflowOffset(std::string_view text, std::string_view what) -> size_t {
  size_t open = what.find('\''), close = what.rfind('\'');
  if (open == std::string_view::npos || close <= open + 1) return 0;
  size_t at = text.find(what.substr(open + 1, close - open - 1));
  return at == std::string_view::npos ? 0 : at;
}

auto JsonProblem(size_t offset, std::string what, std::vector<ParseProblem>* problems) -> Error {
  if (problems) problems->push_back(ParseProblem{true, offset, "", what});
  return Error{"invalid JSON at byte " + std::to_string(offset) + ": " + what};
}

}  // namespace

auto ParseConnectorFile(std::string_view text, std::vector<ParseProblem>* problems) -> Result<ConnectorFile> {
  if (problems) problems->clear();
  if (size_t deep = FindTooDeep(text, kMaxConnectorJsonDepth); deep != std::string_view::npos) {
    return JsonProblem(deep, "nesting exceeds the limit of " +
                                 std::to_string(kMaxConnectorJsonDepth) + " levels",
                       problems);
  }
  ojson doc;
  try {
    doc = ojson::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    JsonSyntaxError error = DescribeJsonError(text, e);
    return JsonProblem(error.offset, std::move(error.reason), problems);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number too large for a double ("number overflow parsing '1e999'"):
    // point at the first place the quoted token appears.
    std::string what = e.what();
    if (size_t tag = what.find("] "); tag != std::string::npos) what.erase(0, tag + 2);
    return JsonProblem(OverflowOffset(text, what), what, problems);
  }
  ConnectorFile file;
  Problems found;
  ParseDocument(doc, file, found);
  if (found.empty()) return file;
  if (problems) {
    for (const Error& e : found) {
      ParseProblem p;
      SplitPathMessage(e.message, p);
      problems->push_back(std::move(p));
    }
  }
  return found.front();
}

auto ConnectorFile::FindOperation(std::string_view name) const -> const Operation* {
  for (const Operation& op : operations) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

auto EffectName(Effect effect) -> std::string_view {
  switch (effect) {
    case Effect::None: return "none";
    case Effect::Reversible: return "reversible";
    case Effect::Irreversible: return "irreversible";
  }
  return "none";
}

auto TransportKindName(TransportKind kind) -> std::string_view {
  switch (kind) {
    case TransportKind::Http: return "http";
    case TransportKind::Exec: return "exec";
    case TransportKind::Builtin: return "builtin";
  }
  return "builtin";
}

}  // namespace flow::connectors
