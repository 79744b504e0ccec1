// The exec transport (vm/connectors/exec_transport.h) with real child
// processes: tests/servers/exec_tool.py, copied into a fresh connector
// folder per test so relative command resolution and the working directory
// are really exercised (the test's own working directory is elsewhere).
#include "vm/connectors/exec_transport.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <thread>
#include <sstream>

#include "vm/connectors/step_call.h"
#include "vm/connectors/transport.h"

namespace flow::connectors {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using Status = StepOutcome::Status;

auto CountOpenFds() -> int {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// True when `pid` is gone or a zombie (it no longer runs).
auto IsDead(pid_t pid) -> bool {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren == std::string::npos || line.substr(paren + 2, 1) == "Z" ||
         line.substr(paren + 2, 1) == "X";
}

auto ReadFile(const fs::path& path) -> std::string {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ExecTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/flow-exec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    fs::create_directories(dir_ / "tools");
    fs::copy_file(fs::path(FLOW_SOURCE_DIR) / "tests/servers/exec_tool.py",
                  dir_ / "tools/exec_tool.py");
    fs::permissions(dir_ / "tools/exec_tool.py", fs::perms::owner_all);
    Load(R"(["tools/exec_tool.py"])");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `command` is the transport's argv; `extra` more transport keys (",
  // \"env\": [...]").
  void Load(const std::string& command, const std::string& extra = "") {
    std::string input = R"({"type": "object", "properties": {"times": {"type": "integer"},
        "seconds": {"type": "number"}, "pidfile": {"type": "string"}, "message": {"type": "string"},
        "bytes": {"type": "integer"}, "text": {"type": "string"}}})";
    std::string text = R"({"connector": "crm", "transport": {"kind": "exec", "command": )" +
                       command + extra + R"(}, "operations": {)";
    const char* modes[] = {"echo", "flaky", "sleep", "grandchild", "badjson", "fail", "noisy", "big", "env"};
    for (const char* mode : modes) {
      text += std::string(mode == modes[0] ? "" : ",") + "\"" + mode + "\": {\"args\": [\"" + mode +
              "\"], \"input\": " + input + "}";
    }
    text +=
        R"(, "typed": {"args": ["echo"], "input": )" + input +
        R"(, "output": {"type": "object", "required": ["args"], "properties": {"args": {"type": "string"}}}})";
    text += "}}";
    auto file = ParseConnectorFile(text);
    ASSERT_TRUE(file.ok()) << file.error().message;
    connector_ = std::move(file).value();
  }

  auto Attempt(const std::string& op, json args = json::object(),
               milliseconds timeout = milliseconds(0), const std::string& key = "run-7/step-2")
      -> StepOutcome {
    StepAttempt attempt{
        &connector_, connector_.FindOperation(op), dir_.string(), std::move(args), key, "run-7",
        timeout};
    EXPECT_NE(attempt.op, nullptr);
    return PerformAttempt(DefaultTransports(), attempt);
  }

  fs::path dir_;
  ConnectorFile connector_;
};

TEST_F(ExecTransportTest, SuccessPassesArgsEnvAndWorkingDirectory) {
  auto outcome = Attempt("echo", {{"text", "hello"}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["args"], json({{"text", "hello"}}));
  EXPECT_EQ(fs::canonical(outcome.output["cwd"].get<std::string>()), fs::canonical(dir_));
  EXPECT_EQ(outcome.output["key"], "run-7/step-2");
  EXPECT_EQ(outcome.output["run"], "run-7");
  EXPECT_EQ(outcome.output["operation"], "crm.echo");
  EXPECT_EQ(outcome.output["argv"], json({"echo"}));
  EXPECT_EQ(ReadFile(dir_ / "invocations.log"), "echo run-7/step-2\n");
}

TEST_F(ExecTransportTest, BareCommandNamesAreFoundInPath) {
  Load(R"(["python3", "tools/exec_tool.py"])");
  auto outcome = Attempt("echo", {{"text", "x"}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["argv"], json({"echo"}));
}

// SPEC §4 "Blocked, not failed": what the machine lacks blocks the step.
TEST_F(ExecTransportTest, AMissingCommandBlocksTheStep) {
  Load(R"(["tools/nope.py"])");
  auto missing = Attempt("echo");
  EXPECT_EQ(missing.status, Status::Blocked);
  EXPECT_EQ(missing.error_kind, "config");
  EXPECT_EQ(missing.message, "command '" + (fs::path(dir_) / "tools/nope.py").lexically_normal().string() +
                                 "' is missing or not executable");
  Load(R"(["flow-no-such-command-xyz"])");
  auto unknown = Attempt("echo");
  EXPECT_EQ(unknown.status, Status::Blocked);
  EXPECT_EQ(unknown.message, "command 'flow-no-such-command-xyz' not found in PATH");
  // The connector's folder was moved away (the command exists elsewhere).
  Load(R"(["python3", "tools/exec_tool.py"])");
  const fs::path moved = dir_.string() + "-moved";
  fs::rename(dir_, moved);
  auto gone = Attempt("echo");
  fs::rename(moved, dir_);
  EXPECT_EQ(gone.status, Status::Blocked);
  EXPECT_EQ(gone.message, "the working directory '" + dir_.string() + "' of connector 'crm' is missing");
  EXPECT_EQ(Attempt("echo").status, Status::Ok);
}

TEST_F(ExecTransportTest, OutputIsValidatedAgainstTheSchema) {
  auto outcome = Attempt("typed", {{"text", "x"}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "$.args: expected string, got object");
}

TEST_F(ExecTransportTest, Exit75IsRetryableAndKeepsTheKey) {
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto outcome = Attempt("flaky", {{"times", 2}});
    EXPECT_EQ(outcome.status, Status::Retryable);
    EXPECT_EQ(outcome.error_kind, "exit_retryable");
    EXPECT_EQ(outcome.message, "not yet (attempt " + std::to_string(attempt) + ")");
  }
  auto outcome = Attempt("flaky", {{"times", 2}});
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_EQ(outcome.output["attempts"], 3);
  EXPECT_EQ(ReadFile(dir_ / "invocations.log"),
            "flaky run-7/step-2\nflaky run-7/step-2\nflaky run-7/step-2\n");
}

TEST_F(ExecTransportTest, OtherExitCodesArePermanentWithStderr) {
  auto outcome = Attempt("fail", {{"message", "card declined: insufficient funds"}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "exit");
  EXPECT_EQ(outcome.message, "card declined: insufficient funds");
}

TEST_F(ExecTransportTest, LongStderrIsCapped) {
  auto outcome = Attempt("noisy", {{"bytes", 200000}});
  EXPECT_EQ(outcome.error_kind, "exit");
  EXPECT_EQ(outcome.message, std::string(kMaxMessageExcerptBytes, 'e') + "...");
}

TEST_F(ExecTransportTest, BadJsonIsAContractError) {
  auto outcome = Attempt("badjson");
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "stdout is not JSON: 'this is { not json'");
}

TEST_F(ExecTransportTest, LargeInputAndOutputDoNotDeadlock) {
  // Both far beyond a pipe buffer (64 KiB): stdin is written while stdout is read.
  std::string big(1 << 20, 'q');
  auto echoed = Attempt("echo", {{"text", big}});
  ASSERT_EQ(echoed.status, Status::Ok) << echoed.message;
  EXPECT_EQ(echoed.output["args"]["text"], big);
  auto output = Attempt("big", {{"bytes", 3 << 20}});
  ASSERT_EQ(output.status, Status::Ok) << output.message;
  EXPECT_EQ(output.output.get<std::string>().size(), size_t{3} << 20);
}

TEST_F(ExecTransportTest, OutputAboveTheCapIsRefused) {
  auto outcome = Attempt("big", {{"bytes", static_cast<int64_t>(kMaxOutputBytes) + 10}});
  EXPECT_EQ(outcome.status, Status::Permanent);
  EXPECT_EQ(outcome.error_kind, "contract");
  EXPECT_EQ(outcome.message, "stdout exceeds 16 MiB");
}

TEST_F(ExecTransportTest, TimeoutKillsTheWholeProcessGroup) {
  std::string pidfile = (dir_ / "grandchild.pid").string();
  auto start = std::chrono::steady_clock::now();
  // The timeout is generous so the tool has started its grandchild even on a
  // loaded machine; the bound below only proves the 600 s sleep was cut short.
  auto outcome = Attempt("grandchild", {{"seconds", 600}, {"pidfile", pidfile}}, milliseconds(8000));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(outcome.status, Status::Retryable);
  EXPECT_EQ(outcome.error_kind, "timeout");
  EXPECT_EQ(outcome.message, "no result within 8000ms; process group killed");
  EXPECT_LT(elapsed, std::chrono::seconds(300));
  std::string pid_text = ReadFile(pidfile);
  ASSERT_FALSE(pid_text.empty()) << "the tool did not start its grandchild within the timeout";
  // SIGKILL went to the whole group before the attempt returned, but the
  // kernel finishes a killed process asynchronously: wait for that, bounded.
  // A grandchild outside the group would live for 600 s and fail this.
  pid_t grandchild = std::stoi(pid_text);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!IsDead(grandchild) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(IsDead(grandchild));
}

TEST_F(ExecTransportTest, NoZombiesAndNoLeakedDescriptors) {
  // The first exec step of a process starts its guardian, whose socket
  // stays open for the process's life (process_guard.h): counted from after.
  EXPECT_EQ(Attempt("echo").status, Status::Ok);
  int before = CountOpenFds();
  EXPECT_EQ(Attempt("echo").status, Status::Ok);
  EXPECT_EQ(Attempt("fail").status, Status::Permanent);
  EXPECT_EQ(Attempt("sleep", {{"seconds", 30}}, milliseconds(200)).error_kind, "timeout");
  EXPECT_EQ(CountOpenFds(), before);
  // No child of this process has exited without being reaped.
  siginfo_t info{};
  int rc = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  EXPECT_TRUE(rc == -1 || info.si_pid == 0) << "unreaped child " << info.si_pid;
}

TEST_F(ExecTransportTest, CommandResolution) {
  EXPECT_EQ(ResolveCommand("tools/x.py", "/srv/conn"), "/srv/conn/tools/x.py");
  EXPECT_EQ(ResolveCommand("./x.sh", "/srv/conn"), "/srv/conn/x.sh");
  EXPECT_EQ(ResolveCommand("/bin/tool", "/srv/conn"), "/bin/tool");
  auto sh = ResolveCommand("sh", "/srv/conn");
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ(fs::path(*sh).filename(), "sh");
  EXPECT_EQ(ResolveCommand("", "/srv/conn"), std::nullopt);
}

// SPEC §3: a tool gets PATH, HOME, LANG, TZ, the FLOW_ variables and what
// its transport lists in "env" -- never another connector's token. The
// values of listed variables are secrets: a tool that echoes one leaves
// "[redacted]" in the result and the message.
TEST_F(ExecTransportTest, ToolsGetOnlyTheMinimalEnvironmentAndTheirEnvList) {
  ::setenv("FLOW_TEST_OTHER_TOKEN", "billing-secret-123", 1);
  ::setenv("FLOW_TEST_CRM_TOKEN", "crm-secret-456", 1);
  ::setenv("FLOW_DB", "/tmp/some.db", 1);
  // The interpreter itself, not a `python3` that PATH may resolve to a
  // wrapper script (pyenv's shims add variables of their own).
  Load(R"(["/usr/bin/python3", "tools/exec_tool.py"])", R"(, "env": ["FLOW_TEST_CRM_TOKEN", "FLOW_TEST_UNSET_VAR"])");
  auto outcome = Attempt("env");
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  const json& env = outcome.output["env"];
  const std::set<std::string> allowed = {"PATH", "HOME", "LANG", "TZ", "FLOW_IDEMPOTENCY_KEY", "FLOW_RUN_ID",
                                         "FLOW_OPERATION", "FLOW_TEST_CRM_TOKEN"};
  for (const auto& [name, value] : env.items()) EXPECT_TRUE(allowed.count(name) == 1) << name << " reached the tool";
  EXPECT_FALSE(env.contains("FLOW_TEST_OTHER_TOKEN"));
  EXPECT_FALSE(env.contains("FLOW_DB"));
  EXPECT_TRUE(env.contains("PATH"));
  EXPECT_EQ(env["FLOW_RUN_ID"], "run-7");
  EXPECT_EQ(env["FLOW_TEST_CRM_TOKEN"], "[redacted]");  // it got the value, and echoed it
  auto failed = Attempt("fail", {{"message", "token crm-secret-456 refused"}});
  EXPECT_EQ(failed.message, "token [redacted] refused");
  ::unsetenv("FLOW_TEST_OTHER_TOKEN");
  ::unsetenv("FLOW_TEST_CRM_TOKEN");
  ::unsetenv("FLOW_DB");
}

TEST_F(ExecTransportTest, EnvMustListVariableNames) {
  auto bad = ParseConnectorFile(
      R"({"connector": "c", "transport": {"kind": "exec", "command": ["x"], "env": ["A-B"]}, "operations": {}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "$.transport.env: 'A-B' is not an environment variable name");
  auto http = ParseConnectorFile(
      R"({"connector": "c", "transport": {"kind": "http", "base_url": "http://x", "env": ["A"]}, "operations": {}})");
  ASSERT_FALSE(http.ok());
  EXPECT_EQ(http.error().message, "$.transport: unknown key 'env'");
}

// The tool's own exit code or signal is what the outcome reports.
TEST_F(ExecTransportTest, TheToolsExitCodeAndSignalAreReported) {
  Load(R"(["/bin/sh", "-c", "kill -SEGV $$"])");
  auto killed = Attempt("echo");
  EXPECT_EQ(killed.error_kind, "exit");
  EXPECT_EQ(killed.message, "killed by signal 11 (Segmentation fault)");
  Load(R"(["/bin/sh", "-c", "exit 75"])");
  EXPECT_EQ(Attempt("echo").error_kind, "exit_retryable");
}

// A resent attempt kills what is left of the previous one first: here a
// process carrying the step's key that escaped every group (a new session),
// as a tool's grandchild may.
TEST_F(ExecTransportTest, AResentAttemptKillsThePreviousAttemptsLeftovers) {
  pid_t leftover = ::fork();
  ASSERT_GE(leftover, 0);
  if (leftover == 0) {
    ::setsid();
    const char* env[] = {"FLOW_IDEMPOTENCY_KEY=run-7/step-2", "FLOW_RUN_ID=run-7", "FLOW_OPERATION=crm.echo", nullptr};
    ::execle("/bin/sleep", "sleep", "600", nullptr, env);
    ::_exit(127);
  }
  // Not resent: the leftover is left alone (it could be anything's).
  ASSERT_EQ(Attempt("echo").status, Status::Ok);
  EXPECT_FALSE(IsDead(leftover));
  StepAttempt resent{&connector_, connector_.FindOperation("echo"), dir_.string(), json::object(), "run-7/step-2",
                     "run-7", milliseconds(0), true};
  auto outcome = PerformAttempt(DefaultTransports(), resent);
  ASSERT_EQ(outcome.status, Status::Ok) << outcome.message;
  EXPECT_TRUE(IsDead(leftover));  // killed and waited for before the tool ran
  ::waitpid(leftover, nullptr, 0);
}

}  // namespace
}  // namespace flow::connectors
