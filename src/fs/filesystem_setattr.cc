// Filesystem: SETATTR (truncate, chmod, chown, utimens) and
// copy_file_range.
//
// A file open for writing takes the change into its pending version (the
// metadata is uploaded with its commit). Otherwise the object gets a new
// version now -- a self-copy with MetadataDirective::kReplace for metadata,
// a rewrite for a size change -- and the inode keeps its number (the kernel
// applied the change to it) with the new version.
#include <sys/stat.h>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

// S3's largest CopyObject source; larger objects are copied in parts.
constexpr uint64_t kMaxCopyObject = 5ull << 30;

void ApplyMeta(const SetAttrRequest& request, PosixMeta& meta) {
  if (request.mode) meta.mode = (meta.mode & S_IFMT) | (*request.mode & 07777);
  if (request.uid) meta.uid = *request.uid;
  if (request.gid) meta.gid = *request.gid;
  if (request.mtime) SetMtime(meta, *request.mtime);
}

bool ChangesMeta(const SetAttrRequest& request) {
  return request.mode || request.uid || request.gid || request.mtime;
}

}  // namespace

Result<AttrReply> Filesystem::SetAttr(Ino ino, const SetAttrRequest& request,
                                      uint64_t fh) {
  if (options_.read_only) return RefuseWrite("setattr").error();
  std::optional<InodeInfo> info = inodes_.Get(ino);
  if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  if (info->type == FileType::kDirectory) return SetDirAttr(*info, request);
  std::shared_ptr<OpenFile> file;
  if (IsWriteHandle(fh)) {
    if (std::shared_ptr<WriteHandle> handle = writes_.Get(fh)) {
      file = handle->file;
    }
  }
  if (!file) file = writes_.Find(ino);
  if (!file) return SetAttrStored(*info, request);

  std::unique_lock lock(file->mu);
  if (file->released) {
    // Its last RELEASE finished its final commit after we found it: the
    // change goes to the version that commit left on the inode.
    lock.unlock();
    info = inodes_.Get(ino);
    if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
    return SetAttrStored(*info, request);
  }
  if (request.size) {
    if (*request.size != 0) {
      if (Status st = LoadLocked(*file); !st.ok()) return st.error();
    }
    if (Status st = file->pending->Truncate(*request.size); !st.ok()) {
      return st.error();
    }
    file->loaded = true;
    file->content_dirty = true;
    file->mtime_explicit = false;
    SetMtime(file->meta, WallNow(clock_));
  }
  if (ChangesMeta(request)) {
    ApplyMeta(request, file->meta);
    if (request.mtime) file->mtime_explicit = true;
    file->meta_dirty = true;
  }
  return AttrReply{PendingAttrLocked(*file), std::chrono::milliseconds(0)};
}

// A directory: this mount's inode takes the change; the marker "dir/" is
// (re)written with the s3fs metadata, so the change is recorded in S3 (the
// read path itself reports dir_mode for directories, see filesystem.h).
Result<AttrReply> Filesystem::SetDirAttr(const InodeInfo& info,
                                         const SetAttrRequest& request) {
  if (!ChangesMeta(request) || info.ino == kRootIno) {
    return AttrReply{info.attr, ttl_};
  }
  std::optional<std::string> dir_key = DirKeyOf(info.ino);
  if (!dir_key) return Error{ESTALE, "directory inode vanished"};
  PosixMeta meta = MetaOf(info.attr);
  ApplyMeta(request, meta);
  PutOptions put;
  put.metadata = ToS3fsMetadata(meta);
  S3Result<WriteResult> written =
      client_->PutObject(*dir_key, Payload::FromBuffer(""), put);
  if (!written.has_value()) return ToError(written.error());
  Observation obs;
  obs.type = FileType::kDirectory;
  obs.attr = info.attr;
  obs.attr.mode = S_IFDIR | (meta.mode & 07777 & ~(options_.umask & 07777));
  obs.attr.uid = meta.uid;
  obs.attr.gid = meta.gid;
  obs.attr.mtime = {static_cast<time_t>(meta.mtime_sec),
                    static_cast<long>(meta.mtime_nsec)};
  obs.observed_at = clock_.SteadyNow();
  Result<InodeInfo> updated = inodes_.Update(info.ino, obs);
  if (!updated.has_value()) return updated.error();
  listings_.Erase(info.parent);
  return AttrReply{updated->attr, ttl_};
}

// A directory marker's s3fs metadata (known by version, else one HEAD) into
// a directory observation.
Status Filesystem::ApplyMarkerMeta(const ObjectInfo& marker,
                                   Observation& obs) {
  const VersionKey version{marker.key, marker.etag, marker.last_modified};
  std::optional<PosixMeta> meta = store_->Get(version);
  if (!meta) {
    S3Result<std::optional<ObjectInfo>> head = client_->HeadObject(marker.key);
    if (!head.has_value()) return ToError(head.error());
    if (!head->has_value()) return OkStatus();  // deleted meanwhile
    meta = ParseS3fsMetadata((*head)->metadata, marker.key);
    store_->Put(VersionKey{marker.key, (*head)->etag, (*head)->last_modified},
                *meta);
  }
  ApplyDirMeta(*meta, obs);
  return OkStatus();
}

void Filesystem::ApplyDirMeta(const PosixMeta& meta, Observation& obs) const {
  const mode_t umask = options_.umask & 07777;
  if (meta.Has(PosixMeta::kMode)) {
    obs.attr.mode = S_IFDIR | (meta.mode & 07777 & ~umask);
  }
  if (meta.Has(PosixMeta::kUid)) obs.attr.uid = meta.uid;
  if (meta.Has(PosixMeta::kGid)) obs.attr.gid = meta.gid;
  if (meta.Has(PosixMeta::kMtime)) {
    obs.attr.mtime = {static_cast<time_t>(meta.mtime_sec),
                      static_cast<long>(meta.mtime_nsec)};
  }
  obs.dir_meta_known = meta.present != 0;
}

Result<AttrReply> Filesystem::SetAttrStored(const InodeInfo& info,
                                            const SetAttrRequest& request) {
  if (!request.size && !ChangesMeta(request)) {
    return AttrReply{info.attr, ttl_};  // atime only: not stored
  }
  if (info.stale) return Error{ESTALE, "the file was replaced or deleted"};
  std::optional<std::string> path = inodes_.PathOf(info.ino);
  if (!path) return Error{ESTALE, "inode vanished"};
  const std::string key = KeyOf("", *path);
  PosixMeta meta = MetaOf(info.attr);
  ApplyMeta(request, meta);
  S3Result<WriteResult> written = WriteResult{};
  uint64_t size = info.attr.size;
  if (request.size) {
    Result<std::unique_ptr<upload::PendingObject>> pending = NewPending(key);
    if (!pending.has_value()) return pending.error();
    upload::PendingObject& content = **pending;
    if (*request.size != 0 && info.attr.size != 0) {
      if (Status st = content.LoadFrom(info.etag, info.attr.size); !st.ok()) {
        return st.error();
      }
    }
    if (Status st = content.Truncate(*request.size); !st.ok()) {
      return st.error();
    }
    if (!request.mtime && *request.size != info.attr.size) {
      SetMtime(meta, WallNow(clock_));
    }
    PreserveForReaders(info.ino);
    PutOptions put;
    put.metadata = ToS3fsMetadata(meta);
    Result<WriteResult> done = content.Commit(put);
    if (!done.has_value()) return done.error();
    written = *done;
    size = *request.size;
  } else {
    CopyOptions copy;
    copy.directive = MetadataDirective::kReplace;
    copy.metadata = ToS3fsMetadata(meta);
    copy.source_if_match = info.etag;
    written = client_->CopyObject(key, key, copy);
    if (!written.has_value()) {
      Error error = ToError(written.error());
      if (written.error().code == S3ErrorCode::kPreconditionFailed ||
          written.error().code == S3ErrorCode::kNoSuchKey) {
        error.errno_value = ESTALE;
      }
      return error;
    }
  }
  Result<FileVersion> version = ResolveVersion(key, *written, size);
  if (!version.has_value()) return version.error();
  store_->Put(VersionKey{key, version->etag, version->last_modified}, meta);
  if (info.type == FileType::kSymlink) {
    if (std::optional<std::string> target = store_->GetSymlinkTarget(
            VersionKey{key, info.etag, info.last_modified})) {
      store_->PutSymlinkTarget(
          VersionKey{key, version->etag, version->last_modified}, *target);
    }
  }
  Result<InodeInfo> updated =
      inodes_.Update(info.ino, VersionObservation(key, *version, meta));
  if (!updated.has_value()) return updated.error();
  listings_.Erase(info.parent);
  return AttrReply{updated->attr, ttl_};
}

// Server-side copy of `from` (version `etag`, `size` bytes) to `to`, with
// `replace` metadata (null: the source's). Over 5 GiB: UploadPartCopy.
Result<WriteResult> Filesystem::CopyKey(const std::string& from,
                                        const std::string& to,
                                        const std::string& etag,
                                        uint64_t size,
                                        const Metadata* replace) {
  if (size <= kMaxCopyObject) {
    CopyOptions copy;
    copy.source_if_match = etag;
    if (replace != nullptr) {
      copy.directive = MetadataDirective::kReplace;
      copy.metadata = *replace;
    }
    S3Result<WriteResult> done = client_->CopyObject(from, to, copy);
    if (!done.has_value()) return ToError(done.error());
    return *done;
  }
  PutOptions put;
  if (replace != nullptr) {
    put.metadata = *replace;
  } else {
    S3Result<std::optional<ObjectInfo>> head = client_->HeadObject(from);
    if (!head.has_value()) return ToError(head.error());
    if (!head->has_value()) return Error{ENOENT, "'" + from + "' vanished"};
    put.metadata = (*head)->metadata;
    put.content_type = (*head)->content_type;
  }
  S3Result<std::string> upload = client_->CreateMultipartUpload(to, put);
  if (!upload.has_value()) return ToError(upload.error());
  // 1 GiB parts: at most 10,000 parts covers 10 TiB (S3's limit is 5 TiB).
  constexpr uint64_t kPart = 1ull << 30;
  std::vector<CompletedPart> parts;
  for (uint64_t offset = 0; offset < size; offset += kPart) {
    const int number = static_cast<int>(parts.size()) + 1;
    S3Result<std::string> part = client_->UploadPartCopy(
        to, *upload, number, from, offset, std::min(kPart, size - offset),
        etag);
    if (!part.has_value()) {
      (void)client_->AbortMultipartUpload(to, *upload);
      return ToError(part.error());
    }
    parts.push_back(CompletedPart{number, *part});
  }
  S3Result<WriteResult> done =
      client_->CompleteMultipartUpload(to, *upload, parts);
  if (!done.has_value()) {
    (void)client_->AbortMultipartUpload(to, *upload);
    return ToError(done.error());
  }
  return *done;
}

Result<size_t> Filesystem::CopyFileRange(uint64_t fh_in, uint64_t offset_in,
                                         uint64_t fh_out, uint64_t offset_out,
                                         size_t length) {
  if (options_.read_only) return RefuseWrite("copy_file_range").error();
  const Error fallback{EOPNOTSUPP, "not a whole-file copy"};
  if (offset_in != 0 || offset_out != 0 || IsWriteHandle(fh_in) ||
      !IsWriteHandle(fh_out)) {
    return fallback;
  }
  std::shared_ptr<FileHandle> source = files_.Get(fh_in);
  std::shared_ptr<WriteHandle> target = writes_.Get(fh_out);
  if (!source || !target || !target->can_write) {
    return Error{EBADF, "bad handle"};
  }
  if (length < source->size() ||
      preserved_.Contains(source->ino(), source->etag())) {
    return fallback;
  }
  OpenFile& file = *target->file;
  std::lock_guard lock(file.mu);
  if (file.unlinked || file.SizeLocked() > source->size()) return fallback;
  PosixMeta meta = file.meta;
  SetMtime(meta, WallNow(clock_));
  const Metadata headers = ToS3fsMetadata(meta);
  if (std::optional<InodeInfo> old = inodes_.Bound(file.parent, file.name)) {
    PreserveForReaders(old->ino);
  }
  Result<WriteResult> written = CopyKey(source->key(), file.key,
                                        source->etag(), source->size(),
                                        &headers);
  if (!written.has_value()) return written.error();
  Result<FileVersion> version =
      ResolveVersion(file.key, *written, source->size());
  if (!version.has_value()) return version.error();
  // The object now holds the content; the staging copy is dropped and
  // reloaded from this version if the file is written again.
  (void)file.pending->Truncate(0);
  file.loaded = false;
  file.base = *version;
  file.meta = meta;
  file.content_dirty = file.meta_dirty = file.needs_commit = false;
  file.exclusive = false;
  file.announce = true;
  Publish(file.parent, file.name, file.key, *version, meta);
  return static_cast<size_t>(source->size());
}

}  // namespace repofs::fs
