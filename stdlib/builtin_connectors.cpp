#include "stdlib/builtin_connectors.h"

#include <array>
#include <cstdio>

namespace flow::stdlib {
namespace {

// log.info / log.warn / log.error: write to the run's journal and stderr.
// Idempotent: the call is journaled, so a resumed run never logs twice.
constexpr std::string_view kLogConnector = R"json({
  "connector": "log",
  "transport": { "kind": "builtin" },
  "types": {
    "LogEntry": { "type": "object", "required": ["at"],
                  "properties": { "at": { "type": "string", "format": "date-time" } } },
    "LogInput": { "type": "object", "required": ["message"],
                  "properties": { "message": { "type": "string" }, "data": {} } }
  },
  "operations": {
    "info":  { "input": { "$ref": "#/types/LogInput" }, "output": { "$ref": "#/types/LogEntry" },
               "effect": "none", "idempotent": true },
    "warn":  { "input": { "$ref": "#/types/LogInput" }, "output": { "$ref": "#/types/LogEntry" },
               "effect": "none", "idempotent": true },
    "error": { "input": { "$ref": "#/types/LogInput" }, "output": { "$ref": "#/types/LogEntry" },
               "effect": "none", "idempotent": true }
  }
})json";

// http.request: an arbitrary HTTP call. Not idempotent (it may POST) and no
// idempotency key is sent (an arbitrary server would not honour it), so
// `retry` on it draws the W061 warning.
constexpr std::string_view kHttpConnector = R"json({
  "connector": "http",
  "transport": { "kind": "builtin" },
  "types": {
    "HttpResponse": { "type": "object", "required": ["status", "headers", "body"],
                      "properties": { "status": { "type": "integer" },
                                      "headers": { "type": "object" },
                                      "body": {} } }
  },
  "operations": {
    "request": {
      "input": { "type": "object", "required": ["method", "url"],
                 "properties": {
                   "method": { "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"] },
                   "url": { "type": "string" },
                   "headers": { "type": "object" },
                   "body": {} } },
      "output": { "$ref": "#/types/HttpResponse" },
      "effect": "none", "idempotent": false, "idempotency_key": false
    }
  }
})json";

constexpr std::array<BuiltinConnectorText, 2> kTexts = {{
    {"log", kLogConnector},
    {"http", kHttpConnector},
}};

}  // namespace

auto BuiltinConnectorTexts() -> std::span<const BuiltinConnectorText> { return kTexts; }

auto LoadBuiltinConnectors() -> std::vector<connectors::ConnectorFile> {
  std::vector<connectors::ConnectorFile> out;
  for (const BuiltinConnectorText& text : kTexts) {
    auto file = connectors::ParseConnectorFile(text.json);
    if (!file) std::fprintf(stderr, "flow: builtin connector '%s': %s\n", text.name.data(),
                            file.error().message.c_str());
    FLOW_CHECK(file.ok(), "a built-in connector text does not parse");
    out.push_back(std::move(file).value());
  }
  return out;
}

}  // namespace flow::stdlib
