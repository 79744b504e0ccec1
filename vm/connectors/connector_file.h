// A connector file (SPEC §3) as a model: its transport, its named types and
// its operations with their input and output schemas.
//
// Both halves read this model: the VM to call an operation (transport, HTTP
// route, exec args) and to validate its response (the output schema); the
// compiler (compiler/schema) to map the schemas to flow types for checking.
// Parsing is strict: any key or value outside the documented format is an
// error naming the JSON path, because a typo in a connector file ("operatons",
// "requires_aproval") must not silently change what a workflow is allowed to
// do. docs/connectors.md documents the format as implemented. The parser
// knows no transport by name: the "transport" object's keys and each
// operation's transport member ("http", "args") are read by the transport's
// row of transport_kinds.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "vm/base/result.h"
#include "vm/schema/json_schema.h"

namespace flow::connectors {

// A transport by its name as connector files spell it ("http", "exec",
// "builtin"), which is the name its Transport is registered under
// (transport.h). Which names exist is the table of transport_kinds.h; the
// three constants are there for the code that must single one out (the
// builtin transport's operations are flow's own).
struct TransportKind {
  std::string_view name;  // static storage: a TransportKinds() row's

  static const TransportKind Http;
  static const TransportKind Exec;
  static const TransportKind Builtin;
  friend auto operator==(TransportKind a, TransportKind b) -> bool { return a.name == b.name; }
};
inline constexpr TransportKind TransportKind::Http{"http"};
inline constexpr TransportKind TransportKind::Exec{"exec"};
inline constexpr TransportKind TransportKind::Builtin{"builtin"};
enum class AuthKind { None, Bearer, Basic, Header };
enum class Effect { None, Reversible, Irreversible };

// Where HTTP credentials come from. Only names of environment variables are
// stored: secrets never live in the file, the database or the logs.
struct HttpAuth {
  AuthKind kind = AuthKind::None;
  std::string token_env;     // bearer: Authorization: Bearer $token_env
  std::string username_env;  // basic
  std::string password_env;  // basic
  std::string header;        // header: `header: $value_env`
  std::string value_env;     // header
};

// The "transport" object. The fields of each transport are read by its row
// of transport_kinds.h.
struct TransportConfig {
  TransportKind kind = TransportKind::Builtin;
  // http: base_url, overridden by the environment variable base_url_env when
  // that is set and non-empty.
  std::string base_url;
  std::string base_url_env;
  HttpAuth auth;
  // exec: argv[0..]; run without a shell, in the connector file's folder.
  std::vector<std::string> command;
  // exec: the names of the environment variables passed on to the tool
  // ("env": ["CRM_TOKEN"]), beyond the minimal base (SPEC §3). Their values
  // are treated as secrets (redacted from messages and results).
  std::vector<std::string> env;
};

struct HttpRoute {
  std::string method;  // GET POST PUT PATCH DELETE
  std::string path;    // "/customers/{customer}/charges"
  // The `{name}` parameters of `path` in order; each is an input property.
  std::vector<std::string> path_params;
};

struct Operation {
  std::string name;
  HttpRoute http;                 // http transport only
  std::vector<std::string> args;  // exec only: appended to the command
  // The input schema: an object with properties (its properties are the
  // operation's named arguments). Invalid when the file has no "input": the
  // operation takes no arguments.
  jsonschema::NodeId input;
  // The output schema; an absent "output" is a node that accepts any JSON.
  jsonschema::NodeId output;
  Effect effect = Effect::None;
  bool idempotent = false;
  bool requires_approval = false;
  // The operation's own per-attempt limit ("timeout": "30s", a duration of
  // SPEC §2.1), zero when it declares none. A step's `timeout` clause
  // overrides it; without either a step gets kDefaultStepTimeout
  // (step_call.h: AttemptTimeout).
  std::chrono::milliseconds timeout{0};
  // Whether the system honours the idempotency key flow sends with every
  // attempt (header for http, FLOW_IDEMPOTENCY_KEY for exec). Defaults to
  // true for http and exec, false for builtin.
  bool idempotency_key = true;
};

struct ConnectorFile {
  std::string name;     // the file's "connector"
  std::string version;  // "" when absent
  TransportConfig transport;
  jsonschema::SchemaPool schemas;
  std::vector<Operation> operations;  // file order

  auto FindOperation(std::string_view name) const -> const Operation*;
};

// Why a connector file was rejected, in parts, for callers that point at the
// problem (the compiler renders line:column or the JSON path itself).
struct ParseProblem {
  bool invalid_json = false;
  // invalid_json: 0-based byte offset in the text where the JSON parser
  // stopped (at most text.size()).
  size_t byte_offset = 0;
  // Otherwise: the JSON path of the offending value, e.g.
  // "$.operations.charge.input.properties.amount.type".
  std::string json_path;
  // The reason without the location: "unknown type 'integr'".
  std::string what;
};

// JSON nesting beyond this is rejected before anything walks the document
// (the walk is recursive); real connector files nest a dozen levels.
constexpr int kMaxConnectorJsonDepth = 128;

// Parses and checks a connector file's text. The Error's message is one line,
// about the first problem: "invalid JSON at byte N: <reason>" or "<json
// path>: <reason>". When `problems` is given it receives every problem, in
// parts, in file order: one for invalid JSON; otherwise each part of the
// file (the transport, each key, each operation and each of its members) is
// checked even when another part is wrong, so a file with three mistakes
// gets three. A schema (an "input", an "output", a type) reports its first.
auto ParseConnectorFile(std::string_view text, std::vector<ParseProblem>* problems = nullptr)
    -> Result<ConnectorFile>;

auto EffectName(Effect effect) -> std::string_view;

// The transport's name as connector files spell it ("http", "exec",
// "builtin"): the name a Transport is registered under (transport.h).
inline auto TransportKindName(TransportKind kind) -> std::string_view { return kind.name; }

}  // namespace flow::connectors
