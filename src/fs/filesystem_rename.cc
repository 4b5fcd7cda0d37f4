// Filesystem: RENAME.
//
// A file is a server-side copy carrying its metadata (CopyObject with the
// COPY directive: x-amz-meta-mtime survives, as rsync needs; UploadPartCopy
// over 5 GiB) and then a DELETE of the source; over an existing target the
// copy is an atomic replace (S3 PUT semantics). A file still open for
// writing that was never committed is only re-keyed (its first commit goes
// to the new name). The inode keeps its number and moves to the new name
// with the copy's version; the replaced target's inode becomes stale.
//
// A directory is every key below its prefix copied, then deleted: NOT
// atomic (a failure leaves both trees partly present; the error is
// returned), and open read handles of files below it are not preserved.
#include <stdio.h>  // RENAME_NOREPLACE

#include "fs/filesystem.h"
#include "util/log.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

namespace repofs::fs {

Status Filesystem::Rename(Ino parent, std::string_view name, Ino new_parent,
                          std::string_view new_name, unsigned int flags) {
  if (options_.read_only) return RefuseWrite("rename");
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE)) {
    // RENAME_EXCHANGE cannot be atomic on S3; RENAME_WHITEOUT is overlayfs'.
    return Error{EINVAL, "rename flags not supported"};
  }
  Result<InodeInfo> src = ResolveChild(parent, name);
  if (!src.has_value()) return src.error();
  Result<std::string> src_key = ChildKey(parent, name);
  if (!src_key.has_value()) return src_key.error();
  Result<std::string> dst_key = ChildKey(new_parent, new_name);
  if (!dst_key.has_value()) return dst_key.error();
  if (*src_key == *dst_key) return OkStatus();
  const bool is_dir = src->type == FileType::kDirectory;
  if (is_dir && dst_key->starts_with(*src_key + "/")) {
    return Error{EINVAL, "cannot move a directory below itself"};
  }
  Result<InodeInfo> dst = ResolveChild(new_parent, new_name);
  if (!dst.has_value() && dst.error().errno_value != ENOENT) {
    return dst.error();
  }
  if (dst.has_value()) {
    if (flags & RENAME_NOREPLACE) {
      return Error{EEXIST, "'" + std::string(new_name) + "' exists"};
    }
    const bool dst_dir = dst->type == FileType::kDirectory;
    if (is_dir && !dst_dir) return Error{ENOTDIR, "target is not a dir"};
    if (!is_dir && dst_dir) return Error{EISDIR, "target is a directory"};
    if (dst_dir) {
      Result<bool> busy = HasKeysBelow(*dst_key + "/");
      if (!busy.has_value()) return busy.error();
      if (*busy) return Error{ENOTEMPTY, "target directory is not empty"};
    }
  }
  Status moved = is_dir ? RenameDir(*src, *src_key + "/", new_parent,
                                    new_name, *dst_key + "/")
                        : RenameFile(*src, *src_key, new_parent, new_name,
                                     *dst_key);
  listings_.Erase(parent);
  listings_.Erase(new_parent);
  negatives_.Erase(new_parent, new_name);
  return moved;
}

Status Filesystem::RenameFile(const InodeInfo& src, const std::string& src_key,
                              Ino new_parent, std::string_view new_name,
                              const std::string& dst_key) {
  // Writers of the source key follow it to the new name.
  std::vector<std::shared_ptr<OpenFile>> writers;
  bool pending_only = false;
  for (const std::shared_ptr<OpenFile>& file : writes_.All()) {
    if (file->Key() != src_key || file->unlinked) continue;
    std::lock_guard lock(file->mu);
    writers.push_back(file);
    if (file->ino == src.ino && file->base.etag.empty()) pending_only = true;
  }
  auto rekey = [&](const FileVersion* version) {
    for (const std::shared_ptr<OpenFile>& file : writers) {
      std::lock_guard lock(file->mu);
      file->pending->Rekey(dst_key);
      file->SetKeyLocked(dst_key);
      file->parent = new_parent;
      file->name = std::string(new_name);
      if (version != nullptr && file->ino == src.ino) file->base = *version;
    }
  };
  if (pending_only) {
    // Nothing in S3 yet: the first commit goes to the new name.
    rekey(nullptr);
    Result<InodeInfo> info = inodes_.Move(src.ino, new_parent, new_name,
                                          nullptr);
    return info.has_value() ? OkStatus() : Status(info.error());
  }
  if (std::optional<InodeInfo> old = inodes_.Bound(new_parent, new_name)) {
    PreserveForReaders(old->ino);
  }
  Result<WriteResult> copied =
      CopyKey(src_key, dst_key, src.etag, src.attr.size, nullptr);
  if (!copied.has_value()) {
    Error error = copied.error();
    if (error.errno_value == ENOENT) error.errno_value = ESTALE;
    return error;
  }
  Result<FileVersion> version =
      ResolveVersion(dst_key, *copied, src.attr.size);
  if (!version.has_value()) return version.error();
  PreserveForReaders(src.ino);
  S3Status deleted = client_->DeleteObject(src_key);
  if (!deleted.ok()) return ToError(deleted.error());

  const VersionKey old_version{src_key, src.etag, src.last_modified};
  const VersionKey new_version{dst_key, version->etag,
                               version->last_modified};
  // The inode's attributes, not the store: a self-copy (utimens, chmod)
  // within the second of the previous version has the same identity.
  const PosixMeta meta = MetaOf(src.attr);
  store_->Put(new_version, meta);
  if (src.type == FileType::kSymlink) {
    if (std::optional<std::string> target =
            store_->GetSymlinkTarget(old_version)) {
      store_->PutSymlinkTarget(new_version, *target);
    }
  }
  const Observation obs = VersionObservation(dst_key, *version, meta);
  Result<InodeInfo> info = inodes_.Move(src.ino, new_parent, new_name, &obs);
  rekey(&*version);
  return info.has_value() ? OkStatus() : Status(info.error());
}

Status Filesystem::RenameDir(const InodeInfo& src,
                             const std::string& src_prefix, Ino new_parent,
                             std::string_view new_name,
                             const std::string& dst_prefix) {
  for (const std::shared_ptr<OpenFile>& file : writes_.All()) {
    if (!file->unlinked && file->Key().starts_with(src_prefix)) {
      return Error{EBUSY, "a file below the directory is open for writing"};
    }
  }
  std::vector<ObjectInfo> objects;
  ListRequest request;
  request.prefix = src_prefix;
  S3Status listed = ListAll(*client_, request, [&](const ListPage& page) {
    objects.insert(objects.end(), page.objects.begin(), page.objects.end());
    return objects.size() < 10'000'000;  // bound
  });
  if (!listed.ok()) return ToError(listed.error());
  bool has_marker = false;
  std::vector<std::string> sources;
  for (const ObjectInfo& object : objects) {
    const std::string to = dst_prefix + object.key.substr(src_prefix.size());
    Result<WriteResult> copied =
        CopyKey(object.key, to, object.etag, object.size, nullptr);
    if (!copied.has_value()) return copied.error();
    has_marker |= object.key == src_prefix;
    sources.push_back(object.key);
  }
  if (!has_marker) {
    // An empty or markerless directory keeps existing under its new name.
    PutOptions put;
    S3Result<WriteResult> marker =
        client_->PutObject(dst_prefix, Payload::FromBuffer(""), put);
    if (!marker.has_value()) return ToError(marker.error());
  }
  S3Result<std::vector<std::string>> failed = client_->DeleteObjects(sources);
  if (!failed.has_value()) return ToError(failed.error());
  if (!failed->empty()) {
    return Error{EIO, "could not delete " + std::to_string(failed->size()) +
                          " keys below '" + src_prefix + "'"};
  }
  Result<InodeInfo> info = inodes_.Move(src.ino, new_parent, new_name,
                                        nullptr);
  // Every key below changed: files get new inodes on their next lookup,
  // and cached listings name the old keys.
  inodes_.UnbindDescendantFiles(src.ino);
  listings_.Clear();
  return info.has_value() ? OkStatus() : Status(info.error());
}

}  // namespace repofs::fs
