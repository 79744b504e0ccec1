// Tests that hold the diagnostics registry, its documentation and its golden
// tests together (STYLE.md §4, §7), and that feed the real `flow` binary
// inputs too large to live in a golden file.
//
// Coverage rule: a code counts as exercised when some golden file under
// tests/check/ or tests/run/ expects it, either as `"code": "E025"` on a
// CHECK:STDOUT line (a `--format json` test) or as a CHECK:STDERR line
// "error: <message>" / "warning: <message>" whose message matches the kind's
// format (each {N} matching anything). A format with too little literal text
// to identify its kind on its own ("{0}") needs the JSON form.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/diag/diagnostics.h"
#include "compiler/diag/suggest.h"

namespace flow {
namespace {

namespace fs = std::filesystem;

// Codes only a later command can report, each with the reason; remove an
// entry as soon as a golden test (tests/run/) exercises it.
// (E028 unknown-workflow left the list: tests/run/no_run_after_unknown_workflow.flow.)
const std::vector<std::string_view> kNotYetReachable = {};

// Literal characters a format needs before its text alone names its kind.
constexpr size_t kMinLiteralChars = 8;

auto ReadFile(const fs::path& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

auto GoldenFiles() -> std::vector<fs::path> {
  std::vector<fs::path> files;
  for (const char* dir : {"tests/check", "tests/run"}) {
    fs::path root = fs::path(FLOW_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.path().extension() == ".flow") files.push_back(entry.path());
    }
  }
  return files;
}

// The CHECK:STDOUT and CHECK:STDERR lines of every golden file.
auto AllCheckLines() -> std::vector<std::string> {
  std::vector<std::string> lines;
  for (const fs::path& file : GoldenFiles()) {
    std::istringstream in(ReadFile(file));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("// --- ", 0) == 0) break;  // inline files follow
      if (line.find("// CHECK:STDOUT:") != std::string::npos ||
          line.find("// CHECK:STDERR:") != std::string::npos) {
        lines.push_back(line);
      }
    }
  }
  return lines;
}

// A regex for the text of a message of this format; sets `literal` to the
// number of literal characters in it.
auto FormatRegex(std::string_view format, size_t& literal) -> std::string {
  static const std::string kSpecial = R"(\^$.|?*+()[]{}/)";
  std::string out;
  literal = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '{') {
      size_t close = format.find('}', i);
      if (close != std::string_view::npos) {
        out += ".*";
        i = close;
        continue;
      }
    }
    if (kSpecial.find(format[i]) != std::string::npos) out += '\\';
    out += format[i];
    ++literal;
  }
  return out;
}

auto IsExercised(const DiagKindInfo& info, const std::vector<std::string>& lines) -> bool {
  std::string json_code = "\"code\": \"" + std::string(info.code) + "\"";
  size_t literal = 0;
  std::regex message("(error|warning): " + FormatRegex(info.format, literal) + "$");
  for (const std::string& line : lines) {
    if (line.find(json_code) != std::string::npos) return true;
    if (literal >= kMinLiteralChars && line.find("// CHECK:STDERR:") != std::string::npos &&
        std::regex_search(line, message)) {
      return true;
    }
  }
  return false;
}

TEST(DiagnosticsRegistry, EveryCodeHasAGoldenTest) {
  std::vector<std::string> lines = AllCheckLines();
  ASSERT_FALSE(lines.empty()) << "no golden tests found under " << FLOW_SOURCE_DIR;
  for (DiagKind kind : AllDiagKinds()) {
    const DiagKindInfo& info = GetDiagKindInfo(kind);
    bool pending = std::find(std::begin(kNotYetReachable), std::end(kNotYetReachable),
                             info.code) != std::end(kNotYetReachable);
    if (pending) {
      // Once it is exercised, the exemption must go.
      EXPECT_FALSE(IsExercised(info, lines)) << info.code << " is tested now: drop its exemption";
      continue;
    }
    EXPECT_TRUE(IsExercised(info, lines))
        << info.code << " (" << info.slug << ") has no golden test in tests/check/ expecting it";
  }
}

TEST(DiagnosticsRegistry, EveryCodeIsDocumented) {
  std::string doc = ReadFile(fs::path(FLOW_SOURCE_DIR) / "docs/diagnostics.md");
  ASSERT_FALSE(doc.empty()) << "docs/diagnostics.md is missing";
  for (DiagKind kind : AllDiagKinds()) {
    const DiagKindInfo& info = GetDiagKindInfo(kind);
    std::string heading = "### " + std::string(info.code) + " `" + std::string(info.slug) + "`";
    EXPECT_NE(doc.find(heading), std::string::npos)
        << "docs/diagnostics.md has no section '" << heading << "'";
  }
}

TEST(DiagnosticsRegistry, CodesAndSlugsAreUnique) {
  std::vector<std::string> seen;
  for (DiagKind kind : AllDiagKinds()) {
    const DiagKindInfo& info = GetDiagKindInfo(kind);
    for (std::string key : {std::string(info.code), std::string(info.slug)}) {
      EXPECT_EQ(std::count(seen.begin(), seen.end(), key), 0) << key << " is registered twice";
      seen.push_back(key);
    }
  }
}

TEST(Suggest, TypicalTyposAreSuggested) {
  std::vector<std::string> args = {"customer", "amount", "email", "currency"};
  EXPECT_EQ(DidYouMean("amout", args), "; did you mean 'amount'?");
  EXPECT_EQ(DidYouMean("emial", args), "; did you mean 'email'?");  // adjacent swap: one edit
  EXPECT_EQ(DidYouMean("Email", args), "; did you mean 'email'?");
  EXPECT_EQ(DidYouMean("coupon", args), "");
  EXPECT_EQ(EditDistance("ab", "ba"), 1);
  EXPECT_EQ(EditDistance("abc", "ca"), 3);  // optimal string alignment, not full Damerau
  std::vector<std::string> short_names = {"to"};
  EXPECT_EQ(DidYouMean("id", short_names), "");
}

// STYLE.md §7: `fail_` prefix exactly when the command exits non-zero. With
// several RUN lines (a run, then `flow show` of it) the last one is the
// command the file is about: only the CHECK:EXIT after it counts.
TEST(GoldenFiles, FailPrefixMatchesExitCode) {
  for (const fs::path& file : GoldenFiles()) {
    std::string text = ReadFile(file);
    size_t last_run = text.rfind("// RUN:");
    std::string tail = last_run == std::string::npos ? text : text.substr(last_run);
    std::smatch m;
    bool nonzero = std::regex_search(tail, m, std::regex(R"(// CHECK:EXIT: *([0-9]+))")) &&
                   m[1] != "0";
    bool fail_name = file.filename().string().rfind("fail_", 0) == 0;
    EXPECT_EQ(nonzero, fail_name) << file << ": the fail_ prefix must match a non-zero exit";
  }
}

// ------------------------------------------------------------------ huge inputs

#ifdef FLOW_BINARY

struct FlowOutcome {
  int exit_code = -1;
  std::string err;
};

// Runs `flow check FILE` on `text` written to a fresh temporary directory,
// beside `files` (relative path -> contents).
auto CheckText(const std::string& name, const std::string& text,
               const std::vector<std::pair<std::string, std::string>>& files = {}) -> FlowOutcome {
  fs::path dir = fs::temp_directory_path() /
                 ("flow_diag_test." + std::to_string(::getpid()) + "." + name);
  fs::create_directories(dir);
  for (const auto& [path, contents] : files) {
    fs::create_directories((dir / path).parent_path());
    std::ofstream(dir / path, std::ios::binary) << contents;
  }
  fs::path file = dir / (name + ".flow");
  std::ofstream(file, std::ios::binary) << text;
  std::string command = std::string("'") + FLOW_BINARY + "' check '" + file.string() + "' >'" +
                        (dir / "out").string() + "' 2>'" + (dir / "err").string() + "'";
  int status = std::system(command.c_str());
  FlowOutcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.err = ReadFile(dir / "err");
  fs::remove_all(dir);
  return outcome;
}

auto LineCount(const std::string& s) -> size_t { return std::count(s.begin(), s.end(), '\n'); }

// Runs `flow check PATH` on an existing file.
auto CheckPath(const fs::path& path) -> FlowOutcome {
  fs::path err = fs::temp_directory_path() / ("flow_diag_test." + std::to_string(::getpid()));
  std::string command = std::string("'") + FLOW_BINARY + "' check '" + path.string() +
                        "' >/dev/null 2>'" + err.string() + "'";
  int status = std::system(command.c_str());
  FlowOutcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.err = ReadFile(err);
  fs::remove(err);
  return outcome;
}

// The examples are documentation: each checks cleanly, except the one that
// exists to show the five typical mistakes (scripts/demo.sh).
TEST(Examples, CheckCleanly) {
  fs::path examples = fs::path(FLOW_SOURCE_DIR) / "examples";
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(examples)) {
    if (entry.path().extension() != ".flow" || entry.path().parent_path().filename() == "mistakes") {
      continue;
    }
    FlowOutcome outcome = CheckPath(entry.path());
    EXPECT_EQ(outcome.exit_code, 0) << entry.path() << "\n" << outcome.err;
    EXPECT_EQ(outcome.err, "") << entry.path();
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(Examples, MistakesShowFiveErrors) {
  FlowOutcome outcome = CheckPath(fs::path(FLOW_SOURCE_DIR) / "examples/mistakes/mistakes.flow");
  EXPECT_EQ(outcome.exit_code, 1);
  std::regex error_line(R"(mistakes\.flow:\d+:\d+: error: )");
  auto begin = std::sregex_iterator(outcome.err.begin(), outcome.err.end(), error_line);
  EXPECT_EQ(std::distance(begin, std::sregex_iterator()), 5) << outcome.err;
}

// docs/language.md is the language reference: every ```flow block in it is a
// complete file that checks cleanly, beside the connector files the page
// introduces with `<!-- file: PATH -->` before a ```json block.
TEST(LanguageReference, ExamplesCheck) {
  std::istringstream in(ReadFile(fs::path(FLOW_SOURCE_DIR) / "docs/language.md"));
  std::vector<std::pair<int, std::string>> examples;  // (line, text)
  std::vector<std::pair<std::string, std::string>> files;
  std::string pending_file;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    std::smatch m;
    if (std::regex_match(line, m, std::regex(R"(<!-- file: (\S+) -->)"))) pending_file = m[1];
    if (line != "```flow" && line != "```json") continue;
    bool flow = line == "```flow";
    int start = line_no;
    std::string block;
    while (std::getline(in, line) && line != "```") {
      ++line_no;
      block += line + "\n";
    }
    ++line_no;
    if (flow) examples.emplace_back(start, block);
    else if (!pending_file.empty()) files.emplace_back(pending_file, block);
    pending_file.clear();
  }
  ASSERT_GE(examples.size(), 15u) << "docs/language.md lost its examples";
  for (const auto& [start, text] : examples) {
    FlowOutcome outcome = CheckText("language_md_" + std::to_string(start), text, files);
    EXPECT_EQ(outcome.exit_code, 0) << "docs/language.md:" << start << "\n" << outcome.err;
    EXPECT_EQ(outcome.err, "") << "docs/language.md:" << start;
  }
}

// The reference lives in the repository: nothing a user reads links to the
// contract outside it (../shared/SPEC.md), and the README points at it.
TEST(LanguageReference, IsLinkedAndSelfContained) {
  fs::path root(FLOW_SOURCE_DIR);
  std::string readme = ReadFile(root / "README.md");
  EXPECT_NE(readme.find("(docs/language.md)"), std::string::npos) << "README must link docs/language.md";
  std::vector<fs::path> pages = {root / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "docs")) pages.push_back(entry.path());
  for (const fs::path& page : pages) {
    EXPECT_EQ(ReadFile(page).find("shared/SPEC.md"), std::string::npos) << page << " links outside the repository";
  }
}

// Each huge input gives exit 1 and exactly one diagnostic line (the source
// line is too long to be echoed), never a crash or a stack overflow.
void ExpectOneError(const FlowOutcome& outcome, const std::string& what) {
  EXPECT_EQ(outcome.exit_code, 1) << outcome.err.substr(0, 2000);
  EXPECT_EQ(LineCount(outcome.err), 1u) << outcome.err.substr(0, 2000);
  EXPECT_NE(outcome.err.find(what), std::string::npos) << outcome.err.substr(0, 2000);
}

TEST(HugeInputs, FiveMegabyteLine) {
  std::string text = "workflow w() { let s = \"" + std::string(5 << 20, 'a') +
                     "\"; let t = nope }";
  ExpectOneError(CheckText("five_mb_line", text), "error: unknown variable 'nope'");
}

TEST(HugeInputs, TenThousandNestedParentheses) {
  constexpr int kDepth = 10'000;
  std::string text = "workflow w() -> int { return " + std::string(kDepth, '(') + "1" +
                     std::string(kDepth, ')') + " }\n";
  ExpectOneError(CheckText("deep_parens", text), "error: nesting exceeds the limit of");
}

TEST(HugeInputs, MillionTermChain) {
  // A type error after a million-term sum: whether the parser accepts the
  // chain (then the checker reports the mismatch) or caps it (nesting too
  // deep), it is one error and no crash.
  constexpr int kTerms = 1'000'000;
  std::string text = "workflow w() { let s: string = 1";
  text.reserve(text.size() + 4 * kTerms);
  for (int i = 1; i < kTerms; ++i) text += " + 1";
  text += " }\n";
  ExpectOneError(CheckText("long_chain", text), "error: ");
}

TEST(HugeInputs, BinaryGarbage) {
  std::mt19937 random(42);  // fixed seed: the same garbage every run
  std::string text(64 << 10, '\0');
  for (char& c : text) c = static_cast<char>(random() & 0xff);
  ExpectOneError(CheckText("garbage", text), "error: ");
}

#endif  // FLOW_BINARY

}  // namespace
}  // namespace flow
