// StagingFile: the local file holding the pending content of one object
// (DESIGN.md "Write path"). It is created unlinked in the staging directory
// (O_TMPFILE, or mkstemp + unlink where the filesystem lacks O_TMPFILE), so
// nothing is left behind when the process dies. All I/O is positional
// (pread/pwrite/ftruncate), so callers choose their own locking.
//
// Ownership: owns the descriptor. Thread-safety: the methods are plain
// system calls; concurrent calls are safe as far as the kernel makes them
// (overlapping writes race like any two pwrite calls).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "repofs/result.h"
#include "util/handles.h"

namespace repofs::upload {

class StagingFile {
 public:
  // A new empty, unlinked file in `dir`. Errors: the errno of open/mkstemp
  // (ENOENT, EACCES, ENOSPC, EMFILE...).
  static Result<StagingFile> Create(const std::string& dir);

  StagingFile(StagingFile&&) noexcept = default;
  StagingFile& operator=(StagingFile&&) noexcept = default;

  // Writes all of `data` at `offset` (retries short writes and EINTR).
  Status WriteAt(uint64_t offset, std::string_view data) const;
  // Reads exactly `size` bytes at `offset`; EIO if the file is shorter.
  Status ReadAt(uint64_t offset, size_t size, char* out) const;
  Status Resize(uint64_t size) const;

  int fd() const { return fd_.get(); }

 private:
  explicit StagingFile(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// An Error carrying the current errno: "<what>: <strerror>".
Error ErrnoError(const std::string& what);

}  // namespace repofs::upload
