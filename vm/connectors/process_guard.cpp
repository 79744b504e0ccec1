// See process_guard.h. Everything between fork() and execve() (the guardian
// and the tool's preparation) uses system calls only -- no allocation, no
// locks: flow may be multithreaded (`flow worker`), and another thread may
// hold the malloc lock at the instant of the fork.
#include "vm/connectors/process_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <thread>

namespace flow::connectors {
namespace {

// The guardian learns of its parent's death by this signal, which it keeps
// blocked and takes with sigwaitinfo.
constexpr int kParentDeathSignal = SIGUSR2;
// The pipes are moved to descriptors at or above this before the fork, so
// that dup2 onto 0..3 in the guardian never overwrites one it still needs
// (flow may run with stdin closed, making a pipe end descriptor 0).
constexpr int kFirstHighFd = 10;
// The guardian's and the tool's descriptor of the exec-error pipe: the
// tool writes errno there when chdir or execve fails; it is close-on-exec,
// so end of file means the tool is running.
constexpr int kErrorFd = 3;
// How often KillPreviousAttempt looks again for killed processes.
constexpr std::chrono::milliseconds kGonePoll{10};

struct FdPair {
  int read = -1;
  int write = -1;
};

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// `fd` moved to kFirstHighFd or above, close-on-exec (-1 on failure).
auto High(int fd) -> int {
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kFirstHighFd);
  ::close(fd);
  return high;
}

auto MakePipe(FdPair& pipe) -> bool {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  pipe.read = High(fds[0]);
  pipe.write = High(fds[1]);
  return pipe.read >= 0 && pipe.write >= 0;
}

auto CStrings(const std::vector<std::string>& strings) -> std::vector<char*> {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// ---- after fork: system calls only ----

[[noreturn]] void ReportAndExit(int error) {
  ssize_t ignored = ::write(kErrorFd, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

// Closes every descriptor from `first` up (what the guardian inherited from
// flow: the database, other steps' pipes -- a pipe end held here would keep
// another step's reader waiting for an end of file).
void CloseFrom(int first) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  rlimit limit{};
  rlim_t n = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  if (n == RLIM_INFINITY || n > 65536) n = 65536;
  for (int fd = first; fd < static_cast<int>(n); ++fd) ::close(fd);
}

void SetDefault(int sig) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(sig, &action, nullptr);  // EINVAL for SIGKILL and SIGSTOP: harmless
}

// The tool, forked by the guardian: dies with the guardian, starts with
// default signal dispositions and an empty mask (flow blocks or ignores
// signals; the tool must not inherit that), in `dir`.
[[noreturn]] void ExecTool(pid_t guardian, const char* path, char* const* argv, char* const* envp,
                           const char* dir) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != guardian) ::_exit(127);  // the guardian died before the prctl
  for (int sig = 1; sig < NSIG; ++sig) SetDefault(sig);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (dir[0] != '\0' && ::chdir(dir) != 0) ReportAndExit(errno);
  ::execve(path, argv, envp);
  ReportAndExit(errno);
}

// Ends the guardian the way `status` says the tool ended: the same exit
// code, or death by the same signal (without a core file of flow's image).
[[noreturn]] void ExitLike(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    SetDefault(sig);
    ::kill(::getpid(), sig);  // pending while blocked...
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);  // ...and delivered here
    ::_exit(128 + sig);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

[[noreturn]] void KillGroupAndExit() {
  ::kill(0, SIGKILL);  // the guardian's group: the tool and all it started, the guardian too
  ::_exit(137);
}

struct ToolSpec {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* dir;
};

// The guardian (process_guard.h): leads the tool's process group, kills it
// when flow dies, otherwise exits as the tool does.
[[noreturn]] void Guardian(pid_t flow_pid, const FdPair& in, const FdPair& out, const FdPair& err,
                           const FdPair& error_pipe, const ToolSpec& tool_spec) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  SetDefault(SIGCHLD);  // flow may ignore it; then the tool could not be waited for
  ::setpgid(0, 0);
  if (::dup2(in.read, 0) < 0 || ::dup2(out.write, 1) < 0 || ::dup2(err.write, 2) < 0 ||
      ::dup2(error_pipe.write, kErrorFd) < 0) {
    ::_exit(127);
  }
  ::fcntl(kErrorFd, F_SETFD, FD_CLOEXEC);
  CloseFrom(kErrorFd + 1);
  ::prctl(PR_SET_PDEATHSIG, kParentDeathSignal);
  if (::getppid() != flow_pid) KillGroupAndExit();  // flow died before the prctl
  const pid_t self = ::getpid();
  const pid_t tool = ::fork();
  if (tool < 0) ReportAndExit(errno);
  if (tool == 0) ExecTool(self, tool_spec.path, tool_spec.argv, tool_spec.envp, tool_spec.dir);
  // Only the tool holds the pipes now: their end of file is the tool's.
  ::close(kErrorFd);
  ::close(0);
  ::close(1);
  ::close(2);
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, SIGCHLD);
  sigaddset(&wake, kParentDeathSignal);
  for (;;) {
    int status = 0;
    if (::waitpid(tool, &status, WNOHANG) == tool) ExitLike(status);
    if (::getppid() != flow_pid) KillGroupAndExit();
    siginfo_t info;
    if (::sigwaitinfo(&wake, &info) == kParentDeathSignal) KillGroupAndExit();
  }
}

// ---- finding the processes of a previous attempt ----

// /proc/<pid>/<what> as text ("" when unreadable: gone, a zombie, another
// user's), at most `cap` bytes.
auto ReadProc(pid_t pid, const char* what, size_t cap) -> std::string {
  std::string path = "/proc/" + std::to_string(pid) + "/" + what;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() >= cap) break;
  }
  ::close(fd);
  return text;
}

// The parent pid from /proc/<pid>/stat ("pid (comm) state ppid ..."; comm
// may hold spaces and parentheses, so the last ')' ends it), or 0.
auto ParentOf(pid_t pid) -> pid_t {
  std::string stat = ReadProc(pid, "stat", 4096);
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return 0;
  return static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
}

// flow itself and every process it descends from: never killed, even when
// they carry the key (a `flow` started by an exec tool inherits it).
auto SelfAndAncestors() -> std::set<pid_t> {
  std::set<pid_t> out;
  for (pid_t p = ::getpid(); p > 1 && out.insert(p).second;) p = ParentOf(p);
  return out;
}

// Live processes whose environment holds every one of `vars` exactly.
auto Carrying(const std::vector<std::string>& vars, const std::set<pid_t>& spared) -> std::vector<pid_t> {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 1 || *end != '\0' || spared.count(static_cast<pid_t>(pid)) != 0) continue;
    // NUL-separated NAME=value entries; framed so each var matches whole.
    std::string env_text = '\0' + ReadProc(static_cast<pid_t>(pid), "environ", 1 << 20) + '\0';
    bool all = !vars.empty();
    for (const std::string& var : vars) {
      all = all && env_text.find('\0' + var + '\0') != std::string::npos;
    }
    if (all) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return found;
}

}  // namespace

auto SpawnGuarded(const std::string& path, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env, const std::string& dir, GuardedChild& child) -> int {
  FdPair in, out, err, error_pipe;
  auto close_all = [&] {
    for (FdPair* p : {&in, &out, &err, &error_pipe}) {
      CloseFd(p->read);
      CloseFd(p->write);
    }
  };
  if (!MakePipe(in) || !MakePipe(out) || !MakePipe(err) || !MakePipe(error_pipe)) {
    int error = errno;
    close_all();
    return error;
  }
  // Everything the guardian and the tool need, built before the fork.
  auto c_argv = CStrings(argv);
  auto c_env = CStrings(env);
  const ToolSpec spec{path.c_str(), c_argv.data(), c_env.data(), dir.c_str()};
  const pid_t flow_pid = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    close_all();
    return error;
  }
  if (pid == 0) Guardian(flow_pid, in, out, err, error_pipe, spec);
  // The guardian does the same: whichever runs first, -pid names its group.
  ::setpgid(pid, pid);
  CloseFd(in.read);
  CloseFd(out.write);
  CloseFd(err.write);
  CloseFd(error_pipe.write);
  int exec_error = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe.read, &exec_error, sizeof exec_error);
  } while (n < 0 && errno == EINTR);
  CloseFd(error_pipe.read);
  if (n == static_cast<ssize_t>(sizeof exec_error)) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    close_all();
    return exec_error != 0 ? exec_error : EIO;
  }
  child.pid = pid;
  child.stdin_fd = in.write;
  child.stdout_fd = out.read;
  child.stderr_fd = err.read;
  ::fcntl(child.stdin_fd, F_SETFL, O_NONBLOCK);
  return 0;
}

auto KillPreviousAttempt(const std::string& key, const std::string& run_id, const std::string& operation,
                         std::chrono::milliseconds wait) -> Status {
  const std::vector<std::string> vars = {"FLOW_IDEMPOTENCY_KEY=" + key, "FLOW_RUN_ID=" + run_id,
                                         "FLOW_OPERATION=" + operation};
  const std::set<pid_t> spared = SelfAndAncestors();
  std::set<pid_t> spared_groups;
  for (pid_t p : spared) spared_groups.insert(::getpgid(p));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    std::vector<pid_t> left = Carrying(vars, spared);
    if (left.empty()) return Ok{};
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error{"a previous attempt of this step is still running (pid " + std::to_string(left.front()) +
                   ") and did not end when killed; not sent again"};
    }
    for (pid_t p : left) {
      // Its group too: what it started and that dropped the key with it.
      pid_t group = ::getpgid(p);
      if (group > 1 && spared_groups.count(group) == 0) ::kill(-group, SIGKILL);
      ::kill(p, SIGKILL);
    }
    std::this_thread::sleep_for(kGonePoll);
  }
}

}  // namespace flow::connectors
