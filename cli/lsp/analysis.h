// What `flow lsp` knows about one version of one open document: the
// compiler's own front end run on the editor's text (CheckLoaded in
// compiler/driver/compile.h, the same code `flow check` runs), kept whole
// so that every request (hover, definition, completion, symbols, quick
// fixes, the graph) answers from the same tables the diagnostics came from.
//
// Everything here reads an Analysis; nothing changes one. The features are
// free functions over (Analysis, position) -> JSON in the shape the
// protocol wants, one file each (hover.cpp, navigation.cpp,
// completion.cpp, code_actions.cpp); server.cpp only routes messages.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/lsp/text.h"
#include "compiler/check/checked_program.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/parse/tokens.h"
#include "compiler/source/source.h"

namespace flow::lsp {

struct Analysis {
  std::string uri;
  SourceManager sources;  // the document first, then the connector files read
  FileId doc;
  Diagnostics diags;
  std::unique_ptr<check::CheckedProgram> program;  // never null
  LineIndex lines;                                 // of the document's text

  auto text() const -> std::string_view { return sources.file(doc).text(); }
  // The document's raw tokens, scanned on first use: only completion needs
  // them, and diagnostics after a change must not wait for them.
  auto tokens() const -> const std::vector<parse::RawToken>& {
    if (!tokens_) tokens_ = parse::ScanRawTokens(text());
    return *tokens_;
  }
  auto ast() const -> const ast::Ast& { return program->ast; }

 private:
  mutable std::optional<std::vector<parse::RawToken>> tokens_;
};

// Checks `text` as the document `uri` (a file:// URI names the file whose
// folder resolves connector paths; another scheme resolves them against
// the working directory).
auto Analyse(const std::string& uri, std::string text) -> std::unique_ptr<Analysis>;

// The LSP range of a SourceRange of file `file` (the document or one of its
// connector files, converted with that file's own lines).
auto ToLspRange(const Analysis& a, SourceRange range) -> Range;
auto RangeJson(const Range& r) -> nlohmann::json;
auto PositionFromJson(const nlohmann::json& j) -> Position;  // throws on a bad shape

// textDocument/publishDiagnostics params for every file with diagnostics
// (the document, and connector files with E011-E013 inside them), keyed by
// URI. The document's URI is always present (an empty list clears it).
auto DiagnosticsByUri(const Analysis& a) -> std::map<std::string, nlohmann::json>;

// ---------------------------------------------------------------- features

// textDocument/hover: the type of the expression under `offset`, a
// connector operation's signature and flags, a declaration's shape; null
// when there is nothing to say.
auto Hover(const Analysis& a, uint32_t offset) -> nlohmann::json;
// textDocument/definition: a Location (or null): locals, functions,
// workflows, types, the connector file and the operation inside it.
auto Definition(const Analysis& a, uint32_t offset) -> nlohmann::json;
// textDocument/documentSymbol: DocumentSymbol[] (connectors, types,
// functions, workflows with their steps).
auto DocumentSymbols(const Analysis& a) -> nlohmann::json;
// textDocument/completion: CompletionItem[] for the position.
auto Complete(const Analysis& a, uint32_t offset) -> nlohmann::json;
// textDocument/codeAction: a quick fix per "did you mean" of a diagnostic
// overlapping [begin, end).
auto CodeActions(const Analysis& a, uint32_t begin, uint32_t end) -> nlohmann::json;
// textDocument/formatting: one TextEdit replacing the document by `flow
// fmt`'s layout, [] when it is already formatted; null when it cannot be
// formatted (syntax errors), with the reason in `why`.
auto Formatting(const Analysis& a, std::string& why) -> nlohmann::json;
// flow/graph (a request of this server, docs/editors.md): the workflow
// around `offset` (or the only one) drawn as `format` ("dot" or
// "mermaid"): {workflow, format, text}; null with `why` when the program
// has errors or no workflow.
auto WorkflowGraph(const Analysis& a, uint32_t offset, const std::string& format,
                   std::string& why) -> nlohmann::json;

}  // namespace flow::lsp
