// Source text and locations.
//
// Every location in flow is a SourceRange of byte offsets into one file, as in
// Carbon and clang: cheap to store in every AST node, exact for carets. Line
// and column are computed only when a diagnostic is rendered, from the line
// table each SourceFile builds once. Columns are 1-based and count bytes, which
// is what GCC-style tools and editors expect for ASCII source; tabs are kept
// as they are in the caret line so the caret stays under the right character.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/base/result.h"

namespace flow {

// Index of a file in a SourceManager. -1 means "no file" (e.g. a range made
// for a synthesized node).
struct FileId {
  int32_t index = -1;
  auto valid() const -> bool { return index >= 0; }
  friend auto operator==(FileId a, FileId b) -> bool { return a.index == b.index; }
};

// A half-open byte range [begin, end) in one file.
struct SourceRange {
  FileId file;
  uint32_t begin = 0;
  uint32_t end = 0;

  auto valid() const -> bool { return file.valid(); }
  // The smallest range covering both; both must be in the same file.
  static auto Join(SourceRange a, SourceRange b) -> SourceRange;
};

struct LineCol {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in bytes
};

class SourceFile {
 public:
  // `path` is kept exactly as given: it is what diagnostics print.
  SourceFile(std::string path, std::string text);

  auto path() const -> const std::string& { return path_; }
  auto text() const -> std::string_view { return text_; }
  // Line and column of a byte offset; an offset past the end maps to the end.
  auto Locate(uint32_t offset) const -> LineCol;
  // The text of a 1-based line, without its line break.
  auto Line(uint32_t line) const -> std::string_view;
  auto line_count() const -> uint32_t { return static_cast<uint32_t>(line_starts_.size()); }

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

// Owns every file read during one compilation, so ranges stay valid while
// diagnostics are rendered.
class SourceManager {
 public:
  // Reads a file from disk. A missing file, a directory or a read error gives
  // an Error with a one-line reason naming the path.
  auto Load(const std::string& path) -> Result<FileId>;
  // Registers text that did not come from disk (tests, stdin, generated code).
  auto Add(std::string path, std::string text) -> FileId;

  auto file(FileId id) const -> const SourceFile&;
  auto Locate(FileId id, uint32_t offset) const -> LineCol { return file(id).Locate(offset); }

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

// Reads a whole file of at most kMaxSourceFileBytes (vm/base/file_io.h).
// Errors name the path and say why (missing, a directory, not readable, too
// large: `connector x = "/dev/zero"` must not read forever).
auto ReadFileText(const std::string& path) -> Result<std::string>;

}  // namespace flow
