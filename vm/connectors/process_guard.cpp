// See process_guard.h. Everything that runs in a child before execve, and
// all of the guardian, uses system calls only -- no allocation, no locks:
// flow may be multithreaded (`flow worker`), and another thread may hold
// the malloc lock at the instant of a fork.
#include "vm/connectors/process_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <thread>

namespace flow::connectors {
namespace {

// Descriptors the children need are moved at or above this first, so that
// dup2 onto 0..3 never overwrites one still needed (flow may run with stdin
// closed, making a pipe end descriptor 0).
constexpr int kFirstHighFd = 10;
// The guardian's end of its socket with flow, once it has settled.
constexpr int kGuardianFd = 3;
// The stack a tool runs on between clone and execve.
constexpr size_t kSpawnStackBytes = 64 * 1024;
// How often KillPreviousAttempt looks again for killed processes.
constexpr std::chrono::milliseconds kGonePoll{10};

// One message to the guardian: a group to watch, or to forget.
struct GuardMessage {
  int32_t add;  // 1: watch `group`; 0: forget it
  int32_t group;
};

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// `fd` moved to kFirstHighFd or above, close-on-exec (-1 on failure).
auto High(int fd) -> int {
  if (fd < 0) return -1;
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kFirstHighFd);
  ::close(fd);
  return high;
}

struct FdPair {
  int read = -1;
  int write = -1;
};

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

void SetDefault(int sig) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(sig, &action, nullptr);  // EINVAL for SIGKILL and SIGSTOP: harmless
}

// Closes every descriptor from `first` up.
void CloseFrom(int first) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  rlimit limit{};
  rlim_t n = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  if (n == RLIM_INFINITY || n > 65536) n = 65536;
  for (int fd = first; fd < static_cast<int>(n); ++fd) ::close(fd);
}

// ---- the guardian (a forked copy of flow: system calls only) ----

[[noreturn]] void GuardianMain(int socket) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  // Out of flow's process group: Ctrl-C or `kill -9 -PGID` aimed at flow
  // must leave the guardian alive to do its job.
  ::setpgid(0, 0);
  if (::dup2(socket, kGuardianFd) < 0) ::_exit(1);
  CloseFrom(kGuardianFd + 1);
  static int32_t groups[kMaxGuardedGroups];  // this process's own copy
  int count = 0;
  for (;;) {
    GuardMessage m{};
    ssize_t n = ::recv(kGuardianFd, &m, sizeof m, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: flow is gone
    if (n != static_cast<ssize_t>(sizeof m) || m.group <= 1) continue;
    if (m.add != 0) {
      if (count < kMaxGuardedGroups) groups[count++] = m.group;
      continue;
    }
    for (int i = 0; i < count; ++i) {
      if (groups[i] == m.group) {
        groups[i] = groups[--count];
        break;
      }
    }
  }
  for (int i = 0; i < count; ++i) ::kill(-groups[i], SIGKILL);
  ::_exit(0);
}

// flow's end of the guardian's socket (close-on-exec), or -1 when none
// could be started (then tools still die by their parent-death signal).
auto StartGuardian() -> int {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) return -1;
  int flow_end = High(ends[0]);
  int guardian_end = High(ends[1]);
  if (flow_end < 0 || guardian_end < 0) {
    CloseFd(flow_end);
    CloseFd(guardian_end);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid == 0) GuardianMain(guardian_end);
  CloseFd(guardian_end);
  if (pid < 0) CloseFd(flow_end);
  return flow_end;
}

// Started once per process, on the first exec step.
auto GuardianSocket() -> int {
  static const int socket = StartGuardian();
  return socket;
}

void Tell(int socket, bool add, pid_t group) {
  if (socket < 0) return;
  GuardMessage m{add ? 1 : 0, static_cast<int32_t>(group)};
  ssize_t ignored = ::send(socket, &m, sizeof m, MSG_NOSIGNAL);
  (void)ignored;
}

// ---- the tool, between clone and execve (system calls only) ----

struct SpawnArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* dir;
  int stdio[3];
  int guardian;
  pid_t flow_pid;
  int error = 0;  // written by the child (shared memory) when exec fails
};

// Runs in the child, on its own stack, in flow's memory (CLONE_VM), while
// the calling thread waits (CLONE_VFORK). All signals arrive blocked.
auto SpawnChild(void* arg) -> int {
  auto* a = static_cast<SpawnArgs*>(arg);
  for (int sig = 1; sig < NSIG; ++sig) SetDefault(sig);  // before any could be delivered
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != a->flow_pid) ::_exit(127);  // flow died before the prctl
  Tell(a->guardian, true, ::getpid());
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(a->stdio[fd], fd) < 0) {
      a->error = errno;
      ::_exit(127);
    }
  }
  if (a->dir[0] != '\0' && ::chdir(a->dir) != 0) {
    a->error = errno;
    ::_exit(127);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(a->path, a->argv, a->envp);
  a->error = errno != 0 ? errno : EIO;
  ::_exit(127);
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

// Whether /proc/<pid>/exe is this very flow binary (same file).
auto IsFlow(pid_t pid, const struct stat& self) -> bool {
  struct stat st {};
  std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  return ::stat(exe.c_str(), &st) == 0 && st.st_dev == self.st_dev && st.st_ino == self.st_ino;
}

// Whether `pid` descends from a live flow process other than this one and
// its ancestors: then it is that process's attempt, never the previous
// attempt of a run this process resends. That process is alive, and on one
// host a live driver's lease is never taken over, so it drives another
// database's run that has the same id, key and operation (two projects'
// runs both named by `--id`, or two tests' on one machine) -- whose tool
// must not be killed. A previous attempt of this run has no live flow above
// it: its driver died (the reason for the resend), and what escaped it was
// reparented.
auto UnderAnotherFlow(pid_t pid, const std::set<pid_t>& spared) -> bool {
  struct stat self {};
  if (::stat("/proc/self/exe", &self) != 0) return false;
  std::set<pid_t> seen;
  for (pid_t p = ParentOf(pid); p > 1 && seen.insert(p).second; p = ParentOf(p)) {
    if (spared.count(p) != 0) return false;  // this process's own: killed as before
    if (IsFlow(p, self)) return true;
  }
  return false;
}

// Live processes whose environment holds every one of `vars` exactly and
// that no other live flow process drives (UnderAnotherFlow).
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
    if (all && !UnderAnotherFlow(static_cast<pid_t>(pid), spared)) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return found;
}

}  // namespace

auto SpawnGuarded(const std::string& path, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env, const std::string& dir, GuardedChild& child) -> int {
  const int guardian = GuardianSocket();
  FdPair in, out, err;
  auto close_all = [&] {
    for (FdPair* p : {&in, &out, &err}) {
      CloseFd(p->read);
      CloseFd(p->write);
    }
  };
  if (!MakePipe(in) || !MakePipe(out) || !MakePipe(err)) {
    int error = errno;
    close_all();
    return error;
  }
  auto c_argv = CStrings(argv);
  auto c_env = CStrings(env);
  SpawnArgs args{path.c_str(), c_argv.data(), c_env.data(), dir.c_str(), {in.read, out.write, err.write},
                 guardian, ::getpid()};
  void* stack = ::mmap(nullptr, kSpawnStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1, 0);
  if (stack == MAP_FAILED) {
    int error = errno;
    close_all();
    return error;
  }
  // No handler of flow's may run in the child, which shares flow's memory:
  // everything is blocked until the child has reset the dispositions.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(SpawnChild, static_cast<char*>(stack) + kSpawnStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD,
                      &args);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kSpawnStackBytes);
  CloseFd(in.read);
  CloseFd(out.write);
  CloseFd(err.write);
  if (pid < 0) {
    close_all();
    return clone_error;
  }
  if (args.error != 0) {
    ::kill(-pid, SIGKILL);
    ReleaseGroup(pid);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    close_all();
    return args.error;
  }
  child.pid = pid;
  child.stdin_fd = in.write;
  child.stdout_fd = out.read;
  child.stderr_fd = err.read;
  ::fcntl(child.stdin_fd, F_SETFL, O_NONBLOCK);
  return 0;
}

void ReleaseGroup(int pid) { Tell(GuardianSocket(), false, pid); }

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
