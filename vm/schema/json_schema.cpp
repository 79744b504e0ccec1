#include "vm/schema/json_schema.h"

#include <algorithm>
#include <array>
#include <map>

namespace flow::jsonschema {

using ojson = nlohmann::ordered_json;

namespace {

enum class KeywordClass { Known, Ignored, Unsupported, Unknown };

auto ClassifyKeyword(std::string_view key) -> KeywordClass {
  static constexpr std::array<std::string_view, 14> kKnown = {
      "type",    "properties", "required", "items",   "enum",      "const",     "$ref",
      "nullable", "format",    "minimum",  "maximum", "minLength", "maxLength", "pattern"};
  // Annotations: they describe, they do not constrain. additionalProperties
  // is accepted because flow records are open (width subtyping) anyway.
  static constexpr std::array<std::string_view, 13> kIgnored = {
      "description", "title",    "examples", "example",   "default",   "additionalProperties",
      "$comment",    "$schema",  "$id",      "deprecated", "readOnly", "writeOnly",
      "contentMediaType"};
  // Valid JSON Schema that we do not enforce: accepting them silently would
  // let a response through that the author meant to reject.
  static constexpr std::array<std::string_view, 24> kUnsupported = {
      "oneOf",           "anyOf",         "allOf",           "not",
      "if",              "then",          "else",            "multipleOf",
      "exclusiveMinimum", "exclusiveMaximum", "minItems",     "maxItems",
      "uniqueItems",     "contains",      "minProperties",   "maxProperties",
      "patternProperties", "propertyNames", "dependencies",  "dependentRequired",
      "dependentSchemas", "prefixItems",  "$defs",           "definitions"};
  auto in = [key](const auto& list) { return std::find(list.begin(), list.end(), key) != list.end(); };
  if (in(kKnown)) return KeywordClass::Known;
  if (in(kIgnored) || key.substr(0, 2) == "x-") return KeywordClass::Ignored;
  if (in(kUnsupported)) return KeywordClass::Unsupported;
  return KeywordClass::Unknown;
}

auto ParseTypeName(std::string_view name) -> std::optional<JsonType> {
  if (name == "string") return JsonType::String;
  if (name == "integer") return JsonType::Integer;
  if (name == "number") return JsonType::Number;
  if (name == "boolean") return JsonType::Boolean;
  if (name == "object") return JsonType::Object;
  if (name == "array") return JsonType::Array;
  if (name == "null") return JsonType::Null;
  return std::nullopt;
}

template <typename J>
auto KindOfImpl(const J& v) -> JsonType {
  switch (v.type()) {
    case J::value_t::boolean: return JsonType::Boolean;
    case J::value_t::number_integer:
    case J::value_t::number_unsigned: return JsonType::Integer;
    case J::value_t::number_float: return JsonType::Number;
    case J::value_t::string: return JsonType::String;
    case J::value_t::array: return JsonType::Array;
    case J::value_t::object: return JsonType::Object;
    default: return JsonType::Null;
  }
}

// A connector-file value as plain nlohmann::json (enum and const values are
// compared against responses, which the VM holds as nlohmann::json).
auto ToJson(const ojson& v) -> nlohmann::json {
  switch (v.type()) {
    case ojson::value_t::object: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, item] : v.items()) out[k] = ToJson(item);
      return out;
    }
    case ojson::value_t::array: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : v) out.push_back(ToJson(item));
      return out;
    }
    case ojson::value_t::boolean: return v.get<bool>();
    case ojson::value_t::number_integer: return v.get<int64_t>();
    case ojson::value_t::number_unsigned: return v.get<uint64_t>();
    case ojson::value_t::number_float: return v.get<double>();
    case ojson::value_t::string: return v.get<std::string>();
    default: return nullptr;
  }
}

auto Fail(const std::string& path, const std::string& what) -> Error {
  return ErrorAbout(ErrorCode::kInvalidInput, path, what);
}

}  // namespace

// Parses schemas into a pool. One parser per AddTypes/Parse call; during
// AddTypes it also tracks which named types are being parsed, so a `$ref`
// to a later type parses it on demand and a `$ref` back to one in progress
// is reported as a cycle.
class SchemaParser {
 public:
  explicit SchemaParser(SchemaPool& pool) : pool_(pool) {}

  auto ParseTypes(const ojson& types, const std::string& path) -> Status;
  auto Parse(const ojson& schema, const std::string& path, int depth) -> Result<NodeId>;

 private:
  enum class State { Unparsed, InProgress, Done };
  struct Pending {
    const ojson* schema;
    std::string path;
    State state = State::Unparsed;
    NodeId id;
  };

  auto ParseRef(const ojson& schema, const std::string& path, int depth) -> Result<NodeId>;
  auto ResolveName(const std::string& name, const std::string& path, int depth) -> Result<NodeId>;
  auto ParseType(const ojson& value, const std::string& path, Node& node) -> Status;
  auto ParseScalarKeywords(const ojson& schema, const std::string& path, Node& node) -> Status;
  auto ParseObjectKeywords(const ojson& schema, const std::string& path, int depth, Node& node)
      -> Status;
  auto Add(Node node) -> NodeId {
    pool_.nodes_.push_back(std::move(node));
    return NodeId{static_cast<int32_t>(pool_.nodes_.size() - 1)};
  }

  SchemaPool& pool_;
  std::map<std::string, Pending, std::less<>> pending_;
};

auto SchemaParser::ParseTypes(const ojson& types, const std::string& path) -> Status {
  if (types.is_null()) return Ok{};
  if (!types.is_object()) return Fail(path, "'types' must be an object of named schemas");
  for (const auto& [name, schema] : types.items()) {
    std::string type_path = JsonPathMember(path, name);
    if (!IsIdentifier(name)) return Fail(type_path, "type name '" + name + "' is not an identifier");
    pending_.emplace(name, Pending{&schema, type_path, State::Unparsed, NodeId{}});
  }
  // File order, so named_types() lists them as the author did.
  for (const auto& [name, schema] : types.items()) {
    auto id = ResolveName(name, path, 0);
    if (!id) return id.error();
  }
  for (const auto& [name, schema] : types.items()) {
    pool_.named_.push_back(NamedType{name, pending_.at(name).id});
  }
  return Ok{};
}

auto SchemaParser::ResolveName(const std::string& name, const std::string& path, int depth)
    -> Result<NodeId> {
  auto it = pending_.find(name);
  if (it == pending_.end()) {
    NodeId id = pool_.FindType(name);
    if (!id.valid()) return Fail(path, "unknown type '" + name + "'");
    return id;
  }
  Pending& p = it->second;
  if (p.state == State::Done) return p.id;
  if (p.state == State::InProgress) {
    return Fail(path, "recursive type '" + name + "' is not supported");
  }
  p.state = State::InProgress;
  auto id = Parse(*p.schema, p.path, depth + 1);
  if (!id) return id.error();
  // `it` stays valid: std::map nodes never move.
  p.state = State::Done;
  p.id = *id;
  return *id;
}

auto SchemaParser::ParseRef(const ojson& schema, const std::string& path, int depth)
    -> Result<NodeId> {
  std::string ref_path = path + ".$ref";
  const ojson& ref = schema.at("$ref");
  constexpr std::string_view kPrefix = "#/types/";
  if (!ref.is_string()) return Fail(ref_path, "'$ref' must be a string");
  const auto& text = ref.get_ref<const std::string&>();
  if (text.compare(0, kPrefix.size(), kPrefix) != 0 || text.size() == kPrefix.size()) {
    return Fail(ref_path, "'$ref' must have the form '#/types/Name', found '" + text + "'");
  }
  for (const auto& [key, value] : schema.items()) {
    if (key == "$ref" || key == "nullable") continue;
    if (ClassifyKeyword(key) == KeywordClass::Ignored) continue;
    return Fail(path, "keyword '" + key + "' cannot be combined with '$ref'");
  }
  Node node;
  if (auto it = schema.find("nullable"); it != schema.end()) {
    if (!it->is_boolean()) return Fail(path + ".nullable", "'nullable' must be true or false");
    node.nullable = it->get<bool>();
  }
  node.ref_name = text.substr(kPrefix.size());
  auto target = ResolveName(node.ref_name, ref_path, depth);
  if (!target) return target.error();
  node.ref = *target;
  return Add(std::move(node));
}

auto SchemaParser::ParseType(const ojson& value, const std::string& path, Node& node) -> Status {
  auto one = [&](const ojson& name, const std::string& at) -> Status {
    if (!name.is_string()) return Fail(at, "'type' must name a type as a string");
    auto t = ParseTypeName(name.get_ref<const std::string&>());
    if (!t) return Fail(at, "unknown type '" + name.get<std::string>() + "'");
    node.types.add(*t);
    return Ok{};
  };
  if (value.is_string()) return one(value, path);
  if (!value.is_array() || value.empty()) {
    return Fail(path, "'type' must be a type name or a non-empty array of type names");
  }
  for (size_t i = 0; i < value.size(); ++i) {
    auto status = one(value[i], path + "[" + std::to_string(i) + "]");
    if (!status) return status;
  }
  return Ok{};
}

// format, enum, const, numeric and string bounds, pattern.
auto SchemaParser::ParseScalarKeywords(const ojson& schema, const std::string& path, Node& node)
    -> Status {
  // A keyword that cannot apply to any of the declared types is a mistake.
  auto applies = [&](const char* key, std::initializer_list<JsonType> kinds) -> Status {
    if (node.types.empty()) return Ok{};
    for (JsonType k : kinds) {
      if (node.types.has(k)) return Ok{};
    }
    return Fail(path + "." + key, std::string("'") + key + "' does not apply to type " +
                                      DescribeTypes(node.types));
  };
  auto value_fits = [&](const ojson& v, const std::string& at) -> Status {
    if (node.types.accepts(KindOf(v))) return Ok{};
    return Fail(at, v.dump() + " is not of type " + DescribeTypes(node.types));
  };
  for (const auto& [key, v] : schema.items()) {
    std::string at = path + "." + key;
    if (key == "format") {
      if (!v.is_string()) return Fail(at, "'format' must be a string");
      // Other formats (email, uri, uuid...) are annotations, as JSON Schema
      // says by default; only date-time changes the flow type.
      if (v.get_ref<const std::string&>() != "date-time") continue;
      FLOW_TRY(applies("format", {JsonType::String}));
      node.date_time = true;
    } else if (key == "enum") {
      if (!v.is_array() || v.empty()) return Fail(at, "'enum' must be a non-empty array");
      for (size_t i = 0; i < v.size(); ++i) {
        FLOW_TRY(value_fits(v[i], at + "[" + std::to_string(i) + "]"));
        node.enum_values.push_back(ToJson(v[i]));
      }
      node.has_enum = true;
    } else if (key == "const") {
      FLOW_TRY(value_fits(v, at));
      node.has_const = true;
      node.const_value = ToJson(v);
    } else if (key == "minimum" || key == "maximum") {
      if (!v.is_number()) return Fail(at, "'" + key + "' must be a number");
      FLOW_TRY(applies(key.c_str(), {JsonType::Integer, JsonType::Number}));
      (key == "minimum" ? node.minimum : node.maximum) = ToJson(v);
    } else if (key == "minLength" || key == "maxLength") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
        return Fail(at, "'" + key + "' must be a non-negative integer");
      }
      FLOW_TRY(applies(key.c_str(), {JsonType::String}));
      (key == "minLength" ? node.min_length : node.max_length) = v.get<uint64_t>();
    } else if (key == "pattern") {
      if (!v.is_string()) return Fail(at, "'pattern' must be a string");
      FLOW_TRY(applies("pattern", {JsonType::String}));
      node.pattern_text = v.get<std::string>();
      try {
        node.pattern = std::regex(node.pattern_text, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Fail(at, "invalid pattern '" + node.pattern_text + "': " + e.what());
      }
      node.has_pattern = true;
    }
  }
  return Ok{};
}

auto SchemaParser::ParseObjectKeywords(const ojson& schema, const std::string& path, int depth,
                                       Node& node) -> Status {
  if (auto it = schema.find("properties"); it != schema.end()) {
    std::string at = path + ".properties";
    if (!it->is_object()) return Fail(at, "'properties' must be an object");
    if (!node.types.empty() && !node.types.has(JsonType::Object)) {
      return Fail(at, "'properties' does not apply to type " + DescribeTypes(node.types));
    }
    node.has_properties = true;
    for (const auto& [name, sub] : it->items()) {
      auto id = Parse(sub, JsonPathMember(at, name), depth + 1);
      if (!id) return id.error();
      node.properties.push_back(Property{name, *id, false});
    }
  }
  if (auto it = schema.find("required"); it != schema.end()) {
    std::string at = path + ".required";
    if (!it->is_array()) return Fail(at, "'required' must be an array of property names");
    for (size_t i = 0; i < it->size(); ++i) {
      const ojson& name = (*it)[i];
      std::string item_at = at + "[" + std::to_string(i) + "]";
      if (!name.is_string()) return Fail(item_at, "'required' must list property names as strings");
      const auto& text = name.get_ref<const std::string&>();
      auto prop = std::find_if(node.properties.begin(), node.properties.end(),
                               [&](const Property& p) { return p.name == text; });
      if (prop != node.properties.end()) {
        prop->required = true;
      } else if (node.has_properties) {
        // Almost always a typo; a silently unchecked requirement is worse.
        return Fail(item_at, "required property '" + text + "' is not declared in 'properties'");
      } else {
        node.properties.push_back(Property{text, pool_.Any(), true});
      }
    }
  }
  if (auto it = schema.find("items"); it != schema.end()) {
    std::string at = path + ".items";
    if (!it->is_object()) return Fail(at, "'items' must be one schema object");
    if (!node.types.empty() && !node.types.has(JsonType::Array)) {
      return Fail(at, "'items' does not apply to type " + DescribeTypes(node.types));
    }
    auto id = Parse(*it, at, depth + 1);
    if (!id) return id.error();
    node.items = *id;
  }
  return Ok{};
}

auto SchemaParser::Parse(const ojson& schema, const std::string& path, int depth)
    -> Result<NodeId> {
  if (depth > kMaxSchemaDepth) {
    return Fail(path, "schema nesting exceeds the limit of " + std::to_string(kMaxSchemaDepth) +
                          " levels");
  }
  if (!schema.is_object()) return Fail(path, "a schema must be a JSON object");
  for (const auto& [key, value] : schema.items()) {
    switch (ClassifyKeyword(key)) {
      case KeywordClass::Known:
      case KeywordClass::Ignored: break;
      case KeywordClass::Unsupported: return Fail(path, "unsupported keyword '" + key + "'");
      case KeywordClass::Unknown: return Fail(path, "unknown keyword '" + key + "'");
    }
  }
  if (schema.contains("$ref")) return ParseRef(schema, path, depth);
  Node node;
  if (auto it = schema.find("type"); it != schema.end()) {
    FLOW_TRY(ParseType(*it, path + ".type", node));
  }
  if (auto it = schema.find("nullable"); it != schema.end()) {
    if (!it->is_boolean()) return Fail(path + ".nullable", "'nullable' must be true or false");
    // Without `type` every kind, null included, is already allowed.
    if (it->get<bool>() && !node.types.empty()) node.types.add(JsonType::Null);
  }
  FLOW_TRY(ParseScalarKeywords(schema, path, node));
  FLOW_TRY(ParseObjectKeywords(schema, path, depth, node));
  return Add(std::move(node));
}

// ---------------------------------------------------------------- SchemaPool

auto SchemaPool::AddTypes(const ojson& types, const std::string& path) -> Status {
  FLOW_CHECK(named_.empty(), "AddTypes called twice");
  SchemaParser parser(*this);
  return parser.ParseTypes(types, path);
}

auto SchemaPool::Parse(const ojson& schema, const std::string& path) -> Result<NodeId> {
  SchemaParser parser(*this);
  return parser.Parse(schema, path, 0);
}

auto SchemaPool::Parse(const nlohmann::json& schema, const std::string& path) -> Result<NodeId> {
  // Key order is already lost in nlohmann::json; the conversion is for tests.
  return Parse(ojson::parse(schema.dump()), path);
}

auto SchemaPool::Any() -> NodeId {
  if (!any_.valid()) {
    nodes_.push_back(Node{});
    any_ = NodeId{static_cast<int32_t>(nodes_.size() - 1)};
  }
  return any_;
}

auto SchemaPool::node(NodeId id) const -> const Node& {
  FLOW_CHECK(id.valid() && static_cast<size_t>(id.index) < nodes_.size(), "bad schema NodeId");
  return nodes_[id.index];
}

auto SchemaPool::Resolve(NodeId id) const -> NodeId {
  // Terminates: cycles are rejected when parsing.
  while (node(id).ref.valid()) id = node(id).ref;
  return id;
}

auto SchemaPool::FindType(std::string_view name) const -> NodeId {
  for (const NamedType& t : named_) {
    if (t.name == name) return t.node;
  }
  return {};
}

// ---------------------------------------------------------------- helpers

auto JsonTypeName(JsonType t) -> std::string_view {
  switch (t) {
    case JsonType::Null: return "null";
    case JsonType::Boolean: return "boolean";
    case JsonType::Integer: return "integer";
    case JsonType::Number: return "number";
    case JsonType::String: return "string";
    case JsonType::Array: return "array";
    case JsonType::Object: return "object";
  }
  return "null";
}

auto DescribeTypes(TypeSet set) -> std::string {
  static constexpr JsonType kOrder[] = {JsonType::String,  JsonType::Integer, JsonType::Number,
                                        JsonType::Boolean, JsonType::Object,  JsonType::Array,
                                        JsonType::Null};
  std::string out;
  for (JsonType t : kOrder) {
    if (!set.has(t)) continue;
    if (!out.empty()) out += " or ";
    out += JsonTypeName(t);
  }
  return out;
}

auto KindOf(const nlohmann::json& value) -> JsonType { return KindOfImpl(value); }
auto KindOf(const ojson& value) -> JsonType { return KindOfImpl(value); }

auto IsIdentifier(std::string_view name) -> bool {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

auto JsonPathMember(std::string path, std::string_view name) -> std::string {
  if (IsIdentifier(name)) {
    path += '.';
    path += name;
    return path;
  }
  // dump() quotes and escapes the name as a JSON string.
  path += '[' + nlohmann::json(std::string(name)).dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace) + ']';
  return path;
}

}  // namespace flow::jsonschema
