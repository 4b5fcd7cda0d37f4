// Shared helpers for the integration tests of the real S3 client against a
// real S3 endpoint (Ceph RGW from scripts/rgw).
//
// The endpoint comes from the environment written by `scripts/rgw start DIR`
// (DIR/env): REPOFS_TEST_ENDPOINT, REPOFS_TEST_ACCESS_KEY,
// REPOFS_TEST_SECRET_KEY, REPOFS_TEST_REGION, REPOFS_TEST_BUCKET,
// REPOFS_TEST_BUCKET2. A missing variable FAILS the test (these tests exist to
// run against a real S3; a silent skip would hide that they never ran).
//
// S3IntegrationTest gives every test a fresh key prefix
// ("it-<run id>/<TestName>/") and deletes what is left under it (objects and
// multipart uploads) in TearDown, so tests can be re-run against the same
// bucket and never see each other's keys.
//
// Thread-safety: the helpers are plain functions; clients are thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repofs/object_client.h"
#include "repofs/s3_options.h"
#include "s3/s3_client.h"

namespace repofs::integration {

struct TestEnv {
  std::string endpoint;    // http://127.0.0.1:PORT
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string bucket;
  std::string bucket2;
  int port = 0;            // parsed from endpoint
};

// The environment, or nullopt with `missing` naming the first unset variable.
std::optional<TestEnv> LoadTestEnv(std::string* missing);

// S3Options for `env`: path-style, bucket = env.bucket.
S3Options OptionsFor(const TestEnv& env);

// A real S3Client for `options` with static credentials.
std::shared_ptr<s3::S3Client> MakeS3Client(const S3Options& options,
                                           const std::string& access_key,
                                           const std::string& secret_key);

// A RetryingObjectClient around a real S3Client.
std::shared_ptr<ObjectClient> MakeRetryingClient(const S3Options& options,
                                                 const std::string& access_key,
                                                 const std::string& secret_key);

// `size` pseudo-random bytes from `seed` (splitmix64; fast, deterministic).
std::string RandomBytes(size_t size, uint64_t seed);

// Lower-case hex SHA-256 / MD5.
std::string Sha256Hex(std::string_view data);
std::string Md5Hex(std::string_view data);

// The whole object (or the requested range) as a string; fails the calling
// test (via the returned error) if the GET fails.
S3Result<std::string> GetString(ObjectClient& client, const GetRequest& request,
                                ObjectInfo* info = nullptr);
S3Result<std::string> GetString(ObjectClient& client, const std::string& key);

// PUT of an in-memory body with default options.
S3Result<WriteResult> PutString(ObjectClient& client, const std::string& key,
                                std::string_view body,
                                const PutOptions& options = {});

// Runs fn(i) for i in [0, count) on `threads` threads; returns when all are
// done.
void ParallelFor(int count, int threads, const std::function<void(int)>& fn);

// Every key under `prefix` (ListAll without delimiter). Fails on error.
S3Result<std::vector<std::string>> ListKeys(ObjectClient& client,
                                            const std::string& prefix);

// A 127.0.0.1 TCP port that nothing listens on (bound, then closed).
int ClosedPort();

// "Code (HTTP n): message" for assertion messages.
std::string Describe(const S3Error& error);

class S3IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Fresh prefix of this test, ending in '/'.
  const std::string& prefix() const { return prefix_; }
  // prefix() + name.
  std::string Key(std::string_view name) const;

  TestEnv env_;
  S3Options options_;
  std::shared_ptr<s3::S3Client> client_;  // the raw client (one exchange/call)

 private:
  std::string prefix_;
  bool ready_ = false;
};

// Asserts that `result` holds a value, printing the typed error otherwise.
#define ASSERT_S3_OK(result) \
  ASSERT_TRUE((result).has_value()) << ::repofs::integration::Describe((result).error())
#define EXPECT_S3_OK(result) \
  EXPECT_TRUE((result).has_value()) << ::repofs::integration::Describe((result).error())

}  // namespace repofs::integration
