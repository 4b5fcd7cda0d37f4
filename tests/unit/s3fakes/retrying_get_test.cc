// RetryingObjectClient::GetObject: interrupted bodies are resumed without
// delivering a byte twice and without ever splicing two object versions.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "s3/failure_object_client.h"
#include "s3/fake_object_client.h"
#include "s3/retrying_object_client.h"
#include "test_support.h"

namespace repofs::s3 {
namespace {

using std::chrono::milliseconds;

constexpr uint64_t kMiB = 1024 * 1024;

// Pinned: the caller passes If-Match (the read path always does).
// Unpinned: no If-Match; the client verifies replayed bytes instead.
class RetryingGetTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    body_ = testing::RandomBytes(3 * kMiB, 77);
    etag_ = fake_->PutForTest("obj", body_).etag;
  }
  bool pinned() const { return GetParam(); }
  GetRequest Request(uint64_t offset = 0,
                     std::optional<uint64_t> length = std::nullopt) {
    GetRequest request;
    request.key = "obj";
    request.offset = offset;
    request.length = length;
    if (pinned()) request.if_match = etag_;
    return request;
  }

  testing::ManualClock clock_;
  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>(clock_);
  std::shared_ptr<FailureObjectClient> faults_ =
      std::make_shared<FailureObjectClient>(fake_, clock_);
  RetryingObjectClient retrying_{
      faults_, RetryPolicy(8, milliseconds(10), milliseconds(100)), clock_};
  std::string body_;
  std::string etag_;
};

TEST_P(RetryingGetTest, TruncatedSeveralTimesDeliversTheExactBytesOnce) {
  // Cut points are per attempt (bytes that attempt delivers).
  const std::vector<uint64_t> cuts = {0, 1, 65535, 65536, 1000003, 7, kMiB};
  for (uint64_t cut : cuts) faults_->TruncateNextGets(cut);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(out.bytes.size(), body_.size());
  EXPECT_TRUE(out.bytes == body_) << "bytes differ";
  EXPECT_EQ(info->etag, etag_);
  EXPECT_EQ(info->size, body_.size());
  EXPECT_EQ(faults_->InjectedFaults().truncations, cuts.size());
  EXPECT_EQ(faults_->RequestCounts()["GetObject"], cuts.size() + 1);
  EXPECT_EQ(clock_.Sleeps().size(), cuts.size());
}

TEST_P(RetryingGetTest, RangedGetIsResumedWithinItsRange) {
  faults_->TruncateNextGets(100000);
  faults_->TruncateNextGets(300001);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(12345, 2 * kMiB), out.Sink());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_TRUE(out.bytes == body_.substr(12345, 2 * kMiB));
  EXPECT_EQ(out.bytes.size(), 2 * kMiB);
}

TEST_P(RetryingGetTest, CutAfterTheLastByteStillSucceeds) {
  // The whole body arrived but the exchange failed: the retry must not ask
  // for a range past the end (416) nor deliver anything again.
  faults_->TruncateNextGets(body_.size());
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_TRUE(out.bytes == body_);

  faults_->TruncateNextGets(10);
  testing::Collector ranged;
  info = retrying_.GetObject(Request(body_.size() - 10, 10), ranged.Sink());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(ranged.bytes, body_.substr(body_.size() - 10));
}

TEST_P(RetryingGetTest, ObjectReplacedBetweenAttemptsFailsWithoutMixing) {
  const std::string new_body = testing::RandomBytes(3 * kMiB, 78);
  clock_.OnSleep([&] { fake_->PutForTest("obj", new_body); });
  faults_->TruncateNextGets(kMiB + 17);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, S3ErrorCode::kPreconditionFailed);
  // Only the first attempt's bytes of the old version reached the sink.
  EXPECT_EQ(out.bytes.size(), kMiB + 17);
  EXPECT_TRUE(out.bytes == body_.substr(0, kMiB + 17));
  EXPECT_EQ(faults_->RequestCounts()["GetObject"], 2u);  // not retried again
}

TEST_P(RetryingGetTest, ObjectReplacedBySomethingShorterFails) {
  clock_.OnSleep([&] { fake_->PutForTest("obj", body_.substr(0, 1000)); });
  faults_->TruncateNextGets(5000);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, S3ErrorCode::kPreconditionFailed);
  EXPECT_TRUE(out.bytes == body_.substr(0, 5000));
}

TEST_P(RetryingGetTest, ObjectRewrittenWithTheSameBytesResumes) {
  // Same bytes, same ETag: the same version as far as S3 can tell.
  clock_.OnSleep([&] { fake_->PutForTest("obj", body_); });
  faults_->TruncateNextGets(200000);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_TRUE(out.bytes == body_);
}

TEST_P(RetryingGetTest, ObjectDeletedBetweenAttempts) {
  clock_.OnSleep([&] { (void)fake_->DeleteObject("obj"); });
  faults_->TruncateNextGets(1000);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, S3ErrorCode::kNoSuchKey);
  EXPECT_EQ(out.bytes.size(), 1000u);
}

TEST_P(RetryingGetTest, SinkStoppingAfterAResumeIsNotRetried) {
  faults_->TruncateNextGets(70000);
  uint64_t received = 0;
  auto info = retrying_.GetObject(Request(), [&](std::string_view chunk) {
    received += chunk.size();
    return received < 500000;
  });
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, S3ErrorCode::kAborted);
  EXPECT_EQ(faults_->RequestCounts()["GetObject"], 2u);
  EXPECT_LT(received, 600000u);
}

TEST_P(RetryingGetTest, GivesUpWithTruncatedBodyAfterMaxRetries) {
  for (int i = 0; i < 9; ++i) faults_->TruncateNextGets(1000);
  testing::Collector out;
  auto info = retrying_.GetObject(Request(), out.Sink());
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, S3ErrorCode::kTruncatedBody);
  EXPECT_EQ(faults_->RequestCounts()["GetObject"], 9u);
  // Whatever arrived is a prefix of the object, each byte once.
  EXPECT_TRUE(out.bytes == body_.substr(0, out.bytes.size()));
  EXPECT_GE(out.bytes.size(), 1000u);
}

TEST_P(RetryingGetTest, RandomFaultSoak) {
  faults_->SetRandomFailures(0.3, /*seed=*/42, {}, /*truncate_gets=*/true,
                             "GetObject");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 60; ++i) {
    const uint64_t offset = rng() % body_.size();
    const uint64_t length = 1 + rng() % (body_.size() - offset);
    testing::Collector out;
    auto info = retrying_.GetObject(Request(offset, length), out.Sink());
    ASSERT_TRUE(info.has_value()) << i << ": " << info.error().message;
    ASSERT_TRUE(out.bytes == body_.substr(offset, length)) << i;
  }
  EXPECT_GT(faults_->InjectedFaults().truncations, 5u);
  EXPECT_GT(faults_->InjectedFaults().errors, 5u);
}

INSTANTIATE_TEST_SUITE_P(IfMatch, RetryingGetTest, ::testing::Values(true),
                         [](const auto&) { return std::string("Pinned"); });
INSTANTIATE_TEST_SUITE_P(NoIfMatch, RetryingGetTest, ::testing::Values(false),
                         [](const auto&) { return std::string("Unpinned"); });

}  // namespace
}  // namespace repofs::s3
