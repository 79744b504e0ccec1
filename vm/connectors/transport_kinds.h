// The transports a connector file may name, and what each reads from it:
// one row per transport, the single table of transport names.
//
// A transport has two halves that live in two layers (cmake/layers.txt):
// what a connector file may say about it -- the keys of its "transport"
// object and the member each operation carries for it ("http": method and
// path; "args") -- is read by the compiler as much as by the runtime, so it
// lives here, in flow_program, as a row of TransportKinds(); how an attempt
// is sent is a Transport (transport.h) in flow_vm, registered under the
// row's name. The connector-file parser (connector_file.cpp) knows no
// transport by name: it finds the row for "kind" and hands the row the
// keys. A new transport is a row here (with its parse functions, in a file
// of its own if they are long) and a Register line in DefaultTransports.
// docs/adding_features.md "A new transport".
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vm/connectors/connector_file.h"
#include "vm/connectors/connector_json.h"

namespace flow::connectors {

struct TransportKindSpec {
  TransportKind kind;
  // Reads the "transport" object `transport` (at JSON path `path`, its
  // "kind" already read) into `out`: rejects keys the transport does not
  // know ("kind" is one it knows) and checks the values.
  Status (*parse_config)(const ojson& transport, const std::string& path, TransportConfig& out);
  // The operation member only this transport reads, "" for none; on an
  // operation of another transport it is an error ("'args' applies only to
  // the exec transport").
  std::string_view operation_key;
  // Reads that member of the operation at `path` into `out`; `member` is
  // nullptr when the operation has none. Unused when operation_key is "".
  Status (*parse_operation)(const ojson* member, const std::string& path, Operation& out);
  // Checks what the member says against the operation's input schema, once
  // that is read (`out.input` invalid when it is absent, `declares_input`
  // false, or wrong, `declares_input` true), appending a problem for each
  // mismatch; nullptr when there is nothing to check. http: each `{name}`
  // of the path is an input property.
  void (*check_with_input)(const Operation& out, const jsonschema::SchemaPool& pool, bool declares_input,
                           const std::string& path, std::vector<Error>& problems);
  // Whether an operation sends the idempotency key unless it says
  // "idempotency_key": false (Operation::idempotency_key).
  bool sends_idempotency_key;
};

// Every transport, in the order messages list them (http, exec, builtin).
auto TransportKinds() -> std::span<const TransportKindSpec>;

// The row named `name`, or nullptr.
auto FindTransportKind(std::string_view name) -> const TransportKindSpec*;

// The names for a message: "http, exec or builtin".
auto TransportKindList() -> std::string;

}  // namespace flow::connectors
