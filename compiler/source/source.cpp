#include "compiler/source/source.h"

#include <algorithm>

#include "vm/base/file_io.h"

namespace flow {

auto SourceRange::Join(SourceRange a, SourceRange b) -> SourceRange {
  if (!a.valid()) return b;
  if (!b.valid()) return a;
  FLOW_CHECK(a.file == b.file, "joined ranges must be in one file");
  return {a.file, std::min(a.begin, b.begin), std::max(a.end, b.end)};
}

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

auto SourceFile::Locate(uint32_t offset) const -> LineCol {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  auto line = static_cast<uint32_t>(it - line_starts_.begin());
  return {line, offset - line_starts_[line - 1] + 1};
}

auto SourceFile::Line(uint32_t line) const -> std::string_view {
  if (line == 0 || line > line_starts_.size()) return {};
  uint32_t begin = line_starts_[line - 1];
  uint32_t end = line < line_starts_.size() ? line_starts_[line] : static_cast<uint32_t>(text_.size());
  std::string_view text(text_.data() + begin, end - begin);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

auto SourceManager::Load(const std::string& path) -> Result<FileId> {
  auto text = ReadFileText(path);
  if (!text) return text.error();
  return Add(path, std::move(text).value());
}

auto SourceManager::Add(std::string path, std::string text) -> FileId {
  files_.push_back(std::make_unique<SourceFile>(std::move(path), std::move(text)));
  return FileId{static_cast<int32_t>(files_.size() - 1)};
}

auto SourceManager::file(FileId id) const -> const SourceFile& {
  FLOW_CHECK(id.valid() && static_cast<size_t>(id.index) < files_.size(), "FileId out of range");
  return *files_[id.index];
}

auto ReadFileText(const std::string& path) -> Result<std::string> {
  return ReadFileBounded(path, kMaxSourceFileBytes);
}

}  // namespace flow
