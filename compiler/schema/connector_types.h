// Connectors as the checker sees them: every operation's input and output
// mapped to flow types (SPEC §3), plus the policy flags the checker enforces.
//
// The JSON Schema model itself (parsing a connector file, validating values at
// run time) lives on the runtime side in vm/schema; this header only maps it
// to compiler/types. Built-in connectors (`log`, `http`) are described by the
// same JSON format, embedded in stdlib/, and loaded through the same path.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/diag/diagnostics.h"
#include "compiler/source/source.h"
#include "compiler/types/types.h"

namespace flow::schema {

enum class Effect { None, Reversible, Irreversible };

// One named argument: a property of the input schema. `type` is the
// property's own type (T? only when the schema itself allows null); an
// argument that is not required may simply be left out.
struct ArgumentSig {
  std::string name;
  types::TypeId type;
  bool required = false;
};

struct OperationSig {
  std::string connector;  // "billing"
  std::string name;       // "charge"
  // Arguments in the order the input schema lists them.
  std::vector<ArgumentSig> args;
  types::TypeId output;
  Effect effect = Effect::None;
  bool idempotent = false;
  // True when every attempt carries an idempotency key the system honours:
  // the default for http (header) and exec (environment) transports; false
  // for builtin http.request and where the connector says
  // "idempotency_key": false.
  bool sends_idempotency_key = true;
  bool requires_approval = false;

  auto display_name() const -> std::string { return connector + "." + name; }
  auto FindArg(const std::string& arg) const -> const ArgumentSig*;
};

struct ConnectorSig {
  std::string name;
  std::string path;  // resolved file path; empty for built-ins
  // The connector file's text exactly as it was checked: what the compiled
  // program embeds (codegen::Lower), so a file is read once.
  std::string text;
  bool builtin = false;
  std::vector<OperationSig> operations;  // in file order

  auto FindOperation(const std::string& op) const -> const OperationSig*;
  auto OperationNames() const -> std::vector<std::string>;
};

// Loads and maps the connector file at `path` (already resolved against the
// .flow file's folder). Problems are diagnostics: a missing or unreadable file
// (E011) at `decl_range`, bad JSON (E012) at the exact line and column inside
// the JSON file (registered in `sources`), a schema outside the supported
// subset (E013) naming the JSON path, each with a note at `decl_range`.
// Returns nullopt when the connector is unusable; the checker then treats
// every use of it as already reported.
// `declared_name` is the name of the `connector x = "..."` declaration; when
// given it is the connector's name (ConnectorSig::name and every
// OperationSig::connector), whatever the file's own "connector" field says.
// The file's named `types` become display aliases (SetAlias) under their
// plain name ("Charge"). See docs/connectors.md for the type mapping.
auto LoadConnector(const std::string& path, SourceRange decl_range, SourceManager& sources,
                   types::TypeTable& types, Diagnostics& diags,
                   const std::string& declared_name = "") -> std::optional<ConnectorSig>;

// The built-in connectors of SPEC §3 (`log`, `http`), mapped to flow types:
// this binary's (stdlib/builtin_connectors.h), or `texts` when given (a
// test compiling against other builtin schemas). A text that does not parse
// is a bug (FLOW_CHECK).
auto BuiltinConnectors(types::TypeTable& types) -> std::vector<ConnectorSig>;
auto BuiltinConnectors(types::TypeTable& types, std::span<const std::string> texts)
    -> std::vector<ConnectorSig>;

}  // namespace flow::schema
