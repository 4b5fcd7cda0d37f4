// BlockCache: lookups, inserts and metadata blobs. Write-side machinery
// (txn retry, eviction) is in block_cache_write.cc; open/repair/verify/clear
// in block_cache_maint.cc.
#include "cache/block_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "cache/block_cache_internal.h"
#include "cache/cache_lock.h"
#include "util/hash.h"
#include "util/log.h"

namespace repofs::cache {
namespace {

void CloseEnv(MDB_env* env) {
  if (env != nullptr) mdb_env_close(env);
}

bool ValidBlockSize(uint64_t b) {
  return b >= 4096 && b <= (64ull << 20) && (b & (b - 1)) == 0;
}

// pread until `length` bytes or EOF/error; returns the bytes read.
uint64_t PreadFull(int fd, char* buf, uint64_t length, uint64_t offset) {
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, buf + done, length - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<uint64_t>(n);
  }
  return done;
}

}  // namespace

BlockCache::BlockCache(const CacheOptions& options)
    : options_(options),
      boot_id_(options.boot_id.empty() ? BootId() : options.boot_id),
      files_(options.dir + "/data", options.max_open_files),
      env_(nullptr, &CloseEnv),
      last_flush_(std::chrono::steady_clock::now()) {}

Result<std::unique_ptr<BlockCache>> BlockCache::Open(
    const CacheOptions& requested) {
  if (requested.dir.empty()) return Error{EINVAL, "cache_dir is empty"};
  if (requested.block_size != 0 && !ValidBlockSize(requested.block_size)) {
    return Error{EINVAL, "block_size " + std::to_string(requested.block_size) +
                             " is not a power of two between 4 KiB and 64 MiB"};
  }
  if (::mkdir(requested.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{errno, "cannot create cache dir " + requested.dir + ": " +
                            std::strerror(errno)};
  }
  Result<UniqueFd> lock = LockCacheDir(requested.dir);
  if (!lock) return lock.error();
  CacheOptions options = requested;
  if (options.block_size == 0) {
    std::optional<uint64_t> stored = PeekStoredBlockSize(options.dir);
    options.block_size =
        stored && ValidBlockSize(*stored) ? *stored : kDefaultBlockSize;
  }
  std::unique_ptr<BlockCache> cache(new BlockCache(options));
  cache->lock_fd_ = std::move(*lock);
  std::string data_dir = options.dir + "/data";
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{errno,
                 "cannot create " + data_dir + ": " + std::strerror(errno)};
  }
  if (Status s = cache->CheckPreviousShutdown(); !s) return s.error();
  if (Status s = cache->OpenEnv(); !s) return s.error();
  {
    std::lock_guard writer(cache->writer_mu_);
    if (Status s = cache->CheckSchemaLocked(); !s) return s.error();
  }
  if (Status s = cache->Repair(); !s) return s.error();
  {
    std::lock_guard writer(cache->writer_mu_);
    if (Status s = cache->LoadStampsLocked(); !s) return s.error();
  }
  return cache;
}

BlockCache::~BlockCache() {
  if (env_) {
    std::lock_guard writer(writer_mu_);
    CommitPendingLocked();
    FlushLocked();
    WriteStampsLocked();
    MarkCleanShutdown();
  }
}

uint64_t BlockCache::ExpectedLength(const VersionRef& version,
                                    uint64_t block_no) const {
  if (block_no > version.size / options_.block_size) return 0;
  uint64_t start = block_no * options_.block_size;
  if (start >= version.size) return 0;
  return std::min(options_.block_size, version.size - start);
}

std::string BlockCache::BlockKey(const VersionId& id, uint64_t block_no) {
  std::string key(id.raw());
  PutBe64(&key, block_no);
  return key;
}

void BlockCache::LogError(const std::string& message) {
  // At most one line per 10 s: a full disk must not flood the log.
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int64_t last = last_error_log_.load(std::memory_order_relaxed);
  if (now - last < 10 && last != 0) return;
  if (last_error_log_.compare_exchange_strong(last, now)) {
    REPOFS_LOG(kWarning) << "cache: " << message;
  }
}

std::shared_ptr<void> BlockCache::PinBlock(const BlockTag& tag,
                                           bool* verified) {
  std::lock_guard lock(mem_mu_);
  if (doomed_.count(tag) != 0) return nullptr;
  ++pins_[tag];
  *verified = verified_.count(tag) != 0;
  return std::shared_ptr<void>(this, [this, tag](void*) {
    std::lock_guard unpin_lock(mem_mu_);
    auto it = pins_.find(tag);
    if (it != pins_.end() && --it->second == 0) pins_.erase(it);
  });
}

void BlockCache::MarkVerified(const BlockTag& tag) {
  std::lock_guard lock(mem_mu_);
  verified_.insert(tag);
}

void BlockCache::CountLookup(bool hit) {
  (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mem_mu_);
  ++(hit ? unflushed_hits_ : unflushed_misses_);
}

std::optional<BlockRef> BlockCache::LookupInternal(const VersionRef& version,
                                                   uint64_t block_no,
                                                   const Slice* read,
                                                   bool count) {
  uint64_t expected = ExpectedLength(version, block_no);
  if (expected == 0) return std::nullopt;
  VersionId id = VersionId::Of(version.key, version.etag);
  std::string key = BlockKey(id, block_no);
  BlockRecord rec;
  bool found = false;
  {
    std::shared_lock env_lock(env_mu_);
    Result<Txn> txn = Txn::Begin(env_.get(), true);
    std::string_view value;
    found = txn && txn->Get(dbi_blocks_, key, &value) == MDB_SUCCESS &&
            BlockRecord::Decode(value, &rec);
  }
  if (!found) {
    if (count) CountLookup(false);
    return std::nullopt;
  }
  Slice grown{nullptr, 0, 0};
  if (read != nullptr && read->grow != nullptr) {
    read->grow->resize(expected);
    grown = Slice{read->grow->data(), 0, expected};
    read = &grown;
  }
  BlockTag tag{id.Prefix64(), block_no};
  bool verified = false;
  std::shared_ptr<void> pin;
  if (rec.length == expected) pin = PinBlock(tag, &verified);
  Result<SharedFd> fd =
      pin ? files_.Open(id, false) : Result<SharedFd>(Error{EIO, "bad length"});
  bool bad = !fd;
  const uint64_t block_offset = block_no * options_.block_size;
  if (!bad && !verified) verified = TrustByStamp(id);
  if (!bad && !verified) {
    // First use in this process: read the whole block once and check it,
    // straight into the caller's buffer when the slice is the whole block.
    const bool whole = read != nullptr && read->from == 0 && read->length == expected;
    thread_local std::unique_ptr<char[]> scratch;
    thread_local uint64_t scratch_size = 0;
    char* buf = whole ? read->dst : nullptr;
    if (buf == nullptr) {
      if (scratch_size < expected) {
        scratch.reset(new char[expected]);  // not zero-filled: overwritten
        scratch_size = expected;
      }
      buf = scratch.get();
    }
    bad = PreadFull((*fd)->get(), buf, expected, block_offset) != expected ||
          Crc32c(std::string_view(buf, expected)) != rec.crc;
    if (!bad) {
      MarkVerified(tag);
      if (read != nullptr && !whole) {
        std::memcpy(read->dst, buf + read->from, read->length);
      }
    }
  } else if (!bad && read != nullptr) {
    bad = PreadFull((*fd)->get(), read->dst, read->length,
                    block_offset + read->from) != read->length;
  }
  if (bad) {
    bool doomed = rec.length == expected && !pin;  // being evicted: plain miss
    pin.reset();
    if (!doomed && DropBlock(id, block_no, rec.seq)) {
      LogError("dropped bad block " + std::to_string(block_no) + " of " +
               std::string(version.key) + " (etag " +
               std::string(version.etag) + ")");
    }
    if (count) CountLookup(false);
    return std::nullopt;
  }
  NoteTouch('b', std::move(key));
  if (count) CountLookup(true);
  MaybeFlushTouches();
  return BlockRef{*fd, block_offset, expected, std::move(pin)};
}

std::optional<BlockRef> BlockCache::Lookup(const VersionRef& version,
                                           uint64_t block_no) {
  return LookupInternal(version, block_no, nullptr, true);
}

bool BlockCache::ReadBlock(const VersionRef& version, uint64_t block_no,
                           std::string* out) {
  const uint64_t expected = ExpectedLength(version, block_no);
  if (expected == 0) return false;
  const Slice read{nullptr, 0, expected, out};
  if (LookupInternal(version, block_no, &read, true)) return true;
  out->clear();
  return false;
}

bool BlockCache::Contains(const VersionRef& version, uint64_t block_no) {
  if (ExpectedLength(version, block_no) == 0) return false;
  std::string key =
      BlockKey(VersionId::Of(version.key, version.etag), block_no);
  std::shared_lock env_lock(env_mu_);
  Result<Txn> txn = Txn::Begin(env_.get(), true);
  std::string_view value;
  return txn && txn->Get(dbi_blocks_, key, &value) == MDB_SUCCESS;
}

std::optional<BlockRef> BlockCache::LookupRange(const VersionRef& version,
                                                uint64_t offset,
                                                uint64_t length) {
  if (length == 0 || offset > version.size || version.size - offset < length)
    return std::nullopt;
  const uint64_t b = options_.block_size;
  uint64_t first = offset / b, last = (offset + length - 1) / b;
  auto pins = std::make_shared<std::vector<std::shared_ptr<void>>>();
  SharedFd fd;
  for (uint64_t n = first; n <= last; ++n) {
    std::optional<BlockRef> ref = LookupInternal(version, n, nullptr, false);
    if (!ref || (fd && ref->fd != fd)) return std::nullopt;
    fd = ref->fd;
    pins->push_back(std::move(ref->pin));
  }
  for (uint64_t n = first; n <= last; ++n) CountLookup(true);
  return BlockRef{std::move(fd), offset, length, std::move(pins)};
}

bool BlockCache::ReadRange(const VersionRef& version, uint64_t offset,
                           uint64_t length, char* out) {
  if (length == 0 || offset > version.size || version.size - offset < length)
    return false;
  const uint64_t b = options_.block_size;
  const uint64_t end = offset + length;
  for (uint64_t n = offset / b; n * b < end; ++n) {
    const uint64_t lo = std::max(offset, n * b);
    const uint64_t hi = std::min(end, n * b + ExpectedLength(version, n));
    if (hi <= lo) return false;
    const Slice read{out + (lo - offset), lo - n * b, hi - lo};
    // Not counted per block: a miss here is retried through the reader
    // (CachedChunkSource), which counts it; only a full hit is counted.
    if (!LookupInternal(version, n, &read, false)) return false;
  }
  for (uint64_t n = offset / b; n * b < end; ++n) CountLookup(true);
  return true;
}

void BlockCache::Insert(const VersionRef& version, uint64_t block_no,
                        std::string_view bytes) {
  uint64_t expected = ExpectedLength(version, block_no);
  if (expected == 0 || bytes.size() != expected) {
    insert_errors_.fetch_add(1, std::memory_order_relaxed);
    LogError("refusing block " + std::to_string(block_no) + " of " +
             std::string(version.key) + ": " + std::to_string(bytes.size()) +
             " bytes, expected " + std::to_string(expected));
    return;
  }
  std::optional<uint64_t> free = FreeSpace();
  if (free && *free < options_.min_free_bytes + expected) {
    std::lock_guard writer(writer_mu_);
    EvictIfNeededLocked(expected);
    free = FreeSpace();
    if (free && *free < options_.min_free_bytes + expected) {
      insert_errors_.fetch_add(1, std::memory_order_relaxed);
      LogError("not caching: free space below cache_min_free in " +
               options_.dir);
      return;
    }
  }
  PendingBlock p;
  p.id = VersionId::Of(version.key, version.etag);
  p.block_no = block_no;
  p.length = static_cast<uint32_t>(expected);
  p.crc = Crc32c(bytes);
  p.object_size = version.size;
  p.key = std::string(version.key);
  // Pinned from before the write until after the commit, so that an
  // eviction of the old entry of this block cannot punch a hole into the
  // bytes we are writing; a block being evicted right now is skipped.
  bool verified_unused = false;
  p.pin = PinBlock(BlockTag{p.id.Prefix64(), block_no}, &verified_unused);
  if (!p.pin) return;
  Result<SharedFd> fd = files_.Open(p.id, true);
  if (!fd ||
      !files_.Write(p.id, (*fd)->get(), bytes, block_no * options_.block_size)) {
    insert_errors_.fetch_add(1, std::memory_order_relaxed);
    LogError(fd ? "write to " + files_.PathOf(p.id) + ": " +
                      std::strerror(errno)
                : fd.error().message);
    return;
  }
  p.fd = std::move(*fd);
  {
    std::lock_guard lock(mem_mu_);
    pending_.push_back(std::move(p));
  }
  // Group commit: whoever gets the writer commits every pending block.
  std::lock_guard writer(writer_mu_);
  CommitPendingLocked();
  EvictIfNeededLocked();
}

std::optional<std::string> BlockCache::GetMeta(std::string_view id) {
  if (id.empty() || id.size() > kMaxMetaIdSize) return std::nullopt;
  std::optional<std::string> blob;
  {
    std::shared_lock env_lock(env_mu_);
    Result<Txn> txn = Txn::Begin(env_.get(), true);
    std::string_view value;
    if (txn && txn->Get(dbi_meta_, id, &value) == MDB_SUCCESS &&
        value.size() >= 8) {
      blob = std::string(value.substr(8));
    }
  }
  if (blob) {
    NoteTouch('m', std::string(id));
    MaybeFlushTouches();
  }
  return blob;
}

void BlockCache::PutMeta(std::string_view id, std::string_view blob) {
  if (id.empty() || id.size() > kMaxMetaIdSize ||
      blob.size() > kMaxMetaBlobSize) {
    insert_errors_.fetch_add(1, std::memory_order_relaxed);
    LogError("meta entry of " + std::to_string(id.size()) + "+" +
             std::to_string(blob.size()) + " bytes refused");
    return;
  }
  std::lock_guard writer(writer_mu_);
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta& delta) {
        std::string_view old;
        int rc = txn.Get(dbi_meta_, id, &old);
        if (rc == MDB_SUCCESS && old.size() >= 8) {
          rc = txn.Del(dbi_lru_, SeqKey(GetLe(old, 0, 8)));
          if (rc != MDB_SUCCESS) return rc;
          delta.bytes -= static_cast<int64_t>(old.size() - 8);
        } else if (rc == MDB_NOTFOUND) {
          delta.meta += 1;
        } else if (rc != MDB_SUCCESS) {
          return rc;
        }
        uint64_t seq = next_seq_++;
        std::string value;
        PutLe(&value, seq, 8);
        value.append(blob);
        if ((rc = txn.Put(dbi_meta_, id, value)) != MDB_SUCCESS) return rc;
        delta.bytes += static_cast<int64_t>(blob.size());
        return txn.Put(dbi_lru_, SeqKey(seq), "m" + std::string(id));
      },
      "put meta");
  if (!s) {
    insert_errors_.fetch_add(1, std::memory_order_relaxed);
    LogError(s.error().message);
  }
  EvictIfNeededLocked();
}

void BlockCache::NoteTouch(char type, std::string key) {
  std::lock_guard lock(mem_mu_);
  touches_.push_back(Touch{type, std::move(key)});
}

void BlockCache::MaybeFlushTouches() {
  {
    std::lock_guard lock(mem_mu_);
    auto now = std::chrono::steady_clock::now();
    if (touches_.size() < kTouchBatch &&
        now - last_flush_ < kTouchFlushInterval)
      return;
  }
  // Never wait for the writer on the read path: the next hit retries.
  std::unique_lock writer(writer_mu_, std::try_to_lock);
  if (writer.owns_lock()) FlushLocked();
}

CacheStats BlockCache::Stats() {
  CacheStats s;
  s.bytes = stat_bytes_.load();
  s.blocks = stat_blocks_.load();
  s.objects = stat_objects_.load();
  s.meta_entries = stat_meta_.load();
  s.max_bytes = options_.max_bytes;
  s.hits = hits_.load();
  s.misses = misses_.load();
  {
    std::lock_guard lock(mem_mu_);
    s.persisted_hits = persisted_hits_.load() + unflushed_hits_;
    s.persisted_misses = persisted_misses_.load() + unflushed_misses_;
  }
  s.evictions = evictions_.load();
  s.dropped_bad = dropped_bad_.load();
  s.insert_errors = insert_errors_.load();
  return s;
}

}  // namespace repofs::cache
