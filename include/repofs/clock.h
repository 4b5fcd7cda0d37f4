// Clock: the source of wall time and of waiting, as an interface so retry
// back-off, TTLs and credential expiry are testable without sleeping.
//
// RealClock() returns a process-wide immutable instance. Implementations must
// be thread-safe.
#pragma once

#include <chrono>

namespace repofs {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (used for SigV4 dates and credential expiry).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time (used for TTLs and timeouts).
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
  // Blocks the calling thread for `d` (a fake clock advances instead).
  virtual void SleepFor(std::chrono::nanoseconds d) const = 0;
};

// The real clock (std::chrono + std::this_thread::sleep_for).
const Clock& RealClock();

}  // namespace repofs
