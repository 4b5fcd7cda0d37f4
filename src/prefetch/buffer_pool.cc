#include "prefetch/buffer_pool.h"

#include <new>

namespace repofs::prefetch {
namespace {

// Page-aligned, so that the block cache can write a kept block with
// O_DIRECT (cache/data_files.h).
constexpr std::align_val_t kAlign{BufferPool::kAlignment};

char* Allocate(size_t bytes) {
  return static_cast<char*>(::operator new[](bytes, kAlign));
}

void Free(char* data) { ::operator delete[](data, kAlign); }

}  // namespace

void BufferPool::Return::operator()(char* data) const {
  if (data == nullptr) return;
  if (pool != nullptr) {
    pool->Give(data);
  } else {
    delete[] data;  // a loose buffer (new char[]), not the pool's
  }
}

BufferPool::BufferPool(size_t buffer_bytes, size_t max_free,
                       std::chrono::steady_clock::duration idle_release)
    : buffer_bytes_(buffer_bytes),
      max_free_(max_free),
      idle_release_(idle_release) {}

BufferPool::~BufferPool() {
  for (const Idle& idle : free_) Free(idle.data);
}

BufferPool::Buffer BufferPool::Take() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ExpireLocked(now);
    if (!free_.empty()) {
      char* data = free_.back().data;  // the warmest
      free_.pop_back();
      ++reused_;
      return Buffer(data, Return{this});
    }
    ++allocated_;
  }
  return Buffer(Allocate(buffer_bytes_), Return{this});
}

void BufferPool::Give(char* data) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now);
  if (free_.size() >= max_free_) {
    Free(data);
    return;
  }
  free_.push_back(Idle{data, now});
}

void BufferPool::ExpireLocked(std::chrono::steady_clock::time_point now) {
  while (!free_.empty() && now - free_.front().since > idle_release_) {
    Free(free_.front().data);
    free_.pop_front();
  }
}

uint64_t BufferPool::reused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reused_;
}

uint64_t BufferPool::allocated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocated_;
}

size_t BufferPool::free_buffers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

}  // namespace repofs::prefetch
