// See foreign_syntax.h.
#include "compiler/parse/foreign_syntax.h"

namespace flow::parse {

namespace {

constexpr ForeignKeyword kKeywords[] = {
    {"const", "let", ForeignPlace::StatementStart},
    {"function", "fn", ForeignPlace::StatementStart},
    {"def", "fn", ForeignPlace::StatementStart},
    {"func", "fn", ForeignPlace::StatementStart},
    {"fun", "fn", ForeignPlace::StatementStart},
    {"throw", "fail", ForeignPlace::StatementStart},
    {"raise", "fail", ForeignPlace::StatementStart},
    {"elif", "else if", ForeignPlace::AfterBlock},
    {"elsif", "else if", ForeignPlace::AfterBlock},
    {"elseif", "else if", ForeignPlace::AfterBlock},
    {"except", "catch", ForeignPlace::AfterBlock},
};

}  // namespace

auto FindForeignKeyword(std::string_view word, ForeignPlace place) -> const ForeignKeyword* {
  for (const ForeignKeyword& k : kKeywords) {
    if (k.word == word && k.place == place) return &k;
  }
  return nullptr;
}

}  // namespace flow::parse
