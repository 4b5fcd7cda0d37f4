#include "upload/staging_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace repofs::upload {

Error ErrnoError(const std::string& what) {
  int err = errno;
  return Error{err, what + ": " + std::strerror(err)};
}

Result<StagingFile> StagingFile::Create(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return StagingFile(UniqueFd(fd));
  // EOPNOTSUPP/EISDIR: the filesystem (or kernel) has no O_TMPFILE; any
  // other errno (ENOENT, EACCES, ENOSPC) is a real failure.
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return ErrnoError("staging file in " + dir);
  }
  std::string path = dir + "/.repofs-staging-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("staging file in " + dir);
  UniqueFd owned(fd);
  if (::unlink(path.c_str()) != 0) return ErrnoError("unlink " + path);
  return StagingFile(std::move(owned));
}

Status StagingFile::WriteAt(uint64_t offset, std::string_view data) const {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write to staging file");
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status StagingFile::ReadAt(uint64_t offset, size_t size, char* out) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_.get(), out + done, size - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read from staging file");
    }
    if (n == 0) return Error{EIO, "staging file shorter than expected"};
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status StagingFile::Resize(uint64_t size) const {
  while (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) return ErrnoError("truncate staging file");
  }
  return OkStatus();
}

}  // namespace repofs::upload
