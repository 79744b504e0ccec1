// The run-time value of the flow VM: a 16-byte tagged union.
//
// Scalars (null, bool, int, float, duration, time) live inline and cost no
// allocation or reference counting; copying one is two word moves. Strings,
// lists, records and json values are heap objects with an intrusive
// reference count (no std::shared_ptr: one word, no control block, no atomics
// -- a VM instance is single-threaded). The language has value semantics:
// programs never observe mutation, so objects are shared freely and copied
// on write (see MutableList/MutableString), which lets `xs = xs + [x]` in a
// loop extend the list in place when nobody else holds it.
//
// Durations are milliseconds; times are milliseconds since the Unix epoch,
// UTC (RFC 3339 text in and out, see time_format.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/base/check.h"

namespace flow::value {

enum class Tag : uint8_t {
  Null, Bool, Int, Float, Duration, Time,
  // Heap tags from here on: is_heap() is a single compare.
  String, List, Record, Json,
  // secret("ENV"): holds the variable's name, never its value. Only the
  // transport that sends a step reads the value (value/convert.h,
  // connectors/secrets.h); everywhere else it is written as "***".
  Secret,
};

auto TagName(Tag tag) -> const char*;

// Why lists and records nest at most this deep: printing, equality,
// serialisation and destruction recurse, and must not overflow the C++
// stack. The VM raises a "limit" error instead of building a deeper value;
// the state loader rejects deeper input.
inline constexpr int kMaxValueDepth = 1000;

struct Shape;
class Value;

// The bytes the heap values created on this thread hold now: each heap
// object adds its footprint (the object, its string or vector capacity, an
// estimate for a json tree) when it is created or grown in place
// (Value::Recharge) and takes it back when it is freed. A VM runs on one
// thread and its values stay there, so this is the run's memory for the
// per-run cap (interp::VmOptions::memory_limit); the VM compares it with
// the cap, values never fail to allocate because of it.
auto HeapBytes() -> int64_t;

struct Object {
  uint32_t refs = 1;
  Tag tag;
  uint16_t depth = 1;  // lists and records: 1 + the deepest child container (saturating)
  int64_t charged = 0;  // the footprint counted in HeapBytes() for this object
  explicit Object(Tag t) : tag(t) {}
};

class Value {
 public:
  Value() : tag_(Tag::Null), i_(0) {}
  static auto Bool(bool v) -> Value { Value r; r.tag_ = Tag::Bool; r.i_ = 0; r.b_ = v; return r; }
  static auto Int(int64_t v) -> Value { return Scalar(Tag::Int, v); }
  static auto Duration(int64_t ms) -> Value { return Scalar(Tag::Duration, ms); }
  static auto Time(int64_t ms) -> Value { return Scalar(Tag::Time, ms); }
  static auto Float(double v) -> Value { Value r; r.tag_ = Tag::Float; r.f_ = v; return r; }
  static auto String(std::string s) -> Value;
  static auto List(std::vector<Value> items) -> Value;
  // `fields` in the shape's order, one per shape field.
  static auto Record(const Shape* shape, std::vector<Value> fields) -> Value;
  static auto Json(nlohmann::json j) -> Value;
  // The secret read from environment variable `name` when a step is sent.
  static auto Secret(std::string name) -> Value;

  Value(const Value& o) : tag_(o.tag_), i_(o.i_) {
    if (is_heap()) ++o_->refs;
  }
  Value(Value&& o) noexcept : tag_(o.tag_), i_(o.i_) { o.tag_ = Tag::Null; }
  auto operator=(const Value& o) -> Value& {
    if (o.is_heap()) ++o.o_->refs;
    if (is_heap()) Release();
    tag_ = o.tag_;
    i_ = o.i_;
    return *this;
  }
  auto operator=(Value&& o) noexcept -> Value& {
    if (this != &o) {
      if (is_heap()) Release();
      tag_ = o.tag_;
      i_ = o.i_;
      o.tag_ = Tag::Null;
    }
    return *this;
  }
  ~Value() {
    if (is_heap()) Release();
  }

  // In-place scalar stores: the interpreter's fast paths.
  void SetInt(int64_t v) { SetScalar(Tag::Int, v); }
  void SetBool(bool v) {
    if (is_heap()) Release();
    tag_ = Tag::Bool;
    i_ = 0;
    b_ = v;
  }
  void SetFloat(double v) {
    if (is_heap()) Release();
    tag_ = Tag::Float;
    f_ = v;
  }
  void SetNull() { SetScalar(Tag::Null, 0); }

  auto tag() const -> Tag { return tag_; }
  auto is_heap() const -> bool { return tag_ >= Tag::String; }
  auto is_null() const -> bool { return tag_ == Tag::Null; }
  auto is_int() const -> bool { return tag_ == Tag::Int; }
  auto is_float() const -> bool { return tag_ == Tag::Float; }
  auto is_bool() const -> bool { return tag_ == Tag::Bool; }
  auto is_string() const -> bool { return tag_ == Tag::String; }
  auto is_list() const -> bool { return tag_ == Tag::List; }
  auto is_record() const -> bool { return tag_ == Tag::Record; }
  auto is_json() const -> bool { return tag_ == Tag::Json; }
  auto is_secret() const -> bool { return tag_ == Tag::Secret; }

  auto as_bool() const -> bool { return b_; }
  auto as_int() const -> int64_t { return i_; }  // also duration/time ms
  auto as_float() const -> double { return f_; }
  auto str() const -> const std::string&;
  auto list() const -> const std::vector<Value>&;
  auto record_shape() const -> const Shape&;
  auto record_fields() const -> const std::vector<Value>&;
  auto json() const -> const nlohmann::json&;
  // The environment variable a secret names.
  auto secret_name() const -> const std::string&;

  // Copy on write: the string/list storage of this value, copied first when
  // another value shares it. The value must have that tag.
  auto MutableString() -> std::string&;
  auto MutableList() -> std::vector<Value>&;
  // After growing the storage MutableString/MutableList returned: counts
  // the object's new footprint in HeapBytes().
  void Recharge();

  // Container nesting: 0 for scalars, strings and json; 1 + the deepest
  // child for lists and records.
  auto depth() const -> int { return tag_ == Tag::List || tag_ == Tag::Record ? o_->depth : 0; }
  // After adding `child` to this list in place (MutableList), keeps depth().
  void NoteChild(const Value& child) {
    int d = child.depth() + 1;
    if (d > o_->depth) o_->depth = static_cast<uint16_t>(d > 0xFFFF ? 0xFFFF : d);
  }

  // The field `name` (a name id) of a record, or nullptr when its shape
  // lacks it.
  auto FindField(uint32_t name) const -> const Value*;

  // Truthiness is only defined for bool (the checker guarantees it).
  auto truthy() const -> bool { return tag_ == Tag::Bool && b_; }

 private:
  static auto Scalar(Tag t, int64_t v) -> Value { Value r; r.tag_ = t; r.i_ = v; return r; }
  void SetScalar(Tag t, int64_t v) {
    if (is_heap()) Release();
    tag_ = t;
    i_ = v;
  }
  void Release() {
    if (--o_->refs == 0) Free(o_);
  }
  static void Free(Object* o);
  explicit Value(Object* o) : tag_(o->tag), o_(o) {}

  Tag tag_;
  union {
    bool b_;
    int64_t i_;
    double f_;
    Object* o_;
  };
};
static_assert(sizeof(Value) == 16, "a Value is a tag and one word");

struct StringObj : Object {
  std::string s;
  explicit StringObj(std::string v) : Object(Tag::String), s(std::move(v)) {}
};
struct ListObj : Object {
  std::vector<Value> items;
  explicit ListObj(std::vector<Value> v) : Object(Tag::List), items(std::move(v)) {}
};
struct RecordObj : Object {
  const Shape* shape;
  std::vector<Value> fields;
  RecordObj(const Shape* sh, std::vector<Value> f) : Object(Tag::Record), shape(sh), fields(std::move(f)) {}
};
struct SecretObj : Object {
  std::string name;
  explicit SecretObj(std::string n) : Object(Tag::Secret), name(std::move(n)) {}
};
struct JsonObj : Object {
  nlohmann::json j;
  explicit JsonObj(nlohmann::json v) : Object(Tag::Json), j(std::move(v)) {}
};

// Deep structural equality; int and float compare by numeric value.
auto Equal(const Value& a, const Value& b) -> bool;

// Ordering for < and <=: numbers, strings (bytewise), durations, times.
// Returns false when the values are not comparable (a bug the checker
// prevents); `less`/`equal` are then unspecified.
auto Compare(const Value& a, const Value& b, bool& less, bool& equal) -> bool;

}  // namespace flow::value
