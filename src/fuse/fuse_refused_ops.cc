// Operations repofs refuses on every mount, with the documented errnos (see
// fuse_ops.h): hard links and extended attributes.
#include <sys/stat.h>

#include "fuse/fuse_ops.h"
#include "fuse/serve.h"

namespace repofs::fuse {
namespace {

// --- Refused operations -----------------------------------------------

void Link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) noexcept {
  Context(req).Count(Op::kRefused);
  fuse_reply_err(req, EPERM);  // hard links: never (DESIGN.md)
}
// xattrs: ENOSYS makes the kernel stop asking for the rest of the mount
// (it then fails getxattr/listxattr with EOPNOTSUPP itself), so the
// security.capability probe costs one round trip per mount, not per write.
void GetXattr(fuse_req_t req, fuse_ino_t, const char*, size_t) noexcept {
  Context(req).Count(Op::kGetXattr);
  fuse_reply_err(req, ENOSYS);
}
void ListXattr(fuse_req_t req, fuse_ino_t, size_t) noexcept {
  Context(req).Count(Op::kGetXattr);
  fuse_reply_err(req, ENOSYS);
}
void SetXattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t,
              int) noexcept {
  Context(req).Count(Op::kRefused);
  fuse_reply_err(req, ENOTSUP);  // cp -a / install fall back to fchmod
}
void RemoveXattr(fuse_req_t req, fuse_ino_t, const char*) noexcept {
  Context(req).Count(Op::kRefused);
  fuse_reply_err(req, ENOTSUP);
}

}  // namespace

void SetRefusedOps(fuse_lowlevel_ops& o) {
  o.link = Link;
  o.getxattr = GetXattr;
  o.listxattr = ListXattr;
  o.setxattr = SetXattr;
  o.removexattr = RemoveXattr;
}

}  // namespace repofs::fuse
