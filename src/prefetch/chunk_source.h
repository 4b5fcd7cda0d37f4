// ChunkSource: where the prefetch layer gets the bytes of one pinned object
// version. ObjectReader never talks to S3 directly; it asks its context's
// ChunkSource for byte ranges (block-aligned, except a read that bypasses the
// read-ahead buffers under memory pressure). This is the seam for the
// persistent block cache: a cache-backed ChunkSource answers from LMDB-indexed
// blocks keyed by (ETag, block number) and forwards misses to the
// S3ChunkSource it wraps.
//
// S3ChunkSource is the S3-backed implementation: one GetObject per Fetch, with
// If-Match = the pinned ETag, verifying that exactly the requested bytes
// arrived. It counts GET requests and bytes into ReadaheadCounters.
//
// Ownership: S3ChunkSource shares the ObjectClient and the counters.
// Thread-safety: Fetch may be called concurrently from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "prefetch/readahead_stats.h"
#include "repofs/object_client.h"
#include "repofs/result.h"

namespace repofs::prefetch {

// One immutable object version (ETag-pinned).
struct ObjectVersion {
  std::string key;
  std::string etag;  // unquoted
  uint64_t size = 0;
};

// Receives bytes in order; returning false aborts the fetch (ECANCELED).
using ChunkSink = std::function<bool(std::string_view bytes)>;

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;

  // Delivers exactly bytes [offset, offset + length) of `version` to `sink`,
  // in order, possibly in several pieces, then returns OK. Requires
  // length > 0 and offset + length <= version.size. On failure a prefix of
  // the range may already have been delivered; those bytes are still bytes
  // of `version` (every request is pinned to its ETag), so the caller may
  // keep whole blocks of that prefix but must not treat the range as done.
  // Errors (Error.errno_value):
  //   EIO: the version is gone (object replaced or deleted: 412/404), S3
  //        failed (after the client's own retries), or the body was shorter
  //        or longer than asked (never returned as success);
  //   ECANCELED: `sink` returned false.
  // The message is one line naming the key and the range.
  virtual Status Fetch(const ObjectVersion& version, uint64_t offset,
                       uint64_t length, const ChunkSink& sink) = 0;

  // For callers that keep blocks (ObjectReader's read-ahead buffers): they
  // assemble what FetchForKeep delivers into aligned blocks of
  // KeptBlockSize() bytes (the last one of the object shorter) and hand each
  // complete block to Keep(). A source that stores blocks (the block cache)
  // then stores the caller's copy instead of assembling one of its own: one
  // copy of every byte less. 0 (the default): the source keeps nothing, and
  // FetchForKeep is Fetch.
  virtual uint64_t KeptBlockSize() const { return 0; }
  // Fetch for a caller that will Keep() the whole blocks of the range.
  virtual Status FetchForKeep(const ObjectVersion& version, uint64_t offset,
                              uint64_t length, const ChunkSink& sink) {
    return Fetch(version, offset, length, sink);
  }
  // Block `offset / KeptBlockSize()` of `version`, whole, as delivered by a
  // FetchForKeep. Best effort, no error. The reader calls it from its
  // keeper thread (ReadaheadContext::KeepLater), possibly after the fetch.
  virtual void Keep(const ObjectVersion& /*version*/, uint64_t /*offset*/,
                    std::string_view /*block*/) {}
};

class S3ChunkSource final : public ChunkSource {
 public:
  // `counters` may be null (nothing is counted).
  S3ChunkSource(std::shared_ptr<ObjectClient> client,
                std::shared_ptr<ReadaheadCounters> counters);

  Status Fetch(const ObjectVersion& version, uint64_t offset, uint64_t length,
               const ChunkSink& sink) override;

 private:
  std::shared_ptr<ObjectClient> client_;
  std::shared_ptr<ReadaheadCounters> counters_;
};

}  // namespace repofs::prefetch
