// FailureObjectClient: scheduled, truncating, delaying and random faults.
#include "s3/failure_object_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "s3/fake_object_client.h"
#include "test_support.h"

namespace repofs {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

class FailureClientTest : public ::testing::Test {
 protected:
  void SetUp() override { fake_->PutForTest("k", "0123456789"); }
  S3Result<ObjectInfo> Get(testing::Collector* out) {
    GetRequest request;
    request.key = "k";
    return faults_.GetObject(request, out->Sink());
  }

  testing::ManualClock clock_;
  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>(clock_);
  FailureObjectClient faults_{fake_, clock_};
};

TEST_F(FailureClientTest, PassesThroughWithoutFaults) {
  testing::Collector out;
  ASSERT_TRUE(Get(&out).has_value());
  EXPECT_EQ(out.bytes, "0123456789");
  EXPECT_TRUE(faults_.HeadBucket().ok());
  EXPECT_EQ(faults_.InjectedFaultCount(), 0u);
  EXPECT_EQ(faults_.RequestCounts(), (std::map<std::string, uint64_t>{
                                         {"GetObject", 1}, {"HeadBucket", 1}}));
}

TEST_F(FailureClientTest, FailNextTargetsOneOperationInOrder) {
  faults_.FailNext("HeadObject", 1, FailureObjectClient::ServerError());
  faults_.FailNext("HeadObject", 2, FailureObjectClient::SlowDown());
  EXPECT_TRUE(faults_.HeadBucket().ok());  // other operations unaffected
  auto first = faults_.HeadObject("k");
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().code, S3ErrorCode::kServerError);
  EXPECT_EQ(first.error().http_status, 500);
  EXPECT_EQ(faults_.HeadObject("k").error().code, S3ErrorCode::kSlowDown);
  EXPECT_EQ(faults_.HeadObject("k").error().http_status, 503);
  EXPECT_TRUE(faults_.HeadObject("k").has_value());
  EXPECT_EQ(faults_.RequestCounts()["HeadObject"], 4u);
  EXPECT_EQ(fake_->RequestCounts()["HeadObject"], 1u);  // only one got through
  EXPECT_EQ(faults_.InjectedFaults().errors, 3u);
}

TEST_F(FailureClientTest, AnyOperationScheduleAppliesAfterSpecificOnes) {
  faults_.FailNext(FailureObjectClient::kAnyOperation, 1,
                   FailureObjectClient::ConnectionReset());
  faults_.FailNext("ListObjects", 1, FailureObjectClient::Timeout());
  EXPECT_EQ(faults_.ListObjects({}).error().code, S3ErrorCode::kTimeout);
  auto reset = faults_.ListObjects({});
  EXPECT_EQ(reset.error().code, S3ErrorCode::kNetwork);
  EXPECT_EQ(reset.error().http_status, 0);
  EXPECT_TRUE(faults_.ListObjects({}).has_value());
  EXPECT_EQ(faults_.PendingFaults(), 0u);
}

TEST_F(FailureClientTest, TruncatedGetDeliversExactlyKBytes) {
  faults_.TruncateNextGets(4);
  testing::Collector out;
  auto cut = Get(&out);
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code, S3ErrorCode::kTruncatedBody);
  EXPECT_TRUE(cut.error().retryable());
  EXPECT_EQ(out.bytes, "0123");

  // A cut at or past the end delivers everything and still fails.
  faults_.TruncateNextGets(10);
  testing::Collector all;
  EXPECT_EQ(Get(&all).error().code, S3ErrorCode::kTruncatedBody);
  EXPECT_EQ(all.bytes, "0123456789");

  testing::Collector fine;
  EXPECT_TRUE(Get(&fine).has_value());
  EXPECT_EQ(faults_.InjectedFaults().truncations, 2u);
  EXPECT_EQ(fake_->RequestCounts()["GetObject"], 3u);
}

TEST_F(FailureClientTest, TruncationAcrossChunks) {
  const std::string big = testing::RandomBytes(300000, 5);
  fake_->PutForTest("big", big);
  faults_.TruncateNextGets(150001);
  testing::Collector out;
  GetRequest request;
  request.key = "big";
  EXPECT_EQ(faults_.GetObject(request, out.Sink()).error().code,
            S3ErrorCode::kTruncatedBody);
  EXPECT_TRUE(out.bytes == big.substr(0, 150001));
}

TEST_F(FailureClientTest, TruncationInAnyScheduleWaitsForAGet) {
  faults_.Schedule(FailureObjectClient::kAnyOperation,
                   FailureObjectClient::Fault::TruncateBody(3));
  EXPECT_TRUE(faults_.HeadObject("k").has_value());
  testing::Collector out;
  EXPECT_EQ(Get(&out).error().code, S3ErrorCode::kTruncatedBody);
  EXPECT_EQ(out.bytes, "012");
}

TEST_F(FailureClientTest, ErrorOnGetDeliversNothingAndSinkStopIsAborted) {
  faults_.FailNext("GetObject", 1, FailureObjectClient::ServerError());
  testing::Collector out;
  EXPECT_EQ(Get(&out).error().code, S3ErrorCode::kServerError);
  EXPECT_EQ(out.calls, 0);
  faults_.TruncateNextGets(5);
  GetRequest request;
  request.key = "k";
  auto stopped =
      faults_.GetObject(request, [](std::string_view) { return false; });
  EXPECT_EQ(stopped.error().code, S3ErrorCode::kAborted);
}

TEST_F(FailureClientTest, LoseResponseAppliesTheCallThenFails) {
  faults_.Schedule("DeleteObject", FailureObjectClient::Fault::LoseResponse(
                                       FailureObjectClient::ConnectionReset()));
  EXPECT_EQ(faults_.DeleteObject("k").error().code, S3ErrorCode::kNetwork);
  EXPECT_FALSE(fake_->BodyForTest("k").has_value());
  EXPECT_EQ(fake_->RequestCounts()["DeleteObject"], 1u);
}

TEST_F(FailureClientTest, LatencyIsSleptOnTheClock) {
  faults_.SetLatency("GetObject", milliseconds(30));
  faults_.SetLatency(FailureObjectClient::kAnyOperation, milliseconds(5));
  testing::Collector out;
  ASSERT_TRUE(Get(&out).has_value());
  ASSERT_TRUE(faults_.HeadObject("k").has_value());
  EXPECT_EQ(clock_.Sleeps(),
            (std::vector<nanoseconds>{milliseconds(30), milliseconds(5)}));
  EXPECT_EQ(faults_.InjectedFaults().delays, 2u);
  faults_.ClearFaults();
  ASSERT_TRUE(faults_.HeadObject("k").has_value());
  EXPECT_EQ(clock_.Sleeps().size(), 2u);
}

std::vector<int> Outcomes(FailureObjectClient& client, int calls) {
  std::vector<int> outcomes;
  for (int i = 0; i < calls; ++i) {
    auto head = client.HeadObject("k");
    outcomes.push_back(head.has_value() ? -1
                                        : static_cast<int>(head.error().code));
  }
  return outcomes;
}

TEST_F(FailureClientTest, RandomFailuresAreSeededAndRoughlyAtRate) {
  faults_.SetRandomFailures(0.25, 1234);
  std::vector<int> first = Outcomes(faults_, 2000);
  faults_.SetRandomFailures(0.25, 1234);
  EXPECT_EQ(Outcomes(faults_, 2000), first);  // replayable
  faults_.SetRandomFailures(0.25, 999);
  EXPECT_NE(Outcomes(faults_, 2000), first);

  int failures = 0;
  std::set<int> codes;
  for (int outcome : first) {
    if (outcome >= 0) {
      ++failures;
      codes.insert(outcome);
    }
  }
  EXPECT_GT(failures, 400);  // expected 500
  EXPECT_LT(failures, 600);
  EXPECT_EQ(codes, (std::set<int>{static_cast<int>(S3ErrorCode::kServerError),
                                  static_cast<int>(S3ErrorCode::kSlowDown),
                                  static_cast<int>(S3ErrorCode::kNetwork)}));
  faults_.SetRandomFailures(0, 0);
  for (int outcome : Outcomes(faults_, 100)) EXPECT_EQ(outcome, -1);
}

TEST_F(FailureClientTest, RandomFailuresForOneOperationWithGivenErrors) {
  faults_.SetRandomFailures(
      1.0, 1,
      {S3Error{S3ErrorCode::kRequestTimeout, 400, "RequestTimeout", "", ""}},
      false, "ListObjects");
  EXPECT_TRUE(faults_.HeadObject("k").has_value());
  EXPECT_EQ(faults_.ListObjects({}).error().code, S3ErrorCode::kRequestTimeout);
}

TEST_F(FailureClientTest, ConcurrentCallsAreCountedExactly) {
  faults_.SetRandomFailures(0.5, 77);
  faults_.FailNext("HeadObject", 100, FailureObjectClient::ServerError());
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        (faults_.HeadObject("k").has_value() ? ok : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok + failed, 4000);
  EXPECT_EQ(faults_.RequestCounts()["HeadObject"], 4000u);
  EXPECT_EQ(faults_.InjectedFaults().errors,
            static_cast<uint64_t>(failed.load()));
  EXPECT_EQ(fake_->RequestCounts()["HeadObject"],
            static_cast<uint64_t>(ok.load()));
  EXPECT_GE(failed.load(), 100);
  EXPECT_EQ(faults_.PendingFaults(), 0u);
}

}  // namespace
}  // namespace repofs
