// The fuse_lowlevel_ops table of repofs: thin noexcept trampolines that
// translate each kernel request into one fs::Filesystem call and send
// exactly one reply (fuse_reply_* or fuse_reply_none for FORGET); an
// exception becomes a logged EIO reply and never crosses into libfuse.
//
// Internal to src/fuse (includes <fuse_lowlevel.h>).
//
// Modifications (fuse_write_ops.cc) -> fs::Filesystem's write path (EROFS
// on read-only mounts). Refused operations (documented errnos): link -> EPERM, setxattr/removexattr ->
// ENOTSUP, getxattr/listxattr -> ENOSYS, which the kernel remembers for the
// mount and then answers every later call (e.g. the security.capability
// probe before each write) itself with EOPNOTSUPP, at no cost.
//
// Thread-safety: the callbacks run concurrently on the loop's worker
// threads; all state is in fs::Filesystem (thread-safe).
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "fs/filesystem.h"
#include "fuse/passthrough.h"

namespace repofs::fuse {

// Requests served, by kind (metrics, and tests of the round trips a warm
// nginx request costs).
enum class Op : uint8_t {
  kLookup,
  kForget,
  kGetAttr,
  kReadLink,
  kOpen,
  kRead,
  kFlush,
  kRelease,
  kOpenDir,
  kReadDir,
  kReadDirPlus,
  kReleaseDir,
  kStatFs,
  kGetXattr,
  kRefused,
  kCreate,
  kWrite,
  kSetAttr,
  kNamespace,  // unlink, mkdir, rmdir, symlink, rename, mknod
  kCopyFileRange,
  kCount
};
const char* OpName(Op op);

// libfuse userdata: set before the loop starts, cleared after it ends.
struct OpsContext {
  std::atomic<fs::Filesystem*> fs{nullptr};
  // For kernel notifications (set at mount, before the loop starts).
  std::atomic<fuse_session*> session{nullptr};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Op::kCount)> calls{};
  void Count(Op op) {
    calls[static_cast<size_t>(op)].fetch_add(1, std::memory_order_relaxed);
  }
  std::map<std::string, uint64_t> Counts() const;
  // /sys/class/bdi/<dev>/read_ahead_kb of this mount ("" if unknown),
  // raised in INIT so the kernel may read ahead up to kMaxReadahead.
  std::string bdi_read_ahead_path;
  // The mount is read-only (FuseMountOptions::read_only), set before the
  // loop starts. With it, or with FsOptions::read_only, INIT turns on the
  // kernel's no-open mode when the kernel supports it.
  bool read_only_mount = false;
  // No-open mode is on: OPEN of a regular file is answered ENOSYS (the
  // kernel then opens every file itself, keep_cache, and never sends
  // OPEN/RELEASE again), FLUSH too (the kernel then stops sending it), and
  // READ arrives with fh 0 (Filesystem::ReadInode). Set in INIT.
  std::atomic<bool> no_open{false};
  // FUSE passthrough (fuse/passthrough.h); null when not installed (the
  // `no_passthrough` option, or an `ro` mount, which uses no-open mode).
  std::unique_ptr<KernelPassthrough> passthrough;
};

// Largest kernel read-ahead we ask for (and largest READ with
// libfuse 3.14's default max_write, which sets max_pages = 256).
inline constexpr unsigned kMaxReadahead = 1u << 20;
// Largest cached reply handed to libfuse as an fd buffer (spliced): its pipe
// must hold the reply plus a few pages of header, and pipes are capped at
// /proc/sys/fs/pipe-max-size (1 MiB by default). Larger replies are read
// into memory first.
inline constexpr size_t kMaxSplicedReply = (1u << 20) - (16u << 10);

const fuse_lowlevel_ops& RepofsOps();

// Translations of fs types shared by the trampolines.
double Seconds(std::chrono::milliseconds ms);
struct stat ToStat(const fs::Attr& attr);
fuse_entry_param ToEntryParam(const fs::Entry& entry);

// Installs the refused operations (fuse_refused_ops.cc) into `ops`.
void SetRefusedOps(fuse_lowlevel_ops& ops);
// Installs the write path (fuse_write_ops.cc) into `ops`: replaces the
// refused modifications, FLUSH and FSYNC.
void SetWriteOps(fuse_lowlevel_ops& ops);

}  // namespace repofs::fuse
