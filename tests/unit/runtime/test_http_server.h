// The loopback HTTP test server (tests/servers/http_server.py) as a child
// process of a GoogleTest suite: started once per suite, its port read from
// the first line it prints (no sleep: the line is the readiness signal), and
// stopped in TearDownTestSuite. Shared by the transport and engine tests.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace flow::testing {

class TestHttpServer {
 public:
  // Starts the server; fails the current test (fatal) when it does not start.
  void Start() {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::string script = std::string(FLOW_SOURCE_DIR) + "/tests/servers/http_server.py";
      ::execlp("python3", "python3", script.c_str(), "--max-lifetime", "300", nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[32] = {0};
    ASSERT_NE(std::fgets(line, sizeof line, out), nullptr) << "the test server did not start";
    std::fclose(out);
    port_ = std::atoi(line);
    ASSERT_GT(port_, 0);
  }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  auto port() const -> int { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace flow::testing
