// RetryPolicy: when to retry a failed S3 request and how long to wait first.
//
// Bounded attempts (max_retries after the first try) and "full jitter"
// exponential back-off: the wait after failed attempt n (0-based) is uniform
// in [0, min(max_delay, base_delay * 2^n)] (AWS Architecture Blog,
// "Exponential Backoff And Jitter"). Only S3Error::retryable() failures are
// retried; kAborted, kNoSuchKey, kAccessDenied, kPreconditionFailed... never.
//
// The random source is injectable so tests can observe exact delays. It
// returns a value in [0, 1] (values outside are clamped).
//
// Thread-safety: a RetryPolicy is an immutable value; its methods may be
// called concurrently. The default random source is thread-safe (one engine
// per thread); an injected source must be thread-safe itself if the policy
// is shared between threads.
#pragma once

#include <chrono>
#include <functional>

#include "repofs/s3_error.h"
#include "repofs/s3_options.h"

namespace repofs::s3 {

class RetryPolicy {
 public:
  // Uniform random value in [0, 1].
  using RandomSource = std::function<double()>;

  // The defaults of S3Options (6 retries, 100 ms base, 10 s cap).
  RetryPolicy();
  // From options.max_retries, retry_base_delay_ms and retry_max_delay_ms.
  explicit RetryPolicy(const S3Options& options, RandomSource random = {});
  RetryPolicy(int max_retries, std::chrono::milliseconds base_delay,
              std::chrono::milliseconds max_delay, RandomSource random = {});

  // True when `error` is retryable and the attempt that just failed
  // (`attempt`, 0-based: 0 is the first try) was not the last one allowed,
  // i.e. attempt < max_retries.
  bool ShouldRetry(const S3Error& error, int attempt) const;

  // The wait before retrying after failed attempt `attempt` (0-based):
  // uniform in [0, MaxBackoff(attempt)].
  std::chrono::nanoseconds BackoffDelay(int attempt) const;

  // min(max_delay, base_delay * 2^attempt), without overflow.
  std::chrono::nanoseconds MaxBackoff(int attempt) const;

  int max_retries() const { return max_retries_; }
  std::chrono::milliseconds base_delay() const { return base_delay_; }
  std::chrono::milliseconds max_delay() const { return max_delay_; }

 private:
  int max_retries_;
  std::chrono::milliseconds base_delay_;
  std::chrono::milliseconds max_delay_;
  RandomSource random_;  // empty: a per-thread std::mt19937_64
};

}  // namespace repofs::s3
