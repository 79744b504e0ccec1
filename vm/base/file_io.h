// Reading a whole file with a size bound, for every file flow reads whole:
// .flow sources, connector JSON, .flowc programs, `--input @file`.
//
// The bound is what keeps a path like /dev/zero (or a runaway log someone
// named as a connector) from reading forever and exhausting memory: flow
// stops at the limit with a one-line reason instead. Errors name the path
// and say why: missing, a directory, unreadable, too large.
#pragma once

#include <cstddef>
#include <string>

#include "vm/base/result.h"

namespace flow {

// Sources and connector files: far above any hand-written file (the parser
// benchmark's 20,000-line file is under 1 MiB).
inline constexpr size_t kMaxSourceFileBytes = 64u << 20;

// The bytes of `path`, at most `max_bytes` of them; more is an Error
// ("cannot read 'P': larger than N MiB").
auto ReadFileBounded(const std::string& path, size_t max_bytes) -> Result<std::string>;

}  // namespace flow
