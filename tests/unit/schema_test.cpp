// Connector schemas: the JSON Schema subset (vm/schema), connector files
// (vm/connectors), the built-in connectors (stdlib) and their mapping to flow
// types with the E011-E013 diagnostics (compiler/schema).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/schema/connector_types.h"
#include "stdlib/builtin_connectors.h"
#include "vm/connectors/connector_file.h"
#include "vm/schema/json_path.h"
#include "vm/schema/json_schema.h"
#include "vm/schema/validate.h"

namespace flow {
namespace {

using jsonschema::NodeId;
using jsonschema::SchemaPool;
using nlohmann::json;
using ojson = nlohmann::ordered_json;

// Parses `schema` (with optional named `types`) and returns the error
// message, or "" when it parsed.
auto SchemaError(const std::string& schema, const std::string& types = "null") -> std::string {
  SchemaPool pool;
  if (auto s = pool.AddTypes(ojson::parse(types), "$.types"); !s) return s.error().message;
  auto id = pool.Parse(ojson::parse(schema), "$.s");
  return id ? "" : id.error().message;
}

// Validates `value` against `schema`; "" when it conforms.
auto Check(const std::string& schema, const std::string& value, const std::string& types = "null")
    -> std::string {
  SchemaPool pool;
  auto s = pool.AddTypes(ojson::parse(types), "$.types");
  EXPECT_TRUE(s.ok()) << s.error().message;
  auto id = pool.Parse(ojson::parse(schema), "$");
  EXPECT_TRUE(id.ok()) << id.error().message;
  if (!id) return "<schema error>";
  auto error = jsonschema::Validate(pool, *id, json::parse(value));
  // Both JSON flavours must agree.
  auto ordered = jsonschema::Validate(pool, *id, ojson::parse(value));
  EXPECT_EQ(error, ordered);
  return error.value_or("");
}

// ------------------------------------------------------------ schema parsing

TEST(SchemaParse, AcceptsTheSubset) {
  EXPECT_EQ(SchemaError(R"({"type": "object", "required": ["a"], "properties": {
      "a": {"type": "integer", "minimum": 1, "maximum": 9},
      "b": {"type": ["string", "null"], "minLength": 1, "maxLength": 5, "pattern": "^x"},
      "c": {"type": "array", "items": {"type": "number"}},
      "d": {"enum": ["x", "y"]}, "e": {"const": "k"}, "f": {"type": "boolean", "nullable": true},
      "g": {"type": "string", "format": "date-time"}, "h": {"type": "null"},
      "i": {"description": "d", "title": "t", "examples": [1], "default": 2, "$comment": "c",
            "additionalProperties": false, "x-vendor": 1}}})"),
            "");
}

TEST(SchemaParse, ErrorsNameTheJsonPath) {
  EXPECT_EQ(SchemaError(R"({"type": "object", "properties": {"amount": {"type": "integr"}}})"),
            "$.s.properties.amount.type: unknown type 'integr'");
  EXPECT_EQ(SchemaError(R"({"type": ["string", 3]})"), "$.s.type[1]: 'type' must name a type as a string");
  EXPECT_EQ(SchemaError(R"({"type": []})"),
            "$.s.type: 'type' must be a type name or a non-empty array of type names");
  EXPECT_EQ(SchemaError(R"("string")"), "$.s: a schema must be a JSON object");
  EXPECT_EQ(SchemaError(R"({"type": "array", "items": [{"type": "string"}]})"),
            "$.s.items: 'items' must be one schema object");
  EXPECT_EQ(SchemaError(R"({"properties": {"my key": {"type": "x"}}})"),
            "$.s.properties[\"my key\"].type: unknown type 'x'");
}

TEST(SchemaParse, CompositionAndUnknownKeywordsAreErrors) {
  EXPECT_EQ(SchemaError(R"({"oneOf": [{"type": "string"}]})"), "$.s: unsupported keyword 'oneOf'");
  EXPECT_EQ(SchemaError(R"({"anyOf": []})"), "$.s: unsupported keyword 'anyOf'");
  EXPECT_EQ(SchemaError(R"({"allOf": []})"), "$.s: unsupported keyword 'allOf'");
  EXPECT_EQ(SchemaError(R"({"not": {}})"), "$.s: unsupported keyword 'not'");
  EXPECT_EQ(SchemaError(R"({"type": "integer", "multipleOf": 2})"),
            "$.s: unsupported keyword 'multipleOf'");
  EXPECT_EQ(SchemaError(R"({"type": "integer", "minimun": 2})"), "$.s: unknown keyword 'minimun'");
}

TEST(SchemaParse, KeywordValuesAreChecked) {
  EXPECT_EQ(SchemaError(R"({"type": "string", "pattern": "([a-z"})").rfind(
                "$.s.pattern: invalid pattern '([a-z': ", 0),
            0u);
  EXPECT_EQ(SchemaError(R"({"type": "string", "minLength": -1})"),
            "$.s.minLength: 'minLength' must be a non-negative integer");
  EXPECT_EQ(SchemaError(R"({"type": "integer", "minimum": "1"})"),
            "$.s.minimum: 'minimum' must be a number");
  EXPECT_EQ(SchemaError(R"({"type": "string", "minimum": 1})"),
            "$.s.minimum: 'minimum' does not apply to type string");
  EXPECT_EQ(SchemaError(R"({"type": "integer", "format": "date-time"})"),
            "$.s.format: 'format' does not apply to type integer");
  EXPECT_EQ(SchemaError(R"({"enum": []})"), "$.s.enum: 'enum' must be a non-empty array");
  EXPECT_EQ(SchemaError(R"({"type": "string", "enum": ["a", 2]})"),
            "$.s.enum[1]: 2 is not of type string");
  EXPECT_EQ(SchemaError(R"({"type": "string", "nullable": "yes"})"),
            "$.s.nullable: 'nullable' must be true or false");
  EXPECT_EQ(SchemaError(R"({"type": "object", "properties": {"a": {}}, "required": ["b"]})"),
            "$.s.required[0]: required property 'b' is not declared in 'properties'");
  EXPECT_EQ(SchemaError(R"({"type": "object", "required": "a"})"),
            "$.s.required: 'required' must be an array of property names");
  // Other formats are annotations.
  EXPECT_EQ(SchemaError(R"({"type": "string", "format": "email"})"), "");
}

TEST(SchemaParse, RefsResolveInAnyOrder) {
  SchemaPool pool;
  auto s = pool.AddTypes(ojson::parse(R"({"Order": {"type": "object", "properties": {
      "line": {"$ref": "#/types/Line"}}}, "Line": {"type": "integer"}})"),
                         "$.types");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(pool.named_types().size(), 2u);
  EXPECT_EQ(pool.named_types()[0].name, "Order");  // file order
  EXPECT_TRUE(pool.FindType("Line").valid());
  auto id = pool.Parse(ojson::parse(R"({"$ref": "#/types/Order", "nullable": true})"), "$.o");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(pool.node(*id).ref_name, "Order");
  EXPECT_TRUE(pool.node(*id).nullable);
  EXPECT_EQ(pool.Resolve(*id), pool.FindType("Order"));
}

TEST(SchemaParse, RefErrors) {
  EXPECT_EQ(SchemaError(R"({"$ref": "#/types/Chrage"})", R"({"Charge": {}})"),
            "$.s.$ref: unknown type 'Chrage'");
  EXPECT_EQ(SchemaError(R"({"$ref": "#/definitions/A"})"),
            "$.s.$ref: '$ref' must have the form '#/types/Name', found '#/definitions/A'");
  EXPECT_EQ(SchemaError(R"({"$ref": "#/types/A", "type": "object"})", R"({"A": {}})"),
            "$.s: keyword 'type' cannot be combined with '$ref'");
  EXPECT_EQ(SchemaError(R"({})", R"({"bad-name": {}})"),
            "$.types[\"bad-name\"]: type name 'bad-name' is not an identifier");
}

TEST(SchemaParse, RecursiveTypesAreRejected) {
  EXPECT_EQ(SchemaError("{}", R"({"Node": {"type": "object", "properties": {
      "next": {"$ref": "#/types/Node"}}}})"),
            "$.types.Node.properties.next.$ref: recursive type 'Node' is not supported");
  EXPECT_EQ(SchemaError("{}", R"({"A": {"type": "array", "items": {"$ref": "#/types/B"}},
                                 "B": {"$ref": "#/types/A"}})"),
            "$.types.B.$ref: recursive type 'A' is not supported");
}

TEST(SchemaParse, NestingLimit) {
  std::string deep;
  for (int i = 0; i <= jsonschema::kMaxSchemaDepth; ++i) deep += R"({"type": "array", "items": )";
  deep += "{}";
  for (int i = 0; i <= jsonschema::kMaxSchemaDepth; ++i) deep += "}";
  EXPECT_NE(SchemaError(deep).find("schema nesting exceeds the limit of 64 levels"), std::string::npos);
}

// ---------------------------------------------------------------- validation

TEST(Validate, Types) {
  const std::string charge = R"({"type": "object", "required": ["id", "amount"], "properties": {
      "id": {"type": "string"}, "amount": {"type": "integer"}, "rate": {"type": "number"},
      "ok": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}}}})";
  EXPECT_EQ(Check(charge, R"({"id": "c1", "amount": 5, "rate": 2, "ok": true, "tags": ["a"]})"), "");
  EXPECT_EQ(Check(charge, R"({"id": "c1", "amount": "5"})"), "$.amount: expected integer, got string");
  EXPECT_EQ(Check(charge, R"({"id": "c1", "amount": 5.5})"), "$.amount: expected integer, got number");
  EXPECT_EQ(Check(charge, R"({"id": "c1", "amount": 5, "ok": 1})"), "$.ok: expected boolean, got integer");
  EXPECT_EQ(Check(charge, R"({"id": "c1", "amount": 5, "tags": ["a", 2]})"),
            "$.tags[1]: expected string, got integer");
  EXPECT_EQ(Check(charge, R"({"amount": 5})"), "$: missing required property 'id'");
  EXPECT_EQ(Check(charge, R"([1])"), "$: expected object, got array");
  EXPECT_EQ(Check(charge, R"({"id": null, "amount": 1})"), "$.id: expected string, got null");
  // Not required: absent or null is fine; extra properties are fine.
  EXPECT_EQ(Check(charge, R"({"id": "c", "amount": 1, "rate": null, "more": {}})"), "");
  EXPECT_EQ(Check(R"({"type": "integer"})", "18446744073709551615"),
            "$: 18446744073709551615 does not fit in a 64-bit integer");
}

TEST(Validate, NestedPaths) {
  const std::string order = R"({"type": "object", "properties": {"items": {"type": "array",
      "items": {"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer"}}}},
      "weird key": {"type": "string"}}})";
  EXPECT_EQ(Check(order, R"({"items": [{"qty": 1}, {"qty": "2"}]})"),
            "$.items[1].qty: expected integer, got string");
  EXPECT_EQ(Check(order, R"({"items": [{"qty": 1}, {}]})"), "$.items[1]: missing required property 'qty'");
  EXPECT_EQ(Check(order, R"({"weird key": 1})"), "$[\"weird key\"]: expected string, got integer");
}

TEST(Validate, NullableAndTypeArrays) {
  EXPECT_EQ(Check(R"({"type": ["string", "null"]})", "null"), "");
  EXPECT_EQ(Check(R"({"type": ["string", "null"]})", "3"), "$: expected string or null, got integer");
  EXPECT_EQ(Check(R"({"type": "string", "nullable": true})", "null"), "");
  EXPECT_EQ(Check(R"({"type": "string"})", "null"), "$: expected string, got null");
  EXPECT_EQ(Check(R"({"type": "number"})", "3"), "");  // an integer is a number
  EXPECT_EQ(Check(R"({})", R"({"any": [1]})"), "");
  // A nullable enum accepts null though the enum does not list it.
  EXPECT_EQ(Check(R"({"type": "string", "enum": ["a"], "nullable": true})", "null"), "");
}

TEST(Validate, EnumAndConst) {
  const std::string status = R"({"type": "object", "properties": {"status": {"enum": ["paid", "pending"]}}})";
  EXPECT_EQ(Check(status, R"({"status": "paid"})"), "");
  EXPECT_EQ(Check(status, R"({"status": "refunded"})"),
            "$.status: \"refunded\" is not one of \"paid\", \"pending\"");
  EXPECT_EQ(Check(R"({"enum": [1, 2]})", "2.0"), "");  // numbers compare by value
  EXPECT_EQ(Check(R"({"enum": [1, 2]})", "[1]"), "$: an array is not one of 1, 2");
  EXPECT_EQ(Check(R"({"const": "v1"})", R"("v1")"), "");
  EXPECT_EQ(Check(R"({"const": "v1"})", R"("v2")"), "$: expected the constant \"v1\", got \"v2\"");
  EXPECT_EQ(Check(R"({"const": {"a": [1]}})", R"({"a": [1]})"), "");
  std::string long_value(200, 'x');
  std::string message = Check(R"({"enum": ["a"]})", "\"" + long_value + "\"");
  EXPECT_LT(message.size(), 100u) << message;
}

TEST(Validate, NumericBounds) {
  const std::string amount = R"({"type": "integer", "minimum": 1, "maximum": 100})";
  EXPECT_EQ(Check(amount, "1"), "");
  EXPECT_EQ(Check(amount, "100"), "");
  EXPECT_EQ(Check(amount, "0"), "$: 0 is less than the minimum 1");
  EXPECT_EQ(Check(amount, "101"), "$: 101 is greater than the maximum 100");
  EXPECT_EQ(Check(R"({"type": "number", "minimum": 0.5})", "0.25"), "$: 0.25 is less than the minimum 0.5");
  EXPECT_EQ(Check(R"({"type": "integer", "minimum": -5})", "-6"), "$: -6 is less than the minimum -5");
  EXPECT_EQ(Check(R"({"type": "integer", "maximum": -1})", "18446744073709551615"),
            "$: 18446744073709551615 does not fit in a 64-bit integer");
  EXPECT_EQ(Check(R"({"type": "number", "maximum": -1})", "18446744073709551615"),
            "$: 18446744073709551615 is greater than the maximum -1");
}

TEST(Validate, StringLengthAndPattern) {
  const std::string code = R"({"type": "string", "minLength": 2, "maxLength": 3})";
  EXPECT_EQ(Check(code, R"("ab")"), "");
  EXPECT_EQ(Check(code, R"("a")"), "$: length 1 is less than the minimum length 2");
  EXPECT_EQ(Check(code, R"("abcd")"), "$: length 4 is greater than the maximum length 3");
  EXPECT_EQ(Check(code, R"("é€")"), "");  // code points, not bytes
  const std::string email = R"({"type": "object", "properties": {"email": {"type": "string", "pattern": "^[^@]+@[^@]+$"}}})";
  EXPECT_EQ(Check(email, R"({"email": "a@b"})"), "");
  EXPECT_EQ(Check(email, R"({"email": "nope"})"), "$.email: does not match pattern '^[^@]+@[^@]+$'");
  // Unanchored search, as JSON Schema says.
  EXPECT_EQ(Check(R"({"type": "string", "pattern": "b"})", R"("abc")"), "");
  std::string huge(jsonschema::kMaxPatternSubjectBytes + 1, 'a');
  EXPECT_NE(Check(R"({"type": "string", "pattern": "a+"})", "\"" + huge + "\"").find("the limit for checking pattern"),
            std::string::npos);
}

TEST(Validate, DateTime) {
  const std::string at = R"({"type": "string", "format": "date-time"})";
  EXPECT_EQ(Check(at, R"("2026-01-15T09:30:00Z")"), "");
  EXPECT_EQ(Check(at, R"("yesterday")"), "$: \"yesterday\" is not an RFC 3339 date-time");
  using jsonschema::IsRfc3339DateTime;
  EXPECT_TRUE(IsRfc3339DateTime("2026-01-15T09:30:00.125+01:00"));
  EXPECT_TRUE(IsRfc3339DateTime("2024-02-29t23:59:60z"));
  EXPECT_FALSE(IsRfc3339DateTime("2025-02-29T00:00:00Z"));  // not a leap year
  EXPECT_FALSE(IsRfc3339DateTime("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-01-15T24:00:00Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-01-15T09:30:00"));   // no zone
  EXPECT_FALSE(IsRfc3339DateTime("2026-01-15 09:30:00Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-01-15T09:30:00.Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-01-15T09:30:00+0100"));
  EXPECT_FALSE(IsRfc3339DateTime(""));
}

TEST(Validate, ThroughRefs) {
  const std::string types = R"({"Charge": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}})";
  EXPECT_EQ(Check(R"({"$ref": "#/types/Charge"})", R"({"id": "x"})", types), "");
  EXPECT_EQ(Check(R"({"$ref": "#/types/Charge"})", "null", types), "$: expected object, got null");
  EXPECT_EQ(Check(R"({"$ref": "#/types/Charge", "nullable": true})", "null", types), "");
  EXPECT_EQ(Check(R"({"type": "array", "items": {"$ref": "#/types/Charge"}})", R"([{"id": 1}])", types),
            "$[0].id: expected string, got integer");
}

// ------------------------------------------------------------ connector files

constexpr const char* kBilling = R"({
  "connector": "billing",
  "version": "2026-01-15",
  "transport": { "kind": "http", "base_url": "http://127.0.0.1:8099",
                 "base_url_env": "BILLING_URL",
                 "auth": { "kind": "bearer", "token_env": "BILLING_TOKEN" } },
  "types": { "Charge": { "type": "object", "required": ["id", "amount"],
             "properties": { "id": { "type": "string" }, "amount": { "type": "integer" },
                             "status": { "enum": ["paid", "pending"] } } } },
  "operations": {
    "charge": {
      "http": { "method": "POST", "path": "/customers/{customer}/charges" },
      "input": { "type": "object", "required": ["customer", "amount"],
                 "properties": { "customer": { "type": "string" },
                                 "amount": { "type": "integer", "minimum": 1 },
                                 "memo": { "type": "string" } } },
      "output": { "$ref": "#/types/Charge" },
      "effect": "irreversible", "idempotent": false, "requires_approval": true
    },
    "refund": { "http": { "method": "POST", "path": "/refunds" },
                "input": { "type": "object", "properties": { "charge": { "type": "string" } } },
                "effect": "reversible", "idempotent": true, "idempotency_key": false },
    "ping": { "http": { "method": "GET", "path": "/ping" } }
  }
})";

TEST(ConnectorFile, ParsesTheSpecExample) {
  auto file = connectors::ParseConnectorFile(kBilling);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->name, "billing");
  EXPECT_EQ(file->version, "2026-01-15");
  EXPECT_EQ(file->transport.kind, connectors::TransportKind::Http);
  EXPECT_EQ(file->transport.base_url_env, "BILLING_URL");
  EXPECT_EQ(file->transport.auth.kind, connectors::AuthKind::Bearer);
  EXPECT_EQ(file->transport.auth.token_env, "BILLING_TOKEN");
  ASSERT_EQ(file->operations.size(), 3u);
  const auto* charge = file->FindOperation("charge");
  ASSERT_NE(charge, nullptr);
  EXPECT_EQ(charge->http.method, "POST");
  EXPECT_EQ(charge->http.path_params, std::vector<std::string>{"customer"});
  EXPECT_EQ(charge->effect, connectors::Effect::Irreversible);
  EXPECT_TRUE(charge->requires_approval);
  EXPECT_TRUE(charge->idempotency_key);
  EXPECT_FALSE(file->FindOperation("refund")->idempotency_key);
  const auto* ping = file->FindOperation("ping");
  EXPECT_FALSE(ping->input.valid());
  EXPECT_EQ(ping->effect, connectors::Effect::None);
  // The output schema validates responses.
  EXPECT_EQ(jsonschema::Validate(file->schemas, charge->output, json::parse(R"({"id": "c", "amount": "1"})")),
            "$.amount: expected integer, got string");
  EXPECT_EQ(file->FindOperation("nope"), nullptr);
}

TEST(ConnectorFile, ExecTransportAndAuthKinds) {
  auto exec = connectors::ParseConnectorFile(R"({"connector": "crm", "transport": {"kind": "exec",
      "command": ["python3", "tools/crm.py"]}, "operations": {"find": {"args": ["find"]}}})");
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  EXPECT_EQ(exec->transport.command, (std::vector<std::string>{"python3", "tools/crm.py"}));
  EXPECT_EQ(exec->operations[0].args, std::vector<std::string>{"find"});
  EXPECT_TRUE(exec->operations[0].idempotency_key);
  auto basic = connectors::ParseConnectorFile(R"({"connector": "a", "transport": {"kind": "http",
      "base_url": "https://x", "auth": {"kind": "basic", "username_env": "U", "password_env": "P"}},
      "operations": {}})");
  ASSERT_TRUE(basic.ok()) << basic.error().message;
  EXPECT_EQ(basic->transport.auth.password_env, "P");
  auto header = connectors::ParseConnectorFile(R"({"connector": "a", "transport": {"kind": "http",
      "base_url": "https://x", "auth": {"kind": "header", "header": "X-Api-Key", "value_env": "K"}},
      "operations": {}})");
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(header->transport.auth.header, "X-Api-Key");
}

// The error of a connector file built from pieces; "" when it parses.
auto FileError(const std::string& transport, const std::string& operations,
               const std::string& extra = "") -> std::string {
  std::string text = R"({"connector": "c", "transport": )" + transport + extra +
                     R"(, "operations": )" + operations + "}";
  auto file = connectors::ParseConnectorFile(text);
  return file ? "" : file.error().message;
}

constexpr const char* kHttp = R"({"kind": "http", "base_url": "http://h"})";
constexpr const char* kExec = R"({"kind": "exec", "command": ["x"]})";

TEST(ConnectorFile, ErrorsNameTheJsonPath) {
  EXPECT_EQ(FileError(R"({"kind": "grpc"})", "{}"),
            "$.transport.kind: unknown transport kind 'grpc'; expected http, exec or builtin");
  EXPECT_EQ(FileError(R"({"kind": "http"})", "{}"), "$.transport: missing 'base_url'");
  EXPECT_EQ(FileError(R"({"kind": "http", "base_url": "ftp://h"})", "{}"),
            "$.transport.base_url: base_url must start with http:// or https://");
  EXPECT_EQ(FileError(R"({"kind": "exec", "command": []})", "{}"),
            "$.transport.command: 'command' must be a non-empty array of strings");
  EXPECT_EQ(FileError(R"({"kind": "http", "base_url": "http://h", "auth": {"kind": "oauth"}})", "{}"),
            "$.transport.auth.kind: unknown auth kind 'oauth'; expected bearer, basic or header");
  EXPECT_EQ(FileError(R"({"kind": "http", "base_url": "http://h", "auth": {"kind": "bearer"}})", "{}"),
            "$.transport.auth: missing 'token_env'");
  EXPECT_EQ(FileError(kHttp, "{}", R"(, "operatons": {})"), "$: unknown key 'operatons'");
  EXPECT_EQ(FileError(kHttp, R"({"a": {}})"), "$.operations.a: missing 'http' (method and path)");
  EXPECT_EQ(FileError(kHttp, R"({"a": {"http": {"method": "FETCH", "path": "/"}}})"),
            "$.operations.a.http.method: unknown method 'FETCH'; expected GET, POST, PUT, PATCH or DELETE");
  EXPECT_EQ(FileError(kHttp, R"({"a": {"http": {"method": "GET", "path": "x"}}})"),
            "$.operations.a.http.path: path must start with '/'");
  EXPECT_EQ(FileError(kHttp, R"({"a": {"http": {"method": "GET", "path": "/c/{id}"}}})"),
            "$.operations.a.http.path: path parameter '{id}' is not an input property");
  EXPECT_EQ(FileError(kHttp, R"({"a": {"http": {"method": "GET", "path": "/c/{id"}}})"),
            "$.operations.a.http.path: unclosed '{' in path '/c/{id'");
  EXPECT_EQ(FileError(kExec, R"({"a": {"http": {"method": "GET", "path": "/"}}})"),
            "$.operations.a.http: 'http' applies only to the http transport");
  EXPECT_EQ(FileError(kHttp, R"({"a": {"http": {"method": "GET", "path": "/"}, "args": []}})"),
            "$.operations.a.args: 'args' applies only to the exec transport");
  EXPECT_EQ(FileError(kExec, R"({"a": {"input": {"type": "object"}}})"),
            "$.operations.a.input: 'input' must be an object schema with 'properties'");
  EXPECT_EQ(FileError(kExec, R"({"a": {"input": {"type": "string"}}})"),
            "$.operations.a.input: 'input' must be an object schema with 'properties'");
  EXPECT_EQ(FileError(kExec, R"({"a": {"input": {"properties": {"x-y": {}}}}})"),
            "$.operations.a.input.properties[\"x-y\"]: argument name 'x-y' is not an identifier");
  EXPECT_EQ(FileError(kExec, R"({"a": {"effect": "destructive"}})"),
            "$.operations.a.effect: unknown effect 'destructive'; expected none, reversible or irreversible");
  EXPECT_EQ(FileError(kExec, R"({"a": {"idempotent": "yes"}})"),
            "$.operations.a.idempotent: 'idempotent' must be true or false");
  EXPECT_EQ(FileError(kExec, R"({"a": {"requires_aproval": true}})"),
            "$.operations.a: unknown key 'requires_aproval'");
  EXPECT_EQ(FileError(kExec, R"({"a": {"output": {"type": "integr"}}})"),
            "$.operations.a.output.type: unknown type 'integr'");
  EXPECT_EQ(FileError(kExec, R"({"a-b": {}})"),
            "$.operations[\"a-b\"]: operation name 'a-b' is not an identifier");
  EXPECT_EQ(FileError(kExec, "[]"), "$.operations: 'operations' must be an object");
  auto missing = connectors::ParseConnectorFile(R"({"transport": {"kind": "builtin"}, "operations": {}})");
  EXPECT_EQ(missing.error().message, "$: missing 'connector'");
}

TEST(ConnectorFile, ProblemPartsSeparateJsonFromSchemaErrors) {
  std::vector<connectors::ParseProblem> problems;
  auto bad = connectors::ParseConnectorFile("{\n  \"connector\": tru\n}", &problems);
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].invalid_json);
  EXPECT_EQ(problems[0].byte_offset, 20u);  // the character after "tru"
  EXPECT_EQ(bad.error().message,
            "invalid JSON at byte 20: syntax error while parsing value - invalid literal");
  EXPECT_EQ(problems[0].what.find("parse error at line"), std::string::npos);

  auto empty = connectors::ParseConnectorFile("", &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].invalid_json);
  EXPECT_EQ(problems[0].byte_offset, 0u);

  auto schema = connectors::ParseConnectorFile(
      R"({"connector": "c", "transport": {"kind": "builtin"}, "operations": {"a b": {"output": {"type": "x"}}}})",
      &problems);
  ASSERT_FALSE(schema.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_FALSE(problems[0].invalid_json);
  EXPECT_EQ(problems[0].json_path, "$.operations[\"a b\"]");
  EXPECT_EQ(problems[0].what, "operation name 'a b' is not an identifier");
}

// Issue 11: a connector file reports every problem at once, in file order,
// and the first is the Error's message.
TEST(ConnectorFile, EveryProblemAtOnce) {
  std::vector<connectors::ParseProblem> problems;
  auto file = connectors::ParseConnectorFile(R"({"connector": "c", "verison": "1",
    "transport": {"kind": "http", "base_url": "ftp://x"},
    "operations": {
      "a": {"http": {"method": "FETCH", "path": "/a"}, "idempotnet": true, "output": {"type": "strin"}},
      "b": {"http": {"method": "GET", "path": "/b/{id}"}, "effect": "sometimes", "requires_approval": "yes"}}})",
                                             &problems);
  ASSERT_FALSE(file.ok());
  std::vector<std::string> seen;
  for (const auto& p : problems) seen.push_back(p.json_path + ": " + p.what);
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "$: unknown key 'verison'",
                      "$.transport.base_url: base_url must start with http:// or https://",
                      "$.operations.a: unknown key 'idempotnet'",
                      "$.operations.a.http.method: unknown method 'FETCH'; expected GET, POST, PUT, PATCH or DELETE",
                      "$.operations.a.output.type: unknown type 'strin'",
                      "$.operations.b.http.path: path parameter '{id}' is not an input property",
                      "$.operations.b.effect: unknown effect 'sometimes'; expected none, reversible or irreversible",
                      "$.operations.b.requires_approval: 'requires_approval' must be true or false",
                  }));
  EXPECT_EQ(file.error().message, "$: unknown key 'verison'");
}

TEST(ConnectorFile, DeepNestingIsRejectedNotRecursed) {
  std::string text(100000, '[');
  std::vector<connectors::ParseProblem> problems;
  auto file = connectors::ParseConnectorFile(text, &problems);
  ASSERT_FALSE(file.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].invalid_json);
  EXPECT_EQ(problems[0].byte_offset, static_cast<size_t>(connectors::kMaxConnectorJsonDepth));
  EXPECT_EQ(problems[0].what, "nesting exceeds the limit of 128 levels");
}

TEST(JsonPath, LocatesValuesInText) {
  std::string text = R"({"a": {"b c": [10, {"d": "x"}]}, "e": true})";
  auto at = [&](const char* path) {
    auto span = jsonschema::LocateJsonPath(text, path);
    return span ? text.substr(span->begin, span->end - span->begin) : "<none>";
  };
  EXPECT_EQ(at("$.e"), "true");
  EXPECT_EQ(at("$.a[\"b c\"][0]"), "10");
  EXPECT_EQ(at("$.a[\"b c\"][1].d"), "\"x\"");
  EXPECT_EQ(at("$.a.missing"), R"({"b c": [10, {"d": "x"}]})");  // nearest enclosing
  EXPECT_EQ(at("$"), text);
  EXPECT_EQ(at("nope"), "<none>");
}

// ------------------------------------------------------------ flow types

class ConnectorTypesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("flow_schema_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    decl_file_ = sources_.Add("wf.flow", "connector billing = \"billing.json\"\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  auto Write(const std::string& name, const std::string& text) -> std::string {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  auto Load(const std::string& path, const std::string& declared = "") -> std::optional<schema::ConnectorSig> {
    return schema::LoadConnector(path, decl_range(), sources_, types_, diags_, declared);
  }
  auto decl_range() const -> SourceRange { return SourceRange{decl_file_, 0, 7}; }
  auto Arg(const schema::OperationSig& op, const std::string& name) -> std::string {
    const auto* arg = op.FindArg(name);
    return arg ? types_.Display(arg->type) + (arg->required ? "" : " (optional)") : "<none>";
  }

  std::filesystem::path dir_;
  SourceManager sources_;
  FileId decl_file_;
  types::TypeTable types_;
  Diagnostics diags_;
};

TEST_F(ConnectorTypesTest, MapsTheSpecExample) {
  auto sig = Load(Write("billing.json", kBilling));
  ASSERT_TRUE(sig.has_value()) << RenderText(diags_, sources_);
  EXPECT_EQ(sig->name, "billing");
  EXPECT_FALSE(sig->builtin);
  EXPECT_EQ(sig->OperationNames(), (std::vector<std::string>{"charge", "refund", "ping"}));
  const auto* charge = sig->FindOperation("charge");
  ASSERT_NE(charge, nullptr);
  EXPECT_EQ(charge->display_name(), "billing.charge");
  ASSERT_EQ(charge->args.size(), 3u);
  EXPECT_EQ(charge->args[0].name, "customer");  // file order, not sorted
  EXPECT_EQ(charge->args[1].name, "amount");
  EXPECT_EQ(Arg(*charge, "amount"), "int");
  EXPECT_EQ(Arg(*charge, "memo"), "string (optional)");
  EXPECT_EQ(charge->FindArg("amout"), nullptr);
  // The named type prints under its own name; its structure underneath.
  EXPECT_EQ(types_.Display(charge->output), "Charge");
  EXPECT_EQ(types_.Display(types_.FieldType(charge->output, "status")), "(\"paid\" | \"pending\")?");
  EXPECT_EQ(charge->effect, schema::Effect::Irreversible);
  EXPECT_TRUE(charge->requires_approval);
  EXPECT_FALSE(charge->idempotent);
  EXPECT_TRUE(charge->sends_idempotency_key);
  const auto* refund = sig->FindOperation("refund");
  EXPECT_FALSE(refund->sends_idempotency_key);
  EXPECT_EQ(refund->effect, schema::Effect::Reversible);
  EXPECT_EQ(types_.Display(refund->output), "json");  // absent output
  EXPECT_TRUE(sig->FindOperation("ping")->args.empty());
  EXPECT_EQ(sig->FindOperation("nope"), nullptr);
  EXPECT_EQ(diags_.error_count(), 0);
}

TEST_F(ConnectorTypesTest, MappingTable) {
  auto sig = Load(Write("t.json", R"({"connector": "t", "transport": {"kind": "builtin"},
    "types": {"Plan": {"enum": ["free", "pro"]}},
    "operations": {"op": {"input": {"type": "object", "required": ["i","n","b","s","t","l","o","r","e","k","ni","nn","js","ob","plan","mix","ei","nul","num"],
      "properties": {
        "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "boolean"},
        "s": {"type": "string"}, "t": {"type": "string", "format": "date-time"},
        "l": {"type": "array", "items": {"type": "integer"}}, "o": {"type": "object"},
        "r": {"type": "object", "required": ["x"], "properties": {"x": {"type": "string"}, "y": {"type": "integer"}}},
        "e": {"enum": ["a", "b"]}, "k": {"const": "v1"}, "ni": {"type": "integer", "nullable": true},
        "nn": {"type": ["string", "null"]}, "js": {}, "ob": {"type": "array"},
        "plan": {"$ref": "#/types/Plan"}, "mix": {"type": ["string", "integer"]},
        "ei": {"type": "integer", "enum": [1, 2]}, "nul": {"type": "null"},
        "num": {"type": ["integer", "number"]}}}}}})"));
  ASSERT_TRUE(sig.has_value()) << RenderText(diags_, sources_);
  const auto& op = sig->operations[0];
  EXPECT_EQ(Arg(op, "i"), "int");
  EXPECT_EQ(Arg(op, "n"), "float");
  EXPECT_EQ(Arg(op, "b"), "bool");
  EXPECT_EQ(Arg(op, "s"), "string");
  EXPECT_EQ(Arg(op, "t"), "time");
  EXPECT_EQ(Arg(op, "l"), "[int]");
  EXPECT_EQ(Arg(op, "o"), "json");
  EXPECT_EQ(Arg(op, "r"), "{ x: string, y: int? }");
  EXPECT_EQ(Arg(op, "e"), "\"a\" | \"b\"");
  EXPECT_EQ(Arg(op, "k"), "\"v1\"");
  EXPECT_EQ(Arg(op, "ni"), "int?");
  EXPECT_EQ(Arg(op, "nn"), "string?");
  EXPECT_EQ(Arg(op, "js"), "json");
  EXPECT_EQ(Arg(op, "ob"), "[json]");
  EXPECT_EQ(Arg(op, "plan"), "Plan");
  EXPECT_EQ(Arg(op, "mix"), "json");
  EXPECT_EQ(Arg(op, "ei"), "int");
  EXPECT_EQ(Arg(op, "nul"), "null");
  EXPECT_EQ(Arg(op, "num"), "float");
}

TEST_F(ConnectorTypesTest, DeclaredNameWins) {
  auto sig = Load(Write("b.json", kBilling), "pay");
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(sig->name, "pay");
  EXPECT_EQ(sig->operations[0].display_name(), "pay.charge");
}

TEST_F(ConnectorTypesTest, MissingFileIsE011AtTheDeclaration) {
  EXPECT_FALSE(Load((dir_ / "nope.json").string()).has_value());
  ASSERT_EQ(diags_.all().size(), 1u);
  const Diagnostic& d = diags_.all()[0];
  EXPECT_EQ(GetDiagKindInfo(d.kind).code, "E011");
  EXPECT_EQ(d.message, "cannot read connector file '" + (dir_ / "nope.json").string() +
                           "': No such file or directory");
  EXPECT_EQ(d.range.file, decl_file_);
}

TEST_F(ConnectorTypesTest, DirectoryIsE011) {
  EXPECT_FALSE(Load(dir_.string()).has_value());
  ASSERT_EQ(diags_.all().size(), 1u);
  EXPECT_EQ(diags_.all()[0].message,
            "cannot read connector file '" + dir_.string() + "': it is a directory");
}

TEST_F(ConnectorTypesTest, BadJsonIsE012AtItsLineAndColumn) {
  std::string path = Write("bad.json", "{\n  \"connector\": \"x\",\n  \"transport\": tru\n}\n");
  EXPECT_FALSE(Load(path).has_value());
  ASSERT_EQ(diags_.all().size(), 1u);
  EXPECT_EQ(GetDiagKindInfo(diags_.all()[0].kind).code, "E012");
  std::string text = RenderText(diags_, sources_);
  EXPECT_NE(text.find(path + ":3:19: error: connector file '" + path +
                      "' is not valid JSON: syntax error while parsing value - invalid literal\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  \"transport\": tru\n                  ^\n"), std::string::npos) << text;
  EXPECT_NE(text.find("wf.flow:1:1: note: connector declared here"), std::string::npos) << text;
}

TEST_F(ConnectorTypesTest, TruncatedJsonPointsAfterTheLastCharacter) {
  std::string path = Write("cut.json", "{\n  \"connector\": \"x\"\n\n");
  EXPECT_FALSE(Load(path).has_value());
  std::string text = RenderText(diags_, sources_);
  EXPECT_NE(text.find(path + ":2:19: error:"), std::string::npos) << text;
}

TEST_F(ConnectorTypesTest, SchemaErrorIsE013AtTheJsonPath) {
  std::string path = Write("s.json", R"({"connector": "c", "transport": {"kind": "builtin"},
  "operations": {"charge": {"input": {"type": "object",
    "properties": {"amount": {"type": "integr"}}}}}})");
  EXPECT_FALSE(Load(path).has_value());
  ASSERT_EQ(diags_.all().size(), 1u);
  const Diagnostic& d = diags_.all()[0];
  EXPECT_EQ(GetDiagKindInfo(d.kind).code, "E013");
  EXPECT_EQ(d.message, "connector file '" + path +
                           "': $.operations.charge.input.properties.amount.type: unknown type 'integr'");
  std::string text = RenderText(diags_, sources_);
  EXPECT_NE(text.find(path + ":3:39: error:"), std::string::npos) << text;
  EXPECT_NE(text.find("^~~~~~~~\n"), std::string::npos) << text;
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].message, "connector declared here");
}

TEST_F(ConnectorTypesTest, BuiltinConnectors) {
  auto builtins = schema::BuiltinConnectors(types_);
  ASSERT_EQ(builtins.size(), 2u);
  const auto& log = builtins[0];
  EXPECT_EQ(log.name, "log");
  EXPECT_TRUE(log.builtin);
  EXPECT_TRUE(log.path.empty());
  EXPECT_EQ(log.OperationNames(), (std::vector<std::string>{"info", "warn", "error"}));
  for (const auto& op : log.operations) {
    EXPECT_EQ(Arg(op, "message"), "string");
    EXPECT_EQ(Arg(op, "data"), "json (optional)");
    EXPECT_EQ(types_.Display(op.output), "{ at: time }");
    EXPECT_TRUE(op.idempotent);
    EXPECT_EQ(op.effect, schema::Effect::None);
  }
  const auto& http = builtins[1];
  EXPECT_EQ(http.name, "http");
  const auto* request = http.FindOperation("request");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(Arg(*request, "method"), "\"DELETE\" | \"GET\" | \"PATCH\" | \"POST\" | \"PUT\"");
  EXPECT_EQ(Arg(*request, "url"), "string");
  EXPECT_EQ(Arg(*request, "headers"), "json (optional)");
  EXPECT_EQ(Arg(*request, "body"), "json (optional)");
  EXPECT_EQ(request->args[0].name, "method");
  EXPECT_EQ(types_.Display(request->output), "{ body: json, headers: json, status: int }");
  EXPECT_FALSE(request->idempotent);
  EXPECT_FALSE(request->sends_idempotency_key);
  // The same texts load through the runtime's parser too.
  EXPECT_EQ(stdlib::LoadBuiltinConnectors().size(), stdlib::BuiltinConnectorTexts().size());
}

}  // namespace
}  // namespace flow
