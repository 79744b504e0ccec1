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

auto Value::String(std::string s) -> Value { return Value(new StringObj(std::move(s))); }
namespace {
auto DepthOf(const std::vector<Value>& items) -> uint16_t {
  int d = 0;
  for (const Value& v : items) d = std::max(d, v.depth());
  return static_cast<uint16_t>(std::min(d + 1, 0xFFFF));
}
}  // namespace

auto Value::List(std::vector<Value> items) -> Value {
  uint16_t depth = DepthOf(items);
  Value v(new ListObj(std::move(items)));
  v.o_->depth = depth;
  return v;
}
auto Value::Json(nlohmann::json j) -> Value { return Value(new JsonObj(std::move(j))); }
auto Value::Secret(std::string name) -> Value { return Value(new SecretObj(std::move(name))); }
auto Value::Record(const Shape* shape, std::vector<Value> fields) -> Value {
  FLOW_CHECK(shape != nullptr && fields.size() == shape->names.size(), "record fields must match the shape");
  uint16_t depth = DepthOf(fields);
  Value v(new RecordObj(shape, std::move(fields)));
  v.o_->depth = depth;
  return v;
}

void Value::Free(Object* o) {
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
