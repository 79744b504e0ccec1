// The type system of SPEC §2.2.
//
// Types are structural and hash-consed in a TypeTable: each distinct type is
// stored once and named by a TypeId, so "same type" is id equality and the
// checker's side tables are plain vectors of ids. Named types
// (`type Customer = {...}`) are aliases: the table remembers the first alias
// of a structure only to print it in diagnostics.
//
// Kinds:
//   Error     the poison type of a node that already has a diagnostic; it is
//             assignable to and from everything so no second message follows.
//   Never     the element type of `[]` and the type of `fail`-like positions;
//             assignable to everything.
//   Null      the type of `null`; assignable to any optional and to json.
//   Int Float Bool String Duration Time Json   the scalars (json: any JSON).
//   List      [T]
//   Record    { name: T, ... } fields sorted by name.
//   Optional  T? (never nested: Optional(Optional(T)) is Optional(T), and
//             Optional(Null) is Null).
//   Literal   a union of string literals "a" | "b", members sorted.
//   Secret    the opaque value of `secret("ENV")` (SPEC §2.5a): the name of an
//             environment variable the transport reads when it sends. It is
//             assignable to nothing but itself, not even json, so it can only
//             reach the places the checker allows explicitly (a connector
//             argument, http.request headers/body; check/calls.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flow::types {

struct TypeId {
  int32_t index = -1;
  auto valid() const -> bool { return index >= 0; }
  friend auto operator==(TypeId a, TypeId b) -> bool { return a.index == b.index; }
  friend auto operator!=(TypeId a, TypeId b) -> bool { return a.index != b.index; }
};

enum class Kind : uint8_t {
  Error, Never, Null, Int, Float, Bool, String, Duration, Time, Json,
  List, Record, Optional, Literal, Secret,
};

struct Field {
  std::string name;
  TypeId type;
  friend auto operator==(const Field&, const Field&) -> bool = default;
};

struct Type {
  Kind kind;
  TypeId element;                    // List: element; Optional: inner
  std::vector<Field> fields;         // Record, sorted by name
  std::vector<std::string> literals; // Literal, sorted, unique
  // Derived: the type is Secret or holds one (an element, a field).
  bool has_secret = false;
  friend auto operator==(const Type&, const Type&) -> bool = default;
};

class TypeTable {
 public:
  TypeTable();

  // The scalars, created by the constructor.
  auto error() const -> TypeId { return error_; }
  auto never() const -> TypeId { return never_; }
  auto null() const -> TypeId { return null_; }
  auto int_() const -> TypeId { return int_t_; }
  auto float_() const -> TypeId { return float_t_; }
  auto bool_() const -> TypeId { return bool_t_; }
  auto string() const -> TypeId { return string_t_; }
  auto duration() const -> TypeId { return duration_t_; }
  auto time() const -> TypeId { return time_t_; }
  auto json() const -> TypeId { return json_t_; }
  auto secret() const -> TypeId { return secret_t_; }

  auto List(TypeId element) -> TypeId;
  // Fields need not be sorted; a duplicate name is a bug in the caller.
  auto Record(std::vector<Field> fields) -> TypeId;
  // Normalises: Optional(Optional(T)) = Optional(T); Optional(Null) = Null;
  // Optional(Error) = Error; Optional(Json) = Json (json already holds null).
  auto Optional(TypeId inner) -> TypeId;
  // A union of string literals (at least one).
  auto Literal(std::vector<std::string> members) -> TypeId;

  auto get(TypeId id) const -> const Type&;
  auto kind(TypeId id) const -> Kind { return get(id).kind; }
  auto is_optional(TypeId id) const -> bool { return kind(id) == Kind::Optional; }
  // Whether a value of this type is or holds a secret.
  auto HasSecret(TypeId id) const -> bool { return get(id).has_secret; }
  // The type with every secret read as a string: what a connector argument
  // holding secrets looks like to the operation's input schema.
  auto SecretsAsStrings(TypeId id) -> TypeId;
  // T for T?, the type itself otherwise.
  auto StripOptional(TypeId id) const -> TypeId;
  // The type of a record's field, or an invalid id when it has none.
  auto FieldType(TypeId record, std::string_view name) const -> TypeId;

  // Remembers `name` as the display name of `id` (first alias wins). Only
  // records and literal unions take an alias: naming a scalar, list or
  // optional would rename every other use of that same structure.
  void SetAlias(TypeId id, const std::string& name);
  // Human spelling for diagnostics: an alias when one exists, else the
  // structure: `int`, `[string]`, `{ id: string, n: int? }`, `"a" | "b"`.
  auto Display(TypeId id) const -> std::string;

 private:
  auto Intern(Type type) -> TypeId;

  std::vector<Type> types_;
  std::unordered_map<std::string, TypeId> by_key_;  // structural key -> id
  std::unordered_map<int32_t, std::string> aliases_;
  TypeId error_, never_, null_, int_t_, float_t_, bool_t_, string_t_, duration_t_, time_t_, json_t_,
      secret_t_;
};

// The assignability relation of SPEC §2.2: may a value of type `from` be used
// where `to` is expected?
//   - identical types; Error either side; Never to anything;
//   - Null to T? and to json; T to T? when T is assignable to the inner type;
//   - int to float; a literal union to string; literal union A to B if A ⊆ B;
//   - [A] to [B] if A to B (lists are immutable values, so covariance is sound);
//   - records: width subtyping, each field of `to` must exist in `from` with
//     an assignable type, except that a missing field is fine where `to`'s
//     field is optional (JSON's "absent" reads as null);
//   - anything without a secret to json; json to nothing else (it needs
//     `as T`, `int(x)`...); a secret to nothing but secret.
auto IsAssignable(const TypeTable& table, TypeId from, TypeId to) -> bool;

// The common type of two branches (e.g. `a ?? b`, list literal items): the
// one both are assignable to, preferring `a`'s; an invalid id when none.
// Beyond assignability: null and T join to T?; literal unions to their
// union; lists element-wise; records field-wise, a field only one side has
// becoming optional.
auto Join(TypeTable& table, TypeId a, TypeId b) -> TypeId;

}  // namespace flow::types
