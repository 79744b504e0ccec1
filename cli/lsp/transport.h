// The LSP base protocol on a pair of file descriptors: each message is
// `Content-Length: N\r\n` (other headers allowed and ignored) `\r\n` and N
// bytes of JSON.
//
// The reader never gives up on a bad stream: a header block without a
// usable Content-Length is reported and skipped up to the next line that
// starts a header; a body larger than kMaxMessageBytes is read and dropped
// without being kept. Only the end of the input ends it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vm/base/file_io.h"

namespace flow::lsp {

// Far above any message an editor sends: a whole document of
// kMaxSourceFileBytes (64 MiB, vm/base/file_io.h) with JSON escapes fits.
inline constexpr size_t kMaxMessageBytes = 160u << 20;
static_assert(kMaxMessageBytes >= 2 * kMaxSourceFileBytes,
              "a didOpen of the largest source file, escaped, must fit in one message");

class MessageReader {
 public:
  // `max_bytes`: bodies above it are skipped (tests use a small one).
  explicit MessageReader(int fd, size_t max_bytes = kMaxMessageBytes)
      : fd_(fd), max_bytes_(max_bytes) {}

  enum class Status {
    Message,    // `body` holds the next message
    Malformed,  // a bad header or an oversized body was skipped; `body` says why
    End,        // the input ended (or failed)
  };
  auto Next(std::string& body) -> Status;

  // True when more input can be read without blocking: buffered bytes, or
  // the descriptor is readable. The server uses it to skip analysing a
  // document that the very next message changes again.
  auto MoreReady() -> bool;

 private:
  auto Fill() -> bool;  // reads more bytes; false at the end of the input
  auto ReadLine(std::string& line) -> bool;

  int fd_;
  size_t max_bytes_;
  std::string buffer_;
  size_t pos_ = 0;
};

// Writes one message (header and body) to `fd`. False when the descriptor
// is gone (the client closed it).
auto WriteMessage(int fd, std::string_view body) -> bool;

}  // namespace flow::lsp
