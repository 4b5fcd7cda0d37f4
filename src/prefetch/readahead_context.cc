#include "prefetch/readahead_context.h"

#include <algorithm>
#include <utility>

#include "util/log.h"

namespace repofs::prefetch {
namespace {

constexpr uint64_t kMinBlockSize = 4096;

uint64_t BlockSizeFor(const ReadaheadOptions& options) {
  return std::clamp<uint64_t>(options.request_size, kMinBlockSize,
                              ReadaheadContext::kMaxBlockSize);
}

// Enough for a sequential reader's steady state (each block freed is soon
// taken again), small next to the RSS target: 16 MiB at most.
size_t FreeBuffersFor(uint64_t block_size) {
  constexpr uint64_t kMaxIdleBytes = 16 << 20;
  return static_cast<size_t>(std::max<uint64_t>(4, kMaxIdleBytes / block_size));
}

}  // namespace

ReadaheadContext::ReadaheadContext(std::shared_ptr<ObjectClient> client,
                                   const ReadaheadOptions& options,
                                   int worker_threads)
    : ReadaheadContext(nullptr, std::make_shared<ReadaheadCounters>(), options,
                       worker_threads) {
  source_ = std::make_shared<S3ChunkSource>(std::move(client), counters_);
}

ReadaheadContext::ReadaheadContext(std::shared_ptr<ChunkSource> source,
                                   std::shared_ptr<ReadaheadCounters> counters,
                                   const ReadaheadOptions& options,
                                   int worker_threads)
    : options_(options),
      block_size_(BlockSizeFor(options)),
      blocks_per_request_(
          std::max<uint64_t>(1, options.request_size / BlockSizeFor(options))),
      counters_(counters ? std::move(counters)
                         : std::make_shared<ReadaheadCounters>()),
      source_(std::move(source)),
      budget_(options.memory_limit),
      buffers_(block_size_, FreeBuffersFor(block_size_)),
      pool_(std::max(1, worker_threads)) {}

ReadaheadContext::~ReadaheadContext() {
  REPOFS_LOG(kDebug) << "read-ahead buffers: " << buffers_.allocated()
                     << " allocated, " << buffers_.reused() << " reused";
}

void ReadaheadContext::KeepLater(uint64_t bytes, std::function<void()> keep) {
  if (keep_backlog_.fetch_add(bytes, std::memory_order_relaxed) + bytes >
      kMaxKeepBacklog) {
    keep_backlog_.fetch_sub(bytes, std::memory_order_relaxed);
    keep();
    return;
  }
  keeper_.Submit([this, bytes, keep = std::move(keep)] {
    keep();
    keep_backlog_.fetch_sub(bytes, std::memory_order_relaxed);
  });
}

ReadaheadStats ReadaheadContext::Stats() const {
  ReadaheadStats stats;
  auto load = [](const std::atomic<uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  stats.get_requests = load(counters_->get_requests);
  stats.bytes_fetched = load(counters_->bytes_fetched);
  stats.readahead_bytes_wasted = load(counters_->readahead_bytes_wasted);
  stats.reads_served = load(counters_->reads_served);
  stats.bytes_served = load(counters_->bytes_served);
  stats.read_errors = load(counters_->read_errors);
  stats.buffered_bytes = budget_.used();
  stats.peak_buffered_bytes = budget_.peak();
  return stats;
}

void ReadaheadContext::Register(IdleReclaimable* holder) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  registry_.insert(holder);
}

void ReadaheadContext::Unregister(IdleReclaimable* holder) {
  std::lock_guard<std::mutex> lock(registry_mu_);
  registry_.erase(holder);
}

uint64_t ReadaheadContext::ReclaimIdle() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(registry_mu_);
  if (now - last_reclaim_ < kReclaimInterval) return 0;
  last_reclaim_ = now;
  uint64_t freed = 0;
  for (IdleReclaimable* holder : registry_) {
    freed += holder->ReleaseIfIdle(now - kIdleReclaimAfter);
  }
  if (freed > 0) {
    REPOFS_LOG(kDebug) << "read-ahead: reclaimed " << freed
                       << " bytes from idle readers";
  }
  return freed;
}

}  // namespace repofs::prefetch
