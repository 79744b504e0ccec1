#include "compiler/schema/connector_types.h"

#include <algorithm>
#include <cctype>

#include "stdlib/builtin_connectors.h"
#include "vm/connectors/connector_file.h"
#include "vm/schema/json_path.h"

namespace flow::schema {
namespace {

using jsonschema::JsonType;
using jsonschema::Node;
using jsonschema::NodeId;
using types::TypeId;

// Maps the schema nodes of one connector file to flow types, memoised per
// node (named types are shared by many operations).
class TypeMapper {
 public:
  TypeMapper(const jsonschema::SchemaPool& pool, types::TypeTable& types)
      : pool_(pool), types_(types), memo_(pool.size()) {}

  auto Map(NodeId id) -> TypeId {
    if (!memo_[id.index].valid()) memo_[id.index] = MapNode(pool_.node(id));
    return memo_[id.index];
  }

 private:
  auto MapNode(const Node& n) -> TypeId;
  auto MapEnum(const Node& n, bool& nullable) -> TypeId;
  auto MapTypeSet(const Node& n, jsonschema::TypeSet set) -> TypeId;
  auto MapRecord(const Node& n) -> TypeId;

  const jsonschema::SchemaPool& pool_;
  types::TypeTable& types_;
  std::vector<TypeId> memo_;
};

auto TypeMapper::MapNode(const Node& n) -> TypeId {
  if (n.ref.valid()) {
    TypeId target = Map(n.ref);
    return n.nullable ? types_.Optional(target) : target;
  }
  if (n.types.only(JsonType::Null)) return types_.null();
  jsonschema::TypeSet set = n.types;
  bool nullable = set.has(JsonType::Null);
  set.remove(JsonType::Null);
  TypeId base;
  if (n.has_const && n.const_value.is_string()) {
    base = types_.Literal({n.const_value.get<std::string>()});
  } else if (n.has_const && n.const_value.is_null()) {
    return types_.null();
  } else if (n.has_enum) {
    base = MapEnum(n, nullable);
  } else {
    base = MapTypeSet(n, set);
  }
  return nullable ? types_.Optional(base) : base;
}

// An enum of strings is a literal union (a null member makes it optional);
// an enum of other values has the type of its values.
auto TypeMapper::MapEnum(const Node& n, bool& nullable) -> TypeId {
  std::vector<std::string> strings;
  jsonschema::TypeSet kinds;
  for (const nlohmann::json& v : n.enum_values) {
    if (v.is_null()) {
      nullable = true;
      continue;
    }
    kinds.add(jsonschema::KindOf(v));
    if (v.is_string()) strings.push_back(v.get<std::string>());
  }
  if (kinds.only(JsonType::String)) return types_.Literal(std::move(strings));
  if (kinds.empty()) return types_.null();  // enum: [null]
  jsonschema::TypeSet set = n.types;
  set.remove(JsonType::Null);
  return MapTypeSet(n, set.empty() ? kinds : set);
}

auto TypeMapper::MapTypeSet(const Node& n, jsonschema::TypeSet set) -> TypeId {
  if (set.empty()) return types_.json();
  // integer | number is a number; any other mix has no flow type but json.
  jsonschema::TypeSet numeric = jsonschema::TypeSet::Of(JsonType::Integer);
  numeric.add(JsonType::Number);
  if (set == numeric) return types_.float_();
  if (set.size() > 1) return types_.json();
  if (set.has(JsonType::Integer)) return types_.int_();
  if (set.has(JsonType::Number)) return types_.float_();
  if (set.has(JsonType::Boolean)) return types_.bool_();
  if (set.has(JsonType::String)) return n.date_time ? types_.time() : types_.string();
  if (set.has(JsonType::Array)) return types_.List(n.items.valid() ? Map(n.items) : types_.json());
  return MapRecord(n);
}

// An object with `properties` is a record; without, it is json (a map of
// unknown keys, e.g. HTTP headers, has no record type).
auto TypeMapper::MapRecord(const Node& n) -> TypeId {
  if (!n.has_properties) return types_.json();
  std::vector<types::Field> fields;
  fields.reserve(n.properties.size());
  for (const jsonschema::Property& p : n.properties) {
    TypeId t = Map(p.schema);
    fields.push_back(types::Field{p.name, p.required ? t : types_.Optional(t)});
  }
  return types_.Record(std::move(fields));
}

auto ToEffect(connectors::Effect e) -> Effect {
  switch (e) {
    case connectors::Effect::None: return Effect::None;
    case connectors::Effect::Reversible: return Effect::Reversible;
    case connectors::Effect::Irreversible: return Effect::Irreversible;
  }
  return Effect::None;
}

// The checker's view of a parsed connector file. `set_aliases`: name the
// file's `types` in diagnostics (not for built-ins, whose type names the
// user never wrote).
auto MapConnector(const connectors::ConnectorFile& file, const std::string& name,
                  types::TypeTable& types, bool set_aliases) -> ConnectorSig {
  TypeMapper mapper(file.schemas, types);
  if (set_aliases) {
    for (const jsonschema::NamedType& t : file.schemas.named_types()) {
      types.SetAlias(mapper.Map(t.node), t.name);
    }
  }
  ConnectorSig sig;
  sig.name = name;
  sig.builtin = file.transport.kind == connectors::TransportKind::Builtin;
  for (const connectors::Operation& op : file.operations) {
    OperationSig o;
    o.connector = name;
    o.name = op.name;
    if (op.input.valid()) {
      const Node& input = file.schemas.node(file.schemas.Resolve(op.input));
      for (const jsonschema::Property& p : input.properties) {
        o.args.push_back(ArgumentSig{p.name, mapper.Map(p.schema), p.required});
      }
    }
    o.output = mapper.Map(op.output);
    o.effect = ToEffect(op.effect);
    o.idempotent = op.idempotent;
    o.sends_idempotency_key = op.idempotency_key;
    o.requires_approval = op.requires_approval;
    sig.operations.push_back(std::move(o));
  }
  return sig;
}

// Where a parse problem points inside the JSON file.
auto ProblemRange(FileId file, std::string_view text, const connectors::ParseProblem& problem)
    -> SourceRange {
  if (problem.invalid_json) {
    size_t offset = std::min(problem.byte_offset, text.size());
    // "unexpected end of input": point just past the last visible character
    // rather than at an empty line after the final newline.
    if (offset == text.size()) {
      while (offset > 0 && std::isspace(static_cast<unsigned char>(text[offset - 1]))) --offset;
    }
    auto at = static_cast<uint32_t>(offset);
    return SourceRange{file, at, at + 1};
  }
  auto span = jsonschema::LocateJsonPath(text, problem.json_path);
  if (!span) return SourceRange{};
  return SourceRange{file, span->begin, span->end};
}

}  // namespace

auto OperationSig::FindArg(const std::string& arg) const -> const ArgumentSig* {
  for (const ArgumentSig& a : args) {
    if (a.name == arg) return &a;
  }
  return nullptr;
}

auto ConnectorSig::FindOperation(const std::string& op) const -> const OperationSig* {
  for (const OperationSig& o : operations) {
    if (o.name == op) return &o;
  }
  return nullptr;
}

auto ConnectorSig::OperationNames() const -> std::vector<std::string> {
  std::vector<std::string> names;
  names.reserve(operations.size());
  for (const OperationSig& o : operations) names.push_back(o.name);
  return names;
}

auto LoadConnector(const std::string& path, SourceRange decl_range, SourceManager& sources,
                   types::TypeTable& types, Diagnostics& diags, const std::string& declared_name)
    -> std::optional<ConnectorSig> {
  auto text = ReadFileText(path);
  if (!text) {
    diags.Report(DiagKind::ConnectorUnreadable, decl_range, path,
                 text.error().reason());  // "cannot read '<path>'" is the subject
    return std::nullopt;
  }
  FileId file = sources.Add(path, std::move(text).value());
  std::string_view contents = sources.file(file).text();
  std::vector<connectors::ParseProblem> problems;
  auto parsed = connectors::ParseConnectorFile(contents, &problems);
  if (!parsed) {
    // Every problem of the file at once; the declaration is noted once.
    bool noted = false;
    for (const connectors::ParseProblem& problem : problems) {
      SourceRange at = ProblemRange(file, contents, problem);
      if (!at.valid()) at = decl_range;
      Diagnostic& d = problem.invalid_json
                          ? diags.Report(DiagKind::ConnectorInvalidJson, at, path, problem.what)
                          : diags.Report(DiagKind::ConnectorInvalidSchema, at, path,
                                         problem.json_path, problem.what);
      if (!noted && decl_range.valid() && !(at.file == decl_range.file && at.begin == decl_range.begin)) {
        d.notes.push_back(DiagNote{decl_range, "connector declared here"});
        noted = true;
      }
    }
    return std::nullopt;
  }
  ConnectorSig sig = MapConnector(*parsed, declared_name.empty() ? parsed->name : declared_name,
                                  types, /*set_aliases=*/true);
  sig.path = path;
  sig.text = std::string(contents);
  return sig;
}

auto BuiltinConnectors(types::TypeTable& types) -> std::vector<ConnectorSig> {
  std::vector<std::string> texts;
  for (const stdlib::BuiltinConnectorText& b : stdlib::BuiltinConnectorTexts()) texts.emplace_back(b.json);
  return BuiltinConnectors(types, texts);
}

auto BuiltinConnectors(types::TypeTable& types, std::span<const std::string> texts)
    -> std::vector<ConnectorSig> {
  std::vector<ConnectorSig> out;
  for (const std::string& text : texts) {
    auto file = connectors::ParseConnectorFile(text);
    FLOW_CHECK(file.ok(), "a built-in connector text does not parse");
    out.push_back(MapConnector(*file, file->name, types, /*set_aliases=*/false));
    out.back().text = text;
  }
  return out;
}

}  // namespace flow::schema
