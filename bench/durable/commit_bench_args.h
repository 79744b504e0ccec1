// The command line both commit benchmarks share (raw_sqlite.cpp,
// store_commit.cpp): where, how many, how large, which synchronous setting,
// as bench/durable/run.sh passes them. Header-only: the two are standalone
// bench programs, one of which links nothing of flow but its schema.
//
//   --dir DIR  --n N  --synchronous full|normal  --state-bytes S
//   --event-bytes E  --events K  --json  [--update-status: raw only]
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace flow::bench {

// Sanity bounds on the arguments: a typo must not allocate gigabytes.
inline constexpr int kMaxTransactions = 10'000'000;
inline constexpr int kMaxBlobBytes = 64 << 20;
inline constexpr int kMaxEventsPerCommit = 64;

struct CommitBenchOptions {
  std::string dir = ".";
  int n = 1000;
  bool full = true;
  int state_bytes = 9000;
  int event_bytes = 80;
  int events = 1;
  bool json = false;
  bool update_status = false;  // accepted only where the caller allows it
};

[[noreturn]] inline void Die(const char* program, const std::string& why) {
  std::fprintf(stderr, "%s: %s\n", program, why.c_str());
  std::exit(2);
}

inline auto ParseBoundedInt(const char* program, const char* text, int lo, int hi, const std::string& what) -> int {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) {
    Die(program, "bad " + what + " '" + text + "' (expected " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  }
  return static_cast<int>(v);
}

// Parses argv over `o` (its values are the defaults). `min_state_bytes` is
// the smallest state the benchmark can write; `--update-status` is an
// unknown argument unless `allow_update_status`.
inline auto ParseCommitBenchArgs(int argc, char** argv, const char* program, CommitBenchOptions o,
                                 int min_state_bytes, bool allow_update_status) -> CommitBenchOptions {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Die(program, "missing value after " + a);
      return argv[++i];
    };
    if (a == "--dir") o.dir = value();
    else if (a == "--n") o.n = ParseBoundedInt(program, value(), 1, kMaxTransactions, a);
    else if (a == "--state-bytes") o.state_bytes = ParseBoundedInt(program, value(), min_state_bytes, kMaxBlobBytes, a);
    else if (a == "--event-bytes") o.event_bytes = ParseBoundedInt(program, value(), 8, kMaxBlobBytes, a);
    else if (a == "--events") o.events = ParseBoundedInt(program, value(), 0, kMaxEventsPerCommit, a);
    else if (a == "--json") o.json = true;
    else if (a == "--update-status" && allow_update_status) o.update_status = true;
    else if (a == "--synchronous") {
      std::string s = value();
      if (s != "full" && s != "normal") Die(program, "--synchronous takes full or normal, not '" + s + "'");
      o.full = s == "full";
    } else {
      Die(program, "unknown argument '" + a + "'");
    }
  }
  return o;
}

}  // namespace flow::bench
