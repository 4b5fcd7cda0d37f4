#include "cache/cache_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace repofs::cache {
namespace {

std::string LockPath(const std::string& dir) { return dir + "/lock"; }

std::string ReadPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text.empty() ? "unknown" : text;
}

}  // namespace

Result<UniqueFd> LockCacheDir(const std::string& dir) {
  std::string path = LockPath(dir);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return Error{errno, "cannot open " + path + ": " + std::strerror(errno)};
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{EBUSY, "cache dir " + dir +
                              " is in use by another repofs (pid " +
                              ReadPid(fd.get()) + ")"};
    }
    return Error{errno, "cannot lock " + path + ": " + std::strerror(errno)};
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) !=
          static_cast<ssize_t>(pid.size())) {
    return Error{errno, "cannot write " + path + ": " + std::strerror(errno)};
  }
  return fd;
}

std::optional<pid_t> CacheDirHolder(const std::string& dir) {
  UniqueFd fd(::open(LockPath(dir).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd.get(), LOCK_UN);
    return std::nullopt;
  }
  std::string pid = ReadPid(fd.get());
  return static_cast<pid_t>(std::atol(pid.c_str()));
}

}  // namespace repofs::cache
