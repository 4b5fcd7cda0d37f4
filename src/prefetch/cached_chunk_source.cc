#include "prefetch/cached_chunk_source.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

namespace repofs::prefetch {
namespace {

cache::VersionRef RefOf(const ObjectVersion& v) {
  return cache::VersionRef{v.key, v.etag, v.size};
}

void Add(std::atomic<uint64_t>& counter, uint64_t n) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

CachedChunkSource::CachedChunkSource(std::shared_ptr<cache::BlockCache> cache,
                                     std::shared_ptr<ChunkSource> upstream)
    : cache_(std::move(cache)), upstream_(std::move(upstream)) {}

Status CachedChunkSource::Fetch(const ObjectVersion& version, uint64_t offset,
                                uint64_t length, const ChunkSink& sink) {
  return FetchRange(version, offset, length, sink, /*caller_keeps=*/false);
}

Status CachedChunkSource::FetchForKeep(const ObjectVersion& version,
                                       uint64_t offset, uint64_t length,
                                       const ChunkSink& sink) {
  const uint64_t b = cache_->block_size();
  // Whole blocks only; anything else is assembled here as usual.
  const bool whole = offset % b == 0 && ((offset + length) % b == 0 ||
                                         offset + length == version.size);
  return FetchRange(version, offset, length, sink, whole);
}

void CachedChunkSource::Keep(const ObjectVersion& version, uint64_t offset,
                             std::string_view block) {
  const uint64_t b = cache_->block_size();
  if (offset % b != 0) return;
  const cache::VersionRef ref = RefOf(version);
  if (cache_->Contains(ref, offset / b)) return;  // a hit, or kept already
  cache_->Insert(ref, offset / b, block);
}

Status CachedChunkSource::FetchRange(const ObjectVersion& version,
                                     uint64_t offset, uint64_t length,
                                     const ChunkSink& sink, bool caller_keeps) {
  if (length == 0 || offset > version.size || version.size - offset < length) {
    // Let the upstream produce its usual error for a bad range.
    return upstream_->Fetch(version, offset, length, sink);
  }
  const uint64_t b = cache_->block_size();
  const cache::VersionRef ref = RefOf(version);
  const uint64_t end = offset + length;
  uint64_t pos = offset;
  std::string block;
  while (pos < end) {
    uint64_t n = pos / b;
    if (cache_->ReadBlock(ref, n, &block)) {
      uint64_t upto = std::min(end, (n + 1) * b);
      std::string_view piece(block);
      piece = piece.substr(pos - n * b, upto - pos);
      Add(counters_.block_hits, 1);
      Add(counters_.bytes_from_cache, piece.size());
      if (!sink(piece)) {
        return Error{ECANCELED, "read of " + version.key + " cancelled"};
      }
      pos = upto;
      continue;
    }
    // A run of missing blocks: one upstream request for all of it.
    uint64_t m = n + 1;
    while (m * b < end && !cache_->Contains(ref, m)) ++m;
    Status s =
        FetchRun(version, n, m, pos, std::min(end, m * b), sink, caller_keeps);
    if (!s) return s;
    pos = std::min(end, m * b);
  }
  return OkStatus();
}

Status CachedChunkSource::FetchRun(const ObjectVersion& version, uint64_t first,
                                   uint64_t end_block, uint64_t want_lo,
                                   uint64_t want_hi, const ChunkSink& sink,
                                   bool caller_keeps) {
  const uint64_t b = cache_->block_size();
  const cache::VersionRef ref = RefOf(version);
  const uint64_t lo = first * b;
  const uint64_t hi = std::min(version.size, end_block * b);
  Add(counters_.upstream_fetches, 1);
  Add(counters_.block_misses, end_block - first);
  if (caller_keeps) return upstream_->Fetch(version, lo, hi - lo, sink);
  uint64_t at = lo;  // object offset of the next byte to arrive
  std::string block;
  block.reserve(std::min(b, hi - lo));
  auto assembling_sink = [&](std::string_view bytes) {
    while (!bytes.empty()) {
      uint64_t block_no = at / b;
      uint64_t block_end = std::min(version.size, (block_no + 1) * b);
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(bytes.size(), block_end - at));
      std::string_view piece = bytes.substr(0, take);
      // Deliver the part of the piece inside what the caller asked for.
      uint64_t d_lo = std::max(at, want_lo);
      uint64_t d_hi = std::min(at + take, want_hi);
      if (d_lo < d_hi && !sink(piece.substr(d_lo - at, d_hi - d_lo))) {
        return false;
      }
      block.append(piece);
      at += take;
      bytes.remove_prefix(take);
      if (at == block_end) {
        cache_->Insert(ref, block_no, block);
        block.clear();
      }
    }
    return true;
  };
  return upstream_->Fetch(version, lo, hi - lo, assembling_sink);
}

std::optional<cache::BlockRef> CachedChunkSource::LookupRange(
    const ObjectVersion& version, uint64_t offset, uint64_t length) {
  auto ref = cache_->LookupRange(RefOf(version), offset, length);
  if (ref) {
    uint64_t b = cache_->block_size();
    Add(counters_.block_hits, (offset + length - 1) / b - offset / b + 1);
    Add(counters_.bytes_from_cache, length);
  }
  return ref;
}

}  // namespace repofs::prefetch
