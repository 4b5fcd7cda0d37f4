// How S3 objects become POSIX attributes.
//
// PosixMeta is the s3fs-compatible metadata of one object version as stored
// by the object (x-amz-meta-mode: decimal st_mode including the type bits,
// -uid, -gid, -mtime: Unix seconds, possibly fractional), each field optional.
// AttrMapper turns (size, LastModified, PosixMeta) into an Attr using the
// mount options for what the object does not say: the result depends only on
// the object version and the options, so every path that produces an entry
// (LIST, HEAD, later own uploads) reports the same size, mtime and mode.
//
// With attr_source=list the metadata is ignored: mode = file_mode, mtime =
// LastModified, and symlinks cannot be recognised (they show as regular files
// whose content is the target).
//
// Thread-safety: value types and const methods.
#pragma once

#include <ctime>
#include <optional>
#include <string_view>

#include "fs/types.h"
#include "repofs/fs_options.h"
#include "repofs/object_client.h"

namespace repofs::fs {

struct PosixMeta {
  enum Field : uint8_t { kMode = 1, kUid = 2, kGid = 4, kMtime = 8 };
  uint8_t present = 0;  // Field bits
  uint32_t mode = 0;    // st_mode as stored (type bits may be 0)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;

  bool Has(Field f) const { return (present & f) != 0; }
  bool operator==(const PosixMeta&) const = default;
};

// Parses the s3fs headers out of `metadata` (names lower-cased, without
// x-amz-meta-). Malformed values are ignored (logged once per key).
PosixMeta ParseS3fsMetadata(const Metadata& metadata, std::string_view key);

// Parses "<seconds>[.<fraction>]" (at most 9 fraction digits are used).
std::optional<timespec> ParseMtime(std::string_view text);

// True when `name` can be a file name: not empty, not "." or "..", at most
// 255 bytes, no '/' and no NUL.
bool IsValidName(std::string_view name);

class AttrMapper {
 public:
  AttrMapper(const FsOptions& options, std::time_t mount_time);

  // The type a file object with this metadata has (symlink by S_IFLNK,
  // directory by S_IFDIR -- legacy s3fs directory objects -- else regular).
  FileType TypeOf(const PosixMeta* meta) const;

  // Attributes of an object version (ino left 0). `meta` may be null
  // (unknown or attr_source=list).
  Attr ObjectAttr(uint64_t size, std::time_t last_modified,
                  const PosixMeta* meta) const;

  // Attributes of a directory; mtime = the marker's when known, else the
  // mount time.
  Attr DirAttr(std::optional<std::time_t> marker_mtime) const;

  bool uses_metadata() const { return use_meta_; }

 private:
  uid_t uid_;
  gid_t gid_;
  mode_t umask_;
  mode_t file_mode_;
  mode_t dir_mode_;
  bool use_meta_;
  std::time_t mount_time_;
};

}  // namespace repofs::fs
