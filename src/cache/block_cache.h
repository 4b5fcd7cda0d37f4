// BlockCache: the persistent, bounded block cache of one mount (DESIGN.md
// "Block cache"; tenets 1 and 4). Blocks of immutable object versions are
// indexed in LMDB (DIR/index.mdb) by (VersionId, block number) with their
// length, CRC-32C and last access; their bytes live in one sparse data file
// per version (DIR/data/, see data_files.h). Opaque metadata blobs (POSIX
// metadata by object version) are kept in the same index and count against
// the same bound. A bad block -- checksum mismatch, short or missing data --
// is a miss and is dropped, never returned as data.
//
// Ownership: Open() returns the only owner. The cache holds an exclusive
// flock on DIR/lock (containing the pid) for its whole life, so a second
// mount (or `repofs cache prune`) on the same dir gets EBUSY. Every BlockRef
// must be released before the cache is destroyed. Do not use a cache across
// fork() (LMDB forbids it); open it in the process that uses it.
//
// Thread-safety: every public method is thread-safe. Write transactions are
// serialized by one mutex (writer_mu_); reads use short read-only txns
// (MDB_NOTLS, so any thread may run one). Access-time updates and hit/miss
// counters are collected in memory and written in batches (every
// kTouchBatch hits or kTouchFlushInterval, whichever first, by a thread that
// finds the writer idle); never one write transaction per read.
//
// Durability: the env is opened with MDB_NOSYNC (no fsync per commit; a
// commit costs no disk flush, so inserting keeps up with S3). LMDB keeps a
// NOSYNC env intact across a process crash (kill -9: the page cache has
// every committed txn), but a system crash may leave it corrupt. Hence
// DIR/state: "open <boot_id>" (fsynced) while a cache is open, "clean" after
// a final mdb_env_sync at close. An Open that finds "open" with another
// boot id (the system went down under a running cache) discards the index
// and data instead of trusting them. Data is pwritten before its index
// entry is committed, so a crash leaves at most orphan data, removed at the
// next Open. Data files are never fsynced: a block whose bytes did not reach
// the disk fails its checksum, which every block gets the first time this
// process returns it -- unless a verification stamp vouches for it:
//
// Verification stamps: at a clean close, each version all of whose indexed
// blocks were checked in this process gets a stamp in the info DB: the boot
// id and its data file's inode number, size, mtime and ctime (ns), and its
// block count. Open loads and deletes every stamp, so a crash leaves none;
// the ones a process did not need are written back at its clean close while
// their file is unchanged. The first use of a block of a stamped version
// compares the stamp with the index and an fstat of the data file; if all
// agree, no byte of the file changed since the stamp (a write, truncation or
// punched hole moves ctime; a reboot changes the boot id, and with it pages
// that never reached the disk are caught), and the version's blocks count as
// checked without reading them. Otherwise they are checked on first use as
// always. So a remount reads a cached file at the speed of its data file
// (and FUSE passthrough can hand the file to the kernel, see OpenWhole).
//
// LMDB schema (kSchemaVersion = 1; big-endian integers in keys, so that
// LMDB's byte order is numeric order; little-endian in values):
//   DB       key                           value
//   info     "schema"                      u32 schema version
//   info     "block_size"                  u64 bytes per block
//   info     "hits" / "misses"             u64 persisted counters
//   objects  vid[16]                       u64 object size, u64 blocks,
//                                          u64 bytes, key bytes (for humans)
//   blocks   vid[16] . be64 block_no       u32 length, u32 crc32c,
//                                          u64 access seq
//   info     "stamp" vid[16]               u64 ino, u64 size, u64 mtime ns,
//                                          u64 ctime ns, u64 blocks, boot id
//   meta     caller id (1..400 bytes)      u64 access seq, blob
//   lru      be64 access seq               'b' vid[16] be64 block_no
//                                          | 'm' meta id
// vid = VersionId::Of(key, etag): truncated SHA-256 of key NUL etag.
// Access seqs are unique and increase; the lru DB is the eviction order
// (smallest seq = least recently used) and every block/meta entry has
// exactly one lru entry (its current seq). A different block_size or schema
// version in an existing dir clears the cache at Open (logged): block
// numbers mean nothing under another block size.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/data_files.h"
#include "cache/version_id.h"
#include "repofs/result.h"
#include "util/handles.h"

struct stat;
struct MDB_env;  // from <lmdb.h>, which only cache/*.cc include

namespace repofs::cache {

class Txn;  // cache/lmdb_util.h

struct CacheOptions {
  std::string dir;                       // created if missing (one level)
  uint64_t max_bytes = 10ull << 30;      // cache_size
  uint64_t min_free_bytes = 1ull << 30;  // cache_min_free (filesystem of dir)
  uint64_t block_size = 1ull << 20;      // fixed per dir (see above)
  // LMDB map: starts at initial_map_bytes, doubles on MDB_MAP_FULL up to
  // max_map_bytes, after which MAP_FULL evicts. The map is address space
  // and a sparse file; only used pages take disk.
  uint64_t initial_map_bytes = 256ull << 20;
  uint64_t max_map_bytes = 64ull << 30;
  size_t max_open_files = 256;  // data file fds kept open
  // Free bytes of the filesystem holding `dir`; null = statvfs. Injected by
  // tests; nullopt = unknown (the floor is then not enforced).
  std::function<std::optional<uint64_t>(const std::string& dir)> free_space;
  // The boot id stamps are made and checked with; "" = this boot's
  // (/proc/sys/kernel/random/boot_id). Tests inject others.
  std::string boot_id;
};

// The identity of one immutable object version; `size` bounds the blocks
// (the last one may be short).
struct VersionRef {
  std::string_view key;
  std::string_view etag;  // unquoted
  uint64_t size = 0;
};

// Cached bytes, readable from `fd` at [file_offset, file_offset + length)
// (file_offset == the offset in the object). Checksum-verified in this
// process. While a BlockRef lives its blocks are pinned: eviction skips
// them, so the bytes stay valid for a zero-copy (splice) reply.
struct BlockRef {
  SharedFd fd;
  uint64_t file_offset = 0;
  uint64_t length = 0;
  std::shared_ptr<void> pin;  // releases the pin when the last copy goes
  int raw_fd() const { return fd->get(); }
};

// A whole object version in the cache (OpenWhole): every block present and
// checked, in `fd`, the version's data file (file offset == object offset,
// file size == object size), so the kernel may read the file itself (FUSE
// passthrough). While a WholeFile lives every block of the version is
// pinned: eviction skips them and punches no hole under a reader.
struct WholeFile {
  SharedFd fd;
  std::shared_ptr<void> pin;
  int raw_fd() const { return fd->get(); }
};

struct CacheStats {
  uint64_t bytes = 0;  // block + meta bytes indexed now
  uint64_t blocks = 0;
  uint64_t objects = 0;  // versions with at least one block
  uint64_t meta_entries = 0;
  uint64_t max_bytes = 0;
  uint64_t hits = 0;            // block lookups served (this process)
  uint64_t misses = 0;          // block lookups not served (this process)
  uint64_t persisted_hits = 0;  // all processes, incl. unflushed
  uint64_t persisted_misses = 0;
  uint64_t evictions = 0;    // blocks + meta entries evicted (this process)
  uint64_t dropped_bad = 0;  // blocks dropped: bad checksum/short/missing
  uint64_t insert_errors = 0;
};

struct VerifyResult {
  uint64_t checked = 0;
  uint64_t bad = 0;  // dropped
};

class BlockCache {
 public:
  static constexpr uint32_t kSchemaVersion = 1;
  static constexpr uint64_t kDefaultBlockSize = 1ull << 20;
  static constexpr size_t kTouchBatch = 1024;
  static constexpr std::chrono::milliseconds kTouchFlushInterval{1000};
  static constexpr size_t kMaxMetaIdSize = 400;
  static constexpr size_t kMaxMetaBlobSize = 1 << 20;

  // Opens (creating) the cache in options.dir, takes the dir lock, repairs
  // the index against the data files (see Durability). Errors: EBUSY "cache dir
  // DIR is in use by another repofs (pid N)"; EINVAL for a bad block_size (not
  // a power of two in [4 KiB, 64 MiB]) or an empty dir; the errno of a failing
  // mkdir/open/LMDB call otherwise.
  static Result<std::unique_ptr<BlockCache>> Open(
      const CacheOptions& requested);
  ~BlockCache();  // flushes batched access times and counters
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  uint64_t block_size() const { return options_.block_size; }
  const CacheOptions& options() const { return options_; }

  // Block `block_no` of `version`, pinned and verified, or nullopt (miss;
  // a bad entry is dropped). Counts a hit or a miss.
  std::optional<BlockRef> Lookup(const VersionRef& version, uint64_t block_no);
  // Like Lookup, copying the bytes into *out. False = miss.
  bool ReadBlock(const VersionRef& version, uint64_t block_no,
                 std::string* out);
  // True when the index has the block (no verification, not counted).
  bool Contains(const VersionRef& version, uint64_t block_no);
  // For zero-copy replies: [offset, offset + length) of `version` when every
  // block it touches is cached (one BlockRef: the range is contiguous in
  // the version's data file), else nullopt. Counts hits/misses per block.
  // Requires length > 0 and offset + length <= version.size.
  std::optional<BlockRef> LookupRange(const VersionRef& version,
                                      uint64_t offset, uint64_t length);
  // Copies [offset, offset + length) of `version` into `out` when every
  // block it touches is cached and good, reading each block once (a block
  // used for the first time in this process is read whole and checked,
  // directly into `out` when the range covers it). False = some block
  // missed (`out` then holds garbage). Counts hits per block when all hit,
  // nothing on a miss (the caller falls back to a counted path).
  bool ReadRange(const VersionRef& version, uint64_t offset, uint64_t length,
                 char* out);

  // The whole of `version` (size > 0) when every block is cached and known
  // good in this process (checked on an earlier use, or vouched for by the
  // stamp of the last clean close), else nullopt. Never reads block data,
  // so an unchecked version is a plain nullopt (reads check it block by
  // block). Counts a hit and an access per block.
  std::optional<WholeFile> OpenWhole(const VersionRef& version);

  // Stores block `block_no` (bytes.size() must be the block's length:
  // block_size, or the remainder for the last block). Best effort: errors
  // are logged (rate-limited) and counted, never returned. Returns after
  // the index entry is committed, so a following Lookup hits.
  void Insert(const VersionRef& version, uint64_t block_no,
              std::string_view bytes);

  // Opaque metadata blobs by caller-chosen id (1..kMaxMetaIdSize bytes;
  // blobs up to kMaxMetaBlobSize).
  // Counted in bytes and evicted in LRU order like blocks. PutMeta is best
  // effort (like Insert) and replaces an existing blob.
  std::optional<std::string> GetMeta(std::string_view id);
  void PutMeta(std::string_view id, std::string_view blob);

  CacheStats Stats();
  // Checks every block's checksum; bad ones are dropped. `progress(done,
  // total)` is called every few blocks and at the end (may be null).
  VerifyResult Verify(
      const std::function<void(uint64_t, uint64_t)>& progress = nullptr);
  // Evicts down to the limits (as if just inserted) and flushes batches.
  void Prune();
  // Drops every block and blob (pinned bytes stay readable until released).
  Status Clear();
  // Writes batched access times and counters now.
  void Flush();

 private:
  struct PendingBlock {
    VersionId id;
    uint64_t block_no = 0;
    uint32_t length = 0;
    uint32_t crc = 0;
    uint64_t object_size = 0;
    std::string key;
    SharedFd fd;
    std::shared_ptr<void> pin;
  };
  struct Touch {
    char type;        // 'b' or 'm'
    std::string key;  // blocks-DB key or meta id
  };
  // Changes of one write txn, applied to memory/files only after commit.
  struct Delta;

  explicit BlockCache(const CacheOptions& options);
  Status CheckPreviousShutdown();
  Status OpenEnv();
  void MarkCleanShutdown();
  Status CheckSchemaLocked();
  struct RepairCounts;
  Status Repair();
  int RepairBlocksInTxn(Txn& txn, RepairCounts& counts);
  int RepairRestInTxn(Txn& txn, RepairCounts& counts);

  // A slice of one block to copy out: block-relative [from, from + length).
  struct Slice {
    char* dst;
    uint64_t from;
    uint64_t length;
    // Non-null: the whole block goes into *grow, sized only once the block
    // is known to be there (a miss costs no zero-filling of a block).
    std::string* grow = nullptr;
  };
  std::optional<BlockRef> LookupInternal(const VersionRef& version,
                                         uint64_t block_no, const Slice* read,
                                         bool count);
  std::shared_ptr<void> PinBlock(const BlockTag& tag, bool* verified);
  // Verification stamps (see the top of this file).
  struct Stamp {
    uint64_t ino = 0, size = 0, mtime_ns = 0, ctime_ns = 0, blocks = 0;
    std::string boot;
  };
  static std::string StampKey(const VersionId& id);
  static std::string EncodeStamp(const Stamp& stamp);
  bool StampMatches(const Stamp& stamp, const struct stat& st) const;
  Status LoadStampsLocked();
  void WriteStampsLocked();
  // Consumes `id`'s stamp; true (and the version's indexed blocks marked
  // verified) when it still matches the index and the data file.
  bool TrustByStamp(const VersionId& id);
  void MarkVerified(const BlockTag& tag);
  // Drops block_no of id if its index entry still has access seq `seq`
  // (kAnySeq: whatever it has); counts it in dropped_bad. True if dropped.
  static constexpr uint64_t kAnySeq = ~0ull;
  bool DropBlock(const VersionId& id, uint64_t block_no, uint64_t seq);
  void NoteTouch(char type, std::string key);
  void CountLookup(bool hit);
  void MaybeFlushTouches();

  // Runs `body` in a write txn; writer_mu_ must be held. MDB_MAP_FULL grows
  // the map (up to max_map_bytes), then evicts, and retries (bounded).
  // After a commit the delta is applied (totals, hole punching, unlinks).
  Status RunWriteLocked(const std::function<int(Txn&, Delta&)>& body,
                        std::string_view what);
  void ApplyDeltaLocked(Delta& delta, bool committed);
  int RemoveBlockInTxn(Txn& txn, const VersionId& id, uint64_t block_no,
                       Delta& delta, bool delete_lru);
  int FinishObjectsInTxn(Txn& txn, Delta& delta);
  int InsertBlockInTxn(Txn& txn, const PendingBlock& p, Delta& delta);
  void CommitPendingLocked();
  void FlushLocked();
  bool GrowMapLocked();
  // Bytes of the pages the index uses now (all DBs, not the free ones).
  uint64_t IndexBytesLocked();
  // `incoming`: bytes about to be written (counted against the floor).
  void EvictIfNeededLocked(uint64_t incoming = 0);
  uint64_t EvictBatchLocked(uint64_t bytes_wanted, size_t max_entries);
  // Closes the env, deletes the index and every data file, reopens empty.
  void ResetIndexLocked();
  std::optional<uint64_t> FreeSpace() const;
  void LogError(const std::string& message);
  uint64_t ExpectedLength(const VersionRef& version, uint64_t block_no) const;
  static std::string BlockKey(const VersionId& id, uint64_t block_no);
  void PublishTotals();

  const CacheOptions options_;
  const std::string boot_id_;
  UniqueFd lock_fd_;
  DataFiles files_;
  std::unique_ptr<MDB_env, void (*)(MDB_env*)> env_;
  unsigned dbi_info_ = 0, dbi_objects_ = 0, dbi_blocks_ = 0, dbi_meta_ = 0,
           dbi_lru_ = 0;
  uint64_t map_bytes_ = 0;          // GUARDED_BY(writer_mu_)
  bool map_full_recovery_ = false;  // GUARDED_BY(writer_mu_)

  // Lock order: writer_mu_ -> env_mu_ -> mem_mu_. files_'s mutex is a leaf.
  // writer_mu_ serializes write txns, eviction and data file deletion.
  std::mutex writer_mu_;
  // Held shared by every txn, exclusive to resize the map (LMDB requires
  // no active txn in the process for mdb_env_set_mapsize).
  std::shared_mutex env_mu_;
  uint64_t next_seq_ = 1;  // GUARDED_BY(writer_mu_)
  // GUARDED_BY(writer_mu_); mirrored in the stat_ atomics for Stats().
  int64_t total_bytes_ = 0, total_blocks_ = 0, total_objects_ = 0,
          total_meta_ = 0;
  std::vector<PendingBlock> pending_;  // GUARDED_BY(mem_mu_)
  std::atomic<uint64_t> stat_bytes_{0}, stat_blocks_{0}, stat_objects_{0},
      stat_meta_{0};
  std::atomic<uint64_t> persisted_hits_{0}, persisted_misses_{0};

  // Leaf: in-memory sets and batches.
  std::mutex mem_mu_;
  std::unordered_set<BlockTag, BlockTagHash> verified_;  // GUARDED_BY(mem_mu_)
  std::unordered_map<BlockTag, uint32_t, BlockTagHash> pins_;  // GUARDED_BY
  std::unordered_set<BlockTag, BlockTagHash> doomed_;   // GUARDED_BY(mem_mu_)
  std::unordered_map<VersionId, Stamp, VersionIdHash> stamps_;  // GUARDED_BY
  std::vector<Touch> touches_;                          // GUARDED_BY(mem_mu_)
  uint64_t unflushed_hits_ = 0, unflushed_misses_ = 0;  // GUARDED_BY(mem_mu_)
  std::chrono::steady_clock::time_point last_flush_;    // GUARDED_BY(mem_mu_)

  std::atomic<uint64_t> hits_{0}, misses_{0}, evictions_{0}, dropped_bad_{0},
      insert_errors_{0};
  std::atomic<int64_t> last_error_log_{0};
};

}  // namespace repofs::cache
