// KernelPassthrough: FUSE passthrough (Linux 6.9+) for libfuse 3.14, which
// predates it. With passthrough the kernel reads a file from a "backing"
// file of the daemon's choosing -- here the block cache's data file of a
// version held whole -- and sends no READ: cached files are read at the
// speed of the cache's filesystem, with no copy through /dev/fuse.
//
// libfuse 3.14 can neither ask for FUSE_PASSTHROUGH in INIT nor put a
// backing id into an OPEN reply, so this class sits under libfuse as its
// custom I/O (fuse_session_custom_io): every request is read and every reply
// written through it, unchanged but for two:
//   - INIT: when the kernel offers FUSE_PASSTHROUGH (flags2) and Decide()
//     allowed it, the reply asks for it (FUSE_INIT_EXT, flags2, and
//     max_stack_depth 1: backing files are on a plain filesystem);
//   - OPEN: a reply written on a thread that called SetNextOpenBacking()
//     gets FOPEN_PASSTHROUGH and that backing id.
// Backing ids come from the FUSE_DEV_IOC_BACKING_OPEN ioctl on the session
// fd, which needs CAP_SYS_ADMIN; without it (or on an older kernel) the
// first Open() fails, logs one line, and passthrough stays off: files are
// then read through the daemon as before.
//
// Thread-safety: all methods are thread-safe; the I/O hooks run on the
// loop's worker threads. Internal to src/fuse.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "fs/passthrough_inodes.h"
#include "repofs/result.h"

struct fuse_session;

namespace repofs::fuse {

class KernelPassthrough : public fs::PassthroughBackings {
 public:
  KernelPassthrough() = default;
  KernelPassthrough(const KernelPassthrough&) = delete;
  KernelPassthrough& operator=(const KernelPassthrough&) = delete;

  // Routes `session`'s I/O through this object (after fuse_session_mount,
  // before the loop; the session's userdata must be an OpsContext whose
  // `passthrough` is this object).
  Status Install(::fuse_session* session);

  // In INIT, before the reply: whether passthrough may be asked for (not
  // with the kernel's no-open mode: passthrough is chosen at OPEN).
  void Decide(bool allowed) { allowed_.store(allowed); }
  // Whether the kernel offered passthrough in its INIT request.
  bool offered() const { return offered_.load(); }

  bool enabled() const override { return enabled_.load(); }
  std::optional<int32_t> Open(int fd) override;
  void Close(int32_t backing_id) override;

  // The next OPEN reply written by this thread carries `backing_id`
  // (cleared by ClearNextOpenBacking, always called after the reply).
  static void SetNextOpenBacking(int32_t backing_id);
  static void ClearNextOpenBacking();

  // The I/O hooks (struct fuse_custom_io); `userdata` is the OpsContext.
  static ssize_t ReadHook(int fd, void* buf, size_t len, void* userdata);
  static ssize_t WritevHook(int fd, struct iovec* iov, int count,
                            void* userdata);

 private:
  void NoteRequest(const void* buf, size_t len);
  ssize_t WriteInitReply(int fd, struct iovec* iov, int count);

  int session_fd_ = -1;
  std::atomic<bool> offered_{false};
  std::atomic<bool> allowed_{false};
  std::atomic<bool> enabled_{false};
  std::atomic<uint64_t> init_unique_{0};
  std::atomic<bool> init_pending_{true};
};

}  // namespace repofs::fuse
