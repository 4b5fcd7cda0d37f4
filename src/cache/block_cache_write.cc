// BlockCache write side: the serialized write txn with MDB_MAP_FULL
// handling, group commit of inserted blocks, batched access times, and LRU
// eviction (by bytes and by the free-space floor).
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>

#include "cache/block_cache.h"
#include "cache/block_cache_internal.h"
#include "util/log.h"

namespace repofs::cache {
namespace {

constexpr int kMaxWriteAttempts = 8;
constexpr size_t kEvictBatchEntries = 4096;
constexpr size_t kRecoveryBatchEntries = 16;

}  // namespace

Status BlockCache::RunWriteLocked(const std::function<int(Txn&, Delta&)>& body,
                                  std::string_view what) {
  int rc = MDB_SUCCESS;
  bool reset_done = false;
  for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
    Delta delta;
    {
      std::shared_lock env_lock(env_mu_);
      Result<Txn> txn = Txn::Begin(env_.get(), false);
      if (!txn) {
        rc = MDB_PANIC;
        ApplyDeltaLocked(delta, false);
        return txn.error();
      }
      rc = body(*txn, delta);
      if (rc == MDB_SUCCESS) rc = FinishObjectsInTxn(*txn, delta);
      if (rc == MDB_SUCCESS) rc = txn->Commit();
    }
    ApplyDeltaLocked(delta, rc == MDB_SUCCESS);
    if (rc != MDB_MAP_FULL || map_full_recovery_) break;
    // The index outgrew the map: grow it while allowed, else make room by
    // evicting in small txns (each needs only a few new pages), and as the
    // last resort start over with an empty index: never fail forever.
    if (GrowMapLocked()) continue;
    map_full_recovery_ = true;
    uint64_t wanted = static_cast<uint64_t>(total_bytes_) / 10 + 1, freed = 0;
    for (int round = 0; round < 16 && freed < wanted; ++round) {
      uint64_t n = EvictBatchLocked(wanted - freed, kRecoveryBatchEntries);
      if (n == 0) break;
      freed += n;
    }
    map_full_recovery_ = false;
    if (freed == 0) {
      // Once: if an empty index cannot take this txn, the txn is the
      // problem (an entry larger than the map), not the cache.
      if (reset_done) break;
      ResetIndexLocked();
      reset_done = true;
    }
  }
  if (rc != MDB_SUCCESS) return MdbError(rc, what);
  return OkStatus();
}

uint64_t BlockCache::IndexBytesLocked() {
  std::shared_lock env_lock(env_mu_);
  Result<Txn> txn = Txn::Begin(env_.get(), true);
  if (!txn) return 0;
  uint64_t pages = 0, page_size = 4096;
  // MAIN_DBI (1) holds the named DBs; FREE_DBI (0) the free list.
  for (MDB_dbi dbi : {MDB_dbi{0}, MDB_dbi{1}, dbi_info_, dbi_objects_,
                      dbi_blocks_, dbi_meta_, dbi_lru_}) {
    MDB_stat st{};
    if (mdb_stat(txn->get(), dbi, &st) != MDB_SUCCESS) continue;
    pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    page_size = st.ms_psize;
  }
  return pages * page_size;
}

bool BlockCache::GrowMapLocked() {
  if (map_bytes_ >= options_.max_map_bytes) return false;
  uint64_t grown = std::min(map_bytes_ * 2, options_.max_map_bytes);
  std::unique_lock env_lock(env_mu_);  // no txn may be active
  int rc = mdb_env_set_mapsize(env_.get(), grown);
  if (rc != MDB_SUCCESS) {
    LogError(MdbError(rc, "mdb_env_set_mapsize").message);
    return false;
  }
  REPOFS_LOG(kInfo) << "cache: index map grown to " << grown << " bytes";
  map_bytes_ = grown;
  return true;
}

void BlockCache::ApplyDeltaLocked(Delta& delta, bool committed) {
  if (committed) {
    total_bytes_ += delta.bytes;
    total_blocks_ += delta.blocks;
    total_objects_ += delta.objects;
    total_meta_ += delta.meta;
    evictions_.fetch_add(delta.evicted, std::memory_order_relaxed);
    PublishTotals();
    for (const auto& [raw, change] : delta.removed) {
      VersionId id;
      VersionId::FromRaw(raw, &id);
      for (const auto& [offset, length] : change.holes) {
        if (Status s = files_.PunchHole(id, offset, length); !s)
          LogError(s.error().message);
      }
    }
    for (const VersionId& id : delta.files_to_remove) files_.Remove(id);
  }
  std::lock_guard lock(mem_mu_);
  for (const BlockTag& tag : delta.unverify) verified_.erase(tag);
  for (const BlockTag& tag : delta.doomed) doomed_.erase(tag);
}

void BlockCache::PublishTotals() {
  stat_bytes_.store(static_cast<uint64_t>(std::max<int64_t>(total_bytes_, 0)));
  stat_blocks_.store(
      static_cast<uint64_t>(std::max<int64_t>(total_blocks_, 0)));
  stat_objects_.store(
      static_cast<uint64_t>(std::max<int64_t>(total_objects_, 0)));
  stat_meta_.store(static_cast<uint64_t>(std::max<int64_t>(total_meta_, 0)));
}

// Removes one block's index entry (and its lru entry). The hole is punched
// after commit unless a reader pins the block; the block is marked doomed
// so that no new pin is handed out meanwhile.
int BlockCache::RemoveBlockInTxn(Txn& txn, const VersionId& id,
                                 uint64_t block_no, Delta& delta,
                                 bool delete_lru) {
  std::string key = BlockKey(id, block_no);
  std::string_view value;
  BlockRecord rec;
  int rc = txn.Get(dbi_blocks_, key, &value);
  if (rc == MDB_NOTFOUND) return MDB_SUCCESS;
  if (rc != MDB_SUCCESS) return rc;
  if (!BlockRecord::Decode(value, &rec)) rec = BlockRecord{};
  if (delete_lru) {
    if ((rc = txn.Del(dbi_lru_, SeqKey(rec.seq))) != MDB_SUCCESS) return rc;
  }
  if ((rc = txn.Del(dbi_blocks_, key)) != MDB_SUCCESS) return rc;
  BlockTag tag{id.Prefix64(), block_no};
  bool pinned;
  {
    std::lock_guard lock(mem_mu_);
    pinned = pins_.count(tag) != 0;
    if (!pinned && doomed_.insert(tag).second) delta.doomed.push_back(tag);
    verified_.erase(tag);
  }
  delta.unverify.push_back(tag);
  delta.bytes -= rec.length;
  delta.blocks -= 1;
  auto& change = delta.removed[std::string(id.raw())];
  change.blocks += 1;
  change.bytes += rec.length;
  if (!pinned)
    change.holes.emplace_back(block_no * options_.block_size, rec.length);
  return MDB_SUCCESS;
}

// Subtracts removed blocks from their object records; an object left with no
// block is deleted along with its data file (after commit).
int BlockCache::FinishObjectsInTxn(Txn& txn, Delta& delta) {
  for (auto& [raw, change] : delta.removed) {
    std::string_view value;
    ObjectRecord obj;
    int rc = txn.Get(dbi_objects_, raw, &value);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != MDB_SUCCESS) return rc;
    if (!ObjectRecord::Decode(value, &obj)) obj = ObjectRecord{};
    obj.blocks -= std::min(obj.blocks, change.blocks);
    obj.bytes -= std::min(obj.bytes, change.bytes);
    if (obj.blocks == 0) {
      if ((rc = txn.Del(dbi_objects_, raw)) != MDB_SUCCESS) return rc;
      delta.objects -= 1;
      VersionId id;
      VersionId::FromRaw(raw, &id);
      delta.files_to_remove.push_back(id);
      change.holes.clear();  // the whole file goes
    } else if ((rc = txn.Put(dbi_objects_, raw, obj.Encode())) != MDB_SUCCESS) {
      return rc;
    }
  }
  return MDB_SUCCESS;
}

// Indexes one written block (replacing an entry of the same block) and
// counts it in its object record.
int BlockCache::InsertBlockInTxn(Txn& txn, const PendingBlock& p,
                                 Delta& delta) {
  // Evicted (unlinked) since we wrote it: the bytes are gone.
  struct stat st {};
  if (::fstat(p.fd->get(), &st) != 0 || st.st_nlink == 0) return MDB_SUCCESS;
  std::string key = BlockKey(p.id, p.block_no);
  std::string_view value;
  BlockRecord old;
  int rc = txn.Get(dbi_blocks_, key, &value);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return rc;
  bool existed = rc == MDB_SUCCESS && BlockRecord::Decode(value, &old);
  if (existed && (rc = txn.Del(dbi_lru_, SeqKey(old.seq))) != MDB_SUCCESS)
    return rc;
  ObjectRecord obj;
  rc = txn.Get(dbi_objects_, p.id.raw(), &value);
  if (rc == MDB_SUCCESS) {
    ObjectRecord::Decode(value, &obj);
  } else if (rc == MDB_NOTFOUND) {
    obj.size = p.object_size;
    obj.key = p.key;
    delta.objects += 1;
  } else {
    return rc;
  }
  if (!existed) {
    obj.blocks += 1;
    delta.blocks += 1;
  }
  uint32_t old_length = existed ? old.length : 0;
  obj.bytes += p.length - old_length;
  delta.bytes += static_cast<int64_t>(p.length) - old_length;
  if ((rc = txn.Put(dbi_objects_, p.id.raw(), obj.Encode())) != 0) return rc;
  BlockRecord rec{p.length, p.crc, next_seq_++};
  if ((rc = txn.Put(dbi_blocks_, key, rec.Encode())) != 0) return rc;
  if ((rc = txn.Put(dbi_lru_, SeqKey(rec.seq), "b" + key)) != 0) return rc;
  delta.unverify.push_back(BlockTag{p.id.Prefix64(), p.block_no});
  return MDB_SUCCESS;
}

void BlockCache::CommitPendingLocked() {
  std::vector<PendingBlock> batch;
  {
    std::lock_guard lock(mem_mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  // Accesses that happened before these inserts must get older seqs than
  // the inserts, or the LRU order would be wrong (a txn without fsync under
  // MDB_NOSYNC is cheap).
  bool touched;
  {
    std::lock_guard lock(mem_mu_);
    touched = !touches_.empty();
  }
  if (touched) FlushLocked();
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta& delta) {
        for (const PendingBlock& p : batch) {
          if (int rc = InsertBlockInTxn(txn, p, delta); rc != 0) return rc;
        }
        return MDB_SUCCESS;
      },
      "insert blocks");
  if (!s) {
    insert_errors_.fetch_add(batch.size(), std::memory_order_relaxed);
    LogError(s.error().message);
  }
}

void BlockCache::FlushLocked() {
  std::vector<Touch> touches;
  uint64_t hits, misses;
  {
    std::lock_guard lock(mem_mu_);
    touches.swap(touches_);
    hits = std::exchange(unflushed_hits_, 0);
    misses = std::exchange(unflushed_misses_, 0);
    last_flush_ = std::chrono::steady_clock::now();
  }
  if (touches.empty() && hits == 0 && misses == 0) return;
  std::unordered_set<std::string> seen;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta&) {
        seen.clear();
        for (Touch& t : touches) {
          if (!seen.insert(t.type + t.key).second) continue;
          MDB_dbi dbi = t.type == 'b' ? dbi_blocks_ : dbi_meta_;
          std::string_view value;
          int rc = txn.Get(dbi, t.key, &value);
          if (rc == MDB_NOTFOUND || value.size() < 8) continue;  // evicted
          if (rc != MDB_SUCCESS) return rc;
          size_t seq_pos = t.type == 'b' ? 8 : 0;
          if (value.size() < seq_pos + 8) continue;
          if ((rc = txn.Del(dbi_lru_, SeqKey(GetLe(value, seq_pos, 8)))) != 0)
            return rc;
          std::string updated(value);
          uint64_t seq = next_seq_++;
          for (int i = 0; i < 8; ++i)
            updated[seq_pos + i] = static_cast<char>(seq >> (8 * i));
          if ((rc = txn.Put(dbi, t.key, updated)) != 0) return rc;
          if ((rc = txn.Put(dbi_lru_, SeqKey(seq),
                            std::string(1, t.type) + t.key)) != 0)
            return rc;
        }
        std::string value;
        PutLe(&value, persisted_hits_.load() + hits, 8);
        int rc = txn.Put(dbi_info_, "hits", value);
        value.clear();
        PutLe(&value, persisted_misses_.load() + misses, 8);
        return rc != 0 ? rc : txn.Put(dbi_info_, "misses", value);
      },
      "flush access times");
  if (s) {
    persisted_hits_ += hits;
    persisted_misses_ += misses;
  } else {
    LogError(s.error().message);
  }
}

void BlockCache::Flush() {
  std::lock_guard writer(writer_mu_);
  CommitPendingLocked();
  FlushLocked();
}

std::optional<uint64_t> BlockCache::FreeSpace() const {
  if (options_.free_space) return options_.free_space(options_.dir);
  struct statvfs st {};
  if (::statvfs(options_.dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// Over the limits, evicts in LRU order down to 95% of max_bytes (and 5% of
// max_bytes above the free-space floor), so eviction runs once per many
// inserts instead of once per insert.
void BlockCache::EvictIfNeededLocked(uint64_t incoming) {
  uint64_t wanted = 0;
  uint64_t bytes = static_cast<uint64_t>(std::max<int64_t>(total_bytes_, 0));
  if (bytes > options_.max_bytes) {
    wanted = bytes - options_.max_bytes / 100 * 95;
  }
  std::optional<uint64_t> free = FreeSpace();
  if (free && *free < options_.min_free_bytes + incoming) {
    // Slack so that the floor is not hit again by the next insert; bounded
    // by the floor itself for tiny disks.
    uint64_t slack = std::min(
        std::max<uint64_t>(options_.max_bytes / 20, options_.block_size),
        std::max<uint64_t>(options_.min_free_bytes / 4, options_.block_size));
    wanted =
        std::max(wanted, options_.min_free_bytes + incoming - *free + slack);
  }
  // At the largest map, keep 40% of it free: a txn that deletes also needs
  // new pages (copy-on-write) and pages freed by recent txns are not yet
  // reusable, so a map full of live pages cannot even evict.
  if (map_bytes_ >= options_.max_map_bytes &&
      IndexBytesLocked() > map_bytes_ / 10 * 6) {
    wanted = std::max<uint64_t>(wanted, bytes / 8 + 1);
  }
  if (wanted == 0) return;
  FlushLocked();  // evict by the latest access times, not stale ones
  for (int round = 0; wanted > 0 && round < 1000; ++round) {
    uint64_t freed = EvictBatchLocked(wanted, kEvictBatchEntries);
    if (freed == 0) break;
    wanted -= std::min(wanted, freed);
  }
}

uint64_t BlockCache::EvictBatchLocked(uint64_t bytes_wanted,
                                      size_t max_entries) {
  uint64_t freed = 0;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta& delta) {
        freed = 0;
        Cursor cursor(txn, dbi_lru_);
        size_t visited = 0;
        for (bool ok = cursor.First();
             ok && freed < bytes_wanted && visited < max_entries;
             ok = cursor.Next(), ++visited) {
          std::string entry(cursor.value());
          if (entry.size() == 25 && entry[0] == 'b') {
            VersionId id;
            VersionId::FromRaw(std::string_view(entry).substr(1, 16), &id);
            BlockTag tag{id.Prefix64(), GetBe64(entry, 17)};
            {
              std::lock_guard lock(mem_mu_);
              if (pins_.count(tag) != 0) continue;  // in use: skip for now
            }
            int64_t before = delta.bytes;
            // The cursor deletes the lru entry (below): deleting it by key
            // under an open cursor is not something to rely on.
            int rc = RemoveBlockInTxn(txn, id, tag.block_no, delta, false);
            if (rc != MDB_SUCCESS) return rc;
            freed += static_cast<uint64_t>(before - delta.bytes);
            delta.evicted += 1;
          } else if (!entry.empty() && entry[0] == 'm') {
            std::string_view value;
            std::string id = entry.substr(1);
            if (txn.Get(dbi_meta_, id, &value) == MDB_SUCCESS) {
              uint64_t size = value.size() >= 8 ? value.size() - 8 : 0;
              if (int rc = txn.Del(dbi_meta_, id); rc != 0) return rc;
              delta.bytes -= static_cast<int64_t>(size);
              delta.meta -= 1;
              delta.evicted += 1;
              freed += size + 1;  // an empty blob still counts as progress
            }
          }
          if (int rc = cursor.Delete(); rc != 0) return rc;
        }
        return MDB_SUCCESS;
      },
      "evict");
  if (!s) {
    LogError(s.error().message);
    return 0;
  }
  return freed;
}

bool BlockCache::DropBlock(const VersionId& id, uint64_t block_no,
                           uint64_t seq) {
  std::lock_guard writer(writer_mu_);
  bool dropped = false;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta& delta) {
        // Only the entry that was found bad: one evicted or re-inserted
        // meanwhile (a lookup racing with eviction reads a punched hole) is
        // left alone.
        std::string_view value;
        BlockRecord rec;
        int rc = txn.Get(dbi_blocks_, BlockKey(id, block_no), &value);
        if (rc == MDB_NOTFOUND) return MDB_SUCCESS;
        if (rc != MDB_SUCCESS) return rc;
        if (BlockRecord::Decode(value, &rec) && rec.seq != seq &&
            seq != kAnySeq) {
          return MDB_SUCCESS;
        }
        dropped = true;
        return RemoveBlockInTxn(txn, id, block_no, delta, true);
      },
      "drop block");
  if (!s) LogError(s.error().message);
  if (dropped) dropped_bad_.fetch_add(1, std::memory_order_relaxed);
  return s.ok() && dropped;
}

}  // namespace repofs::cache
