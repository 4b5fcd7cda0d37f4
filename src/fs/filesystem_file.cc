// Filesystem: file handles (OPEN / READ / RELEASE), reads without a handle
// (ReadInode, the kernel's no-open mode) and READLINK.
#include <fcntl.h>

#include <algorithm>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

// Longest symlink target we accept (PATH_MAX).
constexpr uint64_t kMaxLinkTarget = 4096;

bool SameVersion(const InodeInfo& info, const ObjectInfo& object) {
  return object.etag == info.etag &&
         object.last_modified == info.last_modified &&
         object.size == info.attr.size;
}

// Exactly min(size, file_size - offset) bytes from `reader`, or an error.
Result<size_t> ReadFull(prefetch::ObjectReader& reader, uint64_t offset,
                        size_t size, char* out, prefetch::ReadView* view) {
  const uint64_t file_size = reader.version().size;
  if (size == 0 || offset >= file_size) return size_t{0};
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(size, file_size - offset));
  Result<size_t> got = reader.Read(offset, want, out, view);
  if (!got.has_value()) return got.error();
  if (*got != want) {
    // Never hand the kernel a short read before EOF (nginx treats it as
    // fatal): the reader promises full length; treat a breach as EIO.
    return Error{EIO, "short read of '" + reader.version().key + "'"};
  }
  return got;
}

}  // namespace

// The inode's metadata is older than the TTL: confirm with one HEAD that the
// object at its path is still this version. If not, the inode is stale: the
// kernel gets ESTALE and redoes the lookup (LOOKUP_REVAL), which finds the
// new version under a new inode number.
Status Filesystem::RevalidateForOpen(const InodeInfo& info,
                                     const std::string& key, SteadyTime now) {
  S3Result<std::optional<ObjectInfo>> head = client_->HeadObject(key);
  if (!head.has_value()) return ToError(head.error());
  if (!head->has_value() || !SameVersion(info, **head)) {
    inodes_.MarkStale(info.ino);
    NoteRemoteChange(key, head->has_value() ? (*head)->last_modified : 0, now);
    // The parent's cached listing may still name the old version; drop it
    // so the kernel's re-lookup asks S3.
    listings_.Erase(info.parent);
    return Error{ESTALE, "'" + key + "' changed since it was looked up"};
  }
  if (mapper_.uses_metadata()) {
    const ObjectInfo& object = **head;
    store_->Put(VersionKey{key, object.etag, object.last_modified},
                ParseS3fsMetadata(object.metadata, key));
  }
  inodes_.MarkValidated(info.ino, now);
  return OkStatus();
}

Result<InodeInfo> Filesystem::PinForOpen(Ino ino, std::string* path) {
  std::optional<InodeInfo> info = inodes_.Pin(ino, path);
  if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  if (info->type == FileType::kDirectory) {
    inodes_.Unpin(ino);
    return Error{EISDIR, "is a directory"};
  }
  return std::move(*info);
}

Status Filesystem::EnsureCurrentForOpen(const InodeInfo& info,
                                        const std::string& key,
                                        SteadyTime now, bool serve_stale) {
  if (info.stale) {
    return Error{ESTALE, "'" + key + "' was replaced or deleted"};
  }
  if (now - info.validated_at < ttl_) return OkStatus();
  Status valid = RevalidateForOpen(info, key, now);
  if (!valid.ok() && serve_stale && ServeStale(valid.error(), key)) {
    return OkStatus();
  }
  return valid;
}

Result<OpenReply> Filesystem::Open(Ino ino, int flags) {
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND))) {
    if (options_.read_only) return RefuseWrite("open for writing").error();
    return OpenForWrite(ino, flags);  // filesystem_write.cc
  }
  if (std::shared_ptr<OpenFile> file = writes_.Find(ino)) {
    Result<OpenReply> reply = OpenWhileWriting(ino, std::move(file));
    // EAGAIN: the writer was released meanwhile; open what it committed.
    if (reply.has_value() || reply.error().errno_value != EAGAIN) {
      return reply;
    }
  }
  std::string path;
  Result<InodeInfo> info = PinForOpen(ino, &path);
  if (!info.has_value()) return info.error();
  // Unpins on every failure below.
  auto fail = [&](Error error) -> Result<OpenReply> {
    inodes_.Unpin(ino);
    return error;
  };
  const std::string key = KeyOf("", path);
  const SteadyTime now = clock_.SteadyNow();
  // S3 failing: the version known is the best answer (stale-if-error); its
  // cached blocks are served, uncached reads fail with EIO.
  if (Status current = EnsureCurrentForOpen(*info, key, now, true);
      !current.ok()) {
    return fail(current.error());
  }
  auto handle =
      std::make_shared<FileHandle>(ino, key, info->etag, info->attr.size);
  OpenReply reply;
  reply.keep_cache = true;  // inode == version: cached pages are never stale
  if (cached_ && passthrough_.enabled() &&
      info->attr.size >= options_.passthrough_min_size) {
    const cache::VersionRef version{key, info->etag, info->attr.size};
    reply.backing_id = passthrough_.Acquire(
        ino, key, now, [&] { return inodes_.OpenCount(ino); },
        [&] { return cached_->cache().OpenWhole(version); });
    if (reply.backing_id) {
      handle->set_passthrough();
      reply.keep_cache = false;  // the kernel refuses it with passthrough
    }
  }
  reply.fh = files_.Add(std::move(handle));
  return reply;
}

Result<size_t> Filesystem::Read(uint64_t fh, uint64_t offset, size_t size,
                                char* out, prefetch::ReadView* view) {
  if (IsWriteHandle(fh)) return ReadWriteHandle(fh, offset, size, out);
  std::shared_ptr<FileHandle> handle = files_.Get(fh);
  if (!handle) return Error{EBADF, "unknown file handle"};
  // The version was replaced or deleted through this mount while open: it
  // was copied locally first (filesystem_write.cc PreserveForReaders).
  if (auto copy = preserved_.Find(handle->ino(), handle->etag())) {
    return copy->Read(offset, size, out);
  }
  return ReadFull(handle->Reader(readahead_), offset, size, out, view);
}

Result<std::unique_ptr<prefetch::ObjectReader>> Filesystem::MakeInodeReader(
    Ino ino) {
  std::string path;
  std::optional<InodeInfo> info = inodes_.Pin(ino, &path);
  if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  inodes_.Unpin(ino);
  if (info->type == FileType::kDirectory) {
    return Error{EISDIR, "is a directory"};
  }
  // Pinned to the inode's version; a stale inode (replaced or deleted
  // object) gets EIO from the If-Match GETs, as a stale handle does.
  return std::make_unique<prefetch::ObjectReader>(
      readahead_,
      prefetch::ObjectVersion{KeyOf("", path), info->etag, info->attr.size});
}

Result<size_t> Filesystem::ReadInode(Ino ino, uint64_t offset, size_t size,
                                     char* out, prefetch::ReadView* view) {
  Result<std::shared_ptr<prefetch::ObjectReader>> reader =
      inode_readers_.Get(ino, [&] { return MakeInodeReader(ino); });
  if (!reader.has_value()) return reader.error();
  // `*reader` keeps the reader alive across an eviction meanwhile.
  return ReadFull(**reader, offset, size, out, view);
}

std::optional<Filesystem::CachedSpan> Filesystem::SpanToRead(uint64_t fh,
                                                             Ino ino,
                                                             uint64_t offset,
                                                             size_t size) {
  if (!cached_ || size == 0) return std::nullopt;
  prefetch::ObjectVersion version;
  if (fh != 0) {
    std::shared_ptr<FileHandle> handle = files_.Get(fh);
    if (!handle || handle->kind() != FileHandle::Kind::kRead) {
      return std::nullopt;
    }
    // A reader streaming over the range has its bytes in memory or on the
    // way; it also needs to see the read to keep its window ahead.
    if (const prefetch::ObjectReader* reader = handle->ReaderIfAny();
        reader != nullptr && reader->Streaming(offset, size)) {
      return std::nullopt;
    }
    version = {handle->key(), handle->etag(), handle->size()};
  } else {
    if (std::shared_ptr<prefetch::ObjectReader> reader =
            inode_readers_.Find(ino);
        reader && reader->Streaming(offset, size)) {
      return std::nullopt;
    }
    std::string path;
    std::optional<InodeInfo> info = inodes_.Pin(ino, &path);
    if (!info) return std::nullopt;
    inodes_.Unpin(ino);
    if (info->type != FileType::kRegular) return std::nullopt;
    version = {KeyOf("", path), info->etag, info->attr.size};
  }
  if (offset >= version.size) return std::nullopt;
  const uint64_t length = std::min<uint64_t>(size, version.size - offset);
  return CachedSpan{std::move(version), length};
}

std::optional<cache::BlockRef> Filesystem::CachedRead(uint64_t fh, Ino ino,
                                                      uint64_t offset,
                                                      size_t size) {
  std::optional<CachedSpan> span = SpanToRead(fh, ino, offset, size);
  if (!span) return std::nullopt;
  return cached_->LookupRange(span->version, offset, span->length);
}

std::optional<size_t> Filesystem::CachedCopy(uint64_t fh, Ino ino,
                                             uint64_t offset, size_t size,
                                             char* out) {
  std::optional<CachedSpan> span = SpanToRead(fh, ino, offset, size);
  if (!span) return std::nullopt;
  const prefetch::ObjectVersion& v = span->version;
  if (!cached_->cache().ReadRange(cache::VersionRef{v.key, v.etag, v.size},
                                  offset, span->length, out)) {
    return std::nullopt;
  }
  return static_cast<size_t>(span->length);
}

// Open handles of `ino` other than writers' and the caller's own pin.
int64_t Filesystem::OtherReaders(Ino ino) const {
  return static_cast<int64_t>(inodes_.OpenCount(ino)) - 1 -
         static_cast<int64_t>(writes_.HandleCount(ino));
}

// The kernel sends RELEASE asynchronously: a reader whose close() has
// returned may still hold its pin when the next open arrives (fsx: verify
// through an O_RDONLY open, close, reopen O_RDWR). Give such releases a
// moment, so that the writer is not made direct I/O (where mmap fails with
// ENODEV) or sent to a new inode for a reader that is already gone. A
// reader that really is open costs the writer kReleaseSettle once.
void Filesystem::SettleReleases(Ino ino) {
  for (int i = 0; i < kReleaseSettleSteps && OtherReaders(ino) > 0; ++i) {
    clock_.SleepFor(kReleaseSettleStep);
  }
}

void Filesystem::Release(uint64_t fh) {
  if (IsWriteHandle(fh)) return ReleaseWriteHandle(fh);
  std::shared_ptr<FileHandle> handle = files_.Remove(fh);
  if (!handle) return;
  if (handle->passthrough()) passthrough_.Release(handle->ino());
  inodes_.Unpin(handle->ino());
  DropPreservedIfUnused(handle->ino());
}

Result<std::string> Filesystem::ReadLink(Ino ino) {
  std::string path;
  std::optional<InodeInfo> info = inodes_.Pin(ino, &path);
  if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  inodes_.Unpin(ino);
  if (info->type != FileType::kSymlink) {
    return Error{EINVAL, "not a symbolic link"};
  }
  const std::string key = KeyOf("", path);
  const VersionKey version{key, info->etag, info->last_modified};
  if (std::optional<std::string> target = store_->GetSymlinkTarget(version)) {
    return std::move(*target);
  }
  if (info->attr.size > kMaxLinkTarget) {
    return Error{ENAMETOOLONG, "symlink target of '" + key + "' too long"};
  }
  std::string target;
  GetRequest request;
  request.key = key;
  request.if_match = info->etag;
  S3Result<ObjectInfo> got =
      client_->GetObject(request, [&](std::string_view chunk) {
        target.append(chunk);
        return target.size() <= kMaxLinkTarget;
      });
  if (!got.has_value()) {
    Error error = ToError(got.error());
    if (got.error().code == S3ErrorCode::kPreconditionFailed ||
        got.error().code == S3ErrorCode::kNoSuchKey) {
      error.errno_value = ESTALE;
    }
    return error;
  }
  store_->PutSymlinkTarget(version, target);
  return target;
}

}  // namespace repofs::fs
