// A mutation driver for fuzz targets built without coverage instrumentation
// (fuzz_check: GCC, because Clang cannot compile the ANTLR runtime headers).
// libFuzzer refuses to run without coverage, so this small loop stands in:
// it reads the seed files of DIR and, until SECONDS have passed, feeds
// LLVMFuzzerTestOneInput with mutants of them — byte flips, deletions,
// duplicated ranges, lines spliced in from another seed, and tokens of the
// flow language inserted at random places. Blind, but under ASan and UBSan
// every input is checked for memory and undefined-behaviour errors.
//
//   fuzz_check_mutate DIR SECONDS [SEED]
// A finding stops the process with the sanitizer's report; the input is
// written to ./crash-input first (overwritten by each input, so it holds
// the one that crashed).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kMaxInput = 16384;  // keeps each check fast; seeds are smaller
const char* const kTokens[] = {
    "workflow ", "fn ", "let ", "var ", "if ", "else ", "while ", "for ", " in ", "return ", "fail ",
    "try ", "catch ", "approve ", "wait ", "sleep ", "checkpoint ", "retry 3 ", "backoff 1s ",
    "timeout 5s ", "compensate ", "connector ", "type ", " as ", "{", "}", "(", ")", "[", "]", ",",
    ":", "->", "??", "?", ".", "\"", "${", "\n", "//", "/*", "*/", "1e999", "9223372036854775808",
    "-1", "0", "null", "true", "1.5", "1d", "range(", "len(", "parse_json(", "billing.charge(",
    "log.info(", "int", "float", "string", "json", "time", "duration", "|", "\"a\" | \"b\"", "==",
    "!=", "<=", "and ", "or ", "not ", "%", "/", "*", "+", "-", "=", "break ", "continue ",
    "parallel ", "parallel for x in xs ", " limit 2 ", "limit", "parallel { ", "child(n: 1)",
};

auto Slurp(const std::filesystem::path& p) -> std::string {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

auto RandomLine(const std::string& s, std::mt19937_64& rng) -> std::string {
  if (s.empty()) return "";
  size_t at = rng() % s.size();
  size_t begin = s.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = s.find('\n', at);
  return s.substr(begin, end == std::string::npos ? std::string::npos : end - begin + 1);
}

void Mutate(std::string& s, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0: if (!s.empty() && at < s.size()) s[at] = static_cast<char>(s[at] ^ (1u << (rng() % 8))); break;
      case 1: if (at < s.size()) s.erase(at, 1 + rng() % 16); break;
      case 2: if (at < s.size()) s.insert(at, s.substr(at, 1 + rng() % 32)); break;
      case 3: s.insert(at, RandomLine(seeds[rng() % seeds.size()], rng)); break;
      case 4: s.insert(at, kTokens[rng() % (sizeof kTokens / sizeof kTokens[0])]); break;
      default: if (!s.empty() && at < s.size()) s[at] = static_cast<char>(rng() % 256); break;
    }
  }
  if (s.size() > kMaxInput) s.resize(kMaxInput);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SEED_DIR SECONDS [RANDOM_SEED]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> seeds;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    if (e.is_regular_file()) seeds.push_back(Slurp(e.path()));
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seed files in %s\n", argv[1]);
    return 2;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[2]));
  const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : std::random_device{}();
  std::fprintf(stderr, "seeds: %zu, random seed: %llu\n", seeds.size(), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  uint64_t runs = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string input = seeds[rng() % seeds.size()];
    Mutate(input, seeds, rng);
    std::ofstream("crash-input", std::ios::binary | std::ios::trunc) << input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++runs;
  }
  std::fprintf(stderr, "%llu inputs, no finding\n", static_cast<unsigned long long>(runs));
  return 0;
}
