// ObjectReader under injected faults (FailureObjectClient, optionally behind
// RetryingObjectClient): every read returns the exact bytes or EIO, never a
// short count or bytes of another version; failed blocks are retried.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

#include "prefetch/object_reader.h"
#include "prefetch_test_util.h"
#include "s3/failure_object_client.h"
#include "s3/retrying_object_client.h"

namespace repofs::prefetch {
namespace {

using testing::Expected;
using testing::kKiB;
using testing::kMiB;
using testing::MakeBody;
using testing::ReadString;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = MakeBody(40 * kMiB + 3, 11);
    version_ = testing::PutObject(*fake_, "faulty", body_);
  }

  // Reader stack: [Retrying ->] Failure -> Fake.
  void MakeContext(bool retrying, const ReadaheadOptions& options = {}) {
    std::shared_ptr<ObjectClient> client = failure_;
    if (retrying) {
      client = std::make_shared<s3::RetryingObjectClient>(
          failure_, s3::RetryPolicy(4, std::chrono::milliseconds(1),
                                    std::chrono::milliseconds(4)));
    }
    context_ = std::make_unique<ReadaheadContext>(client, options, 4);
  }

  // Reads `len` at `offset`: true if exact, false on EIO; fails the test
  // on anything else (short count, wrong bytes, other errno).
  bool ReadExactOrEio(ObjectReader& reader, uint64_t offset, size_t len) {
    std::string buffer(len, '\0');
    Result<size_t> got = reader.Read(offset, len, buffer.data());
    if (!got.has_value()) {
      EXPECT_EQ(got.error().errno_value, EIO) << got.error().message;
      EXPECT_EQ(got.error().message.find('\n'), std::string::npos);
      return false;
    }
    buffer.resize(got.value());
    EXPECT_TRUE(buffer == Expected(body_, offset, len))
        << "wrong or short data at " << offset << " (" << got.value()
        << " bytes)";
    return true;
  }

  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>();
  std::shared_ptr<FailureObjectClient> failure_ =
      std::make_shared<FailureObjectClient>(fake_);
  std::string body_;
  ObjectVersion version_;
  std::unique_ptr<ReadaheadContext> context_;
};

TEST_F(FaultTest, ServerErrorsAreRetriedByTheClient) {
  MakeContext(/*retrying=*/true);
  failure_->FailNext("GetObject", 3, FailureObjectClient::ServerError());
  ObjectReader reader(*context_, version_);
  for (uint64_t offset = 0; offset < body_.size(); offset += 128 * kKiB) {
    ASSERT_TRUE(ReadExactOrEio(reader, offset, 128 * kKiB)) << offset;
  }
  EXPECT_EQ(failure_->InjectedFaultCount(), 3u);
}

TEST_F(FaultTest, TruncatedBodiesAreResumed) {
  MakeContext(/*retrying=*/true);
  failure_->TruncateNextGets(300 * kKiB, 4);
  ObjectReader reader(*context_, version_);
  for (uint64_t offset = 0; offset < body_.size(); offset += 128 * kKiB) {
    ASSERT_TRUE(ReadExactOrEio(reader, offset, 128 * kKiB)) << offset;
  }
  EXPECT_EQ(failure_->InjectedFaults().truncations, 4u);
}

TEST_F(FaultTest, FailedFetchIsEioThenRetriedOnTheNextRead) {
  MakeContext(/*retrying=*/false);
  ObjectReader reader(*context_, version_);
  failure_->FailNext("GetObject", 1, FailureObjectClient::ServerError());
  std::string got = ReadString(reader, 20 * kMiB, 4096);
  EXPECT_EQ(got.rfind("<error>", 0), 0u);
  EXPECT_NE(got.find("HTTP 500"), std::string::npos) << got;
  EXPECT_TRUE(ReadExactOrEio(reader, 20 * kMiB, 4096));
  EXPECT_EQ(context_->Stats().read_errors, 1u);
}

TEST_F(FaultTest, TruncationWithoutRetriesIsEioNeverShort) {
  MakeContext(/*retrying=*/false);
  ObjectReader reader(*context_, version_);
  failure_->TruncateNextGets(100 * kKiB, 1);
  EXPECT_FALSE(ReadExactOrEio(reader, 10 * kMiB, 512 * kKiB));
  EXPECT_TRUE(ReadExactOrEio(reader, 10 * kMiB, 512 * kKiB));
}

TEST_F(FaultTest, FailedReadaheadFailsOnlyTheReadsThatNeedIt) {
  ReadaheadOptions options;
  options.request_size = 1 * kMiB;
  MakeContext(/*retrying=*/false, options);
  ObjectReader reader(*context_, version_);
  int errors = 0;
  for (uint64_t offset = 0; offset < 16 * kMiB; offset += 128 * kKiB) {
    if (offset == 128 * kKiB) {  // fail the next two (read-ahead) GETs
      failure_->FailNext("GetObject", 2, FailureObjectClient::SlowDown());
    }
    if (!ReadExactOrEio(reader, offset, 128 * kKiB)) {
      ++errors;
      // The next attempt at the same bytes fetches them again.
      ASSERT_TRUE(ReadExactOrEio(reader, offset, 128 * kKiB));
    }
  }
  EXPECT_LE(errors, 2);
}

TEST_F(FaultTest, RandomFaultsGiveExactDataOrEio) {
  MakeContext(/*retrying=*/true, [] {
    ReadaheadOptions options;
    options.request_size = 2 * kMiB;
    options.max = 16 * kMiB;
    return options;
  }());
  failure_->SetRandomFailures(0.3, /*seed=*/42, {}, /*truncate_gets=*/true,
                              "GetObject");
  ObjectReader reader(*context_, version_);
  std::mt19937_64 rng(5);
  int ok = 0;
  for (int i = 0; i < 300; ++i) {
    uint64_t offset =
        i < 150 ? static_cast<uint64_t>(i) * 128 * kKiB : rng() % body_.size();
    if (ReadExactOrEio(reader, offset, 128 * kKiB)) ++ok;
  }
  EXPECT_GT(ok, 200);
  EXPECT_GT(failure_->InjectedFaultCount(), 10u);
  // Once S3 is healthy every byte reads back exactly.
  failure_->SetRandomFailures(0, 0);
  for (uint64_t offset = 0; offset < body_.size(); offset += 1 * kMiB) {
    ASSERT_TRUE(ReadExactOrEio(reader, offset, 1 * kMiB)) << offset;
  }
}

TEST_F(FaultTest, ObjectShorterThanPinnedSizeIsEio) {
  MakeContext(/*retrying=*/true);
  ObjectVersion longer = version_;
  longer.size += 5000;  // stale size, same ETag
  ObjectReader reader(*context_, longer);
  EXPECT_TRUE(ReadExactOrEio(reader, 0, 4096));
  int errors = 0;
  for (uint64_t offset = 0; offset < longer.size; offset += 128 * kKiB) {
    std::string buffer(128 * kKiB, '\0');
    Result<size_t> got = reader.Read(offset, buffer.size(), buffer.data());
    if (!got.has_value()) {
      EXPECT_EQ(got.error().errno_value, EIO);
      ++errors;
      continue;
    }
    // Never short before the pinned end.
    ASSERT_EQ(got.value(),
              std::min<uint64_t>(buffer.size(), longer.size - offset));
    ASSERT_TRUE(buffer == Expected(body_, offset, buffer.size()));
  }
  EXPECT_GT(errors, 0);
}

TEST_F(FaultTest, VersionDeletedIsEio) {
  MakeContext(/*retrying=*/true);
  ObjectReader reader(*context_, version_);
  ASSERT_TRUE(fake_->DeleteObject("faulty").ok());
  std::string got = ReadString(reader, 0, 4096);
  EXPECT_EQ(got.rfind("<error>", 0), 0u);
  EXPECT_NE(got.find("faulty"), std::string::npos) << got;
}

}  // namespace
}  // namespace repofs::prefetch
