// Integration: how the real S3 client reaches (or fails to reach) RGW:
// virtual-hosted addressing, wrong and unknown credentials (typed errors
// whose messages never contain the secret), an unreachable endpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "s3_env.h"

namespace repofs::integration {
namespace {

using ConnectTest = S3IntegrationTest;

TEST_F(ConnectTest, VirtualHostedAddressing) {
  // RGW runs with `rgw dns name = localhost`; libcurl resolves
  // BUCKET.localhost to loopback, so this reaches the same bucket.
  S3Options vhost = options_;
  vhost.path_style = false;
  vhost.endpoint = "http://localhost:" + std::to_string(env_.port);
  auto client = MakeS3Client(vhost, env_.access_key, env_.secret_key);
  ASSERT_S3_OK(client->HeadBucket());

  const std::string key = Key("vhost/a b+c.txt");
  const std::string body = RandomBytes(300000, 7);
  ASSERT_S3_OK(PutString(*client, key, body));
  auto got = GetString(*client, key);
  ASSERT_S3_OK(got);
  EXPECT_TRUE(*got == body);
  // The path-style client sees the same object: same bucket, same key.
  auto seen = GetString(*client_, key);
  ASSERT_S3_OK(seen);
  EXPECT_TRUE(*seen == body);
  ListRequest list;
  list.prefix = Key("vhost/");
  auto page = client->ListObjects(list);
  ASSERT_S3_OK(page);
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, key);
  ASSERT_S3_OK(client->DeleteObject(key));

  // The request really was virtual-hosted: RGW's log (scripts/rgw keeps it
  // in REPOFS_TEST_RGW_DIR) shows the path without the bucket.
  const char* rgw_dir = std::getenv("REPOFS_TEST_RGW_DIR");
  if (rgw_dir == nullptr) {
    std::cout << "[ INFO     ] no REPOFS_TEST_RGW_DIR: addressing style not checked in RGW's log\n";
    return;
  }
  const std::string marker = Key("vhost/plain.txt");
  ASSERT_S3_OK(PutString(*client, marker, "v"));
  const std::string vhost_line = "\"PUT /" + marker + " ";
  const std::string path_line = "\"PUT /" + env_.bucket + "/" + marker + " ";
  bool seen_vhost = false, seen_path = false;
  for (int i = 0; i < 40 && !seen_vhost && !seen_path; ++i) {  // log is async
    std::ifstream log(std::string(rgw_dir) + "/log/client.rgw.a.log");
    for (std::string line; std::getline(log, line);) {
      seen_vhost |= line.find(vhost_line) != std::string::npos;
      seen_path |= line.find(path_line) != std::string::npos;
    }
    if (!seen_vhost && !seen_path) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(seen_vhost) << "no virtual-hosted PUT of " << marker << " in RGW's log";
  EXPECT_FALSE(seen_path) << "the PUT was sent path-style";
}

// Checks that a failure is the typed auth error and leaks no secret.
void ExpectAuthError(const S3Error& error, S3ErrorCode code,
                     const std::vector<std::string>& secrets) {
  EXPECT_EQ(error.code, code) << Describe(error);
  EXPECT_EQ(error.http_status, 403) << Describe(error);
  EXPECT_FALSE(error.message.empty());
  const std::string text = ToError(error).message + " " + error.message + " " + error.s3_code;
  for (const auto& secret : secrets) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "message contains a secret: " << text;
  }
}

TEST_F(ConnectTest, WrongSecretIsSignatureDoesNotMatch) {
  const std::string wrong = "WRONG" + env_.secret_key.substr(5);
  auto client = MakeS3Client(options_, env_.access_key, wrong);
  const std::vector<std::string> secrets = {wrong, env_.secret_key};

  // HEAD responses carry no error body, so HeadBucket can only tell "403";
  // it must still be an auth error, never success or a network error.
  auto bucket = client->HeadBucket();
  ASSERT_FALSE(bucket.ok()) << "a wrong secret was accepted";
  EXPECT_TRUE(bucket.error().code == S3ErrorCode::kSignatureDoesNotMatch ||
              bucket.error().code == S3ErrorCode::kAccessDenied)
      << Describe(bucket.error());
  EXPECT_EQ(bucket.error().http_status, 403);

  auto put = PutString(*client, Key("x"), "x");
  ASSERT_FALSE(put.has_value());
  ExpectAuthError(put.error(), S3ErrorCode::kSignatureDoesNotMatch, secrets);
  EXPECT_NE(put.error().message.find("SignatureDoesNotMatch"), std::string::npos)
      << "the message names the cause: " << put.error().message;

  auto get = GetString(*client, Key("x"));
  ASSERT_FALSE(get.has_value());
  ExpectAuthError(get.error(), S3ErrorCode::kSignatureDoesNotMatch, secrets);

  ListRequest list;
  list.prefix = prefix();
  auto page = client->ListObjects(list);
  ASSERT_FALSE(page.has_value());
  ExpectAuthError(page.error(), S3ErrorCode::kSignatureDoesNotMatch, secrets);

  // Not retried: the retrying client returns the same typed error.
  auto retrying = MakeRetryingClient(options_, env_.access_key, wrong);
  auto again = retrying->ListObjects(list);
  ASSERT_FALSE(again.has_value());
  ExpectAuthError(again.error(), S3ErrorCode::kSignatureDoesNotMatch, secrets);
  EXPECT_EQ(retrying->RequestCounts()["ListObjects"], 1u) << "auth errors are not retried";
}

TEST_F(ConnectTest, UnknownAccessKeyIsInvalidAccessKeyId) {
  auto client = MakeS3Client(options_, "AKIAUNKNOWNUNKNOWN00", env_.secret_key);
  auto put = PutString(*client, Key("x"), "x");
  ASSERT_FALSE(put.has_value());
  ExpectAuthError(put.error(), S3ErrorCode::kInvalidAccessKeyId, {env_.secret_key});
}

TEST_F(ConnectTest, UnreachableEndpointFailsFastWithNetwork) {
  S3Options closed = options_;
  closed.endpoint = "http://127.0.0.1:" + std::to_string(ClosedPort());
  auto client = MakeS3Client(closed, env_.access_key, env_.secret_key);
  auto start = std::chrono::steady_clock::now();
  auto bucket = client->HeadBucket();
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(bucket.ok());
  EXPECT_EQ(bucket.error().code, S3ErrorCode::kNetwork) << Describe(bucket.error());
  EXPECT_EQ(bucket.error().http_status, 0);
  EXPECT_LT(elapsed, std::chrono::seconds(2)) << "connection refused must fail fast";
  EXPECT_TRUE(bucket.error().retryable());

  auto get = GetString(*client, Key("x"));
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code, S3ErrorCode::kNetwork) << Describe(get.error());

  // With retries (2, short back-off) it is still kNetwork, after 3 attempts.
  closed.max_retries = 2;
  closed.retry_base_delay_ms = 10;
  closed.retry_max_delay_ms = 50;
  auto retrying = MakeRetryingClient(closed, env_.access_key, env_.secret_key);
  start = std::chrono::steady_clock::now();
  auto retried = retrying->HeadBucket();
  elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(retried.ok());
  EXPECT_EQ(retried.error().code, S3ErrorCode::kNetwork) << Describe(retried.error());
  EXPECT_EQ(retrying->RequestCounts()["HeadBucket"], 3u);
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

}  // namespace
}  // namespace repofs::integration
