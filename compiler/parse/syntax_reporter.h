// The one place lexical and syntax diagnostics of a file go through.
//
// Shared by the token filter (E003 E004 E005) and the parser's error strategy
// (E001 E002) so both obey the anti-cascade rules together: at most one
// syntax diagnostic per line, and after a syntax error no second one until
// the parser has passed a statement separator. It also owns the mapping from
// ANTLR positions (code-point indices) to SourceRange byte offsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "compiler/diag/diagnostics.h"
#include "compiler/parse/source_offsets.h"
#include "compiler/source/source.h"

namespace antlr4 {
class Token;
}

namespace flow::parse {

class SyntaxReporter {
 public:
  SyntaxReporter(const SourceFile& file, FileId id, const SourceOffsets& offsets, Diagnostics& diags)
      : file_(file), id_(id), offsets_(offsets), diags_(diags) {}

  auto file() const -> const SourceFile& { return file_; }
  auto id() const -> FileId { return id_; }
  auto diags() -> Diagnostics& { return diags_; }

  // The byte range of a token; an empty range at the end of the file for a
  // token the parser conjured during recovery (it has no position).
  auto TokenRange(const antlr4::Token* token) const -> SourceRange;
  // The byte range between code-point indices [begin, end).
  auto Range(size_t begin, size_t end) const -> SourceRange {
    return SourceRange{id_, offsets_.ByteOffset(begin), offsets_.ByteOffset(end)};
  }

  // True when a syntax diagnostic on `line` (1-based) may still be reported,
  // and marks the line as taken when it returns true.
  auto ClaimLine(size_t line) -> bool;

  // Reports a lexical or syntax diagnostic at `range` on `line` unless the
  // line already holds one. Returns whether it was reported.
  template <typename... Args>
  auto ReportOnLine(size_t line, DiagKind kind, SourceRange range, const Args&... args) -> bool {
    if (!ClaimLine(line)) return false;
    diags_.Report(kind, range, args...);
    ++syntax_errors_;
    return true;
  }

  auto syntax_errors() const -> int { return syntax_errors_; }

  // `x += 1`: the token filter drops the operator before the `=` and notes
  // it here, by the code-point index where the `=` starts; the AST builder
  // takes it back when it builds that assignment (E072).
  struct CompoundOperator {
    size_t type;   // the lexer's PLUS, MINUS, STAR, SLASH or PERCENT
    size_t start;  // code-point index of the operator
  };
  void NoteCompoundOperator(size_t assign_start, CompoundOperator op) { compound_[assign_start] = op; }
  auto TakeCompoundOperator(size_t assign_start) -> std::optional<CompoundOperator> {
    auto it = compound_.find(assign_start);
    if (it == compound_.end()) return std::nullopt;
    CompoundOperator op = it->second;
    compound_.erase(it);
    return op;
  }

 private:
  const SourceFile& file_;
  FileId id_;
  const SourceOffsets& offsets_;
  Diagnostics& diags_;
  std::unordered_set<size_t> claimed_lines_;
  std::unordered_map<size_t, CompoundOperator> compound_;
  int syntax_errors_ = 0;
};

}  // namespace flow::parse
