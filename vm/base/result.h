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
// (STYLE §9: errors carry a code).
enum class ErrorCode : uint8_t {
  kOther,
  // The process was told to stop (a worker's SIGTERM) and let go of what it
  // was doing at a safe point; nothing is wrong with the data.
  kInterrupted,
};

// The reason an operation on the environment failed: one line, lower case,
// no final period, e.g. "cannot open 'x.json': No such file or directory".
struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kOther;
};

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

}  // namespace flow
