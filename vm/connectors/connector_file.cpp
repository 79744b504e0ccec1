#include "vm/connectors/connector_file.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "vm/base/json_text.h"
#include "vm/connectors/connector_json.h"
#include "vm/connectors/transport_kinds.h"
#include "vm/value/time_format.h"

namespace flow::connectors {

using jsonschema::JsonPathMember;

namespace {

// Problems found so far: the parse goes on after most of them, so that a
// connector file with three mistakes gets three messages at once.
using Problems = std::vector<Error>;

void Collect(Problems& out, const Status& status) {
  if (!status) out.push_back(status.error());
}

// CheckKeys (connector_json.h), reporting every unknown key rather than the first.
void CheckEveryKey(const ojson& object, const std::string& path, const std::vector<std::string_view>& allowed,
                   Problems& out) {
  for (const auto& [key, value] : object.items()) {
    if (key == "description" || key == "$comment" || key.rfind("x-", 0) == 0) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      out.push_back(Fail(path, "unknown key '" + key + "'"));
    }
  }
}

auto GetBool(const ojson& object, const std::string& path, const char* key, bool& out) -> Status {
  auto it = object.find(key);
  if (it == object.end()) return Ok{};
  if (!it->is_boolean()) return Fail(path + "." + key, std::string("'") + key + "' must be true or false");
  out = it->get<bool>();
  return Ok{};
}

// "transport": its "kind" names a row of TransportKinds(), which reads the
// rest. An unknown or missing kind leaves out.kind builtin.
auto ParseTransport(const ojson& doc, TransportConfig& out) -> Status {
  const std::string path = "$.transport";
  auto it = doc.find("transport");
  if (it == doc.end()) return Fail("$", "missing 'transport'");
  const ojson& t = *it;
  if (!t.is_object()) return Fail(path, "'transport' must be an object");
  std::string kind;
  FLOW_TRY(GetString(t, path, "kind", true, kind));
  const TransportKindSpec* spec = FindTransportKind(kind);
  if (spec == nullptr) {
    return Fail(path + ".kind", "unknown transport kind '" + kind + "'; expected " + TransportKindList());
  }
  out.kind = spec->kind;
  return spec->parse_config(t, path, out);
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

// The keys every operation may have, whatever its transport, besides the
// one member of each transport (TransportKindSpec::operation_key).
constexpr std::string_view kOperationKeys[] = {"input", "output", "effect", "idempotent", "requires_approval",
                                               "idempotency_key", "timeout"};

// The operation's transport member: read by its transport's row; another
// transport's member is an error.
void ParseTransportMember(const ojson& op, const std::string& path, const TransportKindSpec& transport,
                          Operation& out, Problems& problems) {
  for (const TransportKindSpec& spec : TransportKinds()) {
    if (spec.operation_key.empty()) continue;
    const std::string key(spec.operation_key);
    auto it = op.find(key);
    if (spec.kind == transport.kind) {
      Collect(problems, spec.parse_operation(it == op.end() ? nullptr : &*it, path, out));
    } else if (it != op.end()) {
      problems.push_back(Fail(path + "." + key, "'" + key + "' applies only to the " + std::string(spec.kind.name) +
                                                    " transport"));
    }
  }
}

// Each part of an operation is checked even when another is wrong.
void ParseOperation(const ojson& op, const std::string& path, const TransportKindSpec& transport,
                    jsonschema::SchemaPool& pool, Operation& out, Problems& problems) {
  if (!op.is_object()) return problems.push_back(Fail(path, "an operation must be an object"));
  std::vector<std::string_view> allowed(std::begin(kOperationKeys), std::end(kOperationKeys));
  for (const TransportKindSpec& spec : TransportKinds()) {
    if (!spec.operation_key.empty()) allowed.push_back(spec.operation_key);
  }
  CheckEveryKey(op, path, allowed, problems);
  ParseTransportMember(op, path, transport, out, problems);
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
  if (transport.check_with_input != nullptr) {
    transport.check_with_input(out, pool, op.find("input") != op.end(), path, problems);
  }
  out.output = pool.Any();
  if (auto output = op.find("output"); output != op.end()) {
    auto id = pool.Parse(*output, path + ".output");
    if (id) out.output = *id;
    else problems.push_back(id.error());
  }
  out.idempotency_key = transport.sends_idempotency_key;
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
  // Always found: an unknown kind left it builtin.
  const TransportKindSpec* transport = FindTransportKind(file.transport.kind.name);
  FLOW_CHECK(transport != nullptr, "a parsed transport kind is a row of TransportKinds()");
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
    ParseOperation(op, path, *transport, file.schemas, operation, problems);
    file.operations.push_back(std::move(operation));
  }
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
  return Error{"invalid JSON at byte " + std::to_string(offset) + ": " + what, ErrorCode::kInvalidInput};
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
    // Every problem is made by Fail or the schema parser's equivalent, both
    // with the JSON path as the subject ("$" stands in should one lack it).
    for (const Error& e : found) {
      problems->push_back(ParseProblem{false, 0, e.subject.empty() ? "$" : e.subject, e.reason()});
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

}  // namespace flow::connectors
