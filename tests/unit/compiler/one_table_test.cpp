// The tables that exist once (issue 12 item 9): the division and modulo
// rules of vm/bytecode/arith.h, and the built-ins of vm/bytecode/builtins.def
// as the checker and the VM each see them.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "compiler/check/builtins.h"
#include "vm/bytecode/arith.h"
#include "vm/bytecode/module.h"

namespace flow {
namespace {

auto Div(int64_t a, int64_t b) -> std::optional<int64_t> {
  int64_t r = 0;
  if (bytecode::IntDivFails(a, b, &r)) return std::nullopt;
  return r;
}
auto Mod(int64_t a, int64_t b) -> std::optional<int64_t> {
  int64_t r = 0;
  if (bytecode::IntModFails(a, b, &r)) return std::nullopt;
  return r;
}

TEST(ArithRules, IntegerDivisionTruncatesAndRemainderFollowsTheDividend) {
  EXPECT_EQ(Div(7, 2), 3);
  EXPECT_EQ(Div(-7, 2), -3);
  EXPECT_EQ(Div(7, -2), -3);
  EXPECT_EQ(Mod(7, 2), 1);
  EXPECT_EQ(Mod(-7, 2), -1);
  EXPECT_EQ(Mod(7, -2), 1);
}

TEST(ArithRules, ZeroDivisorAndOverflowFail) {
  EXPECT_EQ(Div(1, 0), std::nullopt);
  EXPECT_EQ(Mod(1, 0), std::nullopt);
  EXPECT_EQ(Div(INT64_MIN, -1), std::nullopt);
  // C leaves INT64_MIN % -1 undefined; flow defines every x % -1 as 0.
  EXPECT_EQ(Mod(INT64_MIN, -1), 0);
  EXPECT_EQ(Mod(5, -1), 0);
  EXPECT_EQ(Div(INT64_MIN, 1), INT64_MIN);
}

TEST(ArithRules, FloatsFailOnAZeroDivisorToo) {
  double r = 0;
  EXPECT_TRUE(bytecode::FloatDivFails(1.0, 0.0, &r));
  EXPECT_TRUE(bytecode::FloatModFails(1.0, -0.0, &r));
  EXPECT_FALSE(bytecode::FloatModFails(-7.5, 2.0, &r));
  EXPECT_EQ(r, -1.5);
  EXPECT_FALSE(bytecode::FloatDivFails(1.0, 4.0, &r));
  EXPECT_EQ(r, 0.25);
}

// The checker's ids are the VM's pure built-ins, then its effects, with the
// same names and arities: codegen maps one to the other by position.
TEST(BuiltinTable, CheckerAndVmAgreeEntryForEntry) {
  auto all = check::AllBuiltins();
  const auto pure = static_cast<size_t>(bytecode::BuiltinId::kCount);
  const auto effects = static_cast<size_t>(bytecode::EffectId::kCount);
  ASSERT_EQ(all.size(), pure + effects);
  for (size_t k = 0; k < all.size(); ++k) {
    const check::BuiltinInfo& c = all[k];
    EXPECT_EQ(static_cast<size_t>(c.id), k);
    if (k < pure) {
      const bytecode::BuiltinInfo& v = bytecode::GetBuiltinInfo(static_cast<bytecode::BuiltinId>(k));
      EXPECT_EQ(c.name, std::string_view(v.name));
      EXPECT_EQ(c.min_args, v.min_args);
      EXPECT_EQ(c.max_args, v.max_args);
      EXPECT_FALSE(c.effect) << c.name;
    } else {
      EXPECT_EQ(c.name, std::string_view(bytecode::GetEffectName(static_cast<bytecode::EffectId>(k - pure))));
      EXPECT_TRUE(c.effect) << c.name;
      EXPECT_EQ(c.max_args, 0) << c.name;
    }
  }
}

TEST(BuiltinTable, ParameterNamesComeFromTheDef) {
  const check::BuiltinInfo* split = check::FindBuiltin("split");
  ASSERT_NE(split, nullptr);
  EXPECT_EQ(check::ParamName(*split, 1, 2), "sep");
  const check::BuiltinInfo* range = check::FindBuiltin("range");
  ASSERT_NE(range, nullptr);
  EXPECT_EQ(check::ParamName(*range, 0, 1), "n");  // the one-argument form
  EXPECT_EQ(check::ParamName(*range, 1, 2), "b");
  const check::BuiltinInfo* now = check::FindBuiltin("now");
  ASSERT_NE(now, nullptr);
  EXPECT_TRUE(now->effect);
}

}  // namespace
}  // namespace flow
