// Result<T>: the second error channel of STYLE.md §3. Functions that touch
// the environment (files, connector JSON, the database) return either a value
// or a one-line reason a person can act on. Exceptions from libraries are
// caught in the adapter that calls them and turned into a Result there.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "vm/base/check.h"

namespace flow {

// What a caller may need to tell apart without reading the message
// (STYLE §9: errors carry a code). A caller branches on the code, never on
// the words: the message is for people and may be reworded freely. A code
// is added when some caller needs to tell a case apart, not for its own sake;
// everything else is kOther. docs/architecture.md "The error model".
enum class ErrorCode : uint8_t {
  kOther,
  // The process was told to stop (a worker's SIGTERM) and let go of what it
  // was doing at a safe point; nothing is wrong with the data.
  kInterrupted,
  // The thing named does not exist: an unknown run, a checkpoint it never
  // passed.
  kNotFound,
  // A run with the id asked for already exists (`flow run --id` racing
  // another start reports that run instead).
  kAlreadyExists,
  // Another live process, or another thread of this one, holds the run's
  // lease (engine/lease.h); the run is fine, someone else drives it.
  kLeaseHeld,
  // A file or value given by the user is malformed: a connector file, an
  // input, a run id (exit 2 where it is the command's own input).
  kInvalidInput,
  // Stored data fails a check: a journal that does not match the program, a
  // state whose checksum or program differs, an unreadable stored program.
  kCorrupt,
  // The environment failed: a file cannot be read, the database refused.
  kIo,
};

// The reason an operation on the environment failed: one line, lower case,
// no final period, e.g. "cannot read 'x.json': No such file or directory".
struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kOther;
  // When the message is about one thing ("<subject>: <reason>", made by
  // ErrorAbout), the subject: a JSON path in a connector file or a schema,
  // "cannot read 'x.json'". Callers that render the two parts apart (the
  // compiler points at the JSON path) read subject and reason(), never split
  // the message. Empty otherwise.
  std::string subject{};

  // The message without "<subject>: " (all of it when there is no subject).
  auto reason() const -> std::string {
    if (subject.empty()) return message;
    FLOW_CHECK(message.size() >= subject.size() + 2 && message.compare(0, subject.size(), subject) == 0,
               "an Error's subject is the start of its message");
    return message.substr(subject.size() + 2);
  }
};

// An Error reading "<subject>: <reason>" that keeps both parts.
inline auto ErrorAbout(ErrorCode code, std::string subject, const std::string& reason) -> Error {
  std::string message = subject + ": " + reason;
  return Error{std::move(message), code, std::move(subject)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}      // NOLINT: implicit by design

  auto ok() const -> bool { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  auto value() & -> T& {
    FLOW_CHECK(ok(), "value() of a failed Result");
    return std::get<0>(state_);
  }
  auto value() const& -> const T& {
    FLOW_CHECK(ok(), "value() of a failed Result");
    return std::get<0>(state_);
  }
  auto value() && -> T&& {
    FLOW_CHECK(ok(), "value() of a failed Result");
    return std::get<0>(std::move(state_));
  }
  auto operator*() & -> T& { return value(); }
  auto operator*() const& -> const T& { return value(); }
  auto operator->() -> T* { return &value(); }
  auto operator->() const -> const T* { return &value(); }

  auto error() const -> const Error& {
    FLOW_CHECK(!ok(), "error() of a successful Result");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;

// FLOW_TRY(expr): evaluates a Result or Status and returns its Error from
// the enclosing function when it failed (the value, if any, is dropped).
// FLOW_TRY_ASSIGN(lhs, expr): the same, then moves the value into `lhs`
// ("auto x" declares it). For the runs of `if (!x) return x.error();` that
// would otherwise hide what a function does; a failure that needs context
// added ("run 'x': ...") is still written out.
#define FLOW_TRY(expr)                                          \
  do {                                                          \
    auto flow_try_result_ = (expr);                             \
    if (!flow_try_result_) return flow_try_result_.error();    \
  } while (0)

#define FLOW_TRY_CONCAT_INNER(a, b) a##b
#define FLOW_TRY_CONCAT(a, b) FLOW_TRY_CONCAT_INNER(a, b)
#define FLOW_TRY_ASSIGN(lhs, expr) FLOW_TRY_ASSIGN_IMPL(FLOW_TRY_CONCAT(flow_try_result_, __LINE__), lhs, expr)
#define FLOW_TRY_ASSIGN_IMPL(tmp, lhs, expr)    \
  auto tmp = (expr);                            \
  if (!tmp) return tmp.error();                 \
  lhs = std::move(tmp).value()

}  // namespace flow
