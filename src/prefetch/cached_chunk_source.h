// CachedChunkSource: a ChunkSource that answers from the persistent block
// cache (cache::BlockCache) and forwards misses to the ChunkSource it wraps
// (normally the S3ChunkSource), inserting what streams by.
//
// Fetch(version, offset, length) walks the cache blocks of the range:
// - a cached block is delivered from the cache (checksum-verified by the
//   cache; a bad block is a miss);
// - a run of contiguous missing blocks becomes ONE upstream Fetch (a 64 MiB
//   read-ahead is one GET, not 64), widened to cache block boundaries
//   (clamped to the object size) so that every block it covers is whole and
//   gets inserted as soon as its last byte arrives. Only the requested bytes
//   reach the sink; the widening costs at most block_size - 1 bytes at each
//   end and only for unaligned requests.
// Blocks are keyed by (key, ETag), so another ETag never hits old blocks.
// On an upstream failure the blocks completed before it stay cached (they
// are bytes of the pinned version, per the ChunkSource contract).
//
// Zero-copy: LookupRange() returns the whole range as one fd slice (pinned)
// when every block of it is cached, for fuse_reply_data with an fd buffer.
//
// Ownership: shares the cache and the upstream source.
// Thread-safety: Fetch and LookupRange may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "cache/block_cache.h"
#include "prefetch/chunk_source.h"

namespace repofs::prefetch {

struct CachedChunkCounters {
  std::atomic<uint64_t> block_hits{0};    // blocks delivered from the cache
  std::atomic<uint64_t> block_misses{0};  // blocks fetched upstream
  std::atomic<uint64_t> upstream_fetches{0};
  std::atomic<uint64_t> bytes_from_cache{0};  // bytes delivered from cache
};

class CachedChunkSource final : public ChunkSource {
 public:
  CachedChunkSource(std::shared_ptr<cache::BlockCache> cache,
                    std::shared_ptr<ChunkSource> upstream);

  // The ChunkSource contract (chunk_source.h); errors are the upstream's.
  Status Fetch(const ObjectVersion& version, uint64_t offset, uint64_t length,
               const ChunkSink& sink) override;
  // Keeping callers (chunk_source.h): misses are not assembled here; Keep
  // inserts the caller's block unless the cache has it already.
  uint64_t KeptBlockSize() const override { return cache_->block_size(); }
  Status FetchForKeep(const ObjectVersion& version, uint64_t offset,
                      uint64_t length, const ChunkSink& sink) override;
  void Keep(const ObjectVersion& version, uint64_t offset,
            std::string_view block) override;

  // [offset, offset + length) of `version` as one pinned fd slice when all
  // of it is cached (BlockCache::LookupRange), else nullopt. Counts block
  // hits only when it succeeds.
  std::optional<cache::BlockRef> LookupRange(const ObjectVersion& version,
                                             uint64_t offset, uint64_t length);

  const CachedChunkCounters& counters() const { return counters_; }
  cache::BlockCache& cache() { return *cache_; }

 private:
  // Fetches whole blocks [first, end_block) upstream, inserting them and
  // delivering the part inside [want_lo, want_hi) to `sink`.
  // With `caller_keeps`, only passes the bytes on (the caller Keep()s).
  Status FetchRange(const ObjectVersion& version, uint64_t offset,
                    uint64_t length, const ChunkSink& sink, bool caller_keeps);
  Status FetchRun(const ObjectVersion& version, uint64_t first,
                  uint64_t end_block, uint64_t want_lo, uint64_t want_hi,
                  const ChunkSink& sink, bool caller_keeps);

  std::shared_ptr<cache::BlockCache> cache_;
  std::shared_ptr<ChunkSource> upstream_;
  CachedChunkCounters counters_;
};

}  // namespace repofs::prefetch
