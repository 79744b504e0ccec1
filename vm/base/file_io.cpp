// ReadFileBounded (file_io.h).
#include "vm/base/file_io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace flow {

namespace {

auto CannotRead(const std::string& path, const std::string& why) -> Error {
  return ErrorAbout(ErrorCode::kIo, fmt::format("cannot read '{}'", path), why);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

auto ReadFileBounded(const std::string& path, size_t max_bytes) -> Result<std::string> {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return CannotRead(path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return CannotRead(path, "it is a directory");
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return CannotRead(path, std::strerror(errno));
  std::string out;
  // Regular files say their size; devices and pipes are read until EOF or
  // the bound, whichever comes first.
  if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) <= max_bytes) out.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    size_t n = std::fread(chunk, 1, sizeof chunk, f.get());
    if (n > 0) {
      if (out.size() + n > max_bytes) {
        return CannotRead(path, fmt::format("larger than {} MiB", max_bytes >> 20));
      }
      out.append(chunk, n);
    }
    if (n < sizeof chunk) break;
  }
  if (std::ferror(f.get())) return CannotRead(path, "read error");
  return out;
}

}  // namespace flow
