// Payload: a read-only view of request body bytes, either an in-memory
// buffer or a byte range of an open file (staging files are uploaded with
// pread, never copied into memory whole).
//
// A Payload does not own its buffer or fd: the caller keeps them alive and
// unchanged until the request that uses it has returned. Reading is
// positional (Read(offset, ...)), so a retried request can re-read from 0 and
// several threads may read one Payload at once.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace repofs {

class Payload {
 public:
  Payload() = default;
  static Payload FromBuffer(std::string_view data) {
    Payload p;
    p.data_ = data;
    p.size_ = data.size();
    return p;
  }
  static Payload FromFile(int fd, uint64_t offset, uint64_t length) {
    Payload p;
    p.fd_ = fd;
    p.file_offset_ = offset;
    p.size_ = length;
    return p;
  }

  uint64_t size() const { return size_; }
  bool is_file() const { return fd_ >= 0; }
  // The in-memory bytes (empty for a file payload).
  std::string_view buffer() const { return data_; }

  // Copies up to `n` bytes starting at `offset` (relative to the payload)
  // into `out`. Returns the count copied (0 at end), or -errno.
  ssize_t Read(uint64_t offset, char* out, size_t n) const {
    if (offset >= size_) return 0;
    if (n > size_ - offset) n = static_cast<size_t>(size_ - offset);
    if (fd_ < 0) {
      std::memcpy(out, data_.data() + offset, n);
      return static_cast<ssize_t>(n);
    }
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, out + done, n - done,
                          static_cast<off_t>(file_offset_ + offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return -errno;
      }
      if (r == 0) return -EIO;  // the file shrank under us
      done += static_cast<size_t>(r);
    }
    return static_cast<ssize_t>(done);
  }

 private:
  std::string_view data_;
  int fd_ = -1;
  uint64_t file_offset_ = 0;
  uint64_t size_ = 0;
};

}  // namespace repofs
