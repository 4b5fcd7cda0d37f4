// MemoryBudget: the global cap on read-ahead buffer memory of one mount
// (ReadaheadOptions::memory_limit), shared by every ObjectReader.
//
// A MemoryReservation is a move-only RAII claim on part of the budget; it is
// returned when the reservation is destroyed, i.e. when the buffer it covers
// is freed (not merely unlinked from a reader's table), so `used()` is the
// memory actually held. TryReserve never exceeds the limit; callers that
// cannot get a reservation must not buffer (ObjectReader then reads straight
// into the caller's buffer).
//
// Ownership: owned by the ReadaheadContext; reservations keep a raw pointer
// to it, so the budget must outlive every reservation (the context outlives
// its readers and joins its worker pool before destroying the budget).
// Thread-safety: all methods are thread-safe (atomics, no lock).
#pragma once

#include <atomic>
#include <cstdint>

namespace repofs::prefetch {

class MemoryBudget;

class MemoryReservation {
 public:
  MemoryReservation() = default;
  ~MemoryReservation() { Reset(); }
  MemoryReservation(MemoryReservation&& other) noexcept;
  MemoryReservation& operator=(MemoryReservation&& other) noexcept;
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;

  uint64_t bytes() const { return bytes_; }
  explicit operator bool() const { return budget_ != nullptr; }
  // Returns the bytes to the budget now.
  void Reset();

 private:
  friend class MemoryBudget;
  MemoryReservation(MemoryBudget* budget, uint64_t bytes)
      : budget_(budget), bytes_(bytes) {}

  MemoryBudget* budget_ = nullptr;
  uint64_t bytes_ = 0;
};

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // A reservation of `bytes` if used() + bytes <= limit(), else an empty
  // (false) reservation.
  MemoryReservation TryReserve(uint64_t bytes);

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  friend class MemoryReservation;
  void Release(uint64_t bytes);

  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
  std::atomic<uint64_t> peak_{0};
};

}  // namespace repofs::prefetch
