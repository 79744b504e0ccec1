// The type relation of SPEC §2.2 (compiler/types): assignability, Join,
// normalisation and Display.
#include "compiler/types/types.h"

#include <gtest/gtest.h>

namespace flow::types {
namespace {

class TypesTest : public ::testing::Test {
 protected:
  auto Assignable(TypeId from, TypeId to) -> bool { return IsAssignable(t, from, to); }
  auto Rec(std::vector<Field> fields) -> TypeId { return t.Record(std::move(fields)); }
  auto Lit(std::vector<std::string> members) -> TypeId { return t.Literal(std::move(members)); }
  auto Opt(TypeId inner) -> TypeId { return t.Optional(inner); }

  TypeTable t;
};

TEST_F(TypesTest, HashConsingGivesOneIdPerStructure) {
  EXPECT_EQ(t.List(t.int_()), t.List(t.int_()));
  EXPECT_NE(t.List(t.int_()), t.List(t.float_()));
  // Field order does not matter: records are sorted by name.
  EXPECT_EQ(Rec({{"b", t.int_()}, {"a", t.string()}}), Rec({{"a", t.string()}, {"b", t.int_()}}));
  EXPECT_EQ(Lit({"b", "a", "a"}), Lit({"a", "b"}));
}

TEST_F(TypesTest, FieldNamesWithSeparatorsDoNotCollide) {
  // Connector schemas allow any property name.
  TypeId one = Rec({{"a=1|b", t.int_()}});
  TypeId two = Rec({{"a", t.float_()}, {"b", t.int_()}});
  EXPECT_NE(one, two);
  EXPECT_NE(Lit({"a\"|b"}), Lit({"a", "b"}));
}

TEST_F(TypesTest, OptionalNormalises) {
  TypeId oi = Opt(t.int_());
  EXPECT_EQ(Opt(oi), oi);
  EXPECT_EQ(Opt(t.null()), t.null());
  EXPECT_EQ(Opt(t.error()), t.error());
  EXPECT_EQ(Opt(t.json()), t.json());
  EXPECT_EQ(t.StripOptional(oi), t.int_());
  EXPECT_EQ(t.StripOptional(t.int_()), t.int_());
}

TEST_F(TypesTest, ScalarsOnlyConvertIntToFloat) {
  EXPECT_TRUE(Assignable(t.int_(), t.int_()));
  EXPECT_TRUE(Assignable(t.int_(), t.float_()));
  EXPECT_FALSE(Assignable(t.float_(), t.int_()));
  EXPECT_FALSE(Assignable(t.int_(), t.string()));
  EXPECT_FALSE(Assignable(t.bool_(), t.int_()));
  EXPECT_FALSE(Assignable(t.string(), t.time()));
  EXPECT_FALSE(Assignable(t.int_(), t.duration()));
  EXPECT_FALSE(Assignable(t.duration(), t.time()));
}

TEST_F(TypesTest, LiteralsToStringAndSubsets) {
  TypeId plan = Lit({"free", "pro"});
  EXPECT_TRUE(Assignable(Lit({"free"}), plan));
  EXPECT_TRUE(Assignable(plan, plan));
  EXPECT_TRUE(Assignable(plan, t.string()));
  EXPECT_FALSE(Assignable(Lit({"free", "team"}), plan));
  EXPECT_FALSE(Assignable(plan, Lit({"free"})));
  EXPECT_FALSE(Assignable(t.string(), plan));
  EXPECT_TRUE(Assignable(Lit({"free"}), Opt(plan)));
  EXPECT_TRUE(Assignable(Lit({"free"}), Opt(t.string())));
}

TEST_F(TypesTest, OptionalAcceptsNullAndInner) {
  TypeId oi = Opt(t.int_());
  EXPECT_TRUE(Assignable(t.int_(), oi));
  EXPECT_TRUE(Assignable(t.null(), oi));
  EXPECT_TRUE(Assignable(oi, Opt(t.float_())));  // int? to float?
  EXPECT_TRUE(Assignable(t.int_(), Opt(t.float_())));
  EXPECT_FALSE(Assignable(oi, t.int_()));       // needs ?? or a check
  EXPECT_FALSE(Assignable(t.null(), t.int_()));
  EXPECT_FALSE(Assignable(t.string(), oi));
  EXPECT_FALSE(Assignable(Opt(t.float_()), oi));
}

TEST_F(TypesTest, JsonIsASinkOnly) {
  TypeId rec = Rec({{"a", t.int_()}});
  for (TypeId from : {t.int_(), t.string(), t.null(), t.time(), Opt(t.int_()), t.List(t.bool_()),
                      rec, Lit({"x"})}) {
    EXPECT_TRUE(Assignable(from, t.json())) << t.Display(from);
  }
  for (TypeId to : {t.int_(), t.string(), Opt(t.int_()), t.List(t.json()), rec, Lit({"x"})}) {
    EXPECT_FALSE(Assignable(t.json(), to)) << t.Display(to);
  }
}

TEST_F(TypesTest, ErrorAndNever) {
  EXPECT_TRUE(Assignable(t.error(), t.int_()));
  EXPECT_TRUE(Assignable(t.string(), t.error()));
  EXPECT_TRUE(Assignable(t.never(), t.int_()));
  EXPECT_TRUE(Assignable(t.never(), Rec({{"a", t.int_()}})));
  EXPECT_FALSE(Assignable(t.int_(), t.never()));
  // `[]` is [never]: assignable to any list.
  EXPECT_TRUE(Assignable(t.List(t.never()), t.List(t.string())));
}

TEST_F(TypesTest, ListsAreCovariant) {
  EXPECT_TRUE(Assignable(t.List(t.int_()), t.List(t.float_())));
  EXPECT_TRUE(Assignable(t.List(Lit({"a"})), t.List(t.string())));
  EXPECT_TRUE(Assignable(t.List(t.int_()), t.List(Opt(t.int_()))));
  EXPECT_FALSE(Assignable(t.List(t.float_()), t.List(t.int_())));
  EXPECT_FALSE(Assignable(t.List(t.int_()), t.int_()));
  EXPECT_FALSE(Assignable(t.List(t.List(t.string())), t.List(t.string())));
}

TEST_F(TypesTest, RecordWidthSubtyping) {
  TypeId wide = Rec({{"id", t.string()}, {"n", t.int_()}, {"extra", t.bool_()}});
  TypeId narrow = Rec({{"id", t.string()}, {"n", t.float_()}});
  EXPECT_TRUE(Assignable(wide, narrow));
  EXPECT_FALSE(Assignable(narrow, wide));  // 'extra' is missing
  EXPECT_TRUE(Assignable(wide, Rec({})));
  EXPECT_FALSE(Assignable(Rec({{"id", t.int_()}}), Rec({{"id", t.string()}})));
}

TEST_F(TypesTest, RecordMissingOptionalFieldIsFine) {
  TypeId want = Rec({{"id", t.string()}, {"seats", Opt(t.int_())}, {"meta", t.json()}});
  EXPECT_TRUE(Assignable(Rec({{"id", t.string()}}), want));
  EXPECT_TRUE(Assignable(Rec({{"id", t.string()}, {"seats", t.int_()}}), want));
  EXPECT_TRUE(Assignable(Rec({{"id", t.string()}, {"seats", t.null()}}), want));
  EXPECT_FALSE(Assignable(Rec({{"id", t.string()}, {"seats", t.string()}}), want));
  // An optional field does not satisfy a required one.
  EXPECT_FALSE(Assignable(Rec({{"id", Opt(t.string())}}), want));
}

TEST_F(TypesTest, NestedRecords) {
  TypeId inner_wide = Rec({{"city", t.string()}, {"zip", t.string()}});
  TypeId inner_narrow = Rec({{"city", t.string()}});
  TypeId outer_wide = Rec({{"address", inner_wide}, {"name", t.string()}});
  TypeId outer_narrow = Rec({{"address", inner_narrow}});
  EXPECT_TRUE(Assignable(outer_wide, outer_narrow));
  EXPECT_FALSE(Assignable(outer_narrow, outer_wide));
  EXPECT_TRUE(Assignable(outer_wide, Rec({{"address", Opt(inner_narrow)}})));
  EXPECT_TRUE(Assignable(t.List(outer_wide), t.List(outer_narrow)));
  EXPECT_FALSE(Assignable(Rec({{"address", Opt(inner_wide)}}), outer_narrow));
}

TEST_F(TypesTest, FieldType) {
  TypeId r = Rec({{"b", t.int_()}, {"a", t.string()}});
  EXPECT_EQ(t.FieldType(r, "a"), t.string());
  EXPECT_EQ(t.FieldType(r, "b"), t.int_());
  EXPECT_FALSE(t.FieldType(r, "c").valid());
  EXPECT_FALSE(t.FieldType(t.int_(), "a").valid());
}

TEST_F(TypesTest, JoinPrefersTheWiderType) {
  EXPECT_EQ(Join(t, t.int_(), t.int_()), t.int_());
  EXPECT_EQ(Join(t, t.int_(), t.float_()), t.float_());
  EXPECT_EQ(Join(t, t.float_(), t.int_()), t.float_());
  EXPECT_EQ(Join(t, Lit({"a"}), t.string()), t.string());
  EXPECT_EQ(Join(t, Lit({"a"}), Lit({"b"})), Lit({"a", "b"}));
  EXPECT_EQ(Join(t, t.null(), t.int_()), Opt(t.int_()));
  EXPECT_EQ(Join(t, t.int_(), t.null()), Opt(t.int_()));
  EXPECT_EQ(Join(t, Opt(t.int_()), t.float_()), Opt(t.float_()));
  EXPECT_EQ(Join(t, t.never(), t.string()), t.string());
  EXPECT_EQ(Join(t, t.string(), t.never()), t.string());
  EXPECT_EQ(Join(t, t.int_(), t.json()), t.json());
  EXPECT_EQ(Join(t, t.error(), t.int_()), t.error());
  EXPECT_FALSE(Join(t, t.int_(), t.string()).valid());
  EXPECT_FALSE(Join(t, t.List(t.int_()), t.int_()).valid());
}

TEST_F(TypesTest, JoinListsAndRecords) {
  EXPECT_EQ(Join(t, t.List(t.int_()), t.List(t.float_())), t.List(t.float_()));
  EXPECT_EQ(Join(t, t.List(Lit({"a"})), t.List(Lit({"b"}))), t.List(Lit({"a", "b"})));
  EXPECT_FALSE(Join(t, t.List(t.int_()), t.List(t.string())).valid());
  TypeId a = Rec({{"id", Lit({"a"})}, {"n", t.int_()}});
  TypeId b = Rec({{"id", Lit({"b"})}, {"tag", t.string()}});
  TypeId joined = Join(t, a, b);
  ASSERT_TRUE(joined.valid());
  EXPECT_EQ(t.Display(joined), "{ id: \"a\" | \"b\", n: int?, tag: string? }");
  EXPECT_TRUE(Assignable(a, joined));
  EXPECT_TRUE(Assignable(b, joined));
  EXPECT_FALSE(Join(t, Rec({{"id", t.int_()}}), Rec({{"id", t.string()}})).valid());
}

TEST_F(TypesTest, Display) {
  EXPECT_EQ(t.Display(t.int_()), "int");
  EXPECT_EQ(t.Display(t.float_()), "float");
  EXPECT_EQ(t.Display(t.bool_()), "bool");
  EXPECT_EQ(t.Display(t.string()), "string");
  EXPECT_EQ(t.Display(t.duration()), "duration");
  EXPECT_EQ(t.Display(t.time()), "time");
  EXPECT_EQ(t.Display(t.json()), "json");
  EXPECT_EQ(t.Display(t.null()), "null");
  EXPECT_EQ(t.Display(t.never()), "never");
  EXPECT_EQ(t.Display(t.error()), "<error>");
  EXPECT_EQ(t.Display(TypeId{}), "<invalid>");
  EXPECT_EQ(t.Display(t.List(Opt(t.string()))), "[string?]");
  EXPECT_EQ(t.Display(Lit({"pro", "free"})), "\"free\" | \"pro\"");
  EXPECT_EQ(t.Display(Opt(Lit({"pro", "free"}))), "(\"free\" | \"pro\")?");
  EXPECT_EQ(t.Display(Opt(Lit({"x"}))), "\"x\"?");
  EXPECT_EQ(t.Display(Rec({})), "{}");
  EXPECT_EQ(t.Display(Rec({{"n", Opt(t.int_())}, {"id", t.string()}})), "{ id: string, n: int? }");
  EXPECT_EQ(t.Display(Rec({{"content-type", t.string()}})), "{ \"content-type\": string }");
}

TEST_F(TypesTest, AliasesNameRecordsAndUnionsOnly) {
  TypeId customer = Rec({{"id", t.string()}});
  t.SetAlias(customer, "Customer");
  t.SetAlias(customer, "Client");  // first alias wins
  EXPECT_EQ(t.Display(customer), "Customer");
  EXPECT_EQ(t.Display(t.List(customer)), "[Customer]");
  EXPECT_EQ(t.Display(Opt(customer)), "Customer?");
  TypeId plan = Lit({"free", "pro"});
  t.SetAlias(plan, "Plan");
  EXPECT_EQ(t.Display(Opt(plan)), "Plan?");
  // `type Id = string` must not rename every string.
  t.SetAlias(t.string(), "Id");
  EXPECT_EQ(t.Display(t.string()), "string");
  t.SetAlias(t.List(t.int_()), "Ints");
  EXPECT_EQ(t.Display(t.List(t.int_())), "[int]");
}

}  // namespace
}  // namespace flow::types
