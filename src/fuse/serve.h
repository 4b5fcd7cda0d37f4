// Serve(): the one-reply discipline shared by every trampoline. The body
// either sends its reply (a fuse_reply_* call, which never throws) as its
// last action and returns 0, or returns an errno that Serve() replies with;
// an exception (necessarily thrown before the body replied) is logged and
// answered with EIO. Nothing escapes into libfuse.
//
// Internal to src/fuse. Thread-safety: stateless helpers.
#pragma once

#include <cerrno>
#include <exception>
#include <stdexcept>

#include "fuse/fuse_ops.h"
#include "util/log.h"

namespace repofs::fuse {

inline OpsContext& Context(fuse_req_t req) {
  return *static_cast<OpsContext*>(fuse_req_userdata(req));
}

inline fs::Filesystem& Fs(fuse_req_t req) {
  OpsContext* context = &Context(req);
  fs::Filesystem* fs = context->fs.load(std::memory_order_acquire);
  if (fs == nullptr) throw std::runtime_error("no filesystem attached");
  return *fs;
}

template <typename Body>
void Serve(fuse_req_t req, Op kind, Body&& body) noexcept {
  const char* op = OpName(kind);
  Context(req).Count(kind);
  int error;
  try {
    error = body();
  } catch (const std::exception& e) {
    REPOFS_LOG(kError) << op << ": " << e.what();
    error = EIO;
  } catch (...) {
    REPOFS_LOG(kError) << op << ": unknown exception";
    error = EIO;
  }
  if (error != 0) fuse_reply_err(req, error);
}

// Logs unexpected failures at warning level. Answers tools expect as part
// of their normal work are logged at debug level: ENOENT and friends,
// ENOTEMPTY (reprepro prunes pool directories by rmdir until it fails),
// EEXIST (mkdir -p, O_EXCL lock files), EOPNOTSUPP/ENOTSUP/ENOSYS/ENODATA
// (xattrs, copy_file_range and fallocate fallbacks).
inline int Errno(const char* op, const Error& error) {
  switch (error.errno_value) {
    case ENOENT:
    case ENOTEMPTY:
    case EEXIST:
    case EOPNOTSUPP:
    case ENOSYS:
    case ENODATA:
    case ESTALE:
    case ENOTDIR:
    case EISDIR:
    case EROFS:
    case ENAMETOOLONG:
    case EINVAL:
      REPOFS_LOG(kDebug) << op << ": " << error.message;
      break;
    default:
      REPOFS_LOG(kWarning) << op << ": " << error.message;
  }
  return error.errno_value != 0 ? error.errno_value : EIO;
}

}  // namespace repofs::fuse
