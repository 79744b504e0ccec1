// Analyse, the conversions between flow and LSP positions, diagnostics.
#include "cli/lsp/analysis.h"

#include <filesystem>

#include "compiler/driver/compile.h"

namespace flow::lsp {

using nlohmann::json;

auto Analyse(const std::string& uri, std::string text) -> std::unique_ptr<Analysis> {
  auto a = std::make_unique<Analysis>();
  a->uri = uri;
  std::string path = UriToPath(uri);
  a->doc = a->sources.Add(path.empty() ? uri : path, std::move(text));
  a->program = CheckLoaded(a->doc, a->sources, a->diags);
  a->lines = LineIndex(a->text());
  return a;
}

auto ToLspRange(const Analysis& a, SourceRange range) -> Range {
  if (range.file == a.doc) return Range{a.lines.At(range.begin), a.lines.At(range.end)};
  if (!range.valid()) return Range{};
  LineIndex other(a.sources.file(range.file).text());
  return Range{other.At(range.begin), other.At(range.end)};
}

auto RangeJson(const Range& r) -> json {
  return json{{"start", {{"line", r.start.line}, {"character", r.start.character}}},
              {"end", {{"line", r.end.line}, {"character", r.end.character}}}};
}

auto PositionFromJson(const json& j) -> Position {
  return Position{j.at("line").get<uint32_t>(), j.at("character").get<uint32_t>()};
}

namespace {

// The URI of a file the analysis read: the document's own, or a file:// URI
// of the connector file's absolute path.
auto UriOf(const Analysis& a, FileId file) -> std::string {
  if (!file.valid() || file == a.doc) return a.uri;
  std::error_code ec;
  auto abs = std::filesystem::absolute(a.sources.file(file).path(), ec);
  return PathToUri(ec ? a.sources.file(file).path() : abs.lexically_normal().string());
}

auto DiagnosticJson(const Analysis& a, const Diagnostic& d) -> json {
  const DiagKindInfo& info = GetDiagKindInfo(d.kind);
  json out{{"range", RangeJson(ToLspRange(a, d.range))},
           {"severity", d.severity == Severity::Error ? 1 : d.severity == Severity::Warning ? 2 : 3},
           {"code", std::string(info.code)},
           {"source", "flow"},
           {"message", d.message}};
  if (!d.notes.empty()) {
    json related = json::array();
    for (const DiagNote& note : d.notes) {
      related.push_back({{"location",
                          {{"uri", UriOf(a, note.range.file)},
                           {"range", RangeJson(ToLspRange(a, note.range))}}},
                         {"message", note.message}});
    }
    out["relatedInformation"] = std::move(related);
  }
  return out;
}

}  // namespace

auto DiagnosticsByUri(const Analysis& a) -> std::map<std::string, json> {
  std::map<std::string, json> out;
  out[a.uri] = json::array();
  for (const Diagnostic& d : a.diags.Sorted()) {
    out[UriOf(a, d.range.file)].push_back(DiagnosticJson(a, d));
  }
  return out;
}

}  // namespace flow::lsp
