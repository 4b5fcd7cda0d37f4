// Trampolines of the write path: CREATE, WRITE, FLUSH, FSYNC, SETATTR,
// UNLINK, MKDIR, RMDIR, SYMLINK, RENAME, MKNOD, COPY_FILE_RANGE and
// FALLOCATE. fs::Filesystem answers EROFS on read-only mounts. Each one is
// noexcept and replies exactly once through Serve() (serve.h).
//
// Kernel notifications: a commit gives the path a new inode number, so
// FLUSH invalidates the kernel's dentry (fuse_lowlevel_notify_inval_entry)
// before replying, and a close() followed by an open() finds the new inode.
// That is safe inside FLUSH: the kernel sends FLUSH holding no inode or
// directory lock, and the filesystem call has returned (no fs lock held).
// FSYNC, which runs under the file's inode lock, never notifies (the
// following FLUSH does).
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <string_view>

#include "fuse/fuse_ops.h"
#include "fuse/serve.h"
#include "util/log.h"

namespace repofs::fuse {
namespace {

fs::Caller CallerOf(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  fs::Caller caller;
  if (ctx != nullptr) {
    caller.uid = ctx->uid;
    caller.gid = ctx->gid;
  }
  return caller;
}

void SetOpenFlags(const fs::OpenReply& open, fuse_file_info* fi) {
  fi->fh = open.fh;
  fi->keep_cache = open.keep_cache ? 1 : 0;
  fi->direct_io = open.direct_io ? 1 : 0;
  fi->noflush = open.needs_flush ? 0 : 1;
}

void InvalidateEntry(fuse_req_t req, const fs::EntryRef& entry) {
  fuse_session* session =
      Context(req).session.load(std::memory_order_acquire);
  if (session == nullptr) return;
  int rc = fuse_lowlevel_notify_inval_entry(session, entry.parent,
                                            entry.name.c_str(),
                                            entry.name.size());
  if (rc != 0 && rc != -ENOENT) {
    REPOFS_LOG(kDebug) << "inval_entry '" << entry.name << "': " << rc;
  }
}

void Flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) noexcept {
  Serve(req, Op::kFlush, [&] {
    // No-open mode: ENOSYS once, and the kernel sends no FLUSH any more.
    if (Context(req).no_open.load(std::memory_order_relaxed)) return ENOSYS;
    Result<std::optional<fs::EntryRef>> done = Fs(req).Flush(fi->fh);
    if (!done.has_value()) return Errno("flush", done.error());
    if (done->has_value()) InvalidateEntry(req, **done);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void Fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info* fi) noexcept {
  Serve(req, Op::kFlush, [&] {
    Status done = Fs(req).Fsync(fi->fh);
    if (!done.ok()) return Errno("fsync", done.error());
    fuse_reply_err(req, 0);
    return 0;
  });
}

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
            fuse_file_info* fi) noexcept {
  Serve(req, Op::kCreate, [&] {
    fs::Filesystem& fs = Fs(req);
    Result<fs::CreateReply> created =
        fs.Create(parent, name, mode, fi->flags, CallerOf(req));
    if (!created.has_value()) return Errno("create", created.error());
    fuse_entry_param e = ToEntryParam(created->entry);
    SetOpenFlags(created->open, fi);
    if (fuse_reply_create(req, &e, fi) == -ENOENT) {  // interrupted
      fs.Release(created->open.fh);
      fs.Forget(created->entry.attr.ino, 1);
    }
    return 0;
  });
}

void Write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size,
           off_t offset, fuse_file_info* fi) noexcept {
  Serve(req, Op::kWrite, [&] {
    Result<size_t> n = Fs(req).Write(fi->fh, static_cast<uint64_t>(offset),
                                     std::string_view(buf, size));
    if (!n.has_value()) return Errno("write", n.error());
    fuse_reply_write(req, *n);
    return 0;
  });
}

void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
             fuse_file_info* fi) noexcept {
  Serve(req, Op::kSetAttr, [&] {
    fs::SetAttrRequest request;
    if (to_set & FUSE_SET_ATTR_MODE) request.mode = attr->st_mode;
    if (to_set & FUSE_SET_ATTR_UID) request.uid = attr->st_uid;
    if (to_set & FUSE_SET_ATTR_GID) request.gid = attr->st_gid;
    if (to_set & FUSE_SET_ATTR_SIZE) {
      if (attr->st_size < 0) return EINVAL;
      request.size = static_cast<uint64_t>(attr->st_size);
    }
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
      timespec now{};
      clock_gettime(CLOCK_REALTIME, &now);
      request.mtime = now;
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
      request.mtime = attr->st_mtim;
    }
    request.atime =
        (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) != 0;
    Result<fs::AttrReply> done =
        Fs(req).SetAttr(ino, request, fi != nullptr ? fi->fh : 0);
    if (!done.has_value()) return Errno("setattr", done.error());
    struct stat st = ToStat(done->attr);
    fuse_reply_attr(req, &st, Seconds(done->attr_timeout));
    return 0;
  });
}

int ReplyEntry(fuse_req_t req, const char* op, Result<fs::Entry> entry) {
  if (!entry.has_value()) return Errno(op, entry.error());
  fuse_entry_param e = ToEntryParam(*entry);
  if (fuse_reply_entry(req, &e) == -ENOENT) Fs(req).Forget(e.ino, 1);
  return 0;
}

int ReplyStatus(fuse_req_t req, const char* op, const Status& status) {
  if (!status.ok()) return Errno(op, status.error());
  fuse_reply_err(req, 0);
  return 0;
}

void MkDir(fuse_req_t req, fuse_ino_t parent, const char* name,
           mode_t mode) noexcept {
  Serve(req, Op::kNamespace, [&] {
    return ReplyEntry(req, "mkdir",
                      Fs(req).MkDir(parent, name, mode, CallerOf(req)));
  });
}

void SymLink(fuse_req_t req, const char* target, fuse_ino_t parent,
             const char* name) noexcept {
  Serve(req, Op::kNamespace, [&] {
    return ReplyEntry(req, "symlink",
                      Fs(req).SymLink(target, parent, name, CallerOf(req)));
  });
}

void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) noexcept {
  Serve(req, Op::kNamespace, [&] {
    return ReplyStatus(req, "unlink", Fs(req).Unlink(parent, name));
  });
}

void RmDir(fuse_req_t req, fuse_ino_t parent, const char* name) noexcept {
  Serve(req, Op::kNamespace, [&] {
    return ReplyStatus(req, "rmdir", Fs(req).RmDir(parent, name));
  });
}

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name,
            fuse_ino_t new_parent, const char* new_name,
            unsigned int flags) noexcept {
  Serve(req, Op::kNamespace, [&] {
    return ReplyStatus(req, "rename",
                       Fs(req).Rename(parent, name, new_parent, new_name,
                                      flags));
  });
}

// mknod of a regular file (e.g. `mknod f p` aside, only S_IFREG): an empty
// object, committed now. Devices, fifos and sockets: EPERM.
void MkNod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
           dev_t) noexcept {
  Serve(req, Op::kNamespace, [&] {
    if (!S_ISREG(mode)) return EPERM;
    fs::Filesystem& fs = Fs(req);
    Result<fs::CreateReply> created = fs.Create(
        parent, name, mode, O_CREAT | O_EXCL | O_WRONLY, CallerOf(req));
    if (!created.has_value()) return Errno("mknod", created.error());
    Result<std::optional<fs::EntryRef>> flushed = fs.Flush(created->open.fh);
    fs.Release(created->open.fh);
    if (!flushed.has_value()) {
      fs.Forget(created->entry.attr.ino, 1);
      return Errno("mknod", flushed.error());
    }
    fuse_entry_param e = ToEntryParam(created->entry);
    if (fuse_reply_entry(req, &e) == -ENOENT) fs.Forget(e.ino, 1);
    return 0;
  });
}

void CopyFileRange(fuse_req_t req, fuse_ino_t, off_t offset_in,
                   fuse_file_info* fi_in, fuse_ino_t, off_t offset_out,
                   fuse_file_info* fi_out, size_t length, int) noexcept {
  Serve(req, Op::kCopyFileRange, [&] {
    Result<size_t> n = Fs(req).CopyFileRange(
        fi_in->fh, static_cast<uint64_t>(offset_in), fi_out->fh,
        static_cast<uint64_t>(offset_out), length);
    // EOPNOTSUPP: the kernel falls back to copying through the page cache.
    if (!n.has_value()) return Errno("copy_file_range", n.error());
    fuse_reply_write(req, *n);
    return 0;
  });
}

void Fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t,
               fuse_file_info*) noexcept {
  Serve(req, Op::kRefused, [&] {
    fs::Filesystem& fs = Fs(req);
    if (fs.read_only()) return Errno("fallocate", fs.RefuseWrite("fallocate").error());
    return EOPNOTSUPP;  // posix_fallocate falls back to writing zeros
  });
}

}  // namespace

void SetWriteOps(fuse_lowlevel_ops& o) {
  o.flush = Flush;
  o.fsync = Fsync;
  o.create = Create;
  o.write = Write;
  o.setattr = SetAttr;
  o.mkdir = MkDir;
  o.symlink = SymLink;
  o.unlink = Unlink;
  o.rmdir = RmDir;
  o.rename = Rename;
  o.mknod = MkNod;
  o.copy_file_range = CopyFileRange;
  o.fallocate = Fallocate;
}

}  // namespace repofs::fuse
