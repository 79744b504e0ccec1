#include "compiler/format/format.h"

#include <fmt/format.h>

#include "compiler/ast/ast.h"
#include "compiler/format/doc.h"
#include "compiler/format/printer.h"
#include "compiler/format/token_cursor.h"
#include "compiler/parse/parse.h"
#include "compiler/parse/tokens.h"

namespace flow::format {

namespace {

// DumpAst without the byte ranges that end its lines (" @12-17"): what
// must be equal before and after formatting.
auto DumpWithoutPositions(const ast::Ast& ast) -> std::string {
  std::string dump = ast::DumpAst(ast);
  std::string out;
  out.reserve(dump.size());
  size_t start = 0;
  while (start < dump.size()) {
    size_t end = dump.find('\n', start);
    if (end == std::string::npos) end = dump.size();
    std::string_view line(dump.data() + start, end - start);
    size_t at = line.rfind(" @");
    if (at != std::string_view::npos &&
        line.find_first_not_of("0123456789-", at + 2) == std::string_view::npos) {
      line = line.substr(0, at);
    }
    out.append(line);
    out += '\n';
    start = end + 1;
  }
  return out;
}

// The comments of a text, each as the formatter writes it (LF line breaks).
auto Comments(std::string_view text, const std::vector<parse::RawToken>& raw)
    -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& t : raw) {
    if (t.kind != parse::RawKind::LineComment && t.kind != parse::RawKind::BlockComment) continue;
    std::string comment;
    for (char c : text.substr(t.begin, t.end - t.begin)) {
      if (c != '\r') comment += c;
    }
    out.push_back(std::move(comment));
  }
  return out;
}

auto Bug(const SourceFile& file, std::string_view what) -> Error {
  return Error{fmt::format("flow fmt could not format '{}': {} (a bug in flow fmt; the file is "
                           "unchanged)",
                           file.path(), what)};
}

// The checks of format.h on the output `out` of formatting `file`.
auto Verify(const SourceFile& file, FileId id, const ast::Ast& before,
            const std::vector<parse::RawToken>& raw, const std::string& out) -> Status {
  SourceFile formatted(file.path(), out);
  Diagnostics diags;
  ast::Ast after = parse::ParseFile(formatted, id, diags);
  if (!diags.all().empty()) {
    const Diagnostic& d = diags.Sorted().front();
    LineCol at = formatted.Locate(d.range.begin);
    return Bug(file, fmt::format("the result does not parse ({}:{}: {})", at.line, at.column,
                                 d.message));
  }
  if (DumpWithoutPositions(before) != DumpWithoutPositions(after)) {
    return Bug(file, "the result parses to a different program");
  }
  if (Comments(file.text(), raw) != Comments(out, parse::ScanRawTokens(out))) {
    return Bug(file, "the result lost or changed a comment");
  }
  return Ok{};
}

}  // namespace

auto Format(const SourceFile& file, FileId id, Diagnostics& diags) -> Result<std::string> {
  int errors_before = diags.error_count();
  ast::Ast ast = parse::ParseFile(file, id, diags);
  if (diags.error_count() > errors_before) {
    return Error{fmt::format("'{}' has syntax errors; it was not formatted", file.path())};
  }
  std::vector<parse::RawToken> raw = parse::ScanRawTokens(file.text());
  std::string out;
  try {
    TokenCursor cursor(file.text(), raw);
    out = Render(PrintFile(ast, cursor));
  } catch (const FormatBug& bug) {
    return Bug(file, bug.what());
  }
  if (Status verified = Verify(file, id, ast, raw, out); !verified) return verified.error();
  return out;
}

}  // namespace flow::format
