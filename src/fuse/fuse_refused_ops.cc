// Operations the read path refuses, with the documented errnos (see
// fuse_ops.h). The write path replaces the EROFS ones with real calls.
#include <sys/stat.h>

#include "fuse/fuse_ops.h"
#include "fuse/serve.h"

namespace repofs::fuse {
namespace {

// --- Refused operations (read path) ---------------------------------------

int Refuse(fuse_req_t req, const char* op) {
  return Errno(op, Fs(req).RefuseWrite(op).error());
}

void SetAttr(fuse_req_t req, fuse_ino_t, struct stat*, int,
             fuse_file_info*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "setattr"); });
}
void MkNod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "mknod"); });
}
void MkDir(fuse_req_t req, fuse_ino_t, const char*, mode_t) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "mkdir"); });
}
void Unlink(fuse_req_t req, fuse_ino_t, const char*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "unlink"); });
}
void RmDir(fuse_req_t req, fuse_ino_t, const char*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "rmdir"); });
}
void SymLink(fuse_req_t req, const char*, fuse_ino_t, const char*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "symlink"); });
}
void Rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*,
            unsigned int) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "rename"); });
}
void Link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) noexcept {
  Context(req).Count(Op::kRefused);
  fuse_reply_err(req, EPERM);  // hard links: never (DESIGN.md)
}
void Write(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t,
           fuse_file_info*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "write"); });
}
void Create(fuse_req_t req, fuse_ino_t, const char*, mode_t,
            fuse_file_info*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "create"); });
}
void Fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t,
               fuse_file_info*) noexcept {
  Serve(req, Op::kRefused, [&] { return Refuse(req, "fallocate"); });
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
  o.setattr = SetAttr;
  o.mknod = MkNod;
  o.mkdir = MkDir;
  o.unlink = Unlink;
  o.rmdir = RmDir;
  o.symlink = SymLink;
  o.rename = Rename;
  o.link = Link;
  o.write = Write;
  o.create = Create;
  o.fallocate = Fallocate;
  o.getxattr = GetXattr;
  o.listxattr = ListXattr;
  o.setxattr = SetXattr;
  o.removexattr = RemoveXattr;
}

}  // namespace repofs::fuse
