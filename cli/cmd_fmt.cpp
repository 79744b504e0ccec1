// `flow fmt FILE... [--check]`
//
// Rewrites each FILE in the canonical layout (compiler/format/format.h). A
// file is replaced atomically (a temporary file in the same folder, synced,
// then renamed over it, keeping its permissions), and only when its text
// changes, so a crash or a full disk never leaves half a file. With
// --check nothing is written: the files that would change are listed on
// stdout, one a line. Exit codes: 0 when every file is (now) formatted, 1
// with --check when one is not, 2 when a file cannot be read or written or
// has syntax errors (printed as `flow check` prints them; the file is left
// alone), 4 when flow fmt itself failed to keep a file's meaning (a bug,
// reported; the file is left alone). The worst outcome over all files wins.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/format/format.h"

namespace flow::cli {
namespace {

struct FmtOptions {
  std::vector<std::string> files;
  bool check = false;
};

// Replaces `path` with `text` atomically; the file keeps its mode. A symlink
// is followed: its target is replaced.
auto WriteAtomically(const std::string& path, const std::string& text) -> Status {
  std::error_code ec;
  std::filesystem::path target = std::filesystem::canonical(path, ec);
  if (ec) return Error{"cannot write '" + path + "': " + ec.message()};
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) {
    return Error{"cannot write '" + path + "': " + std::strerror(errno)};
  }
  std::string temp = target.string() + ".fmt-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return Error{"cannot write '" + path + "': " + std::strerror(errno)};
  auto fail = [&](const char* what) {
    std::string reason = std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return Error{"cannot write '" + path + "': " + what + ": " + reason};
  };
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, st.st_mode & 07777) != 0) return fail("chmod");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return Error{"cannot write '" + path + "': " + std::strerror(errno)};
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    return Error{"cannot write '" + path + "': " + reason};
  }
  return Ok{};
}

auto FormatOne(const std::string& path, bool check) -> int {
  SourceManager sources;
  Result<FileId> loaded = sources.Load(path);
  if (!loaded) {
    std::fprintf(stderr, "flow: %s\n", loaded.error().message.c_str());
    return kExitUsage;
  }
  const SourceFile& file = sources.file(*loaded);
  Diagnostics diags;
  Result<std::string> formatted = format::Format(file, *loaded, diags);
  if (!formatted) {
    std::string text = RenderText(diags, sources);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fprintf(stderr, "flow: %s\n", formatted.error().message.c_str());
    return diags.has_errors() ? kExitUsage : kExitInternal;
  }
  if (*formatted == file.text()) return kExitOk;
  if (check) {
    std::printf("%s\n", path.c_str());
    return kExitFailed;
  }
  if (Status written = WriteAtomically(path, *formatted); !written) {
    std::fprintf(stderr, "flow: %s\n", written.error().message.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

auto RunFmt(const FmtOptions& options) -> int {
  // Worst first: a bug (4) over an unreadable file (2) over "not formatted" (1).
  auto rank = [](int code) { return code == kExitInternal ? 3 : code == kExitUsage ? 2 : code; };
  int exit_code = kExitOk;
  for (const std::string& path : options.files) {
    int code = FormatOne(path, options.check);
    if (rank(code) > rank(exit_code)) exit_code = code;
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

auto RegisterFmt(CLI::App& app) -> Command {
  auto options = std::make_shared<FmtOptions>();
  CLI::App* sub = app.add_subcommand(
      "fmt", "Rewrite .flow files in the canonical layout (comments kept, meaning unchanged)");
  sub->add_option("FILE", options->files, "The .flow files to format in place")->required();
  sub->add_flag("--check", options->check,
                "Write nothing; list the files that are not formatted and exit 1 if there are any");
  return Command{sub, [options] { return RunFmt(*options); }};
}

}  // namespace flow::cli
