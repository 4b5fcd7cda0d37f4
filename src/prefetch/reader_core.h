// ReaderCore: the state and logic behind one ObjectReader (internal to
// prefetch/). It is held by std::shared_ptr so that read-ahead tasks queued
// in the context's worker pool can outlive the ObjectReader safely.
//
// The object is cut into blocks of context.block_size() bytes (the last one
// shorter). A block table maps block number -> Block while the block is being
// fetched, buffered or remembered as failed. Fetches cover runs of blocks:
// demand fetches run in the reading thread, read-ahead fetches (at most one
// aligned request_size chunk each, `parallelism` per reader) in the pool.
// A fetch publishes each block as soon as its bytes are complete, so a read
// waits only for the blocks it needs.
//
// Thread-safety: Read() is thread-safe; Close() must not race with Read().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "prefetch/buffer_pool.h"
#include "prefetch/chunk_source.h"
#include "prefetch/memory_budget.h"
#include "prefetch/object_reader.h"
#include "prefetch/readahead_context.h"
#include "prefetch/sequential_detector.h"
#include "repofs/result.h"

namespace repofs::prefetch::internal {

// How long ~ObjectReader waits for running fetches (which it has asked to
// stop) before leaving them to finish on their own.
inline constexpr std::chrono::milliseconds kCloseTimeout{5000};
// How long a read waits for a queued (not yet started) read-ahead fetch of a
// block it needs before fetching that block itself. Long enough not to split
// requests when a worker is merely slow to wake up on a loaded machine.
inline constexpr std::chrono::milliseconds kTakeOverDelay{20};

struct Block {
  enum class Status { kFetching, kReady, kFailed };
  // Fields below are guarded by ReaderCore::mu_, except `data`: while
  // kFetching only the owning fetch writes it; once kReady it is immutable.
  Status status = Status::kFetching;
  bool readahead = false;  // planned ahead of any read that needed it
  uint64_t consumed = 0;   // bytes copied out by reads (re-reads count again)
  uint64_t size = 0;
  MemoryReservation reservation;
  BufferPool::Buffer data;  // from the context's pool, size >= `size`
  Error error;              // when kFailed
};

// A read-ahead fetch waiting in the pool. A read that needs one of its
// blocks and finds it still queued after kTakeOverDelay takes its prefix
// (begin moves) and runs it itself.
struct FetchJob {
  uint64_t begin = 0;  // first block; guarded by ReaderCore::mu_
  uint64_t end = 0;    // one past the last block
  bool cancelled = false;
};

class ReaderCore : public std::enable_shared_from_this<ReaderCore>,
                   public IdleReclaimable {
 public:
  // Registers with the context (Close unregisters).
  ReaderCore(ReadaheadContext& context, ObjectVersion version);
  ReaderCore(const ReaderCore&) = delete;
  ReaderCore& operator=(const ReaderCore&) = delete;

  const ObjectVersion& version() const { return version_; }
  Result<size_t> Read(uint64_t offset, size_t len, char* out, ReadView* view);
  bool Streaming(uint64_t offset, size_t len);  // see ObjectReader
  // Cancels queued fetches, asks running ones to stop, waits up to `timeout`
  // for them, and frees every buffer.
  void Close(std::chrono::milliseconds timeout);

  uint64_t ReleaseIfIdle(std::chrono::steady_clock::time_point cutoff) override;

 private:
  using BlockPtr = std::shared_ptr<Block>;
  using JobPtr = std::shared_ptr<FetchJob>;

  // A contiguous run of blocks [begin, end) to fetch in one request.
  struct Fetch {
    uint64_t begin = 0;
    uint64_t end = 0;
    std::vector<BlockPtr> blocks;
  };

  struct ReadPlan {
    uint64_t first = 0;                 // first block the read needs
    uint64_t last = 0;                  // last block the read needs
    std::vector<BlockPtr> pins;         // per needed block; null: read directly
    std::vector<Fetch> inline_fetches;  // run by the reading thread
    std::vector<JobPtr> jobs;           // read-ahead to submit to the pool
  };

  uint64_t BlockBegin(uint64_t index) const { return index * block_size_; }
  uint64_t BlockEnd(uint64_t index) const;

  // *Locked methods require mu_.
  void PlanDemandLocked(uint64_t first, uint64_t last, ReadPlan* plan);
  bool TakeQueuedLocked(uint64_t index, uint64_t last, Fetch* fetch);
  void PlanReadaheadLocked(std::vector<JobPtr>* jobs);
  BlockPtr NewBlockLocked(uint64_t index, bool readahead);
  std::vector<BlockPtr> PinsLocked(uint64_t begin, uint64_t end) const;
  void EvictLocked();
  void CountWasteLocked(const Block& block);

  void Submit(std::vector<JobPtr> jobs);
  void RunQueuedJob(const JobPtr& job);
  Status RunFetch(const Fetch& fetch);
  Status RunInlineFetches(const std::vector<Fetch>& fetches);
  void Publish(Block& block);
  void FailBlocks(const std::vector<BlockPtr>& blocks, size_t from,
                  const Error& error);
  Status CopyOut(const ReadPlan& plan, uint64_t offset, uint64_t length,
                 char* out, ReadView* view);
  Status WaitReady(Block& block, uint64_t index, uint64_t last, uint64_t bytes);
  Status FetchDirect(uint64_t offset, uint64_t length, char* out);

  ReadaheadContext& context_;
  const ObjectVersion version_;
  const uint64_t block_size_;
  const uint64_t blocks_per_request_;
  const int parallelism_;
  std::atomic<bool> closing_{false};  // also read by fetch sinks

  // Lock order: ReadaheadContext::registry_mu_ before mu_; nothing else is
  // locked while holding mu_.
  // Never held across a fetch.
  std::mutex mu_;
  std::condition_variable cv_;           // block published/failed, job finished
  std::map<uint64_t, BlockPtr> blocks_;  // GUARDED_BY(mu_)
  std::vector<JobPtr> queued_;           // GUARDED_BY(mu_)
  int readahead_in_flight_ = 0;          // GUARDED_BY(mu_) queued + running
  int running_jobs_ = 0;                 // GUARDED_BY(mu_) pool jobs running
  SequentialDetector detector_;          // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point last_used_;  // GUARDED_BY(mu_)
  bool budget_short_ = false;  // GUARDED_BY(mu_) a reservation failed
};

}  // namespace repofs::prefetch::internal
