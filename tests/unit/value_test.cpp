// Values: layout, reference counting and copy on write, equality, JSON in
// and out with typed paths, time and duration text.
#include <gtest/gtest.h>

#include "vm/bytecode/builder.h"
#include "vm/value/convert.h"
#include "vm/value/shape.h"
#include "vm/value/time_format.h"
#include "vm/value/value.h"

namespace flow::value {
namespace {

using nlohmann::json;

TEST(Value, ScalarsAreInline) {
  EXPECT_EQ(sizeof(Value), 16u);
  Value a = Value::Int(7);
  Value b = a;
  EXPECT_TRUE(b.is_int());
  EXPECT_EQ(b.as_int(), 7);
  b.SetFloat(2.5);
  EXPECT_EQ(a.as_int(), 7);
  EXPECT_EQ(ToDisplayString(b), "2.5");
}

TEST(Value, ListsAreCopiedOnWrite) {
  Value a = Value::List({Value::Int(1)});
  Value b = a;
  b.MutableList().push_back(Value::Int(2));
  EXPECT_EQ(a.list().size(), 1u);
  EXPECT_EQ(b.list().size(), 2u);
  const Value* before = &b.list()[0];
  b.MutableList().push_back(Value::Int(3));  // unique now: in place
  EXPECT_EQ(b.list().size(), 3u);
  (void)before;
  Value s = Value::String("ab");
  Value t = s;
  t.MutableString() += "c";
  EXPECT_EQ(s.str(), "ab");
  EXPECT_EQ(t.str(), "abc");
}

TEST(Value, RecordsByNameId) {
  Symbols& syms = Symbols::Global();
  const Shape* shape = syms.ShapeOfTexts({"name", "id"});
  EXPECT_EQ(shape->texts, (std::vector<std::string>{"id", "name"}));
  Value r = Value::Record(shape, {Value::String("c1"), Value::String("Ada")});
  ASSERT_NE(r.FindField(syms.Name("name")), nullptr);
  EXPECT_EQ(r.FindField(syms.Name("name"))->str(), "Ada");
  EXPECT_EQ(r.FindField(syms.Name("missing")), nullptr);
  EXPECT_EQ(ToDisplayString(r), R"({"id":"c1","name":"Ada"})");
  Value same = Value::Record(syms.ShapeOfTexts({"id", "name"}), {Value::String("c1"), Value::String("Ada")});
  EXPECT_TRUE(Equal(r, same));
  EXPECT_FALSE(Equal(r, Value::Int(1)));
  EXPECT_TRUE(Equal(Value::Int(2), Value::Float(2.0)));
}

TEST(Value, TypedJsonConversionReportsPaths) {
  bytecode::ModuleBuilder mb;
  uint32_t int_t = mb.ScalarType(bytecode::TypeKind::Int);
  uint32_t str_t = mb.ScalarType(bytecode::TypeKind::String);
  uint32_t opt_int = mb.Type({bytecode::TypeKind::Optional, int_t, {}, {}});
  uint32_t plan = mb.Type({bytecode::TypeKind::Literal, 0, {}, {"free", "pro"}});
  uint32_t list_int = mb.Type({bytecode::TypeKind::List, int_t, {}, {}});
  uint32_t rec = mb.Type({bytecode::TypeKind::Record, 0,
                          {{mb.Name("id"), str_t}, {mb.Name("plan"), plan}, {mb.Name("seats"), opt_int},
                           {mb.Name("xs"), list_int}},
                          {}});
  bytecode::Module m = std::move(mb).Finish();
  auto ok = FromJson(json::parse(R"({"id":"a","plan":"pro","xs":[1,2],"extra":true})"), m, rec);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ToDisplayString(*ok), R"({"id":"a","plan":"pro","seats":null,"xs":[1,2]})");
  auto bad = FromJson(json::parse(R"({"id":"a","plan":"pro","xs":[1,"2"]})"), m, rec);
  EXPECT_EQ(bad.error().message, "$.xs[1]: expected integer, got string");
  bad = FromJson(json::parse(R"({"id":"a","plan":"gold","xs":[]})"), m, rec);
  EXPECT_EQ(bad.error().message, R"($.plan: expected one of "free", "pro", got "gold")");
  bad = FromJson(json::parse(R"({"plan":"free","xs":[]})"), m, rec);
  EXPECT_EQ(bad.error().message, "$: missing required field 'id'");
  bad = FromJson(json::parse(R"(18446744073709551615)"), m, int_t);
  EXPECT_EQ(bad.error().message, "$: integer out of range");
}

TEST(Value, TimeAndDurationText) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1768469400250), "2026-01-15T09:30:00.250Z");
  EXPECT_EQ(ParseTime("2026-01-15T10:30:00.25+01:00"), 1768469400250);
  EXPECT_EQ(ParseTime("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(FormatTime(-1000), "1969-12-31T23:59:59Z");
  EXPECT_FALSE(ParseTime("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseTime("yesterday"));
  EXPECT_EQ(ParseDuration("7d"), 604800000);
  EXPECT_FALSE(ParseDuration("99999999999999999999s"));
  EXPECT_FALSE(ParseDuration("5 weeks"));
}

// Durations print as a person writes them (docs/language.md) and every
// printed form reads back to the same value.
TEST(Value, DurationTextReadsAsWritten) {
  const std::pair<int64_t, const char*> cases[] = {
      {0, "0s"},           {500, "500ms"},       {1, "1ms"},          {1000, "1s"},
      {1500, "1.5s"},      {30010, "30.01s"},    {30001, "30.001s"},  {90000, "1m30s"},
      {5400000, "1h30m"},  {7200000, "2h"},      {183600000, "2d3h"}, {604800000, "7d"},
      {3723500, "1h2m3.5s"}, {86400001, "1d0.001s"}, {-5400000, "-1h30m"}, {-250, "-250ms"},
  };
  for (const auto& [ms, text] : cases) {
    EXPECT_EQ(FormatDuration(ms), text) << ms;
    EXPECT_EQ(ParseDuration(text), ms) << text;
  }
  for (int64_t ms : {INT64_MAX, INT64_MIN + 1, int64_t{123456789012}}) {
    EXPECT_EQ(ParseDuration(FormatDuration(ms)), ms) << FormatDuration(ms);
  }
  EXPECT_EQ(FormatDuration(INT64_MIN), "-106751991167d7h12m55.808s");
  // Literal spellings that are not the canonical text still read.
  EXPECT_EQ(ParseDuration("90s"), 90000);
  EXPECT_EQ(ParseDuration("1500ms"), 1500);
  EXPECT_EQ(ParseDuration("90m"), 5400000);
  for (const char* bad : {"", "-", "s", "30m1h", "1h1h", "1.5h", "1.2345s", "1.s", "1s500", "1 h", "1H", "+1s"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

TEST(Value, DisplayNeverThrowsOnBadUtf8) {
  EXPECT_EQ(ToDisplayString(Value::List({Value::String("\xff")})), "[\"\xEF\xBF\xBD\"]");
}

}  // namespace
}  // namespace flow::value
