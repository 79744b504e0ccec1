// SHA-256 (FIPS 180-4), for content-addressing programs: a stored program's
// id is the hex digest of its serialised payload. A 64-bit hash would do for
// integrity, but ids are shared across databases and forks, where a
// collision would silently run the wrong bytecode, so we pay for a real one.
#pragma once

#include <string>
#include <string_view>

namespace flow::bytecode {

// The lower-case hex SHA-256 digest (64 characters) of `data`.
auto Sha256Hex(std::string_view data) -> std::string;

}  // namespace flow::bytecode
