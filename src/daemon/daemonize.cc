#include "daemon/daemonize.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "util/log.h"

namespace repofs::daemon {

Background Background::Start() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("repofs: pipe");
    std::_Exit(1);
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("repofs: fork");
    std::_Exit(1);
  }
  if (pid > 0) {
    // Parent: wait for the child's verdict. EOF without a byte means the
    // child failed (it printed why) or died.
    close(fds[1]);
    char verdict = 0;
    ssize_t n;
    do {
      n = read(fds[0], &verdict, 1);
    } while (n < 0 && errno == EINTR);
    std::_Exit(n == 1 && verdict == '0' ? 0 : 1);
  }
  close(fds[0]);
  setsid();
  if (chdir("/") != 0) {
    // Not fatal: the daemon uses absolute paths only.
  }
  return Background(fds[1]);
}

void Background::Ready() {
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    close(devnull);
  }
  UseSyslog("repofs");
  char verdict = '0';
  ssize_t n = write(ready_fd_, &verdict, 1);
  (void)n;
  close(ready_fd_);
  ready_fd_ = -1;
}

}  // namespace repofs::daemon
