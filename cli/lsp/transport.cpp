#include "cli/lsp/transport.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace flow::lsp {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// A header line longer than this is not a header: skip it.
constexpr size_t kMaxHeaderLine = 8 * 1024;

auto StartsWithNoCase(std::string_view s, std::string_view prefix) -> bool {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] + 32) : s[i];
    char b = prefix[i] >= 'A' && prefix[i] <= 'Z' ? static_cast<char>(prefix[i] + 32) : prefix[i];
    if (a != b) return false;
  }
  return true;
}

// The value of a Content-Length header, or -1 when it is not a plain
// decimal that fits.
auto ParseLength(std::string_view value) -> long long {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > 12) return -1;
  long long n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

auto MessageReader::Fill() -> bool {
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > kReadChunk) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[kReadChunk];
  while (true) {
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

// One line without its "\r\n" (or "\n"); false at the end of the input.
auto MessageReader::ReadLine(std::string& line) -> bool {
  while (true) {
    size_t nl = buffer_.find('\n', pos_);
    if (nl != std::string::npos) {
      line.assign(buffer_, pos_, nl - pos_);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pos_ = nl + 1;
      return true;
    }
    if (buffer_.size() - pos_ > kMaxHeaderLine) {
      // Not a header: drop what we have and keep looking for a line break.
      line.assign(buffer_, pos_, kMaxHeaderLine);
      pos_ = buffer_.size();
    }
    if (!Fill()) return false;
  }
}

auto MessageReader::Next(std::string& body) -> Status {
  std::string line;
  long long length = -1;
  bool any_header = false;
  std::string problem;
  while (true) {
    if (!ReadLine(line)) return Status::End;
    if (line.empty()) {
      if (any_header) break;
      continue;  // stray blank lines between messages
    }
    any_header = true;
    if (StartsWithNoCase(line, "content-length:")) {
      length = ParseLength(std::string_view(line).substr(15));
      if (length < 0) problem = "bad Content-Length '" + line.substr(15) + "'";
    } else if (line.find(':') == std::string::npos) {
      problem = "not a header: '" + line.substr(0, 80) + "'";
    }
  }
  if (length < 0) {
    body = problem.empty() ? "a message without Content-Length" : problem;
    return Status::Malformed;
  }
  size_t want = static_cast<size_t>(length);
  if (want > max_bytes_) {
    // Read and drop it, so the next message is found where it starts.
    size_t left = want;
    while (left > 0) {
      if (pos_ == buffer_.size() && !Fill()) return Status::End;
      size_t take = std::min(left, buffer_.size() - pos_);
      pos_ += take;
      left -= take;
    }
    body = "a message of " + std::to_string(want) + " bytes, over the limit";
    return Status::Malformed;
  }
  while (buffer_.size() - pos_ < want) {
    if (!Fill()) return Status::End;
  }
  body.assign(buffer_, pos_, want);
  pos_ += want;
  return Status::Message;
}

auto MessageReader::MoreReady() -> bool {
  if (pos_ < buffer_.size()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

auto WriteMessage(int fd, std::string_view body) -> bool {
  std::string out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace flow::lsp
