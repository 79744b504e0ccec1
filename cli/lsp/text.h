// Text positions as the Language Server Protocol counts them, and the edits
// a client sends.
//
// LSP positions are (line, character) with `character` in UTF-16 code units
// (the protocol's default encoding, the only one VS Code speaks); flow
// counts bytes (SourceRange). LineIndex converts both ways for one text.
// Positions out of range are clamped, never trusted: a client with a stale
// view of the document must not crash the server (a line past the end maps
// to the end of the text, a character past the end of its line to the line
// break).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flow::lsp {

struct Position {
  uint32_t line = 0;       // 0-based
  uint32_t character = 0;  // UTF-16 code units from the line's start
};

struct Range {
  Position start;
  Position end;
};

class LineIndex {
 public:
  LineIndex() : LineIndex(std::string_view{}) {}
  explicit LineIndex(std::string_view text);

  // The byte offset of `p`, clamped into the text (see above); a position
  // inside a surrogate pair or a multi-byte character maps to its start.
  auto Offset(Position p) const -> uint32_t;
  // The position of byte offset `offset` (clamped to the text's length).
  auto At(uint32_t offset) const -> Position;
  auto line_count() const -> uint32_t { return static_cast<uint32_t>(starts_.size()); }

 private:
  std::string_view text_;
  std::vector<uint32_t> starts_;  // byte offset where each line starts
};

// Applies one textDocument/didChange content change to `text`: the bytes of
// `range` are replaced by `replacement` (`range` is clamped like every
// position).
void ApplyEdit(std::string& text, const Range& range, std::string_view replacement);

// file:// URIs and paths: percent-decoding and -encoding of the path part.
// A URI of another scheme (untitled:, vscode-notebook:) gives "" from
// UriToPath; its document is checked with the URI itself as its name.
auto UriToPath(std::string_view uri) -> std::string;
auto PathToUri(std::string_view path) -> std::string;

}  // namespace flow::lsp
