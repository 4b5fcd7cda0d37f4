// BufferPool: reuse of read-ahead block buffers (all of one size).
//
// A cold sequential read allocates and frees one block buffer per block
// (1 MiB by default). glibc serves such sizes with fresh mappings, or trims
// them from a thread arena, so every block cost page faults, the kernel's
// zeroing of 256 pages and an munmap/madvise: about an eighth of the daemon's
// CPU on a cold 256 MiB read. The pool keeps a few freed buffers (at most
// `max_free`) and hands them out again, most recently freed first so that
// their pages are still warm. Buffers left unused for kIdleRelease are freed
// at the next Take or return (kIdleRelease by default), so an idle mount
// holds at most max_free buffers.
//
// Ownership: Buffer's deleter points at the pool, which must outlive every
// Buffer (the ReadaheadContext owns it and outlives its readers).
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

namespace repofs::prefetch {

class BufferPool {
 public:
  struct Return {
    BufferPool* pool = nullptr;
    void operator()(char* data) const;
  };
  using Buffer = std::unique_ptr<char[], Return>;

  static constexpr std::chrono::seconds kIdleRelease{5};
  // Every buffer starts on a page boundary.
  static constexpr size_t kAlignment = 4096;

  BufferPool(size_t buffer_bytes, size_t max_free,
             std::chrono::steady_clock::duration idle_release = kIdleRelease);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  size_t buffer_bytes() const { return buffer_bytes_; }
  // A buffer of buffer_bytes() (uninitialised bytes).
  Buffer Take();

  // Counters for tests and the unmount log.
  uint64_t reused() const;
  uint64_t allocated() const;
  size_t free_buffers() const;

 private:
  struct Idle {
    char* data;
    std::chrono::steady_clock::time_point since;
  };
  void Give(char* data);
  // Frees idle buffers older than kIdleRelease; requires mu_.
  void ExpireLocked(std::chrono::steady_clock::time_point now);

  const size_t buffer_bytes_;
  const size_t max_free_;
  const std::chrono::steady_clock::duration idle_release_;
  mutable std::mutex mu_;
  std::deque<Idle> free_;   // GUARDED_BY(mu_) oldest first
  uint64_t reused_ = 0;     // GUARDED_BY(mu_)
  uint64_t allocated_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace repofs::prefetch
