// Words and operators of other languages that people type into a .flow
// file, with the flow spelling (docs/diagnostics.md E070 E075).
//
// The token filter (token_filter.cpp) recognises them where the other
// language would use them, reports the flow spelling, and hands the parser
// the flow token instead, so one mistake gives one diagnostic and the rest
// of the file is checked as if it had been written right. Outside those
// positions the words are ordinary names: `let def = 1` still works.
#pragma once

#include <string_view>

namespace flow::parse {

// Where a foreign keyword may appear.
enum class ForeignPlace {
  StatementStart,  // `const x = 1`, `throw "x"`; top level: `def f()`
  AfterBlock,      // right after a `}`: `} elif c {`, `} except e {`
};

struct ForeignKeyword {
  std::string_view word;  // as typed: "elif"
  std::string_view flow;  // what to write instead: "else if"
  ForeignPlace place;
};

// The entry for `word` at `place`, or nullptr.
auto FindForeignKeyword(std::string_view word, ForeignPlace place) -> const ForeignKeyword*;

}  // namespace flow::parse
