// ReadaheadContext: what all open files of one mount share for reading: the
// ChunkSource (by default S3-backed, over the mount's retrying ObjectClient),
// a worker pool for read-ahead GETs, the global read-ahead memory budget
// (ReadaheadOptions::memory_limit) and the counters.
//
// Ownership: the filesystem owns one context per mount and must destroy every
// ObjectReader before the context. The destructor joins the worker pool
// (queued fetches of destroyed readers are no-ops).
// Thread-safety: all methods are thread-safe after construction.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "prefetch/buffer_pool.h"
#include "prefetch/chunk_source.h"
#include "prefetch/memory_budget.h"
#include "prefetch/readahead_stats.h"
#include "repofs/fs_options.h"
#include "repofs/object_client.h"
#include "util/thread_pool.h"

namespace repofs::prefetch {

// Something that holds read-ahead buffers and can give them back when it has
// been idle (the internals of an ObjectReader). See ReadaheadContext::
// ReclaimIdle.
class IdleReclaimable {
 public:
  virtual ~IdleReclaimable() = default;
  // If the holder has not been used since `cutoff`, frees its buffered
  // blocks and forgets its read-ahead windows; returns the bytes freed.
  // Called without any reader lock held; takes the holder's own lock.
  virtual uint64_t ReleaseIfIdle(
      std::chrono::steady_clock::time_point cutoff) = 0;
};

class ReadaheadContext {
 public:
  // Reads go to S3ChunkSource(client). `client` should be the retrying
  // client; `worker_threads` (>= 1) runs read-ahead GETs of all readers.
  ReadaheadContext(std::shared_ptr<ObjectClient> client,
                   const ReadaheadOptions& options, int worker_threads);

  // Reads go to `source` (the seam for the block cache: a cache-backed
  // source wrapping an S3ChunkSource built with the same `counters`).
  ReadaheadContext(std::shared_ptr<ChunkSource> source,
                   std::shared_ptr<ReadaheadCounters> counters,
                   const ReadaheadOptions& options, int worker_threads);

  ~ReadaheadContext();
  ReadaheadContext(const ReadaheadContext&) = delete;
  ReadaheadContext& operator=(const ReadaheadContext&) = delete;

  const ReadaheadOptions& options() const { return options_; }
  // Bytes per buffered block: min(kMaxBlockSize, request_size), >= 4 KiB.
  // Random reads are fetched in whole blocks.
  uint64_t block_size() const { return block_size_; }
  // Blocks per read-ahead GET (request_size / block_size, >= 1).
  uint64_t blocks_per_request() const { return blocks_per_request_; }

  ChunkSource& source() { return *source_; }
  MemoryBudget& budget() { return budget_; }
  // Block buffers (block_size() bytes each), reused across readers.
  BufferPool& buffers() { return buffers_; }
  ReadaheadCounters& counters() { return *counters_; }
  ThreadPool& pool() { return pool_; }

  // Runs `keep` (the source storing a finished block, e.g. in the block
  // cache) on the keeper thread, so that the GET delivering the block never
  // waits for the cache's disk, checksum and index commit. At most
  // kMaxKeepBacklog bytes wait; beyond that the caller runs `keep` itself
  // (back-pressure: the cache still gets every block). `keep` must own
  // what it uses (the block stays alive, and counted in the budget, until
  // it has run).
  void KeepLater(uint64_t bytes, std::function<void()> keep);
  static constexpr uint64_t kMaxKeepBacklog = 32ull << 20;

  // A snapshot of the counters and the memory gauges.
  ReadaheadStats Stats() const;

  // Open readers register here (and unregister before they are destroyed)
  // so that memory held by idle ones can be reclaimed: the filesystem keeps
  // handles open after their last read (nginx open_file_cache, an LRU of
  // per-inode readers), and their windows must not starve active readers.
  void Register(IdleReclaimable* holder);
  void Unregister(IdleReclaimable* holder);
  // Called by a reader that could not reserve memory (with no reader lock
  // held): asks readers idle for kIdleReclaimAfter to free their buffers.
  // Runs at most once per kReclaimInterval; returns the bytes freed.
  uint64_t ReclaimIdle();

  // A reader unused this long gives its buffers back under memory pressure.
  static constexpr std::chrono::milliseconds kIdleReclaimAfter{2000};
  static constexpr std::chrono::milliseconds kReclaimInterval{100};

  // Largest block; random reads cost at most this much extra transfer.
  static constexpr uint64_t kMaxBlockSize = 1 << 20;

 private:
  // Declaration order matters: the pool is destroyed (joined) first, while
  // the budget and source its tasks use are still alive.
  const ReadaheadOptions options_;
  uint64_t block_size_;
  uint64_t blocks_per_request_;
  std::shared_ptr<ReadaheadCounters> counters_;
  std::shared_ptr<ChunkSource> source_;
  MemoryBudget budget_;
  BufferPool buffers_;  // outlives the readers' blocks, like budget_
  // Lock order: registry_mu_ before any reader's lock.
  std::mutex registry_mu_;
  std::set<IdleReclaimable*> registry_;  // GUARDED_BY(registry_mu_)
  std::chrono::steady_clock::time_point
      last_reclaim_;  // GUARDED_BY(registry_mu_)
  std::atomic<uint64_t> keep_backlog_{0};  // bytes queued on keeper_
  // Joined after pool_ (whose fetches post to it), before what it uses.
  ThreadPool keeper_{1};
  ThreadPool pool_;
};

}  // namespace repofs::prefetch
