// FakeClock: a Clock whose time moves only when a test says so. SleepFor
// advances it. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>

#include "repofs/clock.h"

namespace repofs::test {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start =
                         std::chrono::system_clock::from_time_t(1700000000))
      : wall_(start) {}

  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return steady_;
  }
  void SleepFor(std::chrono::nanoseconds d) const override { Advance(d); }

  void Advance(std::chrono::nanoseconds d) const {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    steady_ +=
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  mutable std::chrono::system_clock::time_point wall_;      // GUARDED_BY(mu_)
  mutable std::chrono::steady_clock::time_point steady_{};  // GUARDED_BY(mu_)
};

}  // namespace repofs::test
