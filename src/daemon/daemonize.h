// Daemonizing after startup checks, without losing startup errors.
//
// BackgroundStart() forks once. The parent blocks until the child calls
// Ready() (parent exits 0) or fails/dies first (parent prints nothing more
// and exits 1: the child already printed its one-line reason to stderr).
// So `repofs ...` and `mount` return only when the mount is serving, and a
// failure after the fork still gives a non-zero exit.
#pragma once

namespace repofs::daemon {

class Background {
 public:
  // Forks; returns in the child only. The parent never returns.
  static Background Start();
  // Detaches stdio (to /dev/null), switches logging to syslog and releases
  // the waiting parent with exit status 0.
  void Ready();

 private:
  explicit Background(int fd) : ready_fd_(fd) {}
  int ready_fd_;
};

}  // namespace repofs::daemon
