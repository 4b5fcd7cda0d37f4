#include "s3/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>

namespace repofs::s3 {
namespace {

double DefaultRandom() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

RetryPolicy::RetryPolicy() : RetryPolicy(S3Options{}) {}

RetryPolicy::RetryPolicy(const S3Options& options, RandomSource random)
    : RetryPolicy(options.max_retries,
                  std::chrono::milliseconds(options.retry_base_delay_ms),
                  std::chrono::milliseconds(options.retry_max_delay_ms),
                  std::move(random)) {}

RetryPolicy::RetryPolicy(int max_retries, std::chrono::milliseconds base_delay,
                         std::chrono::milliseconds max_delay,
                         RandomSource random)
    : max_retries_(std::max(0, max_retries)),
      base_delay_(std::max(std::chrono::milliseconds(0), base_delay)),
      max_delay_(std::max(std::chrono::milliseconds(0), max_delay)),
      random_(std::move(random)) {}

bool RetryPolicy::ShouldRetry(const S3Error& error, int attempt) const {
  return error.retryable() && attempt >= 0 && attempt < max_retries_;
}

std::chrono::nanoseconds RetryPolicy::MaxBackoff(int attempt) const {
  using std::chrono::nanoseconds;
  const int64_t base = nanoseconds(base_delay_).count();
  const int64_t cap = nanoseconds(max_delay_).count();
  if (attempt < 0) attempt = 0;
  // base << attempt <= cap  <=>  base <= cap >> attempt (no overflow).
  if (attempt < 63 && base <= (cap >> attempt)) {
    return nanoseconds(base << attempt);
  }
  return nanoseconds(cap);
}

std::chrono::nanoseconds RetryPolicy::BackoffDelay(int attempt) const {
  double u = random_ ? random_() : DefaultRandom();
  if (!(u >= 0.0)) u = 0.0;  // also NaN
  if (u > 1.0) u = 1.0;
  const auto cap = MaxBackoff(attempt).count();
  auto delay = static_cast<int64_t>(std::llround(u * static_cast<double>(cap)));
  return std::chrono::nanoseconds(std::clamp<int64_t>(delay, 0, cap));
}

}  // namespace repofs::s3
