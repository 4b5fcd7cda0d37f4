// Internals shared by the block_cache*.cc files: record encodings of the
// LMDB schema documented in block_cache.h, and the per-txn Delta.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "cache/block_cache.h"
#include "cache/lmdb_util.h"

namespace repofs::cache {

// blocks value: u32 length, u32 crc32c, u64 access seq.
struct BlockRecord {
  uint32_t length = 0;
  uint32_t crc = 0;
  uint64_t seq = 0;

  std::string Encode() const {
    std::string out;
    PutLe(&out, length, 4);
    PutLe(&out, crc, 4);
    PutLe(&out, seq, 8);
    return out;
  }
  static bool Decode(std::string_view v, BlockRecord* r) {
    if (v.size() != 16) return false;
    r->length = static_cast<uint32_t>(GetLe(v, 0, 4));
    r->crc = static_cast<uint32_t>(GetLe(v, 4, 4));
    r->seq = GetLe(v, 8, 8);
    return true;
  }
};

// objects value: u64 size, u64 blocks, u64 bytes, key.
struct ObjectRecord {
  uint64_t size = 0;
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  std::string key;

  std::string Encode() const {
    std::string out;
    PutLe(&out, size, 8);
    PutLe(&out, blocks, 8);
    PutLe(&out, bytes, 8);
    out += key;
    return out;
  }
  static bool Decode(std::string_view v, ObjectRecord* r) {
    if (v.size() < 24) return false;
    r->size = GetLe(v, 0, 8);
    r->blocks = GetLe(v, 8, 8);
    r->bytes = GetLe(v, 16, 8);
    r->key = std::string(v.substr(24));
    return true;
  }
};

// This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown.
std::string BootId();

// The block_size recorded in DIR's index (read-only peek), if any.
std::optional<uint64_t> PeekStoredBlockSize(const std::string& dir);

inline std::string SeqKey(uint64_t seq) {
  std::string out;
  PutBe64(&out, seq);
  return out;
}

struct BlockCache::RepairCounts {
  std::unordered_set<VersionId, VersionIdHash> live;
  int64_t bytes = 0, blocks = 0, meta = 0;
  uint64_t dropped = 0;
};

struct BlockCache::Delta {
  int64_t bytes = 0, blocks = 0, objects = 0, meta = 0;
  uint64_t evicted = 0;
  // Blocks removed in this txn, per version: bytes/blocks to subtract from
  // the object record (FinishObjectsInTxn) and holes to punch after commit.
  struct ObjectChange {
    uint64_t blocks = 0, bytes = 0;
    std::vector<std::pair<uint64_t, uint64_t>> holes;  // offset, length
  };
  std::map<std::string, ObjectChange> removed;  // by vid raw bytes
  std::vector<VersionId> files_to_remove;
  std::vector<BlockTag> doomed;  // undoomed after the txn
  std::vector<BlockTag> unverify;
};

}  // namespace repofs::cache
