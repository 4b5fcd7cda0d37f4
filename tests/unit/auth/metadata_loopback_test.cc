// The ECS and IMDSv2 sources and the default chain through the real libcurl
// transport against HttpTestServer fakes on 127.0.0.1.
#include <gtest/gtest.h>

#include <map>

#include "auth/credentials_chain.h"
#include "auth/ecs_source.h"
#include "auth/imds_source.h"
#include "fake_clock.h"
#include "http/curl_transport.h"
#include "support/http_test_server.h"

namespace repofs::auth {
namespace {

using repofs::test::FakeClock;
using repofs::test::HttpTestServer;
using repofs::test::TestRequest;
using repofs::test::TestResponse;

constexpr const char* kCredsJson =
    R"({"Code":"Success","AccessKeyId":"ASIALOOP","SecretAccessKey":"SECRETLOOP",)"
    R"("Token":"TOKENLOOP","Expiration":"2030-01-01T00:00:00Z"})";

std::shared_ptr<HttpTransport> ShortTimeoutTransport() {
  http::CurlTransportOptions options;
  options.connect_timeout_ms = 1000;
  options.request_timeout_ms = 2000;
  return http::CreateCurlTransport(options);
}

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](
             const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// IMDSv2 as EC2 serves it: token by PUT, then token-authenticated GETs.
TestResponse Imds(const TestRequest& req) {
  if (req.method == "PUT" && req.path == "/latest/api/token") {
    const std::string* ttl = req.Header("x-aws-ec2-metadata-token-ttl-seconds");
    if (ttl == nullptr) return TestResponse::Text(400, "");
    return TestResponse::Text(200, "LOOPTOKEN");
  }
  const std::string* token = req.Header("x-aws-ec2-metadata-token");
  if (token == nullptr || *token != "LOOPTOKEN")
    return TestResponse::Text(401, "");
  if (req.path == "/latest/meta-data/iam/security-credentials/") {
    return TestResponse::Text(200, "loop-role");
  }
  if (req.path == "/latest/meta-data/iam/security-credentials/loop-role") {
    return TestResponse::Text(200, kCredsJson, "application/json");
  }
  return TestResponse::Text(404, "");
}

TEST(EcsLoopback, SendsAuthorizationAndParsesCredentials) {
  HttpTestServer server([](const TestRequest& req) {
    const std::string* auth = req.Header("authorization");
    if (req.method != "GET" || req.path != "/v2/creds" || auth == nullptr ||
        *auth != "Bearer looptok") {
      return TestResponse::Text(403, "");
    }
    return TestResponse::Text(200, kCredsJson, "application/json");
  });
  auto source = MakeEcsSource(
      MapEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
               server.BaseUrl() + "/v2/creds"},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer looptok"}}),
      ShortTimeoutTransport());
  auto r = source->Fetch();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ASIALOOP");
  EXPECT_EQ(r->session_token, "TOKENLOOP");
  auto reqs = server.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_NE(reqs[0].Header("authorization"), nullptr);
  EXPECT_EQ(*reqs[0].Header("authorization"), "Bearer looptok");
}

TEST(EcsLoopback, ConnectionResetAndTruncatedBodyAreErrors) {
  int calls = 0;
  HttpTestServer server([&calls](const TestRequest&) {
    return ++calls % 2 == 1
               ? TestResponse::Reset()
               : TestResponse::Truncated(200, 500, "{\"AccessKeyId\"");
  });
  auto source = MakeEcsSource(
      MapEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.BaseUrl() + "/c"}}),
      ShortTimeoutTransport());
  auto r = source->Fetch();  // reset, retried, truncated
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, EACCES);
  EXPECT_EQ(server.Requests().size(), 2u);
  EXPECT_NE(r.error().message.find("ECS container credentials at " +
                                   server.BaseUrl()),
            std::string::npos)
      << r.error().message;
}

TEST(ImdsLoopback, TokenPutFirstThenGetsCarryTheToken) {
  HttpTestServer server(Imds);
  auto source = MakeImdsSource(
      MapEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.BaseUrl()}}),
      ShortTimeoutTransport());
  auto r = source->Fetch();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ASIALOOP");
  EXPECT_EQ(r->secret_access_key, "SECRETLOOP");
  ASSERT_TRUE(r->expiration.has_value());

  auto reqs = server.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].path, "/latest/api/token");
  ASSERT_NE(reqs[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), nullptr);
  EXPECT_EQ(*reqs[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(reqs[0].Header("x-aws-ec2-metadata-token"), nullptr);
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].path, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(reqs[2].path,
            "/latest/meta-data/iam/security-credentials/loop-role");
  for (int i : {1, 2}) {
    ASSERT_NE(reqs[i].Header("x-aws-ec2-metadata-token"), nullptr);
    EXPECT_EQ(*reqs[i].Header("x-aws-ec2-metadata-token"), "LOOPTOKEN");
  }
}

TEST(ImdsLoopback, NoServerIsAbsentQuickly) {
  std::string url;
  {
    HttpTestServer gone(
        [](const TestRequest&) { return TestResponse::Text(200, ""); });
    url = gone.BaseUrl();
  }  // the port is closed now: connection refused
  auto start = std::chrono::steady_clock::now();
  auto r = MakeImdsSource(MapEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", url}}),
                          ShortTimeoutTransport())
               ->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, ENOENT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(ChainLoopback, FallsThroughToImdsAndCachesTheWinner) {
  HttpTestServer server(Imds);
  FakeClock clock;
  auto chain = CreateCredentialsChain(
      {}, ShortTimeoutTransport(), clock,
      MapEnv({{"HOME", "/nonexistent-repofs-home"},
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.BaseUrl()}}));
  auto r = chain->GetCredentials();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ASIALOOP");
  EXPECT_EQ(chain->Describe(), "IMDSv2 at " + server.BaseUrl());
  ASSERT_TRUE(chain->GetCredentials().has_value());
  EXPECT_EQ(server.Requests().size(), 3u);  // cached: no second round
}

}  // namespace
}  // namespace repofs::auth
