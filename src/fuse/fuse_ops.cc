// Trampolines from libfuse's low-level callbacks to fs::Filesystem (the
// read path); refused modifications are in fuse_refused_ops.cc. Each one is
// noexcept and replies exactly once through Serve() (serve.h).
#include "fuse/fuse_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fuse/serve.h"
#include "util/log.h"

namespace repofs::fuse {

double Seconds(std::chrono::milliseconds ms) { return ms.count() / 1000.0; }

struct stat ToStat(const fs::Attr& attr) {
  struct stat st {};
  st.st_ino = attr.ino;
  st.st_mode = attr.mode;
  st.st_nlink = attr.nlink;
  st.st_uid = attr.uid;
  st.st_gid = attr.gid;
  st.st_size = static_cast<off_t>(attr.size);
  st.st_blocks = static_cast<blkcnt_t>(attr.blocks);
  st.st_blksize = fs::kBlockSize;
  st.st_mtim = attr.mtime;
  st.st_atim = attr.mtime;
  st.st_ctim = attr.mtime;
  return st;
}

fuse_entry_param ToEntryParam(const fs::Entry& entry) {
  fuse_entry_param e{};
  e.ino = entry.attr.ino;
  e.generation = entry.generation;
  e.attr = ToStat(entry.attr);
  e.attr_timeout = Seconds(entry.attr_timeout);
  e.entry_timeout = Seconds(entry.entry_timeout);
  return e;
}

namespace {

// No-open mode, read-only mounts only (the `ro` mount or
// FsOptions::read_only; read-write mounts keep OPEN/RELEASE, the write path
// needs per-handle state). The first OPEN of a regular file is answered
// ENOSYS; from then on the kernel treats every open as successful with
// keep-cache semantics and never sends OPEN or RELEASE on this connection,
// and READs arrive with fh 0 (served by Filesystem::ReadInode through a
// per-inode reader pinned to the inode's version -- an inode is one object
// version, so that is the same guarantee as a per-handle pin). FLUSH, which
// the kernel would then send at every close (no FOPEN_NOFLUSH without an
// OPEN reply), is answered ENOSYS once too, so the kernel stops sending it.
// With entry/attr timeouts = metadata_ttl and no atime updates (ro), a warm
// nginx request (open, fstat, sendfile, close) then costs no round trip to
// the daemon at all. OPENDIR is unchanged: directory handles hold listing
// snapshots.
void NegotiateNoOpen(OpsContext& context, fuse_conn_info* conn) {
  fs::Filesystem* fs = context.fs.load(std::memory_order_acquire);
  const bool read_only =
      context.read_only_mount || (fs != nullptr && fs->read_only());
  const bool on = read_only && (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT);
  if (on) conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
  context.no_open.store(on, std::memory_order_relaxed);
}

void Negotiate(void* userdata, fuse_conn_info* conn) {
  auto* context = static_cast<OpsContext*>(userdata);
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  want(FUSE_CAP_ASYNC_READ);       // concurrent READs per handle
  want(FUSE_CAP_PARALLEL_DIROPS);  // concurrent LOOKUPs in one directory
  want(FUSE_CAP_READDIRPLUS);      // `ls -l` = one pass, no LOOKUP per entry
  want(FUSE_CAP_CACHE_SYMLINKS);   // an inode's target never changes
  // Always READDIRPLUS (not the kernel's heuristic): attributes are cheap
  // once the listing's HEADs run in parallel.
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  // An inode is one object version: its data and attributes never change,
  // so the kernel need not re-check attributes to keep its page cache.
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  conn->want &= ~FUSE_CAP_EXPORT_SUPPORT;  // no NFS export (no "." lookups)
  // Reads served from the block cache reply with an fd buffer: with
  // SPLICE_WRITE libfuse splices the cache file's pages into /dev/fuse
  // instead of reading them into memory first. Other replies are memory
  // buffers (writev); SPLICE_MOVE (page stealing) is not used.
  want(FUSE_CAP_SPLICE_WRITE);
  conn->want &= ~FUSE_CAP_SPLICE_MOVE;
  // The kernel takes min(its bdi read-ahead, this): raise the bdi's first.
  if (!context->bdi_read_ahead_path.empty()) {
    int fd = open(context->bdi_read_ahead_path.c_str(), O_WRONLY | O_CLOEXEC);
    const std::string kb = std::to_string(kMaxReadahead / 1024);
    if (fd < 0 || write(fd, kb.data(), kb.size()) < 0) {
      REPOFS_LOG(kDebug) << "cannot raise " << context->bdi_read_ahead_path
                         << ": " << std::strerror(errno);
    }
    if (fd >= 0) close(fd);
  }
  conn->max_readahead = kMaxReadahead;
  NegotiateNoOpen(*context, conn);
  if (context->passthrough) {
    const bool no_open = context->no_open.load(std::memory_order_relaxed);
    context->passthrough->Decide(!no_open);
    REPOFS_LOG(kDebug) << "FUSE passthrough: kernel "
                       << (context->passthrough->offered()
                               ? "offers it"
                               : "does not offer it")
                       << (no_open ? "; off in no-open mode" : "");
  }
  // O_TRUNC arrives with OPEN (no separate SETATTR): the truncation then
  // happens on the pending copy, and readers keep the committed version.
  if (!context->no_open.load(std::memory_order_relaxed)) {
    want(FUSE_CAP_ATOMIC_O_TRUNC);
  }
}

void Init(void* userdata, fuse_conn_info* conn) noexcept {
  try {
    Negotiate(userdata, conn);
  } catch (const std::exception& e) {
    REPOFS_LOG(kError) << "init: " << e.what();
  }
}

void Destroy(void*) noexcept {}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) noexcept {
  Serve(req, Op::kLookup, [&] {
    fs::Filesystem& fs = Fs(req);
    Result<fs::Entry> entry = fs.Lookup(parent, name);
    if (!entry.has_value()) {
      if (entry.error().errno_value == ENOENT &&
          fs.negative_timeout().count() > 0) {
        // ino 0: the kernel caches the negative dentry for the timeout.
        fuse_entry_param e{};
        e.entry_timeout = Seconds(fs.negative_timeout());
        fuse_reply_entry(req, &e);
        return 0;
      }
      return Errno("lookup", entry.error());
    }
    fuse_entry_param e = ToEntryParam(*entry);
    fuse_reply_entry(req, &e);
    return 0;
  });
}

void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) noexcept {
  Context(req).Count(Op::kForget);
  try {
    Fs(req).Forget(ino, nlookup);
  } catch (const std::exception& e) {
    REPOFS_LOG(kError) << "forget: " << e.what();
  } catch (...) {
  }
  fuse_reply_none(req);
}

void ForgetMulti(fuse_req_t req, size_t count,
                 fuse_forget_data* forgets) noexcept {
  Context(req).Count(Op::kForget);
  try {
    fs::Filesystem& fs = Fs(req);
    for (size_t i = 0; i < count; ++i) {
      fs.Forget(forgets[i].ino, forgets[i].nlookup);
    }
  } catch (const std::exception& e) {
    REPOFS_LOG(kError) << "forget: " << e.what();
  } catch (...) {
  }
  fuse_reply_none(req);
}

void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  Serve(req, Op::kGetAttr, [&] {
    Result<fs::AttrReply> attr =
        Fs(req).GetAttr(ino, fi != nullptr ? fi->fh : 0);
    if (!attr.has_value()) return Errno("getattr", attr.error());
    struct stat st = ToStat(attr->attr);
    fuse_reply_attr(req, &st, Seconds(attr->attr_timeout));
    return 0;
  });
}

void ReadLink(fuse_req_t req, fuse_ino_t ino) noexcept {
  Serve(req, Op::kReadLink, [&] {
    Result<std::string> target = Fs(req).ReadLink(ino);
    if (!target.has_value()) return Errno("readlink", target.error());
    fuse_reply_readlink(req, target->c_str());
    return 0;
  });
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  Serve(req, Op::kOpen, [&] {
    // No-open mode (read-only mounts, see NegotiateNoOpen): only regular
    // files reach OPEN (directories use OPENDIR); ENOSYS makes the kernel
    // stop sending OPEN and RELEASE for the rest of the connection.
    if (Context(req).no_open.load(std::memory_order_relaxed)) return ENOSYS;
    fs::Filesystem& fs = Fs(req);
    Result<fs::OpenReply> open = fs.Open(ino, fi->flags);
    if (!open.has_value()) return Errno("open", open.error());
    fi->fh = open->fh;
    fi->keep_cache = open->keep_cache ? 1 : 0;
    fi->direct_io = open->direct_io ? 1 : 0;
    // Read-only handle: nothing to flush at close(). Saves a FLUSH round
    // trip per nginx request (FOPEN_NOFLUSH). Writable handles commit there.
    fi->noflush = open->needs_flush ? 0 : 1;
    // A passthrough handle: the reply carries its backing id (the kernel
    // then reads the cache file itself; fuse/passthrough.h).
    if (open->backing_id) {
      KernelPassthrough::SetNextOpenBacking(*open->backing_id);
    }
    const int rc = fuse_reply_open(req, fi);
    KernelPassthrough::ClearNextOpenBacking();
    if (rc == -ENOENT) fs.Release(open->fh);  // interrupted
    return 0;
  });
}

// Replies with the cached bytes `ref` (at most kMaxSplicedReply) as an fd
// buffer: libfuse splices the cache file's pages into /dev/fuse.
void SendCached(fuse_req_t req, const cache::BlockRef& ref) {
  fuse_bufvec data = FUSE_BUFVEC_INIT(ref.length);
  data.buf[0].flags =
      static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  data.buf[0].fd = ref.raw_fd();
  data.buf[0].pos = static_cast<off_t>(ref.file_offset);
  fuse_reply_data(req, &data, static_cast<fuse_buf_copy_flags>(0));
}

void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
          fuse_file_info* fi) noexcept {
  Serve(req, Op::kRead, [&] {
    fs::Filesystem& fs = Fs(req);
    // One buffer per worker thread, grown to the largest READ (1 MiB).
    thread_local std::vector<char> buffer;
    if (buffer.size() < size) buffer.resize(size);
    // Entirely in the block cache: small replies are spliced from the cache
    // file (`cached` pins the blocks until the reply is written); full-size
    // ones (1 MiB, larger than libfuse's splice pipe) are read once into the
    // buffer, checked on first use, and written with writev.
    if (size <= kMaxSplicedReply) {
      if (std::optional<cache::BlockRef> cached =
              fs.CachedRead(fi->fh, ino, static_cast<uint64_t>(offset), size)) {
        SendCached(req, *cached);
        return 0;
      }
    } else if (std::optional<size_t> copied =
                   fs.CachedCopy(fi->fh, ino, static_cast<uint64_t>(offset),
                                 size, buffer.data())) {
      fuse_reply_buf(req, buffer.data(), *copied);
      return 0;
    }
    // fh 0: no-open mode (no OPEN was sent), read by inode. Read-ahead
    // bytes are written to the kernel from the reader's blocks (`view`
    // holds them until then), not copied into the buffer first.
    thread_local prefetch::ReadView view;
    // The held blocks go back before this request ends, whatever happens
    // (a thread_local outliving the mount must hold nothing), so the view
    // is empty when the next READ of this thread starts.
    struct ClearView {
      prefetch::ReadView& view;
      ~ClearView() { view.Clear(); }
    } clear_view{view};
    Result<size_t> n = fi->fh != 0
                           ? fs.Read(fi->fh, static_cast<uint64_t>(offset),
                                     size, buffer.data(), &view)
                           : fs.ReadInode(ino, static_cast<uint64_t>(offset),
                                          size, buffer.data(), &view);
    if (!n.has_value()) return Errno("read", n.error());
    if (view.pieces.empty()) {
      fuse_reply_buf(req, buffer.data(), *n);
      return 0;
    }
    thread_local std::vector<iovec> iov;
    iov.clear();
    for (std::string_view piece : view.pieces) {
      iov.push_back(iovec{const_cast<char*>(piece.data()), piece.size()});
    }
    fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
    return 0;
  });
}

void Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) noexcept {
  Serve(req, Op::kRelease, [&] {
    Fs(req).Release(fi->fh);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept {
  Serve(req, Op::kOpenDir, [&] {
    fs::Filesystem& fs = Fs(req);
    Result<uint64_t> fh = fs.OpenDir(ino);
    if (!fh.has_value()) return Errno("opendir", fh.error());
    fi->fh = *fh;
    if (fuse_reply_open(req, fi) == -ENOENT) fs.ReleaseDir(*fh);
    return 0;
  });
}

// READDIR and READDIRPLUS: the fs decides which entries fit using the sizes
// libfuse computes (fuse_add_direntry* with a null buffer), so only entries
// that are really returned count as lookups.
void ReadDirCommon(fuse_req_t req, size_t size, off_t offset,
                   fuse_file_info* fi, bool plus) {
  Serve(req, plus ? Op::kReadDirPlus : Op::kReadDir, [&] {
    size_t reserved = 0;
    auto reserve = [&](std::string_view name) {
      std::string n(name);
      size_t need =
          plus ? fuse_add_direntry_plus(req, nullptr, 0, n.c_str(), nullptr, 0)
               : fuse_add_direntry(req, nullptr, 0, n.c_str(), nullptr, 0);
      if (reserved + need > size) return false;
      reserved += need;
      return true;
    };
    Result<std::vector<fs::DirEntry>> entries =
        Fs(req).ReadDir(fi->fh, static_cast<uint64_t>(offset), plus, reserve);
    if (!entries.has_value()) {
      return Errno(plus ? "readdirplus" : "readdir", entries.error());
    }
    std::vector<char> buf(size);
    size_t used = 0;
    for (const fs::DirEntry& d : *entries) {
      const off_t next = static_cast<off_t>(d.next_offset);
      if (plus) {
        fuse_entry_param e{};  // ino 0 for "." / "..": no lookup counted
        if (d.has_entry) {
          e = ToEntryParam(d.entry);
        } else {
          e.attr.st_ino = d.ino;
          e.attr.st_mode = d.type;
        }
        used += fuse_add_direntry_plus(req, buf.data() + used, size - used,
                                       d.name.c_str(), &e, next);
      } else {
        struct stat st {};
        st.st_ino = d.ino;
        st.st_mode = d.type;
        used += fuse_add_direntry(req, buf.data() + used, size - used,
                                  d.name.c_str(), &st, next);
      }
    }
    fuse_reply_buf(req, buf.data(), used);
    return 0;
  });
}

void ReadDir(fuse_req_t req, fuse_ino_t, size_t size, off_t offset,
             fuse_file_info* fi) noexcept {
  ReadDirCommon(req, size, offset, fi, false);
}

void ReadDirPlus(fuse_req_t req, fuse_ino_t, size_t size, off_t offset,
                 fuse_file_info* fi) noexcept {
  ReadDirCommon(req, size, offset, fi, true);
}

void ReleaseDir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) noexcept {
  Serve(req, Op::kReleaseDir, [&] {
    Fs(req).ReleaseDir(fi->fh);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void FsyncDir(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) noexcept {
  Serve(req, Op::kReleaseDir, [&] {
    fuse_reply_err(req, 0);
    return 0;
  });
}

void StatFs(fuse_req_t req, fuse_ino_t) noexcept {
  Serve(req, Op::kStatFs, [&] {
    fs::StatFsInfo info = Fs(req).StatFs();
    struct statvfs st {};
    st.f_bsize = info.block_size;
    st.f_frsize = info.block_size;
    st.f_blocks = info.blocks;
    st.f_bfree = info.blocks_free;
    st.f_bavail = info.blocks_available;
    st.f_files = info.files;
    st.f_ffree = info.files_free;
    st.f_favail = info.files_free;
    st.f_namemax = info.name_max;
    fuse_reply_statfs(req, &st);
    return 0;
  });
}

}  // namespace

const char* OpName(Op op) {
  static constexpr const char* kNames[] = {
      "lookup",      "forget",     "getattr", "readlink",  "open",
      "read",        "flush",      "release", "opendir",   "readdir",
      "readdirplus", "releasedir", "statfs",  "xattr",     "refused",
      "create",      "write",      "setattr", "namespace", "copy_file_range"};
  static_assert(std::size(kNames) == static_cast<size_t>(Op::kCount));
  return kNames[static_cast<size_t>(op)];
}

std::map<std::string, uint64_t> OpsContext::Counts() const {
  std::map<std::string, uint64_t> counts;
  for (size_t i = 0; i < calls.size(); ++i) {
    uint64_t n = calls[i].load(std::memory_order_relaxed);
    if (n != 0) counts[OpName(static_cast<Op>(i))] = n;
  }
  return counts;
}

const fuse_lowlevel_ops& RepofsOps() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.init = Init;
    o.destroy = Destroy;
    o.lookup = Lookup;
    o.forget = Forget;
    o.forget_multi = ForgetMulti;
    o.getattr = GetAttr;
    o.readlink = ReadLink;
    o.open = Open;
    o.read = Read;
    o.release = Release;
    o.opendir = OpenDir;
    o.readdir = ReadDir;
    o.readdirplus = ReadDirPlus;
    o.releasedir = ReleaseDir;
    o.fsyncdir = FsyncDir;
    o.statfs = StatFs;
    SetRefusedOps(o);  // fuse_refused_ops.cc
    SetWriteOps(o);    // fuse_write_ops.cc (flush, fsync, modifications)
    return o;
  }();
  return ops;
}

}  // namespace repofs::fuse
