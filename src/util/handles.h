// C handles as std::unique_ptr with zero-size deleters.
//
// CDeleter<fn> calls `fn` on a non-null pointer, so
//   using CurlEasy = std::unique_ptr<CURL, CDeleter<curl_easy_cleanup>>;
// is one pointer wide. Each module declares its own aliases next to the C
// library it alone may include (curl in http/, OpenSSL in util/ and auth/,
// LMDB in cache/), keeping the layering rules of CONVENTIONS.md.
#pragma once

#include <unistd.h>

#include <memory>
#include <utility>

namespace repofs {

template <auto Fn>
struct CDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Fn(p);
  }
};

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) Reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace repofs
