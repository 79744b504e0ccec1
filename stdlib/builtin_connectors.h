// The built-in connectors of SPEC §3 (`log` and `http`), used without a
// `connector` declaration.
//
// They are written as ordinary connector JSON (transport kind "builtin")
// embedded in the binary and parsed by the same code as user connector files
// (vm/connectors/connector_file.h), so the checker maps them to flow types and
// the VM validates their results exactly as it does for any other connector;
// only the transport differs (vm/connectors/builtin_transport.h implements
// the operations). The compiler embeds these texts in every program it
// builds (compiler/driver/compile.h), so a run is validated against the
// schemas it was checked against, whatever flow binary resumes it; the
// runtime reads them from here only for programs compiled before that
// (the `flow` binary hands them to the engine in its Runtime).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "vm/connectors/connector_file.h"

namespace flow::stdlib {

struct BuiltinConnectorText {
  std::string_view name;  // "log"
  std::string_view json;  // the connector file's text
};

// The embedded texts, in a fixed order (log, http).
auto BuiltinConnectorTexts() -> std::span<const BuiltinConnectorText>;

// Every built-in connector, parsed. The texts are part of flow, so a parse
// failure is a bug (FLOW_CHECK), never a user error.
auto LoadBuiltinConnectors() -> std::vector<connectors::ConnectorFile>;

}  // namespace flow::stdlib
