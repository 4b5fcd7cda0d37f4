#include "fs/attr_mapping.h"

#include <sys/stat.h>

#include <string>

#include "util/log.h"
#include "util/string_util.h"

namespace repofs::fs {
namespace {

std::optional<uint32_t> ParseUint32(std::string_view text) {
  std::optional<int64_t> v = ParseInt(Trim(text));
  if (!v || *v < 0 || *v > 0xffffffffLL) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

void LogBadValue(std::string_view key, const char* field,
                 std::string_view value) {
  LogOnce(LogLevel::kWarning,
          "badmeta:" + std::string(field) + ":" + std::string(key),
          "object '" + std::string(key) + "': ignoring malformed x-amz-meta-" +
              field + " '" + std::string(value) + "'");
}

uint64_t BlocksOf(uint64_t size) { return (size + 511) / 512; }

}  // namespace

std::optional<timespec> ParseMtime(std::string_view text) {
  text = Trim(text);
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole.size() > 18) return std::nullopt;
  int64_t sec = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    sec = sec * 10 + (c - '0');
  }
  long nsec = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = text.substr(dot + 1);
    if (frac.empty()) return std::nullopt;
    int digits = 0;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      if (digits < 9) {
        nsec = nsec * 10 + (c - '0');
        ++digits;
      }
    }
    for (; digits < 9; ++digits) nsec *= 10;
  }
  return timespec{static_cast<time_t>(sec), nsec};
}

PosixMeta ParseS3fsMetadata(const Metadata& metadata, std::string_view key) {
  PosixMeta meta;
  if (auto it = metadata.find("mode"); it != metadata.end()) {
    std::optional<uint32_t> v = ParseUint32(it->second);
    if (v && *v <= 0177777) {
      meta.mode = *v;
      meta.present |= PosixMeta::kMode;
    } else {
      LogBadValue(key, "mode", it->second);
    }
  }
  if (auto it = metadata.find("uid"); it != metadata.end()) {
    std::optional<uint32_t> v = ParseUint32(it->second);
    if (v) {
      meta.uid = *v;
      meta.present |= PosixMeta::kUid;
    } else {
      LogBadValue(key, "uid", it->second);
    }
  }
  if (auto it = metadata.find("gid"); it != metadata.end()) {
    std::optional<uint32_t> v = ParseUint32(it->second);
    if (v) {
      meta.gid = *v;
      meta.present |= PosixMeta::kGid;
    } else {
      LogBadValue(key, "gid", it->second);
    }
  }
  if (auto it = metadata.find("mtime"); it != metadata.end()) {
    std::optional<timespec> v = ParseMtime(it->second);
    if (v) {
      meta.mtime_sec = v->tv_sec;
      meta.mtime_nsec = static_cast<uint32_t>(v->tv_nsec);
      meta.present |= PosixMeta::kMtime;
    } else {
      LogBadValue(key, "mtime", it->second);
    }
  }
  return meta;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (name == "." || name == "..") return false;
  return name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

AttrMapper::AttrMapper(const FsOptions& options, std::time_t mount_time)
    : uid_(options.uid),
      gid_(options.gid),
      umask_(options.umask & 07777),
      file_mode_(options.file_mode & 07777),
      dir_mode_(options.dir_mode & 07777),
      use_meta_(options.attr_source == AttrSource::kHead),
      mount_time_(mount_time) {}

FileType AttrMapper::TypeOf(const PosixMeta* meta) const {
  if (!use_meta_ || meta == nullptr || !meta->Has(PosixMeta::kMode)) {
    return FileType::kRegular;
  }
  switch (meta->mode & S_IFMT) {
    case S_IFLNK:
      return FileType::kSymlink;
    case S_IFDIR:
      return FileType::kDirectory;
    default:
      return FileType::kRegular;  // incl. s3fs fifos/devices: served as files
  }
}

Attr AttrMapper::ObjectAttr(uint64_t size, std::time_t last_modified,
                            const PosixMeta* meta) const {
  if (!use_meta_) meta = nullptr;
  Attr attr;
  attr.size = size;
  attr.blocks = BlocksOf(size);
  attr.nlink = 1;
  attr.uid = meta && meta->Has(PosixMeta::kUid) ? meta->uid : uid_;
  attr.gid = meta && meta->Has(PosixMeta::kGid) ? meta->gid : gid_;
  mode_t perms =
      meta && meta->Has(PosixMeta::kMode) ? (meta->mode & 07777) : file_mode_;
  mode_t type = TypeOf(meta) == FileType::kSymlink ? S_IFLNK : S_IFREG;
  // Symlinks are 0777 on every Linux filesystem (their mode is never
  // checked); tools comparing trees (cp -a, rsync -a) expect it.
  attr.mode = type == S_IFLNK ? (S_IFLNK | 0777) : type | (perms & ~umask_);
  if (meta && meta->Has(PosixMeta::kMtime)) {
    attr.mtime = {static_cast<time_t>(meta->mtime_sec),
                  static_cast<long>(meta->mtime_nsec)};
  } else {
    attr.mtime = {last_modified, 0};
  }
  return attr;
}

Attr AttrMapper::DirAttr(std::optional<std::time_t> marker_mtime) const {
  Attr attr;
  attr.mode = S_IFDIR | (dir_mode_ & ~umask_);
  attr.nlink = 2;
  attr.uid = uid_;
  attr.gid = gid_;
  attr.size = kBlockSize;
  attr.blocks = kBlockSize / 512;
  attr.mtime = {marker_mtime.value_or(mount_time_), 0};
  return attr;
}

}  // namespace repofs::fs
