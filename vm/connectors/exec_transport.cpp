#include "vm/connectors/exec_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <vector>

#include "vm/connectors/process_guard.h"
#include "vm/connectors/redact.h"

namespace flow::connectors {
namespace {

using Clock = std::chrono::steady_clock;

// After the child exits, the rest of its process group is killed; a process
// that escaped the group (setsid) may still hold the pipes open, so reading
// them stops after this long instead of waiting for an end of file that may
// never come.
constexpr std::chrono::milliseconds kDrainAfterExit{2000};
// Without pidfd (kernels before 5.3) the loop wakes this often to look for
// the child's exit.
constexpr int kExitPollSliceMs = 20;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  auto operator=(UniqueFd&& other) noexcept -> UniqueFd& {
    if (this != &other) {
      reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  auto get() const -> int { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// FLOW_OPERATION: the file's connector name, not the declaration's alias.
auto OperationName(const StepAttempt& attempt) -> std::string {
  return attempt.connector->name + "." + attempt.op->name;
}

// The variables every tool gets from flow's environment when they are set
// (SPEC §3 "a minimal base"): enough to find programs and to format text
// and times as the operator expects, nothing that could hold a secret.
constexpr const char* kBaseEnvironment[] = {"PATH", "HOME", "LANG", "TZ"};
// PATH when flow has none (ResolveCommand searches the same).
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

// SPEC §3: the minimal base, the variables the transport lists in "env"
// (those that are set), and FLOW_IDEMPOTENCY_KEY, FLOW_RUN_ID and
// FLOW_OPERATION, which replace any of the same name. Nothing else of
// flow's environment -- another connector's token least of all.
auto BuildEnvironment(const StepAttempt& attempt) -> std::vector<std::string> {
  std::vector<std::string> env;
  auto pass = [&env](const std::string& name) {
    if (name == "FLOW_IDEMPOTENCY_KEY" || name == "FLOW_RUN_ID" || name == "FLOW_OPERATION") return;  // below
    if (const char* value = std::getenv(name.c_str())) env.push_back(name + "=" + value);
  };
  for (const char* name : kBaseEnvironment) pass(name);
  if (std::getenv("PATH") == nullptr) env.push_back(std::string("PATH=") + kDefaultPath);
  for (const std::string& name : attempt.connector->transport.env) {
    if (std::find(std::begin(kBaseEnvironment), std::end(kBaseEnvironment), name) == std::end(kBaseEnvironment)) {
      pass(name);
    }
  }
  env.push_back("FLOW_IDEMPOTENCY_KEY=" + attempt.idempotency_key);
  env.push_back("FLOW_RUN_ID=" + attempt.run_id);
  env.push_back("FLOW_OPERATION=" + OperationName(attempt));
  return env;
}

// The values of the variables listed in "env", and of the secret("ENV")
// arguments on its stdin: what the tool may echo.
auto EnvSecrets(const StepAttempt& attempt) -> Redactor {
  Redactor redactor;
  for (const std::string& name : attempt.connector->transport.env) {
    if (const char* value = std::getenv(name.c_str())) redactor.Add(value);
  }
  for (const std::string& value : attempt.secret_values) redactor.Add(value);
  return redactor;
}

struct Child {
  pid_t pid = -1;
  UniqueFd stdin_fd;   // parent's write end
  UniqueFd stdout_fd;  // parent's read ends
  UniqueFd stderr_fd;
};

// write() that turns a closed pipe into EPIPE without killing flow: SIGPIPE
// is blocked in this thread for the call and a pending one is consumed.
auto WriteNoSigpipe(int fd, const char* data, size_t size) -> ssize_t {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = ::write(fd, data, size);
  int saved = errno;
  if (n < 0 && errno == EPIPE) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return n;
}

// True once the child has exited; leaves it waitable (its pid, and so its
// process group id, stays reserved until we reap it).
auto HasExited(pid_t pid) -> bool {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  if (::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return info.si_pid == pid;
}

// What the I/O loop saw.
struct Collected {
  std::string out;
  std::string err;
  bool timed_out = false;
  bool out_too_large = false;
  int wait_status = 0;
};

// Reads one chunk from `fd` into `sink` (up to `cap`, the rest dropped).
// Returns false at end of file or on an error.
auto ReadChunk(int fd, std::string& sink, size_t cap, bool* overflow) -> bool {
  char buffer[65536];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  size_t room = cap > sink.size() ? cap - sink.size() : 0;
  sink.append(buffer, std::min(room, static_cast<size_t>(n)));
  if (static_cast<size_t>(n) > room && overflow != nullptr) *overflow = true;
  return true;
}

// A descriptor that polls readable when `pid` exits, or -1 (kernels before
// 5.3; the loop then wakes every kExitPollSliceMs). The raw syscall because
// glibc's <sys/pidfd.h> is not C++-safe; pidfds are always close-on-exec.
auto PidfdOpen(pid_t pid) -> int {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  return -1;
#endif
}

class IoLoop {
 public:
  IoLoop(Child& child, std::string input, std::chrono::milliseconds timeout)
      : child_(child), input_(std::move(input)) {
    if (timeout.count() > 0) deadline_ = Clock::now() + timeout;
    pidfd_ = UniqueFd(PidfdOpen(child.pid));
    if (input_.empty()) child_.stdin_fd.reset();
  }

  auto Run() -> Collected {
    while (child_.stdout_fd.get() >= 0 || child_.stderr_fd.get() >= 0 || !exited_) {
      if (!Step()) break;
    }
    child_.stdin_fd.reset();
    ::kill(-child_.pid, SIGKILL);  // anything left in the group; harmless if empty
    ReleaseGroup(child_.pid);      // before the reap: until then the group id is ours
    while (::waitpid(child_.pid, &collected_.wait_status, 0) < 0 && errno == EINTR) {
    }
    return std::move(collected_);
  }

 private:
  // One poll round. False when the loop must stop (drain limit reached).
  auto Step() -> bool {
    std::vector<pollfd> fds;
    auto watch = [&](const UniqueFd& fd, short events) {
      if (fd.get() >= 0) fds.push_back({fd.get(), events, 0});
    };
    watch(child_.stdin_fd, POLLOUT);
    watch(child_.stdout_fd, POLLIN);
    watch(child_.stderr_fd, POLLIN);
    if (!exited_) watch(pidfd_, POLLIN);
    int wait_ms = WaitBudgetMs();
    if (wait_ms == 0) return OnDeadline();
    int ready = ::poll(fds.data(), fds.size(), wait_ms);
    if (ready < 0 && errno != EINTR) return false;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == child_.stdin_fd.get())
        WriteInput();
      else if (p.fd == child_.stdout_fd.get())
        ReadOut();
      else if (p.fd == child_.stderr_fd.get())
        ReadErr();
    }
    if (!exited_ && HasExited(child_.pid)) OnExit();
    return true;
  }

  // Milliseconds poll may sleep; 0 when the deadline that matters has passed.
  auto WaitBudgetMs() -> int {
    auto until = exited_ ? drain_deadline_ : deadline_;
    int budget = -1;
    if (until) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - Clock::now()).count();
      if (left <= 0) return 0;
      budget = static_cast<int>(std::min<long long>(left, 60'000));
    }
    if (!exited_ && pidfd_.get() < 0)
      budget = budget < 0 ? kExitPollSliceMs : std::min(budget, kExitPollSliceMs);
    return budget;
  }

  auto OnDeadline() -> bool {
    if (exited_) return false;  // drain limit: stop reading
    collected_.timed_out = true;
    ::kill(-child_.pid, SIGKILL);
    OnExit();
    return true;
  }

  void OnExit() {
    exited_ = true;
    // Kill what the child left behind before reaping it: until then its pid
    // cannot be reused, so -pid still names only its group.
    ::kill(-child_.pid, SIGKILL);
    child_.stdin_fd.reset();
    drain_deadline_ = Clock::now() + kDrainAfterExit;
  }

  void WriteInput() {
    ssize_t n =
        WriteNoSigpipe(child_.stdin_fd.get(), input_.data() + written_, input_.size() - written_);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) {
      child_.stdin_fd.reset();  // the child closed stdin: its business
      return;
    }
    written_ += static_cast<size_t>(n);
    if (written_ == input_.size()) child_.stdin_fd.reset();
  }

  void ReadOut() {
    if (!ReadChunk(child_.stdout_fd.get(), collected_.out, kMaxOutputBytes,
                   &collected_.out_too_large)) {
      child_.stdout_fd.reset();
    }
    if (collected_.out_too_large && !exited_) {
      ::kill(-child_.pid, SIGKILL);
      OnExit();
    }
  }

  void ReadErr() {
    if (!ReadChunk(child_.stderr_fd.get(), collected_.err, kMaxStderrBytes, nullptr)) {
      child_.stderr_fd.reset();
    }
  }

  Child& child_;
  std::string input_;
  size_t written_ = 0;
  UniqueFd pidfd_;
  bool exited_ = false;
  std::optional<Clock::time_point> deadline_;
  std::optional<Clock::time_point> drain_deadline_;
  Collected collected_;
};

auto Classify(const StepAttempt& attempt, const Collected& run) -> StepOutcome {
  std::string err = Excerpt(run.err);
  if (run.timed_out) {
    return FailOutcome(kKindTimeout, "no result within " + std::to_string(attempt.timeout.count()) +
                                         "ms; process group killed");
  }
  if (run.out_too_large) {
    return FailOutcome(kKindContract, "stdout exceeds " +
                                          std::to_string(kMaxOutputBytes / (1024 * 1024)) + " MiB");
  }
  if (WIFSIGNALED(run.wait_status)) {
    int sig = WTERMSIG(run.wait_status);
    std::string message = "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
    return FailOutcome(kKindExit, err.empty() ? message : message + ": " + err);
  }
  int code = WIFEXITED(run.wait_status) ? WEXITSTATUS(run.wait_status) : -1;
  if (code == 0) return ParseAndValidateOutput(*attempt.connector, *attempt.op, run.out, "stdout");
  std::string fallback = "exited with code " + std::to_string(code);
  return FailOutcome(code == kExitRetryable ? kKindExitRetryable : kKindExit,
                     err.empty() ? fallback : err);
}

auto IsExecutableFile(const std::string& path) -> bool {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

auto ResolveCommand(const std::string& command, const std::string& connector_dir)
    -> std::optional<std::string> {
  namespace fs = std::filesystem;
  if (command.empty()) return std::nullopt;
  if (command.find('/') != std::string::npos) {
    std::error_code ec;
    fs::path path(command);
    if (path.is_relative()) {
      fs::path dir = connector_dir.empty() ? fs::current_path(ec) : fs::path(connector_dir);
      path = fs::absolute(dir, ec) / path;
    }
    return path.lexically_normal().string();
  }
  const char* env_path = std::getenv("PATH");
  std::string_view dirs = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + command;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

auto PerformExecAttempt(const StepAttempt& attempt) -> StepOutcome {
  std::vector<std::string> argv = attempt.connector->transport.command;
  if (argv.empty()) return FailOutcome(kKindConfig, "exec transport has no command");
  argv.insert(argv.end(), attempt.op->args.begin(), attempt.op->args.end());
  // What the machine lacks blocks the step (SPEC §4): nothing is sent, the
  // run waits until the operator restores it (a moved folder, say).
  if (!attempt.connector_dir.empty() && !std::filesystem::is_directory(attempt.connector_dir)) {
    return BlockedOutcome("the working directory '" + attempt.connector_dir + "' of connector '" +
                          attempt.connector->name + "' is missing");
  }
  auto path = ResolveCommand(argv[0], attempt.connector_dir);
  if (!path) return BlockedOutcome("command '" + argv[0] + "' not found in PATH");
  if (!IsExecutableFile(*path)) {
    return BlockedOutcome("command '" + *path + "' is missing or not executable");
  }

  if (attempt.resent) {
    // The previous attempt's processes die with the flow that started them
    // (process_guard.h); what escaped is found and killed before resending.
    auto gone = KillPreviousAttempt(attempt.idempotency_key, attempt.run_id, OperationName(attempt));
    if (!gone) return FailOutcome(kKindTransport, gone.error().message);
  }
  GuardedChild guarded;
  int rc = SpawnGuarded(*path, argv, BuildEnvironment(attempt), attempt.connector_dir, guarded);
  if (rc == ENOENT || rc == EACCES || rc == ENOTDIR) {
    return BlockedOutcome("cannot run '" + argv[0] + "': " + std::strerror(rc));
  }
  if (rc != 0) {
    return FailOutcome(kKindConfig, "cannot run '" + argv[0] + "': " + std::strerror(rc));
  }
  Child child;
  child.pid = guarded.pid;
  child.stdin_fd = UniqueFd(guarded.stdin_fd);
  child.stdout_fd = UniqueFd(guarded.stdout_fd);
  child.stderr_fd = UniqueFd(guarded.stderr_fd);
  std::string input =
      attempt.args.is_null()
          ? "{}"
          : attempt.args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  IoLoop loop(child, std::move(input), attempt.timeout);
  Collected collected = loop.Run();
  // Before anything is parsed or cut: the result and the message are made
  // of redacted text (redact.h).
  const Redactor redactor = EnvSecrets(attempt);
  if (!redactor.empty()) {
    collected.out = redactor.Apply(collected.out);
    collected.err = redactor.Apply(collected.err);
  }
  return Classify(attempt, collected);
}

}  // namespace flow::connectors
