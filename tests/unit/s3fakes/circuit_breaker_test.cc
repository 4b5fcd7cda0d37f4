// CircuitBreaker / BreakerObjectClient: S3 outages make requests fail fast
// (kUnavailable, no attempt) after `threshold` consecutive outage failures;
// a probe after the open interval closes it again. Stack under test:
// RetryingObjectClient -> BreakerObjectClient -> FailureObjectClient ->
// FakeObjectClient, with a ManualClock.
#include "s3/circuit_breaker.h"

#include <gtest/gtest.h>

#include <memory>

#include "s3/failure_object_client.h"
#include "s3/fake_object_client.h"
#include "s3/retrying_object_client.h"
#include "test_support.h"

namespace repofs::s3 {
namespace {

using std::chrono::milliseconds;

class BreakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_->PutForTest("k", "body");
    BreakerOptions options;
    options.threshold = 3;
    options.open_interval = milliseconds(1000);
    options.max_open_interval = milliseconds(4000);
    breaker_ = std::make_shared<CircuitBreaker>(options, clock_);
    guarded_ = std::make_shared<BreakerObjectClient>(faults_, breaker_);
    retrying_ = std::make_shared<RetryingObjectClient>(
        guarded_,
        RetryPolicy(6, milliseconds(100), milliseconds(1000), [] { return 1.0; }),
        clock_);
  }
  uint64_t Attempts(const std::string& op) {
    return faults_->RequestCounts()[op];
  }

  testing::ManualClock clock_;
  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>(clock_);
  std::shared_ptr<FailureObjectClient> faults_ =
      std::make_shared<FailureObjectClient>(fake_, clock_);
  std::shared_ptr<CircuitBreaker> breaker_;
  std::shared_ptr<BreakerObjectClient> guarded_;
  std::shared_ptr<RetryingObjectClient> retrying_;
};

TEST_F(BreakerTest, TransientFailureIsRetriedWithoutOpening) {
  faults_->FailNext("HeadObject", 2, FailureObjectClient::ConnectionReset());
  auto head = retrying_->HeadObject("k");
  ASSERT_TRUE(head.has_value()) << head.error().message;
  EXPECT_FALSE(breaker_->open());
  EXPECT_EQ(breaker_->trips(), 0u);
  EXPECT_EQ(Attempts("HeadObject"), 3u);
}

TEST_F(BreakerTest, OutageOpensAfterThresholdAndFailsFast) {
  faults_->FailNext("HeadObject", 100, FailureObjectClient::Timeout());
  auto head = retrying_->HeadObject("k");
  ASSERT_FALSE(head.has_value());
  // Three real attempts, then the breaker refused the remaining retries.
  EXPECT_EQ(Attempts("HeadObject"), 3u);
  EXPECT_EQ(head.error().code, S3ErrorCode::kUnavailable);
  EXPECT_EQ(ToErrno(head.error().code), EIO);
  EXPECT_TRUE(breaker_->open());
  EXPECT_EQ(breaker_->trips(), 1u);

  // Every other operation now fails at once, without reaching the client.
  auto list = retrying_->ListObjects(ListRequest{});
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code, S3ErrorCode::kUnavailable);
  EXPECT_EQ(Attempts("ListObjects"), 0u);
  EXPECT_NE(list.error().message.find("S3 unavailable"), std::string::npos);
}

TEST_F(BreakerTest, PermanentErrorsDoNotOpen) {
  faults_->FailNext("HeadObject", 5, S3Error{S3ErrorCode::kAccessDenied, 403, "AccessDenied", "denied", ""});
  for (int i = 0; i < 5; ++i) {
    auto head = retrying_->HeadObject("k");
    ASSERT_FALSE(head.has_value());
    EXPECT_EQ(head.error().code, S3ErrorCode::kAccessDenied);
  }
  EXPECT_FALSE(breaker_->open());
}

TEST_F(BreakerTest, ProbeAfterIntervalClosesOnSuccess) {
  faults_->FailNext("HeadObject", 3, FailureObjectClient::ConnectionReset());
  ASSERT_FALSE(retrying_->HeadObject("k").has_value());
  ASSERT_TRUE(breaker_->open());
  // Before the interval: refused without an attempt.
  clock_.Advance(milliseconds(500));
  const uint64_t before = Attempts("HeadObject");
  ASSERT_FALSE(guarded_->HeadObject("k").has_value());
  EXPECT_EQ(Attempts("HeadObject"), before);
  // After it: one probe goes through, succeeds, and the breaker closes.
  clock_.Advance(milliseconds(600));
  auto head = guarded_->HeadObject("k");
  ASSERT_TRUE(head.has_value()) << head.error().message;
  EXPECT_EQ(Attempts("HeadObject"), before + 1);
  EXPECT_FALSE(breaker_->open());
  EXPECT_TRUE(retrying_->ListObjects(ListRequest{}).has_value());
}

TEST_F(BreakerTest, FailedProbeDoublesTheIntervalUpToTheCap) {
  faults_->FailNext("HeadObject", 100, FailureObjectClient::ServerError());
  ASSERT_FALSE(retrying_->HeadObject("k").has_value());
  ASSERT_TRUE(breaker_->open());
  const milliseconds expected[] = {milliseconds(2000), milliseconds(4000),
                                   milliseconds(4000)};
  clock_.Advance(milliseconds(1000));
  for (milliseconds interval : expected) {
    const uint64_t before = Attempts("HeadObject");
    ASSERT_FALSE(guarded_->HeadObject("k").has_value());  // the probe
    EXPECT_EQ(Attempts("HeadObject"), before + 1);
    clock_.Advance(interval - milliseconds(1));
    ASSERT_FALSE(guarded_->HeadObject("k").has_value());  // refused
    EXPECT_EQ(Attempts("HeadObject"), before + 1);
    clock_.Advance(milliseconds(1));
  }
}

TEST_F(BreakerTest, OnlyOneProbeAtATime) {
  faults_->FailNext("HeadObject", 3, FailureObjectClient::ServerError());
  ASSERT_FALSE(retrying_->HeadObject("k").has_value());
  clock_.Advance(milliseconds(1000));
  S3Error refused;
  ASSERT_TRUE(breaker_->Allow(&refused));   // the probe
  EXPECT_FALSE(breaker_->Allow(&refused));  // others wait for its outcome
  EXPECT_EQ(refused.code, S3ErrorCode::kUnavailable);
  breaker_->OnSuccess();
  EXPECT_TRUE(breaker_->Allow(&refused));
  EXPECT_TRUE(breaker_->Allow(&refused));
}

}  // namespace
}  // namespace repofs::s3
