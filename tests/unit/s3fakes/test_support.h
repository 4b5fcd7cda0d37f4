// Helpers for the s3fakes unit tests: a manual Clock that records sleeps,
// deterministic random bodies, and a sink that collects bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "repofs/clock.h"
#include "repofs/object_client.h"

namespace repofs::testing {

// A Clock whose time only moves when told to (or when someone sleeps on it).
// SleepFor records the duration, advances time and runs the optional hook
// (used to change the world "between attempts").
class ManualClock final : public Clock {
 public:
  ManualClock()
      : now_(std::chrono::system_clock::time_point(
            std::chrono::seconds(1'700'000'000))) {}

  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    std::lock_guard lock(mu_);
    return std::chrono::steady_clock::time_point(now_.time_since_epoch());
  }
  void SleepFor(std::chrono::nanoseconds d) const override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      sleeps_.push_back(d);
      now_ +=
          std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
      hook = on_sleep_;
    }
    if (hook) hook();
  }

  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  std::vector<std::chrono::nanoseconds> Sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  void OnSleep(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    on_sleep_ = std::move(hook);
  }

 private:
  mutable std::mutex mu_;
  mutable std::chrono::system_clock::time_point now_;
  mutable std::vector<std::chrono::nanoseconds> sleeps_;
  std::function<void()> on_sleep_;
};

inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>(rng() & 0xff);
  }
  return out;
}

// Collects everything a GET delivers, counting sink calls.
struct Collector {
  std::string bytes;
  int calls = 0;
  DataSink Sink() {
    return [this](std::string_view chunk) {
      ++calls;
      bytes.append(chunk);
      return true;
    };
  }
};

}  // namespace repofs::testing
