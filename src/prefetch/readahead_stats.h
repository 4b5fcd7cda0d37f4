// ReadaheadCounters: monotonically increasing counters of the prefetch layer
// of one mount (for metrics and benchmarks), and ReadaheadStats, a plain
// snapshot of them plus the memory gauges.
//
// Ownership: shared (std::shared_ptr) by the ReadaheadContext and the
// S3ChunkSource it creates. Thread-safety: every counter is an atomic updated
// with relaxed ordering; a snapshot is not one consistent instant.
#pragma once

#include <atomic>
#include <cstdint>

namespace repofs::prefetch {

struct ReadaheadStats {
  uint64_t get_requests = 0;   // ranged GETs issued (by the S3ChunkSource)
  uint64_t bytes_fetched = 0;  // body bytes received from those GETs
  uint64_t readahead_bytes_wasted = 0;  // read ahead, freed without a read
  uint64_t reads_served = 0;            // Read() calls that succeeded
  uint64_t bytes_served = 0;            // bytes those reads returned
  uint64_t read_errors = 0;             // Read() calls that failed
  uint64_t buffered_bytes = 0;       // read-ahead/demand buffers reserved now
  uint64_t peak_buffered_bytes = 0;  // high-water mark of buffered_bytes
};

struct ReadaheadCounters {
  std::atomic<uint64_t> get_requests{0};
  std::atomic<uint64_t> bytes_fetched{0};
  std::atomic<uint64_t> readahead_bytes_wasted{0};
  std::atomic<uint64_t> reads_served{0};
  std::atomic<uint64_t> bytes_served{0};
  std::atomic<uint64_t> read_errors{0};

  static void Add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace repofs::prefetch
