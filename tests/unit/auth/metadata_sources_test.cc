// ECS container and EC2 IMDSv2 sources against an in-process fake
// HttpTransport (the loopback tests drive the same sources through curl).
#include <gtest/gtest.h>

#include <map>

#include "auth/ecs_source.h"
#include "auth/imds_source.h"
#include "fake_transport.h"
#include "temp_dir.h"

namespace repofs::auth {
namespace {

using repofs::test::FakeTransport;
using repofs::test::TempDir;
using Reply = Result<HttpResponse, TransportError>;

constexpr const char* kCredsJson =
    R"({"AccessKeyId":"ASIAFAKE","SecretAccessKey":"SECRETFAKE",)"
    R"("Token":"TOKENFAKE","Expiration":"2030-01-02T03:04:05Z"})";

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](
             const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::chrono::system_clock::time_point Expected2030() {
  std::tm tm{};
  tm.tm_year = 130;
  tm.tm_mon = 0;
  tm.tm_mday = 2;
  tm.tm_hour = 3;
  tm.tm_min = 4;
  tm.tm_sec = 5;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// --- ECS --------------------------------------------------------------------

TEST(EcsSource, RelativeUriWithAuthorizationToken) {
  auto transport =
      std::make_shared<FakeTransport>([](const HttpRequest&) -> Reply {
        return FakeTransport::Response(200, kCredsJson);
      });
  auto source = MakeEcsSource(
      MapEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
              {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer authtok"}}),
      transport);
  auto r = source->Fetch();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ASIAFAKE");
  EXPECT_EQ(r->secret_access_key, "SECRETFAKE");
  EXPECT_EQ(r->session_token, "TOKENFAKE");
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_EQ(*r->expiration, Expected2030());
  auto reqs = transport->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].url, "http://169.254.170.2/v2/credentials/abc");
  ASSERT_NE(reqs[0].Header("Authorization"), nullptr);
  EXPECT_EQ(*reqs[0].Header("Authorization"), "Bearer authtok");
  EXPECT_EQ(source->Describe(),
            "ECS container credentials at http://169.254.170.2");
}

TEST(EcsSource, FullUriAndTokenFileWinsOverTokenVariable) {
  TempDir dir;
  std::string token_file = dir.Write("token", "from-file\n");
  auto transport =
      std::make_shared<FakeTransport>([](const HttpRequest&) -> Reply {
        return FakeTransport::Response(200, kCredsJson);
      });
  auto source = MakeEcsSource(
      MapEnv(
          {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"},
           {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file},
           {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-variable"}}),
      transport);
  ASSERT_TRUE(source->Fetch().has_value());
  auto reqs = transport->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:9/creds");
  EXPECT_EQ(*reqs[0].Header("Authorization"), "from-file");
}

TEST(EcsSource, NotConfiguredIsAbsentWithoutRequests) {
  auto transport =
      std::make_shared<FakeTransport>([](const HttpRequest&) -> Reply {
        return FakeTransport::Response(200, kCredsJson);
      });
  auto r = MakeEcsSource(MapEnv({}), transport)->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, ENOENT);
  EXPECT_TRUE(transport->Requests().empty());
}

TEST(EcsSource, PlainHttpOnlyToLoopbackOrContainerAddresses) {
  auto transport =
      std::make_shared<FakeTransport>([](const HttpRequest&) -> Reply {
        return FakeTransport::Response(200, kCredsJson);
      });
  for (const char* url : {"http://example.com/creds", "http://10.0.0.1/x",
                          "http://user:pw@127.0.0.1/x", "nonsense"}) {
    auto r =
        MakeEcsSource(MapEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}),
                      transport)
            ->Fetch();
    ASSERT_FALSE(r.has_value()) << url;
    EXPECT_EQ(r.error().errno_value, EACCES) << url;
  }
  EXPECT_TRUE(transport->Requests().empty());
  for (const char* url : {"https://example.com/creds", "http://localhost:80/x",
                          "http://[::1]:8080/x", "http://169.254.170.23/v1"}) {
    auto r =
        MakeEcsSource(MapEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}),
                      transport)
            ->Fetch();
    EXPECT_TRUE(r.has_value()) << url;
  }
}

TEST(EcsSource, ServerErrorRetriedOnceClientErrorNot) {
  int calls = 0;
  auto transport =
      std::make_shared<FakeTransport>([&](const HttpRequest&) -> Reply {
        ++calls;
        return FakeTransport::Response(calls == 1 ? 500 : 200, kCredsJson);
      });
  auto env = MapEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x"}});
  EXPECT_TRUE(MakeEcsSource(env, transport)->Fetch().has_value());
  EXPECT_EQ(calls, 2);

  auto denied =
      std::make_shared<FakeTransport>([](const HttpRequest&) -> Reply {
        return FakeTransport::Response(403, R"({"message":"SECRETFAKE"})");
      });
  auto r = MakeEcsSource(env, denied)->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, EACCES);
  EXPECT_NE(r.error().message.find("HTTP 403"), std::string::npos);
  EXPECT_EQ(r.error().message.find("SECRETFAKE"), std::string::npos);
  EXPECT_EQ(denied->Requests().size(), 1u);

  auto down = std::make_shared<FakeTransport>([](const HttpRequest&) -> Reply {
    return FakeTransport::Failure(TransportErrorKind::kConnect, "refused");
  });
  auto r2 = MakeEcsSource(env, down)->Fetch();
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().errno_value, EACCES);  // configured: not "absent"
  EXPECT_NE(r2.error().message.find("cannot connect"), std::string::npos);
  EXPECT_EQ(down->Requests().size(), 2u);
}

TEST(EcsSource, BadJsonIsAnErrorThatDoesNotQuoteTheBody) {
  auto env = MapEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x"}});
  for (std::string body :
       {std::string(R"({"AccessKeyId":"A","SecretAccessKey":"SECRETFAKE")"),
        std::string(R"({"AccessKeyId":"A"})"), std::string("SECRETFAKE"),
        std::string(R"({"AccessKeyId":"A","SecretAccessKey":"SECRETFAKE",)"
                    R"("Expiration":"soon"})")}) {
    auto transport =
        std::make_shared<FakeTransport>([body](const HttpRequest&) -> Reply {
          return FakeTransport::Response(200, body);
        });
    auto r = MakeEcsSource(env, transport)->Fetch();
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().errno_value, EACCES);
    EXPECT_EQ(r.error().message.find("SECRETFAKE"), std::string::npos)
        << r.error().message;
  }
}

// --- IMDSv2 -----------------------------------------------------------------

// A scripted metadata service: token, role list, role credentials.
struct FakeImds {
  int token_status = 200;
  int roles_status = 200;
  int creds_status = 200;
  std::string creds_body = kCredsJson;
  bool unreachable = false;

  std::shared_ptr<FakeTransport> Transport() {
    return std::make_shared<FakeTransport>(
        [this](const HttpRequest& req) -> Reply {
          if (unreachable) {
            return FakeTransport::Failure(TransportErrorKind::kTimeout,
                                          "1000 ms");
          }
          std::string path = req.url.substr(req.url.find('/', 8));
          if (req.method == "PUT" && path == "/latest/api/token") {
            return FakeTransport::Response(token_status, "TOKEN-XYZ");
          }
          if (path == "/latest/meta-data/iam/security-credentials/") {
            return FakeTransport::Response(roles_status, "my-role\n");
          }
          if (path == "/latest/meta-data/iam/security-credentials/my-role") {
            return FakeTransport::Response(creds_status, creds_body);
          }
          return FakeTransport::Response(404, "");
        });
  }
};

TEST(ImdsSource, TokenFirstThenRoleThenCredentialsWithTokenHeader) {
  FakeImds imds;
  auto transport = imds.Transport();
  auto source = MakeImdsSource(MapEnv({}), transport);
  auto r = source->Fetch();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "ASIAFAKE");
  EXPECT_EQ(r->session_token, "TOKENFAKE");
  EXPECT_EQ(*r->expiration, Expected2030());
  auto reqs = transport->Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].url, "http://169.254.169.254/latest/api/token");
  ASSERT_NE(reqs[0].Header("X-aws-ec2-metadata-token-ttl-seconds"), nullptr);
  EXPECT_EQ(*reqs[0].Header("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(
      reqs[1].url,
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(reqs[2].url,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
            "my-role");
  for (int i : {1, 2}) {
    ASSERT_NE(reqs[i].Header("X-aws-ec2-metadata-token"), nullptr);
    EXPECT_EQ(*reqs[i].Header("X-aws-ec2-metadata-token"), "TOKEN-XYZ");
  }
  EXPECT_EQ(source->Describe(), "IMDSv2 at http://169.254.169.254");
}

TEST(ImdsSource, EndpointOverride) {
  FakeImds imds;
  auto transport = imds.Transport();
  auto source = MakeImdsSource(
      MapEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:4242/"}}),
      transport);
  ASSERT_TRUE(source->Fetch().has_value());
  EXPECT_EQ(transport->Requests()[0].url,
            "http://127.0.0.1:4242/latest/api/token");
}

TEST(ImdsSource, DisabledMakesNoRequests) {
  FakeImds imds;
  auto transport = imds.Transport();
  auto r =
      MakeImdsSource(MapEnv({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}), transport)
          ->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, ENOENT);
  EXPECT_TRUE(transport->Requests().empty());
}

TEST(ImdsSource, NotOnEc2IsAbsent) {
  FakeImds imds;
  imds.unreachable = true;
  auto transport = imds.Transport();
  auto r = MakeImdsSource(MapEnv({}), transport)->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, ENOENT);
  EXPECT_NE(r.error().message.find("timeout"), std::string::npos);
  EXPECT_EQ(transport->Requests().size(), 1u);  // gave up after the token
}

TEST(ImdsSource, TokenRefusedOrNoRoleIsAbsent) {
  FakeImds refused;
  refused.token_status = 403;
  auto r1 = MakeImdsSource(MapEnv({}), refused.Transport())->Fetch();
  ASSERT_FALSE(r1.has_value());
  EXPECT_EQ(r1.error().errno_value, ENOENT);
  EXPECT_NE(r1.error().message.find("HTTP 403"), std::string::npos);

  FakeImds no_role;
  no_role.roles_status = 404;
  auto r2 = MakeImdsSource(MapEnv({}), no_role.Transport())->Fetch();
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().errno_value, ENOENT);
  EXPECT_NE(r2.error().message.find("no IAM role"), std::string::npos);
}

TEST(ImdsSource, FailuresAfterTheTokenAreErrors) {
  FakeImds broken;
  broken.creds_status = 500;
  auto r1 = MakeImdsSource(MapEnv({}), broken.Transport())->Fetch();
  ASSERT_FALSE(r1.has_value());
  EXPECT_EQ(r1.error().errno_value, EACCES);
  EXPECT_NE(r1.error().message.find("my-role"), std::string::npos);

  FakeImds failed_code;
  failed_code.creds_body =
      R"({"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A",)"
      R"("SecretAccessKey":"SECRETFAKE"})";
  auto r2 = MakeImdsSource(MapEnv({}), failed_code.Transport())->Fetch();
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().errno_value, EACCES);
  EXPECT_NE(r2.error().message.find("AssumeRoleUnauthorizedAccess"),
            std::string::npos);
  EXPECT_EQ(r2.error().message.find("SECRETFAKE"), std::string::npos);
  EXPECT_EQ(r2.error().message.find("TOKEN-XYZ"), std::string::npos);
}

}  // namespace
}  // namespace repofs::auth
