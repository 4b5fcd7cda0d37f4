// Filesystem: UNLINK, MKDIR, RMDIR and SYMLINK.
//
// After each change the parent's cached listing and the name's negative
// entry are dropped; the kernel updates its own dentries for these
// operations (no notification needed).
#include <sys/stat.h>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

constexpr size_t kMaxLinkTarget = 4096;

Error NameError(std::string_view name) {
  return Error{name.size() > 255 ? ENAMETOOLONG : EINVAL,
               "invalid name '" + std::string(name) + "'"};
}

}  // namespace

// What is at (parent, name) now: the bound inode when the kernel knows it
// (a file being written is not in S3 yet), else a lookup (no reference is
// kept).
Result<InodeInfo> Filesystem::ResolveChild(Ino parent, std::string_view name) {
  if (!IsValidName(name)) {
    if (name.size() > 255) return NameError(name);
    return Error{ENOENT, "no such entry"};
  }
  if (std::optional<InodeInfo> bound = inodes_.Bound(parent, name)) {
    if (writes_.Find(bound->ino)) return *bound;
  }
  Result<Entry> entry = Lookup(parent, name);
  if (!entry.has_value()) return entry.error();
  std::optional<InodeInfo> info = inodes_.Get(entry->attr.ino);
  inodes_.Forget(entry->attr.ino, 1);
  if (!info) return Error{ESTALE, "inode vanished"};
  return *info;
}

Result<std::string> Filesystem::ChildKey(Ino parent, std::string_view name) {
  std::optional<InodeInfo> dir = inodes_.Get(parent);
  std::optional<std::string> dir_key = DirKeyOf(parent);
  if (!dir || !dir_key) return Error{ENOENT, "unknown directory inode"};
  if (dir->type != FileType::kDirectory) {
    return Error{ENOTDIR, "not a directory"};
  }
  if (!IsValidName(name)) return NameError(name);
  return *dir_key + std::string(name);
}

// True when a key other than the directory's own marker exists below
// `dir_prefix` (ending in '/'), or a file is being written there. The
// marker sorts first among the keys with that prefix, so two keys tell.
Result<bool> Filesystem::HasKeysBelow(const std::string& dir_prefix) {
  ListRequest request;
  request.prefix = dir_prefix;
  request.max_keys = 2;
  S3Result<ListPage> page = client_->ListObjects(request);
  if (!page.has_value()) return ToError(page.error());
  for (const ObjectInfo& object : page->objects) {
    if (object.key != dir_prefix) return true;
  }
  if (!page->common_prefixes.empty()) return true;
  for (const std::shared_ptr<OpenFile>& file : writes_.All()) {
    if (!file->unlinked && file->Key().starts_with(dir_prefix)) return true;
  }
  return false;
}

Status Filesystem::Unlink(Ino parent, std::string_view name) {
  if (options_.read_only) return RefuseWrite("unlink");
  Result<InodeInfo> info = ResolveChild(parent, name);
  if (!info.has_value()) return info.error();
  if (info->type == FileType::kDirectory) {
    return Error{EISDIR, "'" + std::string(name) + "' is a directory"};
  }
  Result<std::string> key = ChildKey(parent, name);
  if (!key.has_value()) return key.error();
  // Writers of this key stop committing: their file is gone (POSIX).
  for (const std::shared_ptr<OpenFile>& file : writes_.All()) {
    if (file->Key() == *key) file->unlinked = true;
  }
  PreserveForReaders(info->ino);
  S3Status deleted = client_->DeleteObject(*key);
  if (!deleted.ok()) return ToError(deleted.error());
  inodes_.MarkStale(info->ino);
  listings_.Erase(parent);
  negatives_.Erase(parent, name);
  return OkStatus();
}

Result<Entry> Filesystem::MkDir(Ino parent, std::string_view name, mode_t mode,
                                const Caller& caller) {
  if (options_.read_only) return RefuseWrite("mkdir").error();
  Result<std::string> key = ChildKey(parent, name);
  if (!key.has_value()) return key.error();
  Result<InodeInfo> existing = ResolveChild(parent, name);
  if (existing.has_value()) {
    return Error{EEXIST, "'" + std::string(name) + "' exists"};
  }
  if (existing.error().errno_value != ENOENT) return existing.error();
  const timespec now = WallNow(clock_);
  PutOptions put;
  put.metadata = ToS3fsMetadata(NewMeta(S_IFDIR | (mode & 07777), caller, now));
  const std::string marker = *key + "/";
  S3Result<WriteResult> written =
      client_->PutObject(marker, Payload::FromBuffer(""), put);
  if (!written.has_value()) return ToError(written.error());
  negatives_.Erase(parent, name);
  listings_.Erase(parent);
  // This mount shows the directory with its own mode and owner (the read
  // path reports dir_mode for directories it finds in S3).
  Observation obs = DirObservation(now.tv_sec, clock_.SteadyNow());
  obs.attr.mode = S_IFDIR | (mode & 07777 & ~(options_.umask & 07777));
  obs.attr.uid = caller.uid;
  obs.attr.gid = caller.gid;
  Result<InodeInfo> info = inodes_.Bind(parent, name, obs, 1);
  if (!info.has_value()) return info.error();
  // The name was just found free (no key under "key/"; by a probe or a
  // listing younger than the TTLs), so the new directory's listing is known:
  // empty. Lookups of the names about to be created in it (reprepro's pool
  // directories, Maven's version directories) need no request; the first
  // create drops it like any listing of a changed directory.
  auto empty = std::make_shared<Listing>();
  empty->dir_key = marker;
  empty->listed_at = obs.observed_at;
  empty->marker_mtime = now.tv_sec;
  listings_.Put(info->ino, std::move(empty));
  return MakeEntry(info->attr, ttl_);
}

Status Filesystem::RmDir(Ino parent, std::string_view name) {
  if (options_.read_only) return RefuseWrite("rmdir");
  Result<InodeInfo> info = ResolveChild(parent, name);
  if (!info.has_value()) return info.error();
  if (info->type != FileType::kDirectory) {
    return Error{ENOTDIR, "'" + std::string(name) + "' is not a directory"};
  }
  Result<std::string> key = ChildKey(parent, name);
  if (!key.has_value()) return key.error();
  const std::string prefix = *key + "/";
  Result<bool> busy = HasKeysBelow(prefix);
  if (!busy.has_value()) return busy.error();
  if (*busy) {
    return Error{ENOTEMPTY, "'" + std::string(name) + "' is not empty"};
  }
  S3Status deleted = client_->DeleteObject(prefix);
  if (!deleted.ok()) return ToError(deleted.error());
  inodes_.MarkStale(info->ino);
  listings_.Erase(info->ino);
  listings_.Erase(parent);
  negatives_.Erase(parent, name);
  return OkStatus();
}

Result<Entry> Filesystem::SymLink(std::string_view target, Ino parent,
                                  std::string_view name, const Caller& caller) {
  if (options_.read_only) return RefuseWrite("symlink").error();
  if (!mapper_.uses_metadata()) {
    // attr_source=list cannot tell a symlink from a file (no metadata).
    return Error{EPERM, "symlinks need attr_source=head"};
  }
  if (target.empty() || target.size() > kMaxLinkTarget) {
    return Error{target.empty() ? ENOENT : ENAMETOOLONG, "bad target"};
  }
  Result<std::string> key = ChildKey(parent, name);
  if (!key.has_value()) return key.error();
  Result<InodeInfo> existing = ResolveChild(parent, name);
  if (existing.has_value()) {
    return Error{EEXIST, "'" + std::string(name) + "' exists"};
  }
  if (existing.error().errno_value != ENOENT) return existing.error();
  const PosixMeta meta = NewMeta(S_IFLNK | 0777, caller, WallNow(clock_));
  PutOptions put;
  put.metadata = ToS3fsMetadata(meta);
  const std::string body(target);
  S3Result<WriteResult> written =
      client_->PutObject(*key, Payload::FromBuffer(body), put);
  if (!written.has_value()) return ToError(written.error());
  Result<FileVersion> version = ResolveVersion(*key, *written, body.size());
  if (!version.has_value()) return version.error();
  const VersionKey vkey{*key, version->etag, version->last_modified};
  store_->Put(vkey, meta);
  store_->PutSymlinkTarget(vkey, body);
  negatives_.Erase(parent, name);
  listings_.Erase(parent);
  Result<InodeInfo> info =
      inodes_.Bind(parent, name, VersionObservation(*key, *version, meta), 1);
  if (!info.has_value()) return info.error();
  return MakeEntry(info->attr, ttl_);
}

}  // namespace repofs::fs
