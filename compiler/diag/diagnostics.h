// The diagnostics sink: the first error channel of STYLE.md §3.
//
// Phases append Diagnostics here and keep going; nothing is printed until the
// driver calls RenderText or RenderJson, which sort by position, drop exact
// duplicates and print GCC-style text (with the source line and a ^~~~ caret
// under the range) or the JSON array of SPEC §2.6. The error count decides
// the exit code. Every kind is declared once in diagnostic_kinds.def.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "compiler/source/source.h"

namespace flow {

enum class Severity { Error, Warning, Note };

enum class DiagKind {
#define FLOW_DIAG(Name, Sev, Code, Slug, Format) Name,
#include "compiler/diag/diagnostic_kinds.def"
#undef FLOW_DIAG
};

struct DiagKindInfo {
  Severity severity;
  std::string_view code;    // "E025"
  std::string_view slug;    // "unknown-argument"
  std::string_view format;  // "{0} has no argument '{1}'{2}"
};

auto GetDiagKindInfo(DiagKind kind) -> const DiagKindInfo&;
// Every registered kind, in declaration order (for tests and docs checks).
auto AllDiagKinds() -> std::vector<DiagKind>;

struct DiagNote {
  SourceRange range;
  std::string message;
};

// A machine-applicable edit that resolves a diagnostic: replace `range`
// with `replacement`. The "did you mean" of a diagnostic carries one, which
// `flow lsp` offers as a quick fix (docs/editors.md).
struct DiagFix {
  SourceRange range;
  std::string replacement;
};

struct Diagnostic {
  DiagKind kind;
  Severity severity;
  SourceRange range;
  std::string message;
  std::vector<DiagNote> notes;
  std::vector<DiagFix> fixes;
};

class Diagnostics {
 public:
  // Appends a diagnostic of `kind` at `range`, formatting the kind's message
  // with `args` (which must match the format's placeholders). Returns it so
  // the caller can attach notes.
  template <typename... Args>
  auto Report(DiagKind kind, SourceRange range, const Args&... args) -> Diagnostic& {
    const auto& info = GetDiagKindInfo(kind);
    return Add(Diagnostic{kind, info.severity, range,
                          fmt::format(fmt::runtime(info.format), args...), {}, {}});
  }
  auto Add(Diagnostic diag) -> Diagnostic&;

  auto error_count() const -> int { return errors_; }
  auto warning_count() const -> int { return warnings_; }
  auto has_errors() const -> bool { return errors_ > 0; }
  // Diagnostics sorted by file and position, exact duplicates removed.
  auto Sorted() const -> std::vector<Diagnostic>;
  auto all() const -> const std::vector<Diagnostic>& { return diags_; }

  // From now on, drops the diagnostics that begin inside [range.begin,
  // range.end) of its file: the checker mutes the rest of a declaration
  // after a syntax error, where the parser's recovery guessed at the code
  // and anything reported would follow from the guess (one mistake, one
  // message).
  void Mute(SourceRange range) { muted_.push_back(range); }

  // Warnings count as errors from now on (`--werror`).
  void set_werror(bool on) { werror_ = on; }
  auto werror() const -> bool { return werror_; }

 private:
  std::vector<Diagnostic> diags_;
  std::vector<SourceRange> muted_;
  Diagnostic dropped_{};  // where a muted diagnostic goes
  int errors_ = 0;
  int warnings_ = 0;
  bool werror_ = false;
};

// GCC-style text: "file:line:col: error: message", the source line, a caret
// line; notes follow the same shape with "note:". One block per diagnostic.
auto RenderText(const Diagnostics& diags, const SourceManager& sources) -> std::string;
// The JSON array of SPEC §2.6: [{file, line, column, end_line, end_column,
// severity, code, message, name}], end_column exclusive-free (the last column
// the range covers, plus one, as LSP does).
auto RenderJson(const Diagnostics& diags, const SourceManager& sources) -> std::string;

// " did you mean 'x'?" style suffix helper lives in diag/suggest.h.

}  // namespace flow
