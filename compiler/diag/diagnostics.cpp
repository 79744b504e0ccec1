#include "compiler/diag/diagnostics.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

namespace flow {
namespace {

constexpr DiagKindInfo kKindInfo[] = {
#define FLOW_DIAG(Name, Sev, Code, Slug, Format) {Severity::Sev, Code, Slug, Format},
#include "compiler/diag/diagnostic_kinds.def"
#undef FLOW_DIAG
};

auto SeverityName(Severity s) -> std::string_view {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

auto SortKey(const Diagnostic& d) {
  return std::make_tuple(d.range.file.index, d.range.begin, d.range.end,
                         static_cast<int>(d.kind), d.message);
}

// True when `text` is valid UTF-8 without control characters other than tab.
auto IsPrintableUtf8(std::string_view text) -> bool {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (len == 0 || i + len > text.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Appends "file:line:col: severity: message", the source line and a caret
// line under [begin, end) (clipped to the first line of the range).
void RenderOne(std::string& out, const SourceManager& sources, SourceRange range,
               Severity severity, const std::string& message) {
  if (!range.valid()) {
    out += fmt::format("flow: {}: {}\n", SeverityName(severity), message);
    return;
  }
  const SourceFile& file = sources.file(range.file);
  LineCol begin = file.Locate(range.begin);
  out += fmt::format("{}:{}:{}: {}: {}\n", file.path(), begin.line, begin.column,
                     SeverityName(severity), message);
  // An empty range at the start of the file marks a diagnostic about the
  // whole file (no workflow, not text): there is no line to point at.
  if (range.begin == 0 && range.end == 0) return;
  std::string_view line = file.Line(begin.line);
  // Very long lines (a minified or generated file) are not echoed whole, and
  // a line that is not printable text (binary input, another encoding) is not
  // echoed at all: it would garble the terminal and say nothing.
  constexpr size_t kMaxEchoedLine = 400;
  if (line.size() > kMaxEchoedLine || begin.column > line.size() + 1) return;
  if (!IsPrintableUtf8(line)) return;
  out += line;
  out += '\n';
  size_t col = begin.column - 1;
  for (size_t i = 0; i < col; ++i) out += line[i] == '\t' ? '\t' : ' ';
  out += '^';
  LineCol end = file.Locate(range.end);
  size_t last = end.line == begin.line ? end.column - 1 : line.size();
  for (size_t i = col + 1; i < last; ++i) out += '~';
  out += '\n';
}

}  // namespace

auto GetDiagKindInfo(DiagKind kind) -> const DiagKindInfo& {
  return kKindInfo[static_cast<size_t>(kind)];
}

auto AllDiagKinds() -> std::vector<DiagKind> {
  std::vector<DiagKind> kinds;
  for (size_t i = 0; i < std::size(kKindInfo); ++i) kinds.push_back(static_cast<DiagKind>(i));
  return kinds;
}

auto Diagnostics::Add(Diagnostic diag) -> Diagnostic& {
  for (const SourceRange& m : muted_) {
    if (diag.range.file == m.file && diag.range.begin >= m.begin && diag.range.begin < m.end) {
      dropped_ = std::move(diag);  // the caller may still attach notes to it
      return dropped_;
    }
  }
  if (werror_ && diag.severity == Severity::Warning) diag.severity = Severity::Error;
  if (diag.severity == Severity::Error) ++errors_;
  if (diag.severity == Severity::Warning) ++warnings_;
  diags_.push_back(std::move(diag));
  return diags_.back();
}

auto Diagnostics::Sorted() const -> std::vector<Diagnostic> {
  std::vector<Diagnostic> sorted = diags_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return SortKey(a) < SortKey(b); });
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const Diagnostic& a, const Diagnostic& b) {
                             return SortKey(a) == SortKey(b);
                           }),
               sorted.end());
  return sorted;
}

auto RenderText(const Diagnostics& diags, const SourceManager& sources) -> std::string {
  std::string out;
  for (const Diagnostic& d : diags.Sorted()) {
    RenderOne(out, sources, d.range, d.severity, d.message);
    for (const DiagNote& note : d.notes) {
      RenderOne(out, sources, note.range, Severity::Note, note.message);
    }
  }
  return out;
}

auto RenderJson(const Diagnostics& diags, const SourceManager& sources) -> std::string {
  auto array = nlohmann::json::array();
  for (const Diagnostic& d : diags.Sorted()) {
    const DiagKindInfo& info = GetDiagKindInfo(d.kind);
    nlohmann::json item;
    if (d.range.valid()) {
      const SourceFile& file = sources.file(d.range.file);
      LineCol begin = file.Locate(d.range.begin);
      LineCol end = file.Locate(d.range.end);
      item = {{"file", file.path()},      {"line", begin.line},   {"column", begin.column},
              {"end_line", end.line},     {"end_column", end.column}};
    } else {
      item = {{"file", nullptr}, {"line", 0}, {"column", 0}, {"end_line", 0}, {"end_column", 0}};
    }
    item["severity"] = SeverityName(d.severity);
    item["code"] = info.code;
    item["name"] = info.slug;
    item["message"] = d.message;
    if (!d.notes.empty()) {
      auto notes = nlohmann::json::array();
      for (const DiagNote& note : d.notes) {
        nlohmann::json n = {{"message", note.message}};
        if (note.range.valid()) {
          const SourceFile& file = sources.file(note.range.file);
          LineCol at = file.Locate(note.range.begin);
          n["file"] = file.path();
          n["line"] = at.line;
          n["column"] = at.column;
        }
        notes.push_back(std::move(n));
      }
      item["notes"] = std::move(notes);
    }
    array.push_back(std::move(item));
  }
  // error_handler::replace: a message quoting invalid UTF-8 source must not throw.
  return array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace flow
