#include "compiler/types/types.h"

#include <algorithm>
#include <cctype>

#include "vm/base/check.h"

namespace flow::types {
namespace {

// A canonical string for a type's structure, used as the interning key.
// Children are referred to by id, so the key is short and unambiguous.
auto Key(const Type& t) -> std::string {
  std::string key = std::to_string(static_cast<int>(t.kind));
  key += ':';
  key += std::to_string(t.element.index);
  for (const Field& f : t.fields) {
    // Length-prefixed: field names from connector schemas may contain any
    // character, '|' and '=' included, and must not make two keys collide.
    key += '|';
    key += std::to_string(f.name.size());
    key += ':';
    key += f.name;
    key += '=';
    key += std::to_string(f.type.index);
  }
  for (const std::string& lit : t.literals) {
    key += '"';
    // Escape the quote so "a\"|b" and "a", "b" cannot collide.
    for (char c : lit) {
      if (c == '"' || c == '\\') key += '\\';
      key += c;
    }
  }
  return key;
}

auto IsIdentifier(const std::string& s) -> bool {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

auto QuoteLiteral(const std::string& s) -> std::string {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

TypeTable::TypeTable() {
  auto scalar = [this](Kind k) { return Intern(Type{k, {}, {}, {}}); };
  error_ = scalar(Kind::Error);
  never_ = scalar(Kind::Never);
  null_ = scalar(Kind::Null);
  int_t_ = scalar(Kind::Int);
  float_t_ = scalar(Kind::Float);
  bool_t_ = scalar(Kind::Bool);
  string_t_ = scalar(Kind::String);
  duration_t_ = scalar(Kind::Duration);
  time_t_ = scalar(Kind::Time);
  json_t_ = scalar(Kind::Json);
  secret_t_ = scalar(Kind::Secret);
}

auto TypeTable::Intern(Type type) -> TypeId {
  std::string key = Key(type);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return it->second;
  type.has_secret = type.kind == Kind::Secret || (type.element.valid() && get(type.element).has_secret);
  for (const Field& f : type.fields) type.has_secret = type.has_secret || get(f.type).has_secret;
  types_.push_back(std::move(type));
  TypeId id{static_cast<int32_t>(types_.size() - 1)};
  by_key_.emplace(std::move(key), id);
  return id;
}

auto TypeTable::List(TypeId element) -> TypeId {
  FLOW_CHECK(element.valid(), "list of an invalid type");
  return Intern(Type{Kind::List, element, {}, {}});
}

auto TypeTable::Record(std::vector<Field> fields) -> TypeId {
  std::sort(fields.begin(), fields.end(),
            [](const Field& a, const Field& b) { return a.name < b.name; });
  for (size_t i = 1; i < fields.size(); ++i) {
    FLOW_CHECK(fields[i - 1].name != fields[i].name, "duplicate record field");
  }
  return Intern(Type{Kind::Record, {}, std::move(fields), {}});
}

auto TypeTable::Optional(TypeId inner) -> TypeId {
  FLOW_CHECK(inner.valid(), "optional of an invalid type");
  Kind k = kind(inner);
  if (k == Kind::Optional || k == Kind::Null || k == Kind::Error || k == Kind::Json) return inner;
  return Intern(Type{Kind::Optional, inner, {}, {}});
}

auto TypeTable::Literal(std::vector<std::string> members) -> TypeId {
  FLOW_CHECK(!members.empty(), "empty literal union");
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  return Intern(Type{Kind::Literal, {}, {}, std::move(members)});
}

auto TypeTable::SecretsAsStrings(TypeId id) -> TypeId {
  if (!HasSecret(id)) return id;
  Type t = get(id);  // a copy: the calls below may grow the table
  switch (t.kind) {
    case Kind::Secret: return string();
    case Kind::List: return List(SecretsAsStrings(t.element));
    case Kind::Optional: return Optional(SecretsAsStrings(t.element));
    case Kind::Record:
      for (Field& f : t.fields) f.type = SecretsAsStrings(f.type);
      return Record(std::move(t.fields));
    default: return id;
  }
}

auto TypeTable::get(TypeId id) const -> const Type& {
  FLOW_CHECK(id.valid() && static_cast<size_t>(id.index) < types_.size(), "bad TypeId");
  return types_[id.index];
}

auto TypeTable::StripOptional(TypeId id) const -> TypeId {
  return kind(id) == Kind::Optional ? get(id).element : id;
}

auto TypeTable::FieldType(TypeId record, std::string_view name) const -> TypeId {
  const Type& t = get(record);
  if (t.kind != Kind::Record) return {};
  auto it = std::lower_bound(t.fields.begin(), t.fields.end(), name,
                             [](const Field& f, std::string_view n) { return f.name < n; });
  if (it == t.fields.end() || it->name != name) return {};
  return it->type;
}

void TypeTable::SetAlias(TypeId id, const std::string& name) {
  // Only declared structures get a display name: aliasing a scalar, list or
  // optional would rename every use of that structure (`type Id = string`
  // would make every string print as 'Id').
  Kind k = kind(id);
  if (k != Kind::Record && k != Kind::Literal) return;
  aliases_.emplace(id.index, name);
}

auto TypeTable::Display(TypeId id) const -> std::string {
  if (!id.valid()) return "<invalid>";
  if (auto it = aliases_.find(id.index); it != aliases_.end()) return it->second;
  const Type& t = get(id);
  switch (t.kind) {
    case Kind::Error: return "<error>";
    case Kind::Never: return "never";
    case Kind::Null: return "null";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Bool: return "bool";
    case Kind::String: return "string";
    case Kind::Duration: return "duration";
    case Kind::Time: return "time";
    case Kind::Json: return "json";
    case Kind::Secret: return "secret";
    case Kind::List: return "[" + Display(t.element) + "]";
    case Kind::Optional: {
      std::string inner = Display(t.element);
      if (kind(t.element) == Kind::Literal && get(t.element).literals.size() > 1 &&
          aliases_.find(t.element.index) == aliases_.end()) {
        inner = "(" + inner + ")";
      }
      return inner + "?";
    }
    case Kind::Record: {
      if (t.fields.empty()) return "{}";
      std::string out = "{ ";
      for (size_t i = 0; i < t.fields.size(); ++i) {
        if (i > 0) out += ", ";
        // A field from a connector schema may not be an identifier.
        const std::string& name = t.fields[i].name;
        out += (IsIdentifier(name) ? name : QuoteLiteral(name)) + ": " + Display(t.fields[i].type);
      }
      return out + " }";
    }
    case Kind::Literal: {
      std::string out;
      for (size_t i = 0; i < t.literals.size(); ++i) {
        if (i > 0) out += " | ";
        out += QuoteLiteral(t.literals[i]);
      }
      return out;
    }
  }
  return "<unknown>";
}

auto IsAssignable(const TypeTable& table, TypeId from, TypeId to) -> bool {
  if (from == to) return true;
  const Type& f = table.get(from);
  const Type& t = table.get(to);
  if (f.kind == Kind::Error || t.kind == Kind::Error || f.kind == Kind::Never) return true;
  if (f.has_secret) {
    // Only the same type: a secret is opaque, and json would print it.
    return false;
  }
  if (t.kind == Kind::Json) return true;
  if (t.kind == Kind::Optional) {
    if (f.kind == Kind::Null) return true;
    TypeId inner_from = f.kind == Kind::Optional ? f.element : from;
    return IsAssignable(table, inner_from, t.element);
  }
  switch (f.kind) {
    case Kind::Int:
      return t.kind == Kind::Float;
    case Kind::Literal:
      if (t.kind == Kind::String) return true;
      if (t.kind != Kind::Literal) return false;
      return std::includes(t.literals.begin(), t.literals.end(), f.literals.begin(),
                           f.literals.end());
    case Kind::List:
      return t.kind == Kind::List && IsAssignable(table, f.element, t.element);
    case Kind::Record: {
      if (t.kind != Kind::Record) return false;
      for (const Field& want : t.fields) {
        TypeId have = table.FieldType(from, want.name);
        if (!have.valid()) {
          if (table.kind(want.type) == Kind::Optional || table.kind(want.type) == Kind::Null ||
              table.kind(want.type) == Kind::Json) {
            continue;
          }
          return false;
        }
        if (!IsAssignable(table, have, want.type)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

namespace {

// Records join field by field: a field both have gets the join of its types,
// a field only one has becomes optional (the other reads as absent, i.e.
// null), so `[{ id: "a", n: 1 }, { id: "b" }]` is `[{ id: string, n: int? }]`.
auto JoinRecords(TypeTable& table, TypeId a, TypeId b) -> TypeId {
  // Copies: Join may grow the table and invalidate references into it.
  std::vector<Field> fa = table.get(a).fields;
  std::vector<Field> fb = table.get(b).fields;
  std::vector<Field> out;
  size_t i = 0, j = 0;
  while (i < fa.size() || j < fb.size()) {
    if (j == fb.size() || (i < fa.size() && fa[i].name < fb[j].name)) {
      out.push_back(Field{fa[i].name, table.Optional(fa[i].type)});
      ++i;
    } else if (i == fa.size() || fb[j].name < fa[i].name) {
      out.push_back(Field{fb[j].name, table.Optional(fb[j].type)});
      ++j;
    } else {
      TypeId t = Join(table, fa[i].type, fb[j].type);
      if (!t.valid()) return {};
      out.push_back(Field{fa[i].name, t});
      ++i;
      ++j;
    }
  }
  return table.Record(std::move(out));
}

}  // namespace

auto Join(TypeTable& table, TypeId a, TypeId b) -> TypeId {
  if (IsAssignable(table, b, a)) return a;
  if (IsAssignable(table, a, b)) return b;
  Kind ka = table.kind(a), kb = table.kind(b);
  // null and T join to T?.
  if (ka == Kind::Null) return table.Optional(b);
  if (kb == Kind::Null) return table.Optional(a);
  // T? and U join when T and U do.
  if (ka == Kind::Optional || kb == Kind::Optional) {
    TypeId inner = Join(table, table.StripOptional(a), table.StripOptional(b));
    return inner.valid() ? table.Optional(inner) : TypeId{};
  }
  // Two literal unions join to their union; a literal and a string to string.
  if (ka == Kind::Literal && kb == Kind::Literal) {
    std::vector<std::string> all = table.get(a).literals;
    const auto& more = table.get(b).literals;
    all.insert(all.end(), more.begin(), more.end());
    return table.Literal(std::move(all));
  }
  if (ka == Kind::List && kb == Kind::List) {
    TypeId element = Join(table, table.get(a).element, table.get(b).element);
    return element.valid() ? table.List(element) : TypeId{};
  }
  if (ka == Kind::Record && kb == Kind::Record) return JoinRecords(table, a, b);
  return {};
}

}  // namespace flow::types
