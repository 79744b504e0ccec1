// flow_golden: the golden-test driver of STYLE.md §7.
//
//   flow_golden --flow PATH/TO/flow FILE.flow [--autoupdate]
//
// A golden file is a .flow program whose comments say how to run it and what
// must come out:
//
//   // RUN: flow check %s          a command; several allowed, run in order
//   // CHECK:STDERR: text          one expected line of stderr
//   // CHECK:STDOUT: text          one expected line of stdout
//   // CHECK:EXIT: 1               the expected exit code (0 when absent)
//   // NOAUTOUPDATE                --autoupdate must leave this file alone
//   // --- connectors/billing.json the rest of the file up to the next
//                                  `// ---` line is that inline file
//   // INPUT: connectors/billing.json  a shared input: the file of that
//                                  path under the nearest `Inputs/` folder
//                                  above the golden file (tests/check/Inputs/
//                                  for tests/check/<area>/x.flow), written
//                                  to the same path as an inline file is.
//                                  One copy for the many tests that use it.
//
// Running: the part before the first `// --- path` line is written, under the
// test's own base name, into a fresh temporary directory together with every
// inline file (so line numbers and file names in messages are those of the
// golden file). Each RUN line is split on spaces (no shell, no quoting): `%s`
// becomes the base name of the file, the word `flow` the binary given by
// --flow; any other program is refused. Words before `flow` of the form
// NAME=value set environment variables for that command only
// (`// RUN: FLOW_ROLES=roles.json flow approve r1 --as ann`). The command
// runs with the temporary directory as its working directory and FLOW_DB
// and FLOW_ROLES removed from its inherited environment, so runs never
// share a database and the user's settings never leak into a test.
//
// Which RUN a CHECK belongs to: every CHECK line belongs to the nearest RUN
// line above it (a CHECK above every RUN is an error in the test). With one
// RUN at the top of the file, as usual, every CHECK belongs to it.
//
// Matching: the CHECK:STDOUT lines of a RUN, in file order, must equal that
// command's stdout lines exactly and completely (no missing or extra lines);
// likewise CHECK:STDERR. The text after `CHECK:STDERR:` loses one leading
// space; `[[@LINE+N]]` / `[[@LINE-N]]` / `[[@LINE]]` stand for the line number
// of the CHECK line itself plus N; `{{regex}}` matches by ECMAScript regex;
// everything else is literal. On mismatch a unified-style diff (`-` expected,
// `+` actual) is printed and the exit code is 1; a malformed test exits 2. On
// success the only output is one `PASS` line.
//
// --autoupdate rewrites the CHECK lines from the actual output and then
// verifies the result. For the last RUN, a diagnostic block (a
// `file:line:col: error|warning:` line and the source, caret and note lines
// after it) goes directly above the source line it points at, with
// `[[@LINE+N]]`, as long as that line lies below the last RUN line and the
// blocks stay in output order; everything else (stdout, unanchorable stderr,
// CHECK:EXIT) goes after the last non-blank line of the .flow part. CHECKs of
// earlier RUNs go directly below their RUN line. An old CHECK line that used
// `{{regex}}` and still matches is kept as written. Review the diff.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

// A command that runs this long is hung (a VM loop, a wait on a pipe); the
// slowest golden test takes well under a second.
constexpr int kChildTimeoutMs = 120'000;
// The diff uses an LCS table of expected x actual lines; past this many cells
// (16 MB of ints) both sides are printed whole instead.
constexpr size_t kMaxDiffCells = 4'000'000;
// Autoupdate rewrites, then reruns; a second pass settles JSON line numbers
// shifted by the first. More than that means the output is not stable.
constexpr int kMaxAutoupdatePasses = 3;

// A malformed test or a broken environment: exit 2 with this message.
struct TestError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Stream { Stdout, Stderr };

struct Expectation {
  int line = 0;         // 1-based line of the CHECK line in the golden file
  std::string pattern;  // text after the marker, one leading space removed
};

struct RunSpec {
  int line = 0;  // 1-based line of the RUN line
  std::vector<std::string> words;
  std::vector<Expectation> out, err;
  std::optional<int> exit_code;
};

struct GoldenFile {
  std::string path;                // as given on the command line
  std::string base_name;           // file name of the .flow written to the temp dir
  std::vector<std::string> lines;  // lines of the .flow part (before the first `// ---`)
  std::string flow_text;           // the .flow part, byte for byte
  std::string rest;                // the inline files section, byte for byte
  std::vector<std::pair<std::string, std::string>> inline_files;  // path, content
  std::vector<RunSpec> runs;
  bool no_autoupdate = false;
};

struct RunResult {
  std::string out, err;
  int exit_code = 0;
};

// ------------------------------------------------------------------ parsing

auto ReadAll(const std::string& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TestError("cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Lines of a file or of a command's output: a final newline ends the last
// line, it does not start an empty one.
auto SplitLines(std::string_view text) -> std::vector<std::string> {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

auto Trimmed(std::string_view s) -> std::string_view {
  size_t b = s.find_first_not_of(" \t");
  return b == std::string_view::npos ? std::string_view{} : s.substr(b);
}

auto IsSplitLine(std::string_view line) -> bool { return line.rfind("// --- ", 0) == 0; }

auto IsCheckLine(std::string_view line) -> bool { return Trimmed(line).rfind("// CHECK:", 0) == 0; }

auto StripOneSpace(std::string_view s) -> std::string {
  if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  return std::string(s);
}

auto SplitWords(std::string_view s) -> std::vector<std::string> {
  std::vector<std::string> words;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Reads the inline files after the first split line: `// --- path` headers,
// each followed by that file's content up to the next header.
void ParseInlineFiles(GoldenFile& g) {
  size_t pos = 0;
  const std::string& rest = g.rest;
  while (pos < rest.size()) {
    size_t eol = rest.find('\n', pos);
    if (eol == std::string::npos) eol = rest.size();
    std::string name(Trimmed(std::string_view(rest).substr(pos + 7, eol - pos - 7)));
    fs::path p(name);
    if (name.empty() || p.is_absolute() || name.find("..") != std::string::npos ||
        name == g.base_name) {
      throw TestError("bad inline file name '" + name + "'");
    }
    size_t begin = std::min(eol + 1, rest.size());
    size_t next = begin;
    while (next < rest.size() && !IsSplitLine(std::string_view(rest).substr(next))) {
      size_t nl = rest.find('\n', next);
      next = nl == std::string::npos ? rest.size() : nl + 1;
    }
    g.inline_files.emplace_back(name, rest.substr(begin, next - begin));
    pos = next;
  }
}

auto LineRef(const GoldenFile& g, int line) -> std::string {
  return g.path + ":" + std::to_string(line) + ": ";
}

// The content of shared input `name`: Inputs/name in the golden file's
// folder or the nearest folder above it that has one.
auto ReadSharedInput(const GoldenFile& g, int line, const std::string& name) -> std::string {
  if (name.empty() || fs::path(name).is_absolute() || name.find("..") != std::string::npos ||
      name == g.base_name) {
    throw TestError(LineRef(g, line) + "bad INPUT name '" + name + "'");
  }
  fs::path dir = fs::absolute(g.path).parent_path();
  for (;; dir = dir.parent_path()) {
    fs::path candidate = dir / "Inputs" / name;
    if (fs::is_regular_file(candidate)) return ReadAll(candidate.string());
    if (dir == dir.parent_path()) break;
  }
  throw TestError(LineRef(g, line) + "no Inputs/" + name + " above the golden file");
}

void ParseMarkers(GoldenFile& g) {
  static const std::string kCheck = "// CHECK:";
  for (size_t i = 0; i < g.lines.size(); ++i) {
    int line_no = static_cast<int>(i) + 1;
    std::string_view t = Trimmed(g.lines[i]);
    if (t.rfind("// NOAUTOUPDATE", 0) == 0) g.no_autoupdate = true;
    if (t.rfind("// INPUT:", 0) == 0) {
      std::string name(Trimmed(t.substr(9)));
      g.inline_files.emplace_back(name, ReadSharedInput(g, line_no, name));
      continue;
    }
    if (t.rfind("// RUN:", 0) == 0) {
      RunSpec run{line_no, SplitWords(t.substr(7)), {}, {}, std::nullopt};
      if (run.words.empty()) throw TestError(LineRef(g, line_no) + "empty RUN line");
      g.runs.push_back(std::move(run));
      continue;
    }
    if (t.rfind(kCheck, 0) != 0) continue;
    if (g.runs.empty()) throw TestError(LineRef(g, line_no) + "CHECK line above every RUN line");
    RunSpec& run = g.runs.back();
    std::string_view body = t.substr(kCheck.size());
    if (body.rfind("STDOUT:", 0) == 0) {
      run.out.push_back({line_no, StripOneSpace(body.substr(7))});
    } else if (body.rfind("STDERR:", 0) == 0) {
      run.err.push_back({line_no, StripOneSpace(body.substr(7))});
    } else if (body.rfind("EXIT:", 0) == 0) {
      std::string code(Trimmed(body.substr(5)));
      char* end = nullptr;
      long value = std::strtol(code.c_str(), &end, 10);
      if (code.empty() || *end != '\0' || run.exit_code) {
        throw TestError(LineRef(g, line_no) + "bad or repeated CHECK:EXIT");
      }
      run.exit_code = static_cast<int>(value);
    } else {
      throw TestError(LineRef(g, line_no) + "unknown CHECK kind");
    }
  }
  if (g.runs.empty()) throw TestError(g.path + ": no RUN line");
}

auto LoadGoldenFile(const std::string& path) -> GoldenFile {
  GoldenFile g;
  g.path = path;
  g.base_name = fs::path(path).filename().string();
  std::string text = ReadAll(path);
  // The .flow part ends at the first line that starts with `// --- `.
  size_t split = text.size();
  for (size_t pos = 0; pos < text.size();) {
    if (IsSplitLine(std::string_view(text).substr(pos))) {
      split = pos;
      break;
    }
    size_t nl = text.find('\n', pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  g.flow_text = text.substr(0, split);
  g.rest = text.substr(split);
  g.lines = SplitLines(g.flow_text);
  ParseMarkers(g);
  ParseInlineFiles(g);
  return g;
}

// ------------------------------------------------------------------ running

// A fresh directory holding the .flow part and the inline files; removed on
// destruction.
class TempDir {
 public:
  explicit TempDir(const GoldenFile& g) {
    std::string tmpl = (fs::temp_directory_path() / "flow_golden.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw TestError(std::string("mkdtemp failed: ") + std::strerror(errno));
    }
    path_ = tmpl;
    Write(g.base_name, g.flow_text);
    for (const auto& [name, content] : g.inline_files) Write(name, content);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  auto operator=(const TempDir&) -> TempDir& = delete;

  auto path() const -> const fs::path& { return path_; }

 private:
  void Write(const std::string& name, const std::string& content) {
    fs::path target = path_ / name;
    fs::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary);
    out << content;
    if (!out) throw TestError("cannot write '" + target.string() + "'");
  }

  fs::path path_;
};

struct CommandSpec {
  std::vector<std::string> argv;  // the binary, then its arguments
  std::vector<std::string> env;   // NAME=value assignments of the RUN line
};

// Whether `word` is an environment assignment NAME=value (NAME: capitals,
// digits and underscores, not starting with a digit).
auto IsAssignment(const std::string& word) -> bool {
  size_t eq = word.find('=');
  if (eq == 0 || eq == std::string::npos || std::isdigit(static_cast<unsigned char>(word[0]))) return false;
  return std::all_of(word.begin(), word.begin() + static_cast<std::ptrdiff_t>(eq),
                     [](char c) { return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'; });
}

// The words of a RUN line with %s and `flow` substituted, split into the
// leading assignments and the command.
auto CommandLine(const RunSpec& run, const GoldenFile& g, const std::string& flow_binary) -> CommandSpec {
  CommandSpec spec;
  size_t first = 0;
  while (first < run.words.size() && IsAssignment(run.words[first])) spec.env.push_back(run.words[first++]);
  if (first == run.words.size() || run.words[first] != "flow") {
    const std::string what = first == run.words.size() ? "" : run.words[first];
    throw TestError(LineRef(g, run.line) + "RUN may only run 'flow', not '" + what + "'");
  }
  for (size_t i = first; i < run.words.size(); ++i) {
    std::string w = run.words[i];
    for (size_t at; (at = w.find("%s")) != std::string::npos;) w.replace(at, 2, g.base_name);
    spec.argv.push_back(std::move(w));
  }
  spec.argv[0] = flow_binary;
  return spec;
}

// Reads both pipes until the child closes them (or the timeout passes, after
// which the child is killed and the output so far is returned).
auto DrainPipes(int out_fd, int err_fd, pid_t pid, RunResult& result) -> bool {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kChildTimeoutMs);
  char buffer[65536];
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      return false;
    }
    int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) throw TestError("poll failed");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  return true;
}

// The environment of the parent without FLOW_DB and FLOW_ROLES, plus the
// RUN line's own assignments (see the header).
auto ChildEnvironment(const std::vector<std::string>& assignments) -> std::vector<char*> {
  std::vector<char*> env;
  // First, so they win over an inherited variable of the same name (getenv
  // returns the first match).
  for (const std::string& a : assignments) env.push_back(const_cast<char*>(a.c_str()));
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "FLOW_DB=", 8) != 0 && std::strncmp(*e, "FLOW_ROLES=", 11) != 0) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

auto RunCommand(const CommandSpec& spec, const fs::path& cwd) -> RunResult {
  const std::vector<std::string>& argv = spec.argv;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw TestError("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env = ChildEnvironment(spec.env);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw TestError("cannot start '" + argv[0] + "': " + std::strerror(rc));
  }
  RunResult result;
  bool finished = DrainPipes(out_pipe[0], err_pipe[0], pid, result);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    throw TestError("command timed out after " + std::to_string(kChildTimeoutMs / 1000) + " s");
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else {
    // A crash is never an expected outcome: 128 + signal, as shells report it.
    result.exit_code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return result;
}

auto RunAll(const GoldenFile& g, const std::string& flow_binary) -> std::vector<RunResult> {
  TempDir dir(g);
  std::vector<RunResult> results;
  for (const RunSpec& run : g.runs) {
    results.push_back(RunCommand(CommandLine(run, g, flow_binary), dir.path()));
  }
  return results;
}

// ------------------------------------------------------------------ matching

auto EscapeRegex(std::string_view s) -> std::string {
  static const std::string kSpecial = R"(\^$.|?*+()[]{}/)";
  std::string out;
  for (char c : s) {
    if (kSpecial.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// One CHECK line turned into something that can match an actual line.
class Pattern {
 public:
  Pattern(const Expectation& e, const GoldenFile& g) : source_(e.pattern) {
    std::string literal;
    std::string regex;
    bool has_regex = false;
    const std::string& p = e.pattern;
    for (size_t i = 0; i < p.size();) {
      if (p.compare(i, 2, "{{") == 0) {
        size_t close = p.find("}}", i + 2);
        if (close == std::string::npos) throw TestError(LineRef(g, e.line) + "unclosed '{{'");
        regex += "(?:" + p.substr(i + 2, close - i - 2) + ")";
        has_regex = true;
        i = close + 2;
      } else if (p.compare(i, 7, "[[@LINE") == 0) {
        size_t close = p.find("]]", i);
        if (close == std::string::npos) throw TestError(LineRef(g, e.line) + "unclosed '[['");
        std::string offset = p.substr(i + 7, close - i - 7);
        int value = e.line;
        if (!offset.empty()) {
          if ((offset[0] != '+' && offset[0] != '-') || offset.size() < 2 ||
              offset.find_first_not_of("0123456789", 1) != std::string::npos) {
            throw TestError(LineRef(g, e.line) + "bad [[@LINE" + offset + "]]");
          }
          value += std::stoi(offset);
        }
        literal += std::to_string(value);
        regex += std::to_string(value);
        i = close + 2;
      } else {
        literal += p[i];
        regex += EscapeRegex(std::string_view(&p[i], 1));
        ++i;
      }
    }
    expanded_ = literal;
    if (has_regex) {
      try {
        regex_ = std::regex(regex, std::regex::ECMAScript);
      } catch (const std::regex_error& err) {
        throw TestError(LineRef(g, e.line) + "bad regex: " + err.what());
      }
    }
  }

  auto Matches(const std::string& actual) const -> bool {
    return regex_ ? std::regex_match(actual, *regex_) : actual == expanded_;
  }
  // What the diff shows: [[@LINE]] resolved, regexes as written.
  auto display() const -> std::string { return regex_ ? source_ : expanded_; }
  auto source() const -> const std::string& { return source_; }
  auto has_regex() const -> bool { return regex_.has_value(); }

 private:
  std::string source_;
  std::string expanded_;
  std::optional<std::regex> regex_;
};

auto Compile(const std::vector<Expectation>& expected, const GoldenFile& g) -> std::vector<Pattern> {
  std::vector<Pattern> patterns;
  for (const Expectation& e : expected) patterns.emplace_back(e, g);
  return patterns;
}

// Pairs of (expected index, actual index) of a longest common subsequence
// under Pattern::Matches; empty when the table would be too large.
auto Align(const std::vector<Pattern>& expected, const std::vector<std::string>& actual)
    -> std::optional<std::vector<std::pair<size_t, size_t>>> {
  size_t n = expected.size(), m = actual.size();
  if ((n + 1) * (m + 1) > kMaxDiffCells) return std::nullopt;
  std::vector<int> table((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> int& { return table[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = expected[i].Matches(actual[j]) ? at(i + 1, j + 1) + 1
                                                : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0, j = 0; i < n && j < m;) {
    if (expected[i].Matches(actual[j]) && at(i, j) == at(i + 1, j + 1) + 1) {
      pairs.emplace_back(i++, j++);
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
  return pairs;
}

auto StreamMatches(const std::vector<Pattern>& expected, const std::vector<std::string>& actual)
    -> bool {
  if (expected.size() != actual.size()) return false;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!expected[i].Matches(actual[i])) return false;
  }
  return true;
}

void PrintDiff(const std::string& title, const std::vector<Pattern>& expected,
               const std::vector<std::string>& actual) {
  std::printf("--- expected %s\n+++ actual %s\n", title.c_str(), title.c_str());
  auto pairs = Align(expected, actual);
  if (!pairs) {
    for (const Pattern& p : expected) std::printf("-%s\n", p.display().c_str());
    for (const std::string& a : actual) std::printf("+%s\n", a.c_str());
    return;
  }
  size_t i = 0, j = 0;
  pairs->emplace_back(expected.size(), actual.size());  // sentinel flushes the tail
  for (auto [pi, pj] : *pairs) {
    for (; i < pi; ++i) std::printf("-%s\n", expected[i].display().c_str());
    for (; j < pj; ++j) std::printf("+%s\n", actual[j].c_str());
    if (pi < expected.size()) std::printf(" %s\n", actual[pj].c_str());
    i = pi + 1;
    j = pj + 1;
  }
}

// Compares every RUN with its expectations; prints diffs; true when all match.
auto Verify(const GoldenFile& g, const std::vector<RunResult>& results) -> bool {
  bool ok = true;
  for (size_t r = 0; r < g.runs.size(); ++r) {
    const RunSpec& run = g.runs[r];
    const RunResult& result = results[r];
    std::string label = "RUN at line " + std::to_string(run.line);
    auto out = Compile(run.out, g);
    auto err = Compile(run.err, g);
    auto out_lines = SplitLines(result.out);
    auto err_lines = SplitLines(result.err);
    int want_exit = run.exit_code.value_or(0);
    bool out_ok = StreamMatches(out, out_lines);
    bool err_ok = StreamMatches(err, err_lines);
    if (out_ok && err_ok && want_exit == result.exit_code) continue;
    if (ok) std::printf("FAIL: %s\n", g.path.c_str());
    ok = false;
    if (!out_ok) PrintDiff("stdout (" + label + ")", out, out_lines);
    if (!err_ok) PrintDiff("stderr (" + label + ")", err, err_lines);
    if (want_exit != result.exit_code) {
      std::printf("exit code (%s): expected %d, actual %d\n", label.c_str(), want_exit,
                  result.exit_code);
    }
  }
  return ok;
}

// ------------------------------------------------------------------ autoupdate

// One CHECK line to be written. `line_ref` is the golden-file line that a
// `file:LINE:` prefix of the text points at (0 for none): it becomes
// [[@LINE+N]] once the CHECK line's own position is known.
struct PendingCheck {
  std::string kind;  // STDOUT, STDERR, EXIT
  std::string text;
  int line_ref = 0;
};

// CHECK lines to insert before the kept line with index `before`.
struct Insertion {
  size_t before = 0;
  std::string indent;
  std::vector<PendingCheck> checks;
};

// Actual output made safe to use as a pattern: `{{` and `[[` are literal.
auto EscapeActual(const std::string& s) -> std::string {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "{{") == 0 || s.compare(i, 2, "[[") == 0) {
      out += s[i] == '{' ? "{{\\{\\{}}" : "{{\\[\\[}}";
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The line number in a "base:LINE:" prefix of `line`, or 0.
auto LinePrefix(const std::string& line, const std::string& base) -> int {
  if (line.rfind(base + ":", 0) != 0) return 0;
  size_t i = base.size() + 1, j = i;
  while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
  if (j == i || j >= line.size() || line[j] != ':' || j - i > 9) return 0;
  return std::stoi(line.substr(i, j - i));
}

// Pending checks for one stream, keeping old `{{regex}}` lines that still match.
auto ChecksFor(const std::string& kind, const std::vector<std::string>& actual,
               const std::vector<Expectation>& old, const GoldenFile& g) -> std::vector<PendingCheck> {
  std::vector<std::string> texts;
  for (const std::string& a : actual) texts.push_back(EscapeActual(a));
  auto patterns = Compile(old, g);
  if (auto pairs = Align(patterns, actual)) {
    for (auto [i, j] : *pairs) {
      const std::string& src = patterns[i].source();
      if (src.find("{{") != std::string::npos && src.find("[[") == std::string::npos) texts[j] = src;
    }
  }
  std::vector<PendingCheck> checks;
  for (size_t j = 0; j < actual.size(); ++j) {
    int ref = kind == "STDERR" && texts[j] == EscapeActual(actual[j])
                  ? LinePrefix(actual[j], g.base_name)
                  : 0;
    checks.push_back({kind, texts[j], ref});
  }
  return checks;
}

// Splits stderr checks into diagnostic blocks: each starts at an
// "error:"/"warning:" header, or at a "flow: " line (a message about no
// position, which never anchors), and runs to the next one.
auto Blocks(const std::vector<PendingCheck>& err) -> std::vector<std::vector<PendingCheck>> {
  static const std::regex kHeader(R"(^[^ ]+:\d+:\d+: (error|warning): .*)");
  std::vector<std::vector<PendingCheck>> blocks;
  for (const PendingCheck& c : err) {
    if (blocks.empty() || std::regex_match(c.text, kHeader) || c.text.rfind("flow: ", 0) == 0) {
      blocks.emplace_back();
    }
    blocks.back().push_back(c);
  }
  return blocks;
}

class Updater {
 public:
  Updater(const GoldenFile& g, const std::vector<RunResult>& results) : g_(g), results_(results) {
    orig_to_kept_.assign(g.lines.size() + 1, -1);
    for (size_t i = 0; i < g.lines.size(); ++i) {
      if (IsCheckLine(g.lines[i])) continue;
      orig_to_kept_[i + 1] = static_cast<int>(kept_.size());
      kept_.push_back(static_cast<int>(i) + 1);
    }
  }

  auto Render() -> std::string {
    for (size_t r = 0; r + 1 < g_.runs.size(); ++r) PlaceAfterRun(r);
    PlaceLastRun();
    return Emit();
  }

 private:
  auto KeptText(size_t k) const -> const std::string& { return g_.lines[kept_[k] - 1]; }

  auto AllChecks(size_t r, bool include_err) const -> std::vector<PendingCheck> {
    auto checks = ChecksFor("STDOUT", SplitLines(results_[r].out), g_.runs[r].out, g_);
    if (include_err) {
      auto err = ChecksFor("STDERR", SplitLines(results_[r].err), g_.runs[r].err, g_);
      checks.insert(checks.end(), err.begin(), err.end());
    }
    return checks;
  }

  auto ExitCheck(size_t r) const -> std::vector<PendingCheck> {
    if (results_[r].exit_code == 0) return {};
    return {{"EXIT", std::to_string(results_[r].exit_code), 0}};
  }

  void PlaceAfterRun(size_t r) {
    Insertion ins{static_cast<size_t>(orig_to_kept_[g_.runs[r].line]) + 1, "", AllChecks(r, true)};
    auto exit = ExitCheck(r);
    ins.checks.insert(ins.checks.end(), exit.begin(), exit.end());
    insertions_.push_back(std::move(ins));
  }

  void PlaceLastRun() {
    size_t r = g_.runs.size() - 1;
    int last_run_line = g_.runs[r].line;
    std::vector<PendingCheck> at_end = AllChecks(r, false);
    auto err = ChecksFor("STDERR", SplitLines(results_[r].err), g_.runs[r].err, g_);
    int min_kept = orig_to_kept_[last_run_line] + 1;
    bool anchoring = true;
    for (auto& block : Blocks(err)) {
      int target = block.front().line_ref;
      bool can_anchor = anchoring && target > last_run_line &&
                        target <= static_cast<int>(g_.lines.size()) &&
                        orig_to_kept_[target] >= min_kept;
      if (!can_anchor) {
        anchoring = false;
        at_end.insert(at_end.end(), block.begin(), block.end());
        continue;
      }
      size_t k = static_cast<size_t>(orig_to_kept_[target]);
      min_kept = static_cast<int>(k);
      const std::string& text = KeptText(k);
      std::string indent = text.substr(0, text.find_first_not_of(" \t") == std::string::npos
                                              ? 0
                                              : text.find_first_not_of(" \t"));
      insertions_.push_back({k, indent, std::move(block)});
    }
    auto exit = ExitCheck(r);
    at_end.insert(at_end.end(), exit.begin(), exit.end());
    size_t end = kept_.size();
    while (end > 0 && Trimmed(KeptText(end - 1)).empty()) --end;
    insertions_.push_back({end, "", std::move(at_end)});
  }

  // Lays out kept lines and insertions, then resolves line references.
  auto Emit() -> std::string {
    struct OutLine {
      std::string text;
      const PendingCheck* check = nullptr;
      std::string indent;
    };
    std::vector<OutLine> out;
    std::vector<int> final_line_of_kept(kept_.size() + 1, 0);
    for (size_t k = 0; k <= kept_.size(); ++k) {
      for (const Insertion& ins : insertions_) {
        if (ins.before != k) continue;
        for (const PendingCheck& c : ins.checks) out.push_back({"", &c, ins.indent});
      }
      if (k < kept_.size()) {
        out.push_back({KeptText(k), nullptr, ""});
        final_line_of_kept[k] = static_cast<int>(out.size());
      }
    }
    std::string text;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].check == nullptr) {
        text += out[i].text + "\n";
        continue;
      }
      const PendingCheck& c = *out[i].check;
      std::string body = c.text;
      int ref_kept = c.line_ref > 0 && c.line_ref <= static_cast<int>(g_.lines.size())
                         ? orig_to_kept_[c.line_ref]
                         : -1;
      if (ref_kept >= 0) {
        int delta = final_line_of_kept[ref_kept] - static_cast<int>(i + 1);
        std::string rel = delta == 0 ? "[[@LINE]]"
                                     : FormatDelta(delta);
        size_t colon = body.find(':', g_.base_name.size() + 1);
        body = g_.base_name + ":" + rel + body.substr(colon);
      }
      text += out[i].indent + "// CHECK:" + c.kind + ":" + (body.empty() ? "" : " " + body) + "\n";
    }
    return text + g_.rest;
  }

  static auto FormatDelta(int delta) -> std::string {
    return "[[@LINE" + std::string(delta > 0 ? "+" : "-") + std::to_string(std::abs(delta)) + "]]";
  }

  const GoldenFile& g_;
  const std::vector<RunResult>& results_;
  std::vector<int> kept_;          // golden-file line numbers of non-CHECK lines
  std::vector<int> orig_to_kept_;  // golden-file line -> index in kept_, -1 for CHECK lines
  std::vector<Insertion> insertions_;
};

// ------------------------------------------------------------------ main

struct Options {
  std::string flow_binary;
  std::string file;
  bool autoupdate = false;
};

auto ParseArgs(int argc, char** argv) -> std::optional<Options> {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--flow" && i + 1 < argc) {
      o.flow_binary = argv[++i];
    } else if (a == "--autoupdate") {
      o.autoupdate = true;
    } else if (!a.empty() && a[0] != '-' && o.file.empty()) {
      o.file = a;
    } else {
      return std::nullopt;
    }
  }
  if (o.flow_binary.empty() || o.file.empty()) return std::nullopt;
  o.flow_binary = fs::absolute(o.flow_binary).string();
  return o;
}

auto Autoupdate(const Options& o) -> int {
  for (int pass = 0; pass < kMaxAutoupdatePasses; ++pass) {
    GoldenFile g = LoadGoldenFile(o.file);
    auto results = RunAll(g, o.flow_binary);
    std::string before = g.flow_text + g.rest;
    std::string after = Updater(g, results).Render();
    if (after == before) break;
    std::ofstream(o.file, std::ios::binary) << after;
    std::printf("UPDATED: %s\n", o.file.c_str());
  }
  GoldenFile g = LoadGoldenFile(o.file);
  if (!Verify(g, RunAll(g, o.flow_binary))) return 1;
  std::printf("PASS: %s\n", o.file.c_str());
  return 0;
}

auto Main(int argc, char** argv) -> int {
  auto options = ParseArgs(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: flow_golden --flow PATH/TO/flow FILE.flow [--autoupdate]\n");
    return 2;
  }
  GoldenFile g = LoadGoldenFile(options->file);
  if (options->autoupdate && !g.no_autoupdate) return Autoupdate(*options);
  if (!Verify(g, RunAll(g, options->flow_binary))) return 1;
  std::printf("PASS: %s\n", options->file.c_str());
  return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  try {
    return Main(argc, argv);
  } catch (const TestError& e) {
    std::fprintf(stderr, "flow_golden: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flow_golden: internal error: %s\n", e.what());
  }
  return 2;
}
