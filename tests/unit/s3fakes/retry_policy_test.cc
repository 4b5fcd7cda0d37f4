#include "s3/retry_policy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace repofs::s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

S3Error Err(S3ErrorCode code) { return S3Error{code, 0, "", "", ""}; }

TEST(RetryPolicyTest, RetriesOnlyRetryableCodesAndIsBounded) {
  RetryPolicy policy(3, milliseconds(100), milliseconds(1000));
  for (int attempt = 0; attempt < 3; ++attempt) {
    EXPECT_TRUE(policy.ShouldRetry(Err(S3ErrorCode::kServerError), attempt));
    EXPECT_TRUE(policy.ShouldRetry(Err(S3ErrorCode::kSlowDown), attempt));
    EXPECT_TRUE(policy.ShouldRetry(Err(S3ErrorCode::kNetwork), attempt));
    EXPECT_TRUE(policy.ShouldRetry(Err(S3ErrorCode::kTimeout), attempt));
    EXPECT_TRUE(policy.ShouldRetry(Err(S3ErrorCode::kTruncatedBody), attempt));
  }
  EXPECT_FALSE(policy.ShouldRetry(Err(S3ErrorCode::kServerError), 3));
  EXPECT_FALSE(policy.ShouldRetry(Err(S3ErrorCode::kServerError), 100));
  for (S3ErrorCode code :
       {S3ErrorCode::kNoSuchKey, S3ErrorCode::kAccessDenied,
        S3ErrorCode::kPreconditionFailed, S3ErrorCode::kAborted,
        S3ErrorCode::kInvalidRange, S3ErrorCode::kSignatureDoesNotMatch}) {
    EXPECT_FALSE(policy.ShouldRetry(Err(code), 0)) << ErrorCodeName(code);
  }
  RetryPolicy none(0, milliseconds(100), milliseconds(1000));
  EXPECT_FALSE(none.ShouldRetry(Err(S3ErrorCode::kServerError), 0));
}

TEST(RetryPolicyTest, FromOptions) {
  S3Options options;
  options.max_retries = 4;
  options.retry_base_delay_ms = 50;
  options.retry_max_delay_ms = 700;
  RetryPolicy policy(options);
  EXPECT_EQ(policy.max_retries(), 4);
  EXPECT_EQ(policy.base_delay(), milliseconds(50));
  EXPECT_EQ(policy.max_delay(), milliseconds(700));
  RetryPolicy defaults;
  EXPECT_EQ(defaults.max_retries(), S3Options{}.max_retries);
  EXPECT_EQ(defaults.base_delay(),
            milliseconds(S3Options{}.retry_base_delay_ms));
}

TEST(RetryPolicyTest, CapGrowsExponentiallyUpToMax) {
  RetryPolicy policy(10, milliseconds(100), milliseconds(1000));
  EXPECT_EQ(policy.MaxBackoff(0), milliseconds(100));
  EXPECT_EQ(policy.MaxBackoff(1), milliseconds(200));
  EXPECT_EQ(policy.MaxBackoff(2), milliseconds(400));
  EXPECT_EQ(policy.MaxBackoff(3), milliseconds(800));
  EXPECT_EQ(policy.MaxBackoff(4), milliseconds(1000));
  EXPECT_EQ(policy.MaxBackoff(63), milliseconds(1000));  // no overflow
  EXPECT_EQ(policy.MaxBackoff(1000), milliseconds(1000));
}

TEST(RetryPolicyTest, FullJitterUsesTheRandomSource) {
  double next = 1.0;
  RetryPolicy policy(10, milliseconds(100), milliseconds(1000),
                     [&next] { return next; });
  EXPECT_EQ(policy.BackoffDelay(0), milliseconds(100));
  EXPECT_EQ(policy.BackoffDelay(2), milliseconds(400));
  EXPECT_EQ(policy.BackoffDelay(9), milliseconds(1000));
  next = 0.0;
  EXPECT_EQ(policy.BackoffDelay(3), nanoseconds(0));
  next = 0.5;
  EXPECT_EQ(policy.BackoffDelay(3), milliseconds(400));
  next = 7.0;  // clamped
  EXPECT_EQ(policy.BackoffDelay(1), milliseconds(200));
  next = -1.0;
  EXPECT_EQ(policy.BackoffDelay(1), nanoseconds(0));
}

TEST(RetryPolicyTest, DefaultRandomStaysWithinCap) {
  RetryPolicy policy(10, milliseconds(10), milliseconds(300));
  bool saw_below_cap = false;
  for (int i = 0; i < 2000; ++i) {
    int attempt = i % 8;
    nanoseconds delay = policy.BackoffDelay(attempt);
    ASSERT_GE(delay.count(), 0);
    ASSERT_LE(delay, policy.MaxBackoff(attempt));
    if (delay < policy.MaxBackoff(attempt) / 2) saw_below_cap = true;
  }
  EXPECT_TRUE(saw_below_cap);  // it is jittered, not constant
}

}  // namespace
}  // namespace repofs::s3
