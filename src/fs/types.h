// Value types the filesystem speaks (fs/ never includes <fuse_lowlevel.h>):
// inode numbers, attributes, lookup entries, directory entries and the
// results of open/statfs. fuse/ translates them to struct stat,
// fuse_entry_param and friends; unit tests inspect them directly.
//
// Conventions: an inode number is the FUSE node id AND the st_ino reported to
// userspace (one 64-bit counter, never reused). Timeouts are what the kernel
// should cache the answer for.
//
// Thread-safety: plain value types.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ctime>
#include <string>

namespace repofs::fs {

using Ino = uint64_t;
inline constexpr Ino kRootIno = 1;
// d_ino reported by plain READDIR for a name the kernel has not looked up yet
// (libfuse's FUSE_UNKNOWN_INO convention).
inline constexpr Ino kUnknownIno = 0xffffffffu;
// Block size reported by stat (st_blksize) and statfs (f_bsize/f_frsize).
inline constexpr uint32_t kBlockSize = 4096;

enum class FileType : uint8_t { kRegular, kDirectory, kSymlink };

struct Attr {
  Ino ino = 0;
  uint64_t size = 0;
  mode_t mode = 0;  // type bits included (S_IFREG/S_IFDIR/S_IFLNK)
  uint32_t nlink = 1;
  uid_t uid = 0;
  gid_t gid = 0;
  timespec mtime{};     // atime and ctime are reported equal to mtime
  uint64_t blocks = 0;  // 512-byte units
};

// Answer to a successful lookup (and each READDIRPLUS entry). A successful
// Lookup counts one kernel reference (nlookup) on attr.ino.
struct Entry {
  Attr attr;
  uint64_t generation = 0;  // inode numbers are never reused: always 0
  std::chrono::milliseconds entry_timeout{0};
  std::chrono::milliseconds attr_timeout{0};
};

struct AttrReply {
  Attr attr;
  std::chrono::milliseconds attr_timeout{0};
};

// One directory entry. `next_offset` is the offset to pass to ReadDir to
// continue after this entry. `entry` is filled only by READDIRPLUS (and not
// for "." and ".."; the kernel ignores those and counts no lookup for them).
struct DirEntry {
  std::string name;
  Ino ino = kUnknownIno;
  mode_t type = 0;  // S_IFREG / S_IFDIR / S_IFLNK
  uint64_t next_offset = 0;
  bool has_entry = false;
  Entry entry;
};

struct OpenReply {
  uint64_t fh = 0;
  // The kernel may keep cached pages of this inode: an inode is one object
  // version, so its pages never go stale.
  bool keep_cache = true;
  // Write path: bypass the page cache for this handle (a writer or reader
  // of an inode that others have open in the other mode: each must see its
  // own version), and whether close() must send FLUSH (writable handles).
  bool direct_io = false;
  bool needs_flush = false;
  // FUSE passthrough: the kernel reads this handle from the backing file
  // registered under this id (fs/passthrough_inodes.h) and sends no READ.
  std::optional<int32_t> backing_id;
};

struct StatFsInfo {
  uint64_t block_size = kBlockSize;
  uint64_t blocks = 0;
  uint64_t blocks_free = 0;
  uint64_t blocks_available = 0;
  uint64_t files = 0;
  uint64_t files_free = 0;
  uint32_t name_max = 255;
};

}  // namespace repofs::fs
