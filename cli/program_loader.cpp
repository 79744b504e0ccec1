#include "cli/program_loader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cli/command.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/diag/suggest.h"
#include "compiler/driver/compile.h"
#include "vm/base/file_io.h"
#include "vm/base/json_text.h"
#include "vm/bytecode/serialize.h"
#include "vm/store/open_store.h"
#include "vm/value/convert.h"

namespace flow::cli {

namespace {

// A .flowc holds the bytecode and the embedded connector files: a few MiB
// at the very most; the bound stops a wrong path from reading forever.
constexpr size_t kMaxProgramFileBytes = 256u << 20;

auto EndsWith(const std::string& s, std::string_view suffix) -> bool {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

auto LoadProgram(const std::string& path, int& exit_code, int compile_error_exit) -> std::optional<LoadedProgram> {
  exit_code = kExitUsage;
  if (EndsWith(path, ".flowc")) {
    auto bytes = ReadFileBounded(path, kMaxProgramFileBytes);
    if (!bytes) {
      std::fprintf(stderr, "flow: %s\n", bytes.error().message.c_str());
      return std::nullopt;
    }
    auto module = bytecode::DeserializeModule(*bytes);
    if (!module) {
      std::fprintf(stderr, "flow: %s: %s\n", path.c_str(), module.error().message.c_str());
      return std::nullopt;
    }
    return LoadedProgram{std::move(*module), std::move(*bytes), ""};
  }
  SourceManager sources;
  Diagnostics diags;
  auto program = CompileFile(path, sources, diags);
  if (!program) {
    std::fprintf(stderr, "flow: %s\n", program.error().message.c_str());
    return std::nullopt;
  }
  std::string text = RenderText(diags, sources);
  std::fwrite(text.data(), 1, text.size(), stderr);
  if (!*program) {
    exit_code = compile_error_exit;
    return std::nullopt;
  }
  std::string source(sources.file((*program)->file).text());
  return LoadedProgram{std::move((*program)->module), std::move((*program)->bytes), std::move(source)};
}

auto PickWorkflow(const bytecode::Module& module, const std::string& path, const std::string& name) -> int {
  std::vector<std::string> names;
  for (const auto& f : module.functions) {
    if (f.kind == bytecode::FunctionKind::Workflow) names.push_back(f.name);
  }
  if (!name.empty()) {
    int fn = module.FindFunction(name);
    if (fn >= 0 && module.functions[fn].kind == bytecode::FunctionKind::Workflow) return fn;
    // E028, worded by the registry; no source range, so the file leads the line.
    Diagnostics diags;
    const Diagnostic& d = diags.Report(DiagKind::UnknownWorkflow, SourceRange{}, name, DidYouMean(name, names));
    std::fprintf(stderr, "%s: error: %s\n", path.c_str(), d.message.c_str());
    return -1;
  }
  if (names.size() == 1) return module.FindFunction(names[0]);
  if (names.empty()) {
    std::fprintf(stderr, "flow: %s has no workflow to run\n", path.c_str());
  } else {
    std::fprintf(stderr, "flow: %s has several workflows (%s); choose one with --workflow\n", path.c_str(),
                 fmt::format("{}", fmt::join(names, ", ")).c_str());
  }
  return -1;
}

namespace {

// The positive integer in environment variable `name`, nullopt when unset.
auto PositiveFromEnvironment(const char* name, int64_t most) -> Result<std::optional<int64_t>> {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::optional<int64_t>();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v <= 0 || v > most) {
    return Error{fmt::format("{} must be a whole number from 1 to {}, not '{}'", name, most, text)};
  }
  return std::optional<int64_t>(v);
}

}  // namespace

auto EngineOptionsFromEnvironment() -> Result<engine::EngineOptions> {
  engine::EngineOptions o;
  auto budget = PositiveFromEnvironment("FLOW_MAX_INSTRUCTIONS", INT64_MAX / 2);
  if (!budget) return budget.error();
  if (*budget) o.instruction_budget = **budget;
  auto memory = PositiveFromEnvironment("FLOW_MAX_MEMORY_MB", int64_t{1} << 30);
  if (!memory) return memory.error();
  if (*memory) o.memory_limit = **memory << 20;
  const char* stress = std::getenv("FLOW_RESUME_STRESS");
  o.resume_stress = stress != nullptr && std::string(stress) == "1";
  return o;
}

auto DatabasePath(const std::string& option) -> std::string {
  if (!option.empty()) return option;
  const char* env = std::getenv("FLOW_DB");
  if (env != nullptr && *env != '\0') return env;
  return "flow.db";
}

auto OpenStore(const std::string& option, bool existing_only) -> Result<std::unique_ptr<store::Store>> {
  store::StoreOptions options;
  options.existing_only = existing_only;
  return store::OpenStore(DatabasePath(option), options);
}

auto ExitCodeFor(store::RunStatus status) -> int {
  switch (status) {
    case store::RunStatus::Completed: return kExitOk;
    case store::RunStatus::Failed:
    case store::RunStatus::Cancelled: return kExitFailed;
    case store::RunStatus::Waiting:
    case store::RunStatus::Running: return kExitWaiting;
  }
  return kExitInternal;
}

namespace {

// "(kind): detail" of a waiting object; a child's names the child run and
// what it waits for (docs/composition.md).
auto WaitingText(const nlohmann::json& waiting) -> std::string {
  if (!waiting.is_object()) return "";
  std::string kind = waiting.value("kind", "");
  std::string detail = kind == "approval" ? waiting.value("prompt", "")
                       : kind == "signal" ? "'" + waiting.value("event", "") + "'"
                       : kind == "retry"  ? waiting.value("step", "") + " until " + waiting.value("wake_at", "")
                       : kind == "child"  ? "child run " + waiting.value("run", "") + " (" + waiting.value("workflow", "") + ")"
                                          : waiting.value("wake_at", "");
  if (kind == "child" && waiting.contains("child")) detail += " is waiting " + WaitingText(waiting["child"]);
  return "(" + kind + "): " + detail;
}

void PrintHuman(const engine::RunReport& r) {
  const char* id = r.run_id.c_str();
  switch (r.status) {
    case store::RunStatus::Completed:
      std::fprintf(stdout, "run %s completed: %s\n", id, value::DumpJson(r.result).c_str());
      break;
    case store::RunStatus::Waiting:
      std::fprintf(stdout, "run %s is waiting %s\n", id, WaitingText(r.waiting).c_str());
      break;
    case store::RunStatus::Failed:
    case store::RunStatus::Cancelled:
      std::fprintf(stdout, "run %s %s: %s: %s\n", id, store::StatusName(r.status),
                   r.error.value("kind", "").c_str(), r.error.value("message", "").c_str());
      for (const auto& c : r.compensations) {
        std::fprintf(stdout, "  compensation %s: %s\n", c.value("step", "").c_str(), c.value("status", "").c_str());
      }
      break;
    case store::RunStatus::Running:
      std::fprintf(stdout, "run %s is running\n", id);
      break;
  }
}

}  // namespace

auto PrintReport(const engine::RunReport& report, bool json) -> int {
  // A run-time error is also a diagnostic, GCC style, on stderr (SPEC §2.4:
  // it names file:line:col there), whatever the report's form on stdout.
  if (report.status == store::RunStatus::Failed && report.error.contains("at")) {
    std::fprintf(stderr, "%s: error: %s: %s\n", report.error.value("at", "").c_str(),
                 report.error.value("kind", "").c_str(), report.error.value("message", "").c_str());
  }
  if (json) {
    std::string text = value::DumpJson(report.ToJson()) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    PrintHuman(report);
  }
  return ExitCodeFor(report.status);
}

// Why inputs are bounded: the whole document is held in memory and stored in
// the run row; a workflow input is a handful of fields, not a data set.
constexpr size_t kMaxInputBytes = 16 * 1024 * 1024;

auto ReadInput(const std::string& option) -> Result<nlohmann::json> {
  std::string text = option;
  if (!option.empty() && option[0] == '@') {
    auto read = ReadFileBounded(option.substr(1), kMaxInputBytes);
    if (!read) return Error{fmt::format("input file: {}", read.error().message)};
    text = std::move(*read);
  }
  if (text.size() > kMaxInputBytes) return Error{"input is larger than 16 MiB"};
  auto j = ParseJsonText(text);
  if (!j) return Error{"input is " + j.error().message};
  if (!j->is_object()) return Error{"input must be a JSON object of the workflow's parameters"};
  return j;
}

}  // namespace flow::cli
