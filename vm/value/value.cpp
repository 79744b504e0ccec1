#include "vm/value/value.h"

#include "vm/value/shape.h"

#include <algorithm>

namespace flow::value {

auto TagName(Tag tag) -> const char* {
  switch (tag) {
    case Tag::Null: return "null";
    case Tag::Bool: return "bool";
    case Tag::Int: return "int";
    case Tag::Float: return "float";
    case Tag::Duration: return "duration";
    case Tag::Time: return "time";
    case Tag::String: return "string";
    case Tag::List: return "list";
    case Tag::Record: return "record";
    case Tag::Json: return "json";
    case Tag::Secret: return "secret";
  }
  return "?";
}

namespace {

thread_local int64_t tls_heap_bytes = 0;

// What a json tree costs, roughly: nlohmann's 16-byte nodes, string
// capacities, and per object member a map node with its key. Iterative: a
// json value may nest deeper than the C++ stack allows recursion.
auto JsonFootprint(const nlohmann::json& root) -> int64_t {
  constexpr int64_t kNode = sizeof(nlohmann::json);
  constexpr int64_t kMapEntry = 64;  // red-black tree node and key string header
  int64_t bytes = 0;
  std::vector<const nlohmann::json*> todo{&root};
  while (!todo.empty()) {
    const nlohmann::json* j = todo.back();
    todo.pop_back();
    bytes += kNode;
    if (j->is_string()) {
      bytes += static_cast<int64_t>(j->get_ref<const std::string&>().capacity());
    } else if (j->is_array()) {
      for (const auto& x : *j) todo.push_back(&x);
    } else if (j->is_object()) {
      for (const auto& [key, x] : j->items()) {
        bytes += kMapEntry + static_cast<int64_t>(key.size());
        todo.push_back(&x);
      }
    }
  }
  return bytes;
}

// The footprint of a heap object as it is now.
auto Footprint(const Object* o) -> int64_t {
  constexpr int64_t kSlot = sizeof(Value);
  switch (o->tag) {
    case Tag::String: {
      const std::string& s = static_cast<const StringObj*>(o)->s;
      // Short strings live inside the std::string (SSO).
      return int64_t{sizeof(StringObj)} + (s.capacity() > 15 ? static_cast<int64_t>(s.capacity()) + 1 : 0);
    }
    case Tag::List:
      return int64_t{sizeof(ListObj)} + kSlot * static_cast<int64_t>(static_cast<const ListObj*>(o)->items.capacity());
    case Tag::Record:
      return int64_t{sizeof(RecordObj)} +
             kSlot * static_cast<int64_t>(static_cast<const RecordObj*>(o)->fields.capacity());
    case Tag::Json: return int64_t{sizeof(JsonObj)} + JsonFootprint(static_cast<const JsonObj*>(o)->j);
    default: return 0;
  }
}

// Counts a new object in this thread's heap bytes.
auto Charged(Object* o) -> Object* {
  o->charged = Footprint(o);
  tls_heap_bytes += o->charged;
  return o;
}

}  // namespace

auto HeapBytes() -> int64_t { return tls_heap_bytes; }

void Value::Recharge() {
  if (!is_heap()) return;
  const int64_t now = Footprint(o_);
  tls_heap_bytes += now - o_->charged;
  o_->charged = now;
}

auto Value::String(std::string s) -> Value { return Value(Charged(new StringObj(std::move(s)))); }
namespace {
auto DepthOf(const std::vector<Value>& items) -> uint16_t {
  int d = 0;
  for (const Value& v : items) d = std::max(d, v.depth());
  return static_cast<uint16_t>(std::min(d + 1, 0xFFFF));
}
}  // namespace

auto Value::List(std::vector<Value> items) -> Value {
  uint16_t depth = DepthOf(items);
  Value v(Charged(new ListObj(std::move(items))));
  v.o_->depth = depth;
  return v;
}
auto Value::Json(nlohmann::json j) -> Value { return Value(Charged(new JsonObj(std::move(j)))); }
auto Value::Secret(std::string name) -> Value { return Value(Charged(new SecretObj(std::move(name)))); }
auto Value::Record(const Shape* shape, std::vector<Value> fields) -> Value {
  FLOW_CHECK(shape != nullptr && fields.size() == shape->names.size(), "record fields must match the shape");
  uint16_t depth = DepthOf(fields);
  Value v(Charged(new RecordObj(shape, std::move(fields))));
  v.o_->depth = depth;
  return v;
}

void Value::Free(Object* o) {
  tls_heap_bytes -= o->charged;
  switch (o->tag) {
    case Tag::String: delete static_cast<StringObj*>(o); break;
    case Tag::List: delete static_cast<ListObj*>(o); break;
    case Tag::Record: delete static_cast<RecordObj*>(o); break;
    case Tag::Json: delete static_cast<JsonObj*>(o); break;
    case Tag::Secret: delete static_cast<SecretObj*>(o); break;
    default: FLOW_CHECK(false, "freeing a non-heap object");
  }
}

auto Value::str() const -> const std::string& {
  FLOW_CHECK(tag_ == Tag::String, "str() of a non-string");
  return static_cast<StringObj*>(o_)->s;
}
auto Value::list() const -> const std::vector<Value>& {
  FLOW_CHECK(tag_ == Tag::List, "list() of a non-list");
  return static_cast<ListObj*>(o_)->items;
}
auto Value::record_shape() const -> const Shape& {
  FLOW_CHECK(tag_ == Tag::Record, "record_shape() of a non-record");
  return *static_cast<RecordObj*>(o_)->shape;
}
auto Value::record_fields() const -> const std::vector<Value>& {
  FLOW_CHECK(tag_ == Tag::Record, "record_fields() of a non-record");
  return static_cast<RecordObj*>(o_)->fields;
}
auto Value::json() const -> const nlohmann::json& {
  FLOW_CHECK(tag_ == Tag::Json, "json() of a non-json");
  return static_cast<JsonObj*>(o_)->j;
}

auto Value::secret_name() const -> const std::string& {
  FLOW_CHECK(tag_ == Tag::Secret, "secret_name() of a non-secret");
  return static_cast<SecretObj*>(o_)->name;
}

auto Value::MutableString() -> std::string& {
  FLOW_CHECK(tag_ == Tag::String, "MutableString() of a non-string");
  if (o_->refs != 1) *this = String(str());
  return static_cast<StringObj*>(o_)->s;
}

auto Value::MutableList() -> std::vector<Value>& {
  FLOW_CHECK(tag_ == Tag::List, "MutableList() of a non-list");
  if (o_->refs != 1) *this = List(list());
  return static_cast<ListObj*>(o_)->items;
}

auto Value::FindField(uint32_t name) const -> const Value* {
  FLOW_CHECK(tag_ == Tag::Record, "FindField() of a non-record");
  auto* r = static_cast<RecordObj*>(o_);
  int slot = r->shape->Find(name);
  return slot < 0 ? nullptr : &r->fields[slot];
}

auto Equal(const Value& a, const Value& b) -> bool {
  if (a.tag() != b.tag()) {
    if (a.is_int() && b.is_float()) return static_cast<double>(a.as_int()) == b.as_float();
    if (a.is_float() && b.is_int()) return a.as_float() == static_cast<double>(b.as_int());
    return false;
  }
  switch (a.tag()) {
    case Tag::Null: return true;
    case Tag::Bool: return a.as_bool() == b.as_bool();
    case Tag::Int: case Tag::Duration: case Tag::Time: return a.as_int() == b.as_int();
    case Tag::Float: return a.as_float() == b.as_float();
    case Tag::String: return a.str() == b.str();
    case Tag::List: {
      const auto& x = a.list();
      const auto& y = b.list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) if (!Equal(x[i], y[i])) return false;
      return true;
    }
    case Tag::Record: {
      if (a.record_shape().texts != b.record_shape().texts) return false;
      const auto& x = a.record_fields();
      const auto& y = b.record_fields();
      for (size_t i = 0; i < x.size(); ++i) if (!Equal(x[i], y[i])) return false;
      return true;
    }
    case Tag::Json: return a.json() == b.json();
    case Tag::Secret: return a.secret_name() == b.secret_name();
  }
  return false;
}

auto Compare(const Value& a, const Value& b, bool& less, bool& equal) -> bool {
  auto num = [](const Value& v) { return v.is_int() ? static_cast<double>(v.as_int()) : v.as_float(); };
  if (a.tag() == b.tag()) {
    switch (a.tag()) {
      case Tag::Int: case Tag::Duration: case Tag::Time:
        less = a.as_int() < b.as_int();
        equal = a.as_int() == b.as_int();
        return true;
      case Tag::Float:
        less = a.as_float() < b.as_float();
        equal = a.as_float() == b.as_float();
        return true;
      case Tag::String: {
        int c = a.str().compare(b.str());
        less = c < 0;
        equal = c == 0;
        return true;
      }
      default: return false;
    }
  }
  if ((a.is_int() || a.is_float()) && (b.is_int() || b.is_float())) {
    less = num(a) < num(b);
    equal = num(a) == num(b);
    return true;
  }
  return false;
}

}  // namespace flow::value
