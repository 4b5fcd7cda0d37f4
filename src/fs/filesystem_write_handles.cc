// Filesystem: write handles -- CREATE, OPEN for writing, WRITE, reads
// through write handles, FLUSH/FSYNC (commit), RELEASE. The commit
// machinery and the rules on inodes and durability are in
// filesystem_write.cc.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<OpenReply> Filesystem::OpenForWrite(Ino ino, int flags) {
  std::string path;
  Result<InodeInfo> info = PinForOpen(ino, &path);
  if (!info.has_value()) return info.error();
  auto fail = [&](Error error) -> Result<OpenReply> {
    inodes_.Unpin(ino);
    return error;
  };
  SettleReleases(ino);
  // The kernel reads this inode through a passthrough backing file and
  // refuses any other open of it: its readers keep it, and the writer's
  // retry finds the same version under a new inode (passthrough_inodes.h).
  if (passthrough_.DetachForWriter(ino, KeyOf("", path), clock_.SteadyNow())) {
    inodes_.MarkStale(ino);
    return fail(Error{ESTALE, "'" + path + "' is read through passthrough"});
  }
  // The file found may lose its last handle before ours is added (a close
  // racing this open): AddHandle refuses it, and the next round finds none
  // and starts from the version that close committed.
  std::shared_ptr<OpenFile> file;
  uint64_t fh = 0;
  int64_t others = 0;  // handles of others reading through the page cache
  for (int round = 0; fh == 0 && round < kOpenRounds; ++round) {
    if (round > 0) {
      std::optional<InodeInfo> now = inodes_.Get(ino);
      if (!now) return fail(Error{ENOENT, "'" + path + "' vanished"});
      *info = *now;
    }
    Result<std::shared_ptr<OpenFile>> found = WriterFor(*info, path);
    if (!found.has_value()) return fail(found.error());
    file = std::move(*found);
    others = OtherReaders(ino);  // before ours counts (see OtherReaders)
    fh = writes_.AddHandle(file, (flags & O_ACCMODE) != O_RDONLY);
  }
  if (fh == 0) return fail(Error{EAGAIN, "'" + path + "' is being closed"});
  // Truncated only once our handle holds the file: a truncation of a file
  // whose last handle is going away would be committed by that RELEASE.
  if (flags & O_TRUNC) {
    Status truncated = OkStatus();
    {
      std::lock_guard lock(file->mu);
      truncated = file->pending->Truncate(0);
      if (truncated.ok()) {
        file->loaded = true;
        file->content_dirty = true;
        file->mtime_explicit = false;
        SetMtime(file->meta, WallNow(clock_));
      }
    }
    if (!truncated.ok()) {
      ReleaseWriteHandle(fh);  // unpins the inode
      return truncated.error();
    }
  }
  OpenReply reply;
  reply.fh = fh;
  // Others read this inode through the page cache: bypass it (see top).
  reply.direct_io = others > 0;
  reply.keep_cache = !reply.direct_io && !(flags & O_TRUNC);
  reply.needs_flush = true;
  return reply;
}

// The open file registered for `info`'s inode, or a new one registered
// for it, starting from `info`'s version.
Result<std::shared_ptr<OpenFile>> Filesystem::WriterFor(
    const InodeInfo& info, const std::string& path) {
  if (std::shared_ptr<OpenFile> file = writes_.Find(info.ino)) return file;
  const std::string key = KeyOf("", path);
  if (Status current =
          EnsureCurrentForOpen(info, key, clock_.SteadyNow(), false);
      !current.ok()) {
    return current.error();
  }
  Result<std::unique_ptr<upload::PendingObject>> pending = NewPending(key);
  if (!pending.has_value()) return pending.error();
  auto fresh = std::make_shared<OpenFile>(info.ino, std::move(*pending));
  fresh->parent = info.parent;
  fresh->name = BaseName(path);
  fresh->SetKeyLocked(key);
  fresh->base = FileVersion{info.etag, info.last_modified, info.attr.size};
  fresh->loaded = info.etag.empty() || info.attr.size == 0;
  fresh->meta = MetaOf(info.attr);
  fresh->pending->SetStreamingPutOptions(ContentPut(*fresh));
  return writes_.Insert(std::move(fresh));
}

// A read-only open of an inode that a writer of this process has open: the
// reader sees the last committed version (or, for a file never committed
// yet, the pending content), never through the shared page cache.
Result<OpenReply> Filesystem::OpenWhileWriting(Ino ino,
                                               std::shared_ptr<OpenFile> file) {
  if (!inodes_.Pin(ino)) {
    return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  }
  FileVersion base;
  std::string key;
  {
    std::lock_guard lock(file->mu);
    base = file->base;
    key = file->key;
  }
  OpenReply reply;
  if (!base.etag.empty()) {
    reply.fh = files_.Add(
        std::make_shared<FileHandle>(ino, key, base.etag, base.size));
  } else {
    reply.fh = writes_.AddHandle(std::move(file), false);
    if (reply.fh == 0) {  // committed and released meanwhile
      inodes_.Unpin(ino);
      return Error{EAGAIN, "writer released"};
    }
  }
  reply.keep_cache = false;
  reply.direct_io = true;
  return reply;
}

Result<CreateReply> Filesystem::Create(Ino parent, std::string_view name,
                                       mode_t mode, int flags,
                                       const Caller& caller) {
  if (options_.read_only) return RefuseWrite("create").error();
  if (!IsValidName(name)) {
    return Error{name.size() > 255 ? ENAMETOOLONG : EINVAL, "invalid name"};
  }
  std::optional<std::string> dir_key = DirKeyOf(parent);
  std::optional<InodeInfo> dir = inodes_.Get(parent);
  if (!dir || !dir_key) return Error{ENOENT, "unknown directory inode"};
  if (dir->type != FileType::kDirectory) return Error{ENOTDIR, "not a dir"};
  const std::string key = *dir_key + std::string(name);
  Result<std::unique_ptr<upload::PendingObject>> pending = NewPending(key);
  if (!pending.has_value()) return pending.error();
  const PosixMeta meta =
      NewMeta(S_IFREG | (mode & 07777), caller, WallNow(clock_));
  const SteadyTime now = clock_.SteadyNow();
  Result<InodeInfo> info = inodes_.Bind(
      parent, name, FileObservation(key, 0, "", 0, &meta, now), 1);
  if (!info.has_value()) return info.error();
  inodes_.Pin(info->ino);
  auto file = std::make_shared<OpenFile>(info->ino, std::move(*pending));
  file->parent = parent;
  file->name = std::string(name);
  file->SetKeyLocked(key);
  file->loaded = true;
  file->needs_commit = true;
  file->exclusive = (flags & O_EXCL) != 0;
  file->meta = meta;
  file->pending->SetStreamingPutOptions(ContentPut(*file));
  file = writes_.Insert(std::move(file));
  negatives_.Erase(parent, name);
  CreateReply reply;
  reply.entry = MakeEntry(info->attr, ttl_);
  reply.entry.attr_timeout = std::chrono::milliseconds(0);
  reply.open.fh = writes_.AddHandle(std::move(file), true);
  reply.open.keep_cache = false;
  reply.open.needs_flush = true;
  return reply;
}

Result<size_t> Filesystem::Write(uint64_t fh, uint64_t offset,
                                 std::string_view data) {
  std::shared_ptr<WriteHandle> handle = writes_.Get(fh);
  if (!handle || !handle->can_write) {
    return Error{EBADF, "not open for writing"};
  }
  OpenFile& file = *handle->file;
  std::lock_guard lock(file.mu);
  if (Status st = LoadLocked(file); !st.ok()) return st.error();
  if (Status st = file.pending->Write(offset, data); !st.ok()) {
    return st.error();
  }
  file.content_dirty = true;
  file.mtime_explicit = false;
  SetMtime(file.meta, WallNow(clock_));
  // Keeps the dentry of a file being written trusted (it is not in S3 yet).
  inodes_.MarkValidated(file.ino, clock_.SteadyNow());
  return data.size();
}

Result<size_t> Filesystem::ReadWriteHandle(uint64_t fh, uint64_t offset,
                                           size_t size, char* out) {
  std::shared_ptr<WriteHandle> handle = writes_.Get(fh);
  if (!handle) return Error{EBADF, "unknown file handle"};
  OpenFile& file = *handle->file;
  std::lock_guard lock(file.mu);
  if (Status st = LoadLocked(file); !st.ok()) return st.error();
  return file.pending->Read(offset, size, out);
}

Result<std::optional<EntryRef>> Filesystem::Flush(uint64_t fh) {
  if (!IsWriteHandle(fh)) return std::optional<EntryRef>();
  std::shared_ptr<WriteHandle> handle = writes_.Get(fh);
  if (!handle) return Error{EBADF, "unknown file handle"};
  OpenFile& file = *handle->file;
  std::lock_guard lock(file.mu);
  if (handle->can_write) {
    if (Status st = CommitLocked(file); !st.ok()) return st.error();
  }
  if (!file.announce) return std::optional<EntryRef>();
  file.announce = false;
  return std::optional<EntryRef>(EntryRef{file.parent, file.name});
}

Status Filesystem::Fsync(uint64_t fh) {
  if (!IsWriteHandle(fh)) return OkStatus();
  std::shared_ptr<WriteHandle> handle = writes_.Get(fh);
  if (!handle) return Error{EBADF, "unknown file handle"};
  std::lock_guard lock(handle->file->mu);
  return CommitLocked(*handle->file);
}

// Best effort: nobody gets an error of RELEASE.
void Filesystem::CommitAtReleaseLocked(OpenFile& file) {
  if (!file.DirtyLocked()) return;
  if (Status st = CommitLocked(file); !st.ok()) {
    REPOFS_LOG(kError) << "'" << file.key
                       << "': changes after the last close() were not "
                          "uploaded: "
                       << st.error().message;
  }
}

void Filesystem::ReleaseWriteHandle(uint64_t fh) {
  if (std::shared_ptr<WriteHandle> releasing = writes_.Get(fh)) {
    // Changes after the last FLUSH (a chmod or utime between close() and
    // this RELEASE, as rsync and cp -p make) are committed while the file
    // is still registered: a GETATTR meanwhile gets the pending attributes,
    // not the inode's older ones (which the kernel would then cache for
    // the TTL), and the inode takes the new version before it is dropped.
    OpenFile& file = *releasing->file;
    std::lock_guard lock(file.mu);
    if (writes_.HandleCount(file.ino) == 1) CommitAtReleaseLocked(file);
  }
  std::shared_ptr<OpenFile> last;
  std::shared_ptr<WriteHandle> handle = writes_.Remove(fh, &last);
  if (!handle) return;
  // Unpinned together with the removal: an OPEN racing this RELEASE (close
  // then reopen) counts other open handles as OpenCount - HandleCount, and a
  // pin without its handle would make it think a reader has the inode and
  // choose direct I/O (then mmap fails with ENODEV).
  inodes_.Unpin(handle->file->ino);
  if (last) {
    std::lock_guard lock(last->mu);
    // Pages an mmap dirtied after the last FLUSH arrive as WRITEs before
    // RELEASE, and were committed above; a handle released concurrently
    // may have left this one last.
    CommitAtReleaseLocked(*last);
    last->pending->Abort();
    last->released = true;
  }
  DropPreservedIfUnused(handle->file->ino);
}

Attr Filesystem::PendingAttrLocked(OpenFile& file) {
  Attr attr = mapper_.ObjectAttr(file.SizeLocked(), 0, &file.meta);
  attr.ino = file.ino;
  return attr;
}

std::optional<AttrReply> Filesystem::PendingAttr(Ino ino, uint64_t fh) {
  // A read handle asks for its own version's attributes (the inode's).
  if (fh != 0 && !IsWriteHandle(fh)) return std::nullopt;
  std::shared_ptr<OpenFile> file = writes_.Find(ino);
  if (!file) return std::nullopt;
  std::lock_guard lock(file->mu);
  return AttrReply{PendingAttrLocked(*file), std::chrono::milliseconds(0)};
}

}  // namespace repofs::fs
