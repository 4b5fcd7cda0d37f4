#include "prefetch/reader_core.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "util/log.h"

namespace repofs::prefetch::internal {

ReaderCore::ReaderCore(ReadaheadContext& context, ObjectVersion version)
    : context_(context),
      version_(std::move(version)),
      block_size_(context.block_size()),
      blocks_per_request_(context.blocks_per_request()),
      parallelism_(context.options().parallelism),
      detector_(context.options(), version_.size,
                context.block_size() * context.blocks_per_request()),
      last_used_(std::chrono::steady_clock::now()) {
  context_.Register(this);
}

uint64_t ReaderCore::BlockEnd(uint64_t index) const {
  return std::min(version_.size, BlockBegin(index) + block_size_);
}

Result<size_t> ReaderCore::Read(uint64_t offset, size_t len, char* out,
                                ReadView* view) {
  ReadaheadCounters& counters = context_.counters();
  if (offset >= version_.size || len == 0) {
    ReadaheadCounters::Add(counters.reads_served, 1);
    return size_t{0};
  }
  const uint64_t length = std::min<uint64_t>(len, version_.size - offset);
  ReadPlan plan;
  plan.first = offset / block_size_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Error{EIO, "read of " + version_.key + " after close"};
    last_used_ = std::chrono::steady_clock::now();
    detector_.OnRead(offset, length);
    PlanDemandLocked(plan.first, (offset + length - 1) / block_size_, &plan);
    PlanReadaheadLocked(&plan.jobs);
  }
  Submit(std::move(plan.jobs));
  Status status = RunInlineFetches(plan.inline_fetches);
  if (status.ok()) status = CopyOut(plan, offset, length, out, view);
  if (!status.ok() && view != nullptr) view->Clear();
  plan.pins.clear();
  plan.inline_fetches.clear();
  bool budget_short = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_used_ = std::chrono::steady_clock::now();
    EvictLocked();
    budget_short = std::exchange(budget_short_, false);
  }
  // Outside mu_ (lock order): idle handles give their buffers back, so the
  // next reads of this one can read ahead again.
  if (budget_short) context_.ReclaimIdle();
  if (!status.ok()) {
    ReadaheadCounters::Add(counters.read_errors, 1);
    return Error{EIO, status.error().message};
  }
  ReadaheadCounters::Add(counters.reads_served, 1);
  ReadaheadCounters::Add(counters.bytes_served, length);
  return static_cast<size_t>(length);
}

bool ReaderCore::Streaming(uint64_t offset, size_t len) {
  if (offset >= version_.size || len == 0) return false;
  const uint64_t last =
      (std::min<uint64_t>(offset + len, version_.size) - 1) / block_size_;
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) return false;
  for (auto it = blocks_.lower_bound(offset / block_size_);
       it != blocks_.end() && it->first <= last; ++it) {
    if (it->second->status != Block::Status::kFailed) return true;
  }
  return false;
}

// For each block the read needs: pin a usable entry, or create one and fetch
// it in this thread; when the budget is exhausted leave the pin null (read
// directly into the caller's buffer).
void ReaderCore::PlanDemandLocked(uint64_t first, uint64_t last,
                                  ReadPlan* plan) {
  plan->pins.assign(last - first + 1, nullptr);
  plan->last = last;
  for (uint64_t index = first; index <= last; ++index) {
    auto it = blocks_.find(index);
    if (it != blocks_.end() && it->second->status != Block::Status::kFailed) {
      plan->pins[index - first] = it->second;
      continue;
    }
    BlockPtr block = NewBlockLocked(index, /*readahead=*/false);
    if (!block) continue;
    plan->pins[index - first] = block;
    std::vector<Fetch>& fetches = plan->inline_fetches;
    if (fetches.empty() || fetches.back().end != index) {
      fetches.push_back(Fetch{index, index, {}});
    }
    fetches.back().end = index + 1;
    fetches.back().blocks.push_back(std::move(block));
  }
}

// If `index` belongs to a read-ahead job still queued, takes the job's
// blocks up to `last` into `fetch` (the rest stays queued) and returns true.
bool ReaderCore::TakeQueuedLocked(uint64_t index, uint64_t last, Fetch* fetch) {
  for (auto it = queued_.begin(); it != queued_.end(); ++it) {
    FetchJob& job = **it;
    if (index < job.begin || index >= job.end) continue;
    *fetch = Fetch{job.begin, std::min(job.end, last + 1), {}};
    fetch->blocks = PinsLocked(fetch->begin, fetch->end);
    job.begin = fetch->end;
    if (job.begin == job.end) {
      job.cancelled = true;
      queued_.erase(it);
      --readahead_in_flight_;
    }
    return true;
  }
  return false;
}

// Queues fetches for the absent blocks of every stream's window, one job per
// run of absent blocks inside an aligned request_size chunk. Failed blocks
// are left alone: only a read retries them (no retry loop without readers).
void ReaderCore::PlanReadaheadLocked(std::vector<JobPtr>* jobs) {
  for (const ByteRange& range : detector_.ReadaheadRanges()) {
    const uint64_t last = (range.end - 1) / block_size_;
    uint64_t index = range.begin / block_size_;
    while (index <= last) {
      if (readahead_in_flight_ >= parallelism_) return;
      if (blocks_.count(index) != 0) {
        ++index;
        continue;
      }
      const uint64_t chunk_end =
          (index / blocks_per_request_ + 1) * blocks_per_request_;
      auto job = std::make_shared<FetchJob>();
      job->begin = index;
      bool budget_exhausted = false;
      while (index <= last && index < chunk_end && blocks_.count(index) == 0) {
        if (!NewBlockLocked(index, /*readahead=*/true)) {
          budget_exhausted = true;
          break;
        }
        ++index;
      }
      job->end = index;
      if (job->end > job->begin) {
        queued_.push_back(job);
        ++readahead_in_flight_;
        jobs->push_back(std::move(job));
      }
      if (budget_exhausted) return;
    }
  }
}

ReaderCore::BlockPtr ReaderCore::NewBlockLocked(uint64_t index,
                                                bool readahead) {
  const uint64_t size = BlockEnd(index) - BlockBegin(index);
  MemoryReservation reservation = context_.budget().TryReserve(size);
  if (!reservation) {
    budget_short_ = true;
    return nullptr;
  }
  auto block = std::make_shared<Block>();
  block->size = size;
  block->readahead = readahead;
  block->reservation = std::move(reservation);
  blocks_[index] = block;  // replaces a failed entry, if any
  return block;
}

std::vector<ReaderCore::BlockPtr> ReaderCore::PinsLocked(uint64_t begin,
                                                         uint64_t end) const {
  std::vector<BlockPtr> pins;
  for (uint64_t index = begin; index < end; ++index) {
    pins.push_back(blocks_.at(index));
  }
  return pins;
}

// Drops finished blocks that no stream needs any more. A block a little
// behind a stream that has not been read completely is kept: concurrent
// kernel reads arrive out of order and the stragglers still need it. Readers
// still copying from a dropped block hold their own reference.
void ReaderCore::EvictLocked() {
  for (auto it = blocks_.begin(); it != blocks_.end();) {
    const Block& block = *it->second;
    const uint64_t begin = BlockBegin(it->first);
    const uint64_t end = BlockEnd(it->first);
    const bool straggler_may_need = block.status == Block::Status::kReady &&
                                    block.consumed < block.size &&
                                    detector_.Trails(begin, end);
    if (block.status == Block::Status::kFetching ||
        detector_.Retains(begin, end) || straggler_may_need) {
      ++it;
      continue;
    }
    CountWasteLocked(block);
    it = blocks_.erase(it);
  }
}

void ReaderCore::CountWasteLocked(const Block& block) {
  if (block.status == Block::Status::kReady && block.readahead &&
      block.consumed == 0) {
    ReadaheadCounters::Add(context_.counters().readahead_bytes_wasted,
                           block.size);
  }
}

void ReaderCore::Submit(std::vector<JobPtr> jobs) {
  for (JobPtr& job : jobs) {
    context_.pool().Submit([self = shared_from_this(), job = std::move(job)] {
      self->RunQueuedJob(job);
    });
  }
}

void ReaderCore::RunQueuedJob(const JobPtr& job) {
  Fetch fetch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (job->cancelled) return;  // taken over by reads, or reader closed
    queued_.erase(std::find(queued_.begin(), queued_.end(), job));
    fetch = Fetch{job->begin, job->end, PinsLocked(job->begin, job->end)};
    ++running_jobs_;
  }
  Status status = RunFetch(fetch);
  if (!status.ok() && status.error().errno_value != ECANCELED) {
    REPOFS_LOG(kDebug) << "read-ahead failed: " << status.error().message;
  }
  fetch.blocks.clear();
  std::vector<JobPtr> more;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_jobs_;
    --readahead_in_flight_;
    if (!closing_) {
      EvictLocked();
      PlanReadaheadLocked(&more);  // keep `parallelism` fetches in flight
    }
    cv_.notify_all();
  }
  Submit(std::move(more));
}

Status ReaderCore::RunInlineFetches(const std::vector<Fetch>& fetches) {
  for (size_t i = 0; i < fetches.size(); ++i) {
    Status status = RunFetch(fetches[i]);
    if (status.ok()) continue;
    // Fail fast: the blocks of the remaining fetches are ours to settle.
    for (size_t j = i + 1; j < fetches.size(); ++j) {
      FailBlocks(fetches[j].blocks, 0, status.error());
    }
    return status;
  }
  return OkStatus();
}

// Fetches the run into its blocks, publishing each block once complete.
Status ReaderCore::RunFetch(const Fetch& fetch) {
  const uint64_t offset = BlockBegin(fetch.begin);
  const uint64_t length = BlockEnd(fetch.end - 1) - offset;
  size_t index = 0;     // block being filled
  uint64_t filled = 0;  // bytes of it filled
  ChunkSource& source = context_.source();
  // The source stores our blocks (the block cache) rather than its own copy.
  const bool keep = source.KeptBlockSize() == block_size_;
  auto sink = [&](std::string_view bytes) {
    if (closing_.load(std::memory_order_relaxed)) return false;
    while (!bytes.empty()) {
      if (index == fetch.blocks.size()) return false;
      Block& block = *fetch.blocks[index];
      if (!block.data) {
        block.data = context_.buffers().Take();
      }
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>(bytes.size(), block.size - filled));
      std::memcpy(block.data.get() + filled, bytes.data(), n);
      filled += n;
      bytes.remove_prefix(n);
      if (filled == block.size) {
        Publish(block);  // immutable from here: the reads may use it now
        if (keep) {
          // The task holds the block: evicted meanwhile, it stays alive.
          context_.KeepLater(
              block.size, [&source, held = fetch.blocks[index],
                           version = version_,
                           at = BlockBegin(fetch.begin + index)] {
                source.Keep(version, at,
                            std::string_view(held->data.get(), held->size));
              });
        }
        ++index;
        filled = 0;
      }
    }
    return true;
  };
  Status status = keep ? source.FetchForKeep(version_, offset, length, sink)
                       : source.Fetch(version_, offset, length, sink);
  if (status.ok() && index != fetch.blocks.size()) {
    status = Error{EIO, "GET " + version_.key + ": body ended early"};
  }
  if (!status.ok()) FailBlocks(fetch.blocks, index, status.error());
  return status;
}

void ReaderCore::Publish(Block& block) {
  std::lock_guard<std::mutex> lock(mu_);
  block.status = Block::Status::kReady;
  cv_.notify_all();
}

void ReaderCore::FailBlocks(const std::vector<BlockPtr>& blocks, size_t from,
                            const Error& error) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = from; i < blocks.size(); ++i) {
    Block& block = *blocks[i];
    block.status = Block::Status::kFailed;
    block.error = error;
    block.data.reset();
    block.reservation.Reset();
  }
  cv_.notify_all();
}

// Copies the read's bytes out of its pinned blocks (waiting for those still
// in flight), or with a `view` describes them in place, holding the blocks;
// fetches unpinned runs straight into `out`.
Status ReaderCore::CopyOut(const ReadPlan& plan, uint64_t offset,
                           uint64_t length, char* out, ReadView* view) {
  const uint64_t end = offset + length;
  for (size_t i = 0; i < plan.pins.size(); ++i) {
    const uint64_t index = plan.first + i;
    const uint64_t low = std::max(offset, BlockBegin(index));
    if (!plan.pins[i]) {
      size_t j = i;
      while (j + 1 < plan.pins.size() && !plan.pins[j + 1]) ++j;
      const uint64_t high = std::min(end, BlockEnd(plan.first + j));
      Status status = FetchDirect(low, high - low, out + (low - offset));
      if (!status.ok()) return status;
      if (view != nullptr)
        view->pieces.emplace_back(out + (low - offset), high - low);
      i = j;
      continue;
    }
    Block& block = *plan.pins[i];
    const uint64_t high = std::min(end, BlockEnd(index));
    Status status = WaitReady(block, index, plan.last, high - low);
    if (!status.ok()) return status;
    const char* from = block.data.get() + (low - BlockBegin(index));
    if (view != nullptr) {
      view->pieces.emplace_back(from, high - low);
      view->holds.push_back(plan.pins[i]);  // immutable once ready
    } else {
      std::memcpy(out + (low - offset), from, high - low);
    }
  }
  return OkStatus();
}

// Waits until `block` (number `index`) is settled. If its read-ahead job is
// still queued after kTakeOverDelay, the pool (shared by every open file) is
// busy: this thread fetches the job's blocks up to `last` itself.
Status ReaderCore::WaitReady(Block& block, uint64_t index, uint64_t last,
                             uint64_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  auto settled = [&] { return block.status != Block::Status::kFetching; };
  Fetch fetch;
  if (!cv_.wait_for(lock, kTakeOverDelay, settled) &&
      TakeQueuedLocked(index, last, &fetch)) {
    lock.unlock();
    (void)RunFetch(fetch);  // failures are recorded in the blocks
    fetch.blocks.clear();
    lock.lock();
  }
  cv_.wait(lock, settled);
  if (block.status == Block::Status::kFailed) return block.error;
  block.consumed += bytes;
  return OkStatus();
}

Status ReaderCore::FetchDirect(uint64_t offset, uint64_t length, char* out) {
  uint64_t filled = 0;
  auto sink = [&](std::string_view bytes) {
    if (bytes.size() > length - filled) return false;
    std::memcpy(out + filled, bytes.data(), bytes.size());
    filled += bytes.size();
    return true;
  };
  return context_.source().Fetch(version_, offset, length, sink);
}

uint64_t ReaderCore::ReleaseIfIdle(
    std::chrono::steady_clock::time_point cutoff) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_ || last_used_ > cutoff) return 0;
  detector_.DropWindows();
  uint64_t freed = 0;
  for (auto it = blocks_.begin(); it != blocks_.end();) {
    const Block& block = *it->second;
    if (block.status == Block::Status::kFetching) {
      ++it;  // owned by a fetch; evicted when it completes
      continue;
    }
    freed += block.reservation.bytes();
    CountWasteLocked(block);
    it = blocks_.erase(it);
  }
  return freed;
}

void ReaderCore::Close(std::chrono::milliseconds timeout) {
  context_.Unregister(this);  // before mu_: lock order
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  for (const JobPtr& job : queued_) job->cancelled = true;
  readahead_in_flight_ -= static_cast<int>(queued_.size());
  queued_.clear();
  if (!cv_.wait_for(lock, timeout, [&] { return running_jobs_ == 0; })) {
    REPOFS_LOG(kWarning) << "closing " << version_.key << ": " << running_jobs_
                         << " fetches still running after " << timeout.count()
                         << " ms; leaving them";
  }
  for (const auto& entry : blocks_) CountWasteLocked(*entry.second);
  blocks_.clear();
}

}  // namespace repofs::prefetch::internal
