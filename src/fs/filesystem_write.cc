// Filesystem: the commit machinery of files written through the mount,
// shared by the write handles (filesystem_write_handles.cc: CREATE, OPEN
// for writing, WRITE, FLUSH/FSYNC, RELEASE), setattr, rename and
// copy_file_range.
//
// Durability (DESIGN.md tenet 2): FLUSH commits, so close() returns the
// upload's error; RELEASE only cleans up (it commits what an mmap wrote
// after the last FLUSH, best effort).
//
// Inodes: the first version of a new file keeps the inode it was created
// with; a commit that replaces a version publishes it under a NEW inode
// number bound to the path (InodeTable::Bind); the inode the writer opened
// stays valid
// for the handles open on it, and Flush() returns the dentry so fuse/ can
// invalidate the kernel's entry (the next open finds the new inode, with an
// empty page cache). A writer opened while other handles read the inode --
// and a reader opened while a writer has it -- get direct I/O, so neither
// sees the other's bytes through the shared page cache (the kernel truncates
// the page cache at an atomic O_TRUNC; readers then re-read through their
// handles, pinned to their version).
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
Metadata ToS3fsMetadata(const PosixMeta& meta) {
  Metadata out;
  out["mode"] = std::to_string(meta.mode);
  out["uid"] = std::to_string(meta.uid);
  out["gid"] = std::to_string(meta.gid);
  std::string mtime = std::to_string(meta.mtime_sec);
  if (meta.mtime_nsec != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09u", meta.mtime_nsec);
    mtime += frac;
  }
  out["mtime"] = mtime;
  return out;
}

PosixMeta Filesystem::MetaOf(const Attr& attr) const {
  PosixMeta meta;
  meta.present = PosixMeta::kMode | PosixMeta::kUid | PosixMeta::kGid |
                 PosixMeta::kMtime;
  meta.mode = attr.mode;
  meta.uid = attr.uid;
  meta.gid = attr.gid;
  meta.mtime_sec = attr.mtime.tv_sec;
  meta.mtime_nsec = static_cast<uint32_t>(attr.mtime.tv_nsec);
  return meta;
}

PosixMeta NewMeta(mode_t mode, const Caller& caller, timespec now) {
  PosixMeta meta;
  meta.present = PosixMeta::kMode | PosixMeta::kUid | PosixMeta::kGid |
                 PosixMeta::kMtime;
  meta.mode = mode;
  meta.uid = caller.uid;
  meta.gid = caller.gid;
  meta.mtime_sec = now.tv_sec;
  meta.mtime_nsec = static_cast<uint32_t>(now.tv_nsec);
  return meta;
}

timespec WallNow(const Clock& clock) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                clock.Now().time_since_epoch())
                .count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000),
                  static_cast<long>(ns % 1'000'000'000)};
}

void SetMtime(PosixMeta& meta, timespec when) {
  meta.mtime_sec = when.tv_sec;
  meta.mtime_nsec = static_cast<uint32_t>(when.tv_nsec);
}

// Without x-amz-meta-mtime unless a utimens set it (the version's mtime is
// then its LastModified, the time of the commit). So the metadata is known
// when the writer starts, and the multipart upload streamed while it writes
// is completed as is at FLUSH instead of being uploaded again with a later
// mtime.
PutOptions ContentPut(const OpenFile& file) {
  PutOptions put;
  put.metadata = ToS3fsMetadata(file.meta);
  if (!file.mtime_explicit) put.metadata.erase("mtime");
  return put;
}

Result<std::unique_ptr<upload::PendingObject>> Filesystem::NewPending(
    std::string key) {
  return upload::PendingObject::Create(client_, upload_pool_,
                                       upload_journal_.get(), upload_options_,
                                       std::move(key));
}

Observation Filesystem::VersionObservation(const std::string& key,
                                           const FileVersion& version,
                                           const PosixMeta& meta) const {
  return FileObservation(key, version.size, version.etag,
                         version.last_modified, &meta, clock_.SteadyNow());
}

// PUT responses carry the ETag but usually no Last-Modified; the version's
// identity (and the inode a later LIST maps to) needs both: one HEAD then.
Result<FileVersion> Filesystem::ResolveVersion(const std::string& key,
                                               const WriteResult& written,
                                               uint64_t size) {
  if (!written.etag.empty() && written.last_modified != 0) {
    return FileVersion{written.etag, written.last_modified, size};
  }
  S3Result<std::optional<ObjectInfo>> head = client_->HeadObject(key);
  if (!head.has_value()) return ToError(head.error());
  if (!head->has_value()) {
    return Error{EIO, "'" + key + "' vanished right after it was written"};
  }
  const ObjectInfo& info = **head;
  if (!written.etag.empty() && info.etag != written.etag) {
    // Replaced by another writer in between: keep our version's identity.
    return FileVersion{written.etag,
                       std::chrono::system_clock::to_time_t(clock_.Now()),
                       size};
  }
  return FileVersion{info.etag, info.last_modified, info.size};
}

void Filesystem::Publish(Ino parent, std::string_view name,
                         const std::string& key, const FileVersion& version,
                         const PosixMeta& meta) {
  store_->Put(VersionKey{key, version.etag, version.last_modified}, meta);
  const Observation obs = VersionObservation(key, version, meta);
  Result<InodeInfo> bound = inodes_.Bind(parent, name, obs, 0);
  if (!bound.has_value()) {
    REPOFS_LOG(kDebug) << "publish '" << key << "': " << bound.error().message;
  } else if (bound->etag == version.etag &&
             bound->last_modified == version.last_modified) {
    // The same identity (a rewrite of the same bytes within the second)
    // kept the bound inode: it takes the metadata just written.
    (void)inodes_.Update(bound->ino, obs);
  }
  listings_.Erase(parent);
  negatives_.Erase(parent, name);
}

// Before the object version of `ino` disappears from S3 (replaced, renamed
// or deleted through this mount), copy it locally if read handles of this
// process still have it open, so they keep reading it whole.
void Filesystem::PreserveForReaders(Ino ino) {
  std::optional<InodeInfo> info = inodes_.Get(ino);
  if (!info || info->etag.empty() || info->type == FileType::kDirectory) {
    return;
  }
  const uint32_t open = inodes_.OpenCount(ino);
  const uint32_t writers = writes_.HandleCount(ino);
  if (open <= writers || preserved_.Contains(ino, info->etag)) return;
  std::optional<std::string> path = inodes_.PathOf(ino);
  if (!path) return;
  const std::string key = KeyOf("", *path);
  Result<std::unique_ptr<upload::PendingObject>> copy = NewPending(key);
  Status loaded = copy.has_value()
                      ? (*copy)->LoadFrom(info->etag, info->attr.size)
                      : Status(copy.error());
  if (!loaded.ok()) {
    REPOFS_LOG(kWarning) << "cannot keep '" << key
                         << "' for its open readers: "
                         << loaded.error().message;
    return;
  }
  preserved_.Put(ino, info->etag, std::move(*copy));
}

void Filesystem::DropPreservedIfUnused(Ino ino) {
  if (preserved_.size() != 0 && inodes_.OpenCount(ino) == 0) {
    preserved_.Erase(ino);
  }
}

Status Filesystem::LoadLocked(OpenFile& file) {
  if (file.loaded) return OkStatus();
  if (!file.base.etag.empty() && file.base.size > 0) {
    Status st = file.pending->LoadFrom(file.base.etag, file.base.size);
    if (!st.ok()) return st;
  }
  file.loaded = true;
  return OkStatus();
}

Status Filesystem::CommitLocked(OpenFile& file) {
  if (!file.DirtyLocked()) return OkStatus();
  PosixMeta meta = file.meta;
  S3Result<WriteResult> written = WriteResult{};
  uint64_t size = 0;
  const bool meta_only =
      !file.loaded && !file.content_dirty && !file.needs_commit;
  if (meta_only) {
    // Metadata only: a self-copy keeps the content (and ETag) server-side.
    CopyOptions copy;
    copy.directive = MetadataDirective::kReplace;
    copy.metadata = ToS3fsMetadata(meta);
    copy.source_if_match = file.base.etag;
    written = client_->CopyObject(file.key, file.key, copy);
    if (!written.has_value()) return ToError(written.error());
    size = file.base.size;
  } else {
    if (Status st = LoadLocked(file); !st.ok()) return st;
    if (std::optional<InodeInfo> old = inodes_.Bound(file.parent, file.name)) {
      PreserveForReaders(old->ino);
    }
    PutOptions put = ContentPut(file);
    put.if_none_match = file.exclusive;
    Result<WriteResult> done = file.pending->Commit(put);
    if (!done.has_value() && file.exclusive &&
        (done.error().errno_value == ENOTSUP ||
         done.error().errno_value == ENOSYS)) {
      LogOnce(LogLevel::kWarning, "no-if-none-match",
              "the endpoint has no conditional PUT: O_EXCL is checked "
              "only against this mount's view");
      put.if_none_match = false;
      done = file.pending->Commit(put);
    }
    if (!done.has_value()) return done.error();
    written = *done;
    size = file.pending->Size();
  }
  Result<FileVersion> version = ResolveVersion(file.key, *written, size);
  if (!version.has_value()) return version.error();
  if (!file.mtime_explicit && !meta_only) {
    // No mtime header was sent: the version's mtime is its LastModified,
    // as every other host will report it.
    SetMtime(meta, timespec{version->last_modified, 0});
    file.meta = meta;
  }
  const bool first_version = file.base.etag.empty();
  file.base = *version;
  file.content_dirty = file.meta_dirty = file.needs_commit = false;
  file.exclusive = false;
  std::optional<InodeInfo> bound = inodes_.Bound(file.parent, file.name);
  if ((first_version || meta_only) && bound && bound->ino == file.ino) {
    // A new file's first version keeps the inode it was created with:
    // nobody can hold an older version, and tools compare st_ino from
    // fstat before close with stat after it (tar's delayed symlinks). A
    // metadata-only version keeps it as SETATTR without an open file does:
    // the kernel applied the change to this inode.
    store_->Put(VersionKey{file.key, version->etag, version->last_modified},
                meta);
    (void)inodes_.Update(file.ino,
                         VersionObservation(file.key, *version, meta));
    listings_.Erase(file.parent);
    negatives_.Erase(file.parent, file.name);
    return OkStatus();
  }
  file.announce = true;
  Publish(file.parent, file.name, file.key, *version, meta);
  return OkStatus();
}

}  // namespace repofs::fs
