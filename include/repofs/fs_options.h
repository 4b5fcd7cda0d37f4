// FsOptions: how the filesystem presents the bucket (ownership, modes, TTLs,
// read-ahead). Parsed from -o options in daemon/ and passed by const
// reference to fs::Filesystem and prefetch/ (no globals).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace repofs {

struct ReadaheadOptions {
  // A sequential reader's window starts at `initial` bytes ahead and doubles
  // up to `max`. Bytes are fetched as ranged GETs of `request_size` with at
  // most `parallelism` in flight per open file.
  uint64_t initial = 1ull << 20;        // readahead_initial
  uint64_t max = 64ull << 20;           // readahead_max
  uint64_t request_size = 8ull << 20;   // readahead_request_size
  int parallelism = 8;                  // readahead_parallelism
  // Cap on read-ahead buffer memory across all open files.
  uint64_t memory_limit = 512ull << 20; // readahead_memory
};

// The write path (staging files and uploads).
struct WriteOptions {
  // Directory of the local staging files (on a local disk). "" = $TMPDIR
  // or /tmp. The daemon sets a per-mount directory.
  std::string staging_dir;
  uint64_t part_size = 8ull << 20;  // upload_part_size (multipart part)
  int upload_parallelism = 4;       // upload_parallelism: parts in flight
};

// Where file attributes (mode, uid, gid, mtime) come from.
enum class AttrSource {
  // s3fs-compatible x-amz-meta-* headers, read by HEAD for object versions
  // not yet known (in parallel after a LIST). Exact, costs one HEAD per new
  // version.
  kHead,
  // LIST fields only: mtime = LastModified, mode = file_mode, uid/gid from
  // options. Never HEADs for attributes; for read-mostly web hosts.
  kList,
};

struct FsOptions {
  // Key prefix the mount root maps to: "" or ending in '/'.
  std::string prefix;

  uid_t uid = 0;                  // owner of entries without x-amz-meta-uid
  gid_t gid = 0;
  mode_t umask = 0022;            // applied to every reported mode
  mode_t file_mode = 0644;        // files without x-amz-meta-mode
  mode_t dir_mode = 0755;         // directories
  bool read_only = false;

  // How long a looked-up entry / attribute / listing is trusted.
  std::chrono::milliseconds metadata_ttl{30000};
  // How long "no such entry" is trusted.
  std::chrono::milliseconds negative_ttl{5000};
  AttrSource attr_source = AttrSource::kHead;  // attr_source=head|list
  // Parallel HEADs for entries whose metadata is unknown after a LIST.
  int head_parallelism = 32;
  // When S3 fails (unreachable, 5xx, after retries), lookups, listings and
  // opens of what is known are answered beyond their TTL (stale_if_error).
  bool stale_if_error = true;
  // FUSE passthrough (with a block cache and kernel support) only for files
  // of at least this size. A passthrough open costs a backing registration,
  // and the kernel then asks for the attributes again after every read
  // (the atime it cannot update): for small files served from the page
  // cache that is a GETATTR round trip per request, more than the daemon's
  // few READs from the block cache it saves.
  uint64_t passthrough_min_size = 4 << 20;

  ReadaheadOptions readahead;
  WriteOptions write;
};

}  // namespace repofs
