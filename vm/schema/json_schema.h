// The JSON Schema subset of SPEC §3, as a model the runtime and the checker
// share.
//
// A connector file describes every operation's input and output with a small
// subset of JSON Schema: `type` (one name or an array such as
// ["string", "null"]), `properties`, `required`, `items`, `enum`, `const`,
// `$ref` to "#/types/Name", `nullable`, `format: date-time`, `minimum`,
// `maximum`, `minLength`, `maxLength`, `pattern`. Parsing turns the JSON into
// nodes in a SchemaPool, referred to by NodeId (no pointer graphs), and
// rejects, with the JSON path of the problem, anything outside the subset:
// composition keywords (oneOf, anyOf, allOf, not), validation keywords we do
// not enforce (multipleOf, minItems...), unknown keywords (usually a typo
// that would silently drop a constraint) and recursive types. Annotations
// (description, title, examples, default, additionalProperties, $comment,
// and any "x-" extension) are accepted and ignored.
//
// A `$ref` node is resolved when parsed: it stores the target's NodeId and the
// type's name, so walking a schema never looks names up again. Recursive
// types are rejected for now because flow's type table has no recursive
// types either.
//
// The validator (validate.h) runs on every connector response; the compiler
// (compiler/schema) maps nodes to flow types.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "vm/base/result.h"

namespace flow::jsonschema {

struct NodeId {
  int32_t index = -1;
  auto valid() const -> bool { return index >= 0; }
  friend auto operator==(NodeId a, NodeId b) -> bool { return a.index == b.index; }
};

// The JSON value kinds `type` can name.
enum class JsonType : uint8_t { Null, Boolean, Integer, Number, String, Array, Object };

// A set of JsonType, one bit each. Empty means "any type".
class TypeSet {
 public:
  TypeSet() = default;
  static auto Of(JsonType t) -> TypeSet { return TypeSet(Bit(t)); }
  auto empty() const -> bool { return bits_ == 0; }
  auto has(JsonType t) const -> bool { return (bits_ & Bit(t)) != 0; }
  void add(JsonType t) { bits_ |= Bit(t); }
  void remove(JsonType t) { bits_ &= static_cast<uint8_t>(~Bit(t)); }
  // The number of kinds in the set.
  auto size() const -> int { return __builtin_popcount(bits_); }
  // True when the set allows exactly `t` (and nothing else).
  auto only(JsonType t) const -> bool { return bits_ == Bit(t); }
  // Allows a value of kind `t`: integer values are also numbers.
  auto accepts(JsonType t) const -> bool {
    return empty() || has(t) || (t == JsonType::Integer && has(JsonType::Number));
  }
  friend auto operator==(TypeSet, TypeSet) -> bool = default;

 private:
  explicit TypeSet(uint8_t bits) : bits_(bits) {}
  static auto Bit(JsonType t) -> uint8_t { return static_cast<uint8_t>(1u << static_cast<int>(t)); }
  uint8_t bits_ = 0;
};

auto JsonTypeName(JsonType t) -> std::string_view;
// "string", "string or null", "integer or number": the kinds of a set in a
// fixed reading order, null last.
auto DescribeTypes(TypeSet set) -> std::string;
// The kind of a JSON value as the schema sees it (an unsigned or signed
// integer is Integer, a float is Number, binary/discarded count as Null).
auto KindOf(const nlohmann::json& value) -> JsonType;
auto KindOf(const nlohmann::ordered_json& value) -> JsonType;

struct Property {
  std::string name;
  NodeId schema;
  bool required = false;
};

struct Node {
  // Allowed kinds; empty = any. `nullable: true` and a "null" member of a
  // type array both add Null (only when other kinds are named).
  TypeSet types;
  // `$ref`: the resolved named type and its name. Such a node carries no
  // other constraint; `nullable` says whether it also accepts null (on other
  // nodes nullability is the Null member of `types`).
  NodeId ref;
  std::string ref_name;
  bool nullable = false;
  bool date_time = false;  // format: date-time (strings only)

  // object: `properties` in file order. A `required` name that `properties`
  // does not declare is kept as a required property of any type.
  bool has_properties = false;
  std::vector<Property> properties;
  // array: `items` (invalid = items of any type)
  NodeId items;

  bool has_enum = false;
  std::vector<nlohmann::json> enum_values;  // file order
  bool has_const = false;
  nlohmann::json const_value;

  std::optional<nlohmann::json> minimum;  // a JSON number
  std::optional<nlohmann::json> maximum;
  std::optional<uint64_t> min_length;     // in Unicode code points
  std::optional<uint64_t> max_length;
  bool has_pattern = false;
  std::string pattern_text;
  std::regex pattern;  // ECMAScript, searched (unanchored) as JSON Schema does
};

struct NamedType {
  std::string name;
  NodeId node;
};

// Owns every schema node of one connector file.
class SchemaPool {
 public:
  // Parses the connector's "types" object (name -> schema), resolving `$ref`s
  // between them in any order. `path` is the JSON path of `types` for error
  // messages ("$.types"). A name that is not an identifier, a schema outside
  // the subset, a dangling `$ref` or a cycle is an Error naming the path.
  // Call at most once, before Parse.
  // The connector file is parsed as ordered_json so properties keep their
  // file order (it is the order of an operation's arguments); the
  // nlohmann::json overloads are for tests and callers without a file.
  auto AddTypes(const nlohmann::ordered_json& types, const std::string& path) -> Status;

  // Parses one schema at JSON path `path`, resolving `$ref` against the named
  // types added before. Errors read "<path>: <what>", e.g.
  // "$.operations.charge.input.properties.amount.type: unknown type 'integr'".
  auto Parse(const nlohmann::ordered_json& schema, const std::string& path) -> Result<NodeId>;
  auto Parse(const nlohmann::json& schema, const std::string& path) -> Result<NodeId>;

  // A node with no constraints (what an absent schema means).
  auto Any() -> NodeId;

  auto node(NodeId id) const -> const Node&;
  // Follows `$ref`s to the node that carries the constraints. Whether a ref
  // node also accepts null is its own `nullable`: callers check it first.
  auto Resolve(NodeId id) const -> NodeId;
  auto named_types() const -> const std::vector<NamedType>& { return named_; }
  // The node of a named type, or an invalid id.
  auto FindType(std::string_view name) const -> NodeId;
  auto size() const -> size_t { return nodes_.size(); }

 private:
  friend class SchemaParser;
  std::vector<Node> nodes_;
  std::vector<NamedType> named_;
  NodeId any_;
};

// Schemas nest at most this deep (counting `$ref` hops): the validator and
// the type mapping recurse along the schema, and no real API nests further.
constexpr int kMaxSchemaDepth = 64;

// Appends ".name" (or ["name"] when it is not an identifier) to a JSON path.
auto JsonPathMember(std::string path, std::string_view name) -> std::string;
// True for [A-Za-z_][A-Za-z0-9_]*.
auto IsIdentifier(std::string_view name) -> bool;

}  // namespace flow::jsonschema
