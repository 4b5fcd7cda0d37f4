// The kernel ABI used here is FUSE protocol 7.40 (Linux 6.9,
// include/uapi/linux/fuse.h): Debian 12's headers (7.38) lack its passthrough
// names, so they are spelled out below.
#include "fuse/passthrough.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "fuse/fuse_ops.h"
#include "util/log.h"

namespace repofs::fuse {
namespace {

constexpr uint32_t kInitExt = 1u << 30;                // FUSE_INIT_EXT
constexpr uint32_t kPassthroughFlags2 = 1u << (37 - 32);  // FUSE_PASSTHROUGH
constexpr uint32_t kOpenPassthrough = 1u << 7;         // FOPEN_PASSTHROUGH
// The only open flags the kernel accepts beside FOPEN_PASSTHROUGH
// (FOPEN_PASSTHROUGH_MASK: DIRECT_IO, PARALLEL_DIRECT_WRITES, NOFLUSH); any
// other (KEEP_CACHE) fails the open with EIO.
constexpr uint32_t kPassthroughMask = (1u << 0) | (1u << 6) | (1u << 5);

struct BackingMap {  // struct fuse_backing_map
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
constexpr unsigned long kBackingOpen = _IOW(229, 1, BackingMap);
constexpr unsigned long kBackingClose = _IOW(229, 2, uint32_t);

// struct fuse_init_out of 7.40: max_stack_depth took unused[0] of 7.38.
constexpr size_t kInitOutFlags = offsetof(fuse_init_out, flags);
constexpr size_t kInitOutFlags2 = offsetof(fuse_init_out, flags2);
constexpr size_t kInitOutStackDepth = kInitOutFlags2 + 4;
constexpr size_t kInitOutMin = kInitOutStackDepth + 4;

thread_local int32_t next_open_backing = 0;

KernelPassthrough* Of(void* userdata) {
  return static_cast<OpsContext*>(userdata)->passthrough.get();
}

ssize_t SpliceHook(int fdin, off_t* offin, int fdout, off_t* offout,
                   size_t len, unsigned int flags, void*) {
  return splice(fdin, offin, fdout, offout, len, flags);
}

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void Store32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }

}  // namespace

Status KernelPassthrough::Install(::fuse_session* session) {
  const fuse_custom_io io{&WritevHook, &ReadHook, &SpliceHook, &SpliceHook};
  session_fd_ = fuse_session_fd(session);
  if (fuse_session_custom_io(session, &io, session_fd_) != 0) {
    return Error{EINVAL, "cannot install the FUSE passthrough I/O hooks"};
  }
  return OkStatus();
}

void KernelPassthrough::SetNextOpenBacking(int32_t backing_id) {
  next_open_backing = backing_id;
}
void KernelPassthrough::ClearNextOpenBacking() { next_open_backing = 0; }

void KernelPassthrough::NoteRequest(const void* buf, size_t len) {
  if (len < sizeof(fuse_in_header) + offsetof(fuse_init_in, unused)) return;
  fuse_in_header header;
  std::memcpy(&header, buf, sizeof header);
  if (header.opcode != FUSE_INIT) return;
  fuse_init_in init;
  std::memcpy(&init, static_cast<const char*>(buf) + sizeof header,
              offsetof(fuse_init_in, unused));
  offered_.store((init.flags & kInitExt) != 0 &&
                 (init.flags2 & kPassthroughFlags2) != 0);
  init_unique_.store(header.unique);
}

ssize_t KernelPassthrough::ReadHook(int fd, void* buf, size_t len,
                                    void* userdata) {
  ssize_t n = ::read(fd, buf, len);
  KernelPassthrough* self = Of(userdata);
  if (n > 0 && self->init_pending_.load(std::memory_order_relaxed)) {
    const int saved = errno;
    self->NoteRequest(buf, static_cast<size_t>(n));
    errno = saved;
  }
  return n;
}

ssize_t KernelPassthrough::WriteInitReply(int fd, struct iovec* iov,
                                          int count) {
  init_pending_.store(false);
  char out[sizeof(fuse_init_out) + 64] = {};
  const size_t len = iov[1].iov_len;
  if (len < kInitOutMin || len > sizeof out) return ::writev(fd, iov, count);
  std::memcpy(out, iov[1].iov_base, len);
  Store32(out + kInitOutFlags, Load32(out + kInitOutFlags) | kInitExt);
  Store32(out + kInitOutFlags2,
          Load32(out + kInitOutFlags2) | kPassthroughFlags2);
  Store32(out + kInitOutStackDepth, 1);
  iovec patched[2] = {iov[0], {out, len}};
  ssize_t n = ::writev(fd, patched, 2);
  if (n >= 0) enabled_.store(true);
  return n;
}

ssize_t KernelPassthrough::WritevHook(int fd, struct iovec* iov, int count,
                                      void* userdata) {
  KernelPassthrough* self = Of(userdata);
  if (count == 2 && iov[0].iov_len == sizeof(fuse_out_header)) {
    fuse_out_header header;
    std::memcpy(&header, iov[0].iov_base, sizeof header);
    if (next_open_backing != 0 && header.error == 0 &&
        iov[1].iov_len == sizeof(fuse_open_out)) {
      fuse_open_out open;
      std::memcpy(&open, iov[1].iov_base, sizeof open);
      open.open_flags = (open.open_flags & kPassthroughMask) | kOpenPassthrough;
      open.padding = static_cast<uint32_t>(next_open_backing);  // backing_id
      next_open_backing = 0;
      iovec patched[2] = {iov[0], {&open, sizeof open}};
      return ::writev(fd, patched, 2);
    }
    if (self->init_pending_.load(std::memory_order_relaxed) &&
        header.error == 0 && header.unique == self->init_unique_.load() &&
        self->offered_.load() && self->allowed_.load()) {
      return self->WriteInitReply(fd, iov, count);
    }
  }
  return ::writev(fd, iov, count);
}

std::optional<int32_t> KernelPassthrough::Open(int fd) {
  if (!enabled_.load()) return std::nullopt;
  BackingMap map{fd, 0, 0};
  int id = ::ioctl(session_fd_, kBackingOpen, &map);
  if (id > 0) return id;
  const int err = errno;
  if (enabled_.exchange(false)) {
    REPOFS_LOG(kWarning) << "FUSE passthrough is off: registering a backing "
                            "file failed: "
                         << std::strerror(err)
                         << (err == EPERM ? " (needs CAP_SYS_ADMIN)" : "")
                         << "; cached files are read through the daemon";
  }
  return std::nullopt;
}

void KernelPassthrough::Close(int32_t backing_id) {
  uint32_t id = static_cast<uint32_t>(backing_id);
  if (::ioctl(session_fd_, kBackingClose, &id) != 0) {
    REPOFS_LOG(kDebug) << "FUSE backing close " << backing_id << ": "
                       << std::strerror(errno);
  }
}

}  // namespace repofs::fuse
