// BlockCache: whole cached versions (OpenWhole, for FUSE passthrough) and
// the verification stamps that carry "checked" across a clean remount (see
// "Verification stamps" in block_cache.h).
#include <sys/stat.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "cache/block_cache.h"
#include "cache/block_cache_internal.h"

namespace repofs::cache {
namespace {

constexpr std::string_view kStampPrefix = "stamp";

uint64_t Nanos(const struct timespec& t) {
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(t.tv_nsec);
}

}  // namespace

// Whether `st` (of a version's data file) is the file `stamp` describes:
// same boot, inode, size, mtime and ctime.
bool BlockCache::StampMatches(const Stamp& stamp, const struct stat& st) const {
  return stamp.boot == boot_id_ &&
         static_cast<uint64_t>(st.st_ino) == stamp.ino &&
         static_cast<uint64_t>(st.st_size) == stamp.size &&
         Nanos(st.st_mtim) == stamp.mtime_ns &&
         Nanos(st.st_ctim) == stamp.ctime_ns;
}

namespace {

// The block numbers the index has for `id` (ascending), with their lengths.
bool IndexedBlocks(const Txn& txn, unsigned dbi_blocks, const VersionId& id,
                   std::vector<std::pair<uint64_t, uint32_t>>* out) {
  Cursor cursor(txn, dbi_blocks);
  if (!cursor.ok()) return false;
  for (bool ok = cursor.Seek(id.raw());
       ok && cursor.key().size() == 24 && cursor.key().substr(0, 16) == id.raw();
       ok = cursor.Next()) {
    BlockRecord rec;
    if (!BlockRecord::Decode(cursor.value(), &rec)) return false;
    out->emplace_back(GetBe64(cursor.key(), 16), rec.length);
  }
  return true;
}

}  // namespace

std::string BlockCache::EncodeStamp(const Stamp& stamp) {
  std::string value;
  PutLe(&value, stamp.ino, 8);
  PutLe(&value, stamp.size, 8);
  PutLe(&value, stamp.mtime_ns, 8);
  PutLe(&value, stamp.ctime_ns, 8);
  PutLe(&value, stamp.blocks, 8);
  value += stamp.boot;
  return value;
}

std::string BlockCache::StampKey(const VersionId& id) {
  std::string key(kStampPrefix);
  key += id.raw();
  return key;
}

Status BlockCache::LoadStampsLocked() {
  std::unordered_map<VersionId, Stamp, VersionIdHash> loaded;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta&) {
        loaded.clear();
        Cursor cursor(txn, dbi_info_);
        if (!cursor.ok()) return MDB_PANIC;
        for (bool ok = cursor.Seek(kStampPrefix);
             ok && cursor.key().substr(0, kStampPrefix.size()) == kStampPrefix;) {
          VersionId id;
          std::string_view v = cursor.value();
          if (VersionId::FromRaw(cursor.key().substr(kStampPrefix.size()), &id) &&
              v.size() > 40) {
            Stamp& stamp = loaded[id];
            stamp.ino = GetLe(v, 0, 8);
            stamp.size = GetLe(v, 8, 8);
            stamp.mtime_ns = GetLe(v, 16, 8);
            stamp.ctime_ns = GetLe(v, 24, 8);
            stamp.blocks = GetLe(v, 32, 8);
            stamp.boot = std::string(v.substr(40));
          }
          // Consumed: a stamp is good for this open only.
          if (int rc = cursor.Delete(); rc != MDB_SUCCESS) return rc;
          ok = cursor.Seek(kStampPrefix);
        }
        return MDB_SUCCESS;
      },
      "load verification stamps");
  if (!s) return s;
  std::lock_guard lock(mem_mu_);
  stamps_ = std::move(loaded);
  return OkStatus();
}

void BlockCache::WriteStampsLocked() {
  if (boot_id_.empty()) return;
  std::unordered_map<uint64_t, uint64_t> checked;  // version prefix -> blocks
  std::unordered_map<VersionId, Stamp, VersionIdHash> unused;
  {
    std::lock_guard lock(mem_mu_);
    for (const BlockTag& tag : verified_) ++checked[tag.version];
    unused.swap(stamps_);
  }
  if (checked.empty() && unused.empty()) return;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta&) {
        // Stamps this process never needed still vouch while their file is
        // unchanged (any change to it -- a new block, a hole -- moves ctime).
        for (const auto& [id, stamp] : unused) {
          struct stat st {};
          if (checked.count(id.Prefix64()) != 0 ||
              ::stat(files_.PathOf(id).c_str(), &st) != 0 ||
              !StampMatches(stamp, st)) {
            continue;
          }
          if (int rc = txn.Put(dbi_info_, StampKey(id), EncodeStamp(stamp));
              rc != 0) {
            return rc;
          }
        }
        if (checked.empty()) return MDB_SUCCESS;
        Cursor cursor(txn, dbi_objects_);
        if (!cursor.ok()) return MDB_PANIC;
        for (bool ok = cursor.First(); ok; ok = cursor.Next()) {
          VersionId id;
          ObjectRecord rec;
          if (!VersionId::FromRaw(cursor.key(), &id) ||
              !ObjectRecord::Decode(cursor.value(), &rec)) {
            continue;
          }
          auto it = checked.find(id.Prefix64());
          if (it == checked.end() || it->second != rec.blocks) continue;
          struct stat st {};
          if (::stat(files_.PathOf(id).c_str(), &st) != 0) continue;
          const Stamp stamp{static_cast<uint64_t>(st.st_ino),
                            static_cast<uint64_t>(st.st_size),
                            Nanos(st.st_mtim),
                            Nanos(st.st_ctim),
                            rec.blocks,
                            boot_id_};
          if (int rc = txn.Put(dbi_info_, StampKey(id), EncodeStamp(stamp));
              rc != 0) {
            return rc;
          }
        }
        return MDB_SUCCESS;
      },
      "write verification stamps");
  if (!s) LogError(s.error().message);
}

bool BlockCache::TrustByStamp(const VersionId& id) {
  Stamp stamp;
  {
    std::lock_guard lock(mem_mu_);
    if (stamps_.empty()) return false;
    auto it = stamps_.find(id);
    if (it == stamps_.end()) return false;
    stamp = std::move(it->second);
    stamps_.erase(it);
  }
  if (stamp.boot != boot_id_) return false;  // cheap check before the index
  // The index first, then the file: a block written after the stamp changed
  // the file's ctime before the fstat below can see it.
  std::vector<std::pair<uint64_t, uint32_t>> blocks;
  {
    std::shared_lock env_lock(env_mu_);
    Result<Txn> txn = Txn::Begin(env_.get(), true);
    if (!txn || !IndexedBlocks(*txn, dbi_blocks_, id, &blocks)) return false;
  }
  if (blocks.size() != stamp.blocks) return false;
  Result<SharedFd> fd = files_.Open(id, false);
  struct stat st {};
  if (!fd || ::fstat((*fd)->get(), &st) != 0 || !StampMatches(stamp, st)) {
    return false;
  }
  std::lock_guard lock(mem_mu_);
  for (const auto& [block_no, length] : blocks) {
    verified_.insert(BlockTag{id.Prefix64(), block_no});
  }
  return true;
}

std::optional<WholeFile> BlockCache::OpenWhole(const VersionRef& version) {
  const uint64_t b = options_.block_size;
  if (version.size == 0) return std::nullopt;
  const uint64_t count = (version.size + b - 1) / b;
  const VersionId id = VersionId::Of(version.key, version.etag);
  std::vector<std::pair<uint64_t, uint32_t>> blocks;
  {
    std::shared_lock env_lock(env_mu_);
    Result<Txn> txn = Txn::Begin(env_.get(), true);
    if (!txn || !IndexedBlocks(*txn, dbi_blocks_, id, &blocks)) {
      return std::nullopt;
    }
  }
  if (blocks.size() != count) return std::nullopt;
  for (uint64_t n = 0; n < count; ++n) {
    if (blocks[n].first != n || blocks[n].second != ExpectedLength(version, n))
      return std::nullopt;
  }
  // Every block pinned under one lock, and released as one: an open of a
  // big file must not take mem_mu_ once per block.
  const uint64_t prefix = id.Prefix64();
  bool all_verified = true;
  {
    std::lock_guard lock(mem_mu_);
    for (uint64_t n = 0; n < count; ++n) {
      if (doomed_.count(BlockTag{prefix, n}) != 0) return std::nullopt;
    }
    for (uint64_t n = 0; n < count; ++n) {
      ++pins_[BlockTag{prefix, n}];
      all_verified = all_verified && verified_.count(BlockTag{prefix, n}) != 0;
    }
  }
  std::shared_ptr<void> pin(this, [this, prefix, count](void*) {
    std::lock_guard lock(mem_mu_);
    for (uint64_t n = 0; n < count; ++n) {
      auto it = pins_.find(BlockTag{prefix, n});
      if (it != pins_.end() && --it->second == 0) pins_.erase(it);
    }
  });
  if (!all_verified) {
    if (!TrustByStamp(id)) return std::nullopt;
    std::lock_guard lock(mem_mu_);
    for (uint64_t n = 0; n < count; ++n) {
      if (verified_.count(BlockTag{prefix, n}) == 0) return std::nullopt;
    }
  }
  Result<SharedFd> fd = files_.Open(id, false);
  struct stat st {};
  if (!fd || ::fstat((*fd)->get(), &st) != 0 ||
      static_cast<uint64_t>(st.st_size) != version.size) {
    return std::nullopt;
  }
  std::vector<Touch> touches;
  touches.reserve(count);
  for (uint64_t n = 0; n < count; ++n) {
    touches.push_back(Touch{'b', BlockKey(id, n)});
  }
  hits_.fetch_add(count, std::memory_order_relaxed);
  {
    std::lock_guard lock(mem_mu_);
    unflushed_hits_ += count;
    for (Touch& touch : touches) touches_.push_back(std::move(touch));
  }
  MaybeFlushTouches();
  return WholeFile{std::move(*fd), std::move(pin)};
}

}  // namespace repofs::cache
