// The default chain: order, explicit options, environment, shared file,
// container and IMDS fall-through, caching of the winner, and the rule that
// secrets never show up in Describe(), errors or logs.
#include "auth/credentials_chain.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "auth/caching_provider.h"
#include "auth/ecs_source.h"
#include "auth/imds_source.h"
#include "auth/profile_file.h"
#include "fake_clock.h"
#include "fake_transport.h"
#include "temp_dir.h"

namespace repofs::auth {
namespace {

using namespace std::chrono_literals;
using repofs::test::FakeClock;
using repofs::test::FakeTransport;
using repofs::test::TempDir;
using Reply = Result<HttpResponse, TransportError>;

// A mutable fake environment.
class FakeEnv {
 public:
  void Set(const std::string& n, const std::string& v) {
    std::lock_guard<std::mutex> lock(mu_);
    vars_[n] = v;
  }
  void Unset(const std::string& n) {
    std::lock_guard<std::mutex> lock(mu_);
    vars_.erase(n);
  }
  EnvLookup Lookup() {
    return [this](const std::string& n) -> std::optional<std::string> {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = vars_.find(n);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> vars_;
};

std::string Profile(const std::string& name, const std::string& id,
                    const std::string& secret) {
  return "[" + name + "]\naws_access_key_id = " + id +
         "\naws_secret_access_key = " + secret + "\n";
}

// Container endpoint at http://169.254.170.2, IMDS unreachable unless
// `imds_up`. Records every request.
struct Metadata {
  bool imds_up = false;
  int ecs_status = 200;
  std::string ecs_expiration = "2030-01-01T00:00:00Z";
  std::shared_ptr<FakeTransport> transport =
      std::make_shared<FakeTransport>([this](const HttpRequest& req) -> Reply {
        if (req.url.starts_with("http://169.254.170.2/")) {
          return FakeTransport::Response(
              ecs_status, R"({"AccessKeyId":"AKIDECS","SecretAccessKey":)"
                          R"("SECRETECS","Token":"TOKENECS","Expiration":")" +
                              ecs_expiration + "\"}");
        }
        if (!imds_up) {
          return FakeTransport::Failure(TransportErrorKind::kConnect,
                                        "refused");
        }
        if (req.method == "PUT")
          return FakeTransport::Response(200, "IMDSTOKEN");
        if (req.url.ends_with("/security-credentials/")) {
          return FakeTransport::Response(200, "role");
        }
        return FakeTransport::Response(
            200, R"({"Code":"Success","AccessKeyId":"AKIDIMDS",)"
                 R"("SecretAccessKey":"SECRETIMDS","Token":"TOKENIMDS",)"
                 R"("Expiration":"2030-01-01T00:00:00Z"})");
      });
};

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override { env_.Set("HOME", home_.path()); }
  std::shared_ptr<CredentialsProvider> Chain(CredentialsOptions options = {}) {
    return CreateCredentialsChain(options, metadata_.transport, clock_,
                                  env_.Lookup());
  }
  void WriteHomeCredentials(const std::string& content) {
    home_.Write(".aws/credentials", content);
  }
  std::string AccessKey(const std::shared_ptr<CredentialsProvider>& p) {
    auto r = p->GetCredentials();
    return r.has_value() ? r->access_key_id : "error: " + r.error().message;
  }

  TempDir home_;
  TempDir files_;
  FakeEnv env_;
  FakeClock clock_;
  Metadata metadata_;
};

TEST_F(ChainTest, EnvironmentCredentials) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "SECRETENV");
  env_.Set("AWS_SESSION_TOKEN", "TOKENENV");
  auto chain = Chain();
  auto r = chain->GetCredentials();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIDENV");
  EXPECT_EQ(r->secret_access_key, "SECRETENV");
  EXPECT_EQ(r->session_token, "TOKENENV");
  EXPECT_EQ(chain->Describe(), "environment");
  EXPECT_TRUE(metadata_.transport->Requests().empty());
}

TEST_F(ChainTest, PartialEnvironmentIsAnError) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  WriteHomeCredentials(Profile("default", "AKIDHOME", "SECRETHOME"));
  auto r = Chain()->GetCredentials();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, EACCES);
  EXPECT_NE(r.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(ChainTest, PrecedenceEnvironmentThenFileThenEcsThenImds) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "SECRETENV");
  WriteHomeCredentials(Profile("default", "AKIDHOME", "SECRETHOME"));
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
  metadata_.imds_up = true;
  EXPECT_EQ(AccessKey(Chain()), "AKIDENV");
  env_.Unset("AWS_ACCESS_KEY_ID");
  env_.Unset("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(AccessKey(Chain()), "AKIDHOME");
  WriteHomeCredentials("# emptied\n");
  EXPECT_EQ(AccessKey(Chain()), "AKIDECS");
  env_.Unset("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  auto imds = Chain();
  EXPECT_EQ(AccessKey(imds), "AKIDIMDS");
  EXPECT_EQ(imds->Describe(), "IMDSv2 at http://169.254.169.254");
}

TEST_F(ChainTest, ExplicitFileWinsOverEverything) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "SECRETENV");
  CredentialsOptions options;
  options.credentials_file =
      files_.Write("mine", Profile("default", "AKIDMINE", "SECRETMINE") +
                               Profile("ops", "AKIDOPS", "SECRETOPS"));
  EXPECT_EQ(AccessKey(Chain(options)), "AKIDMINE");
  options.profile = "ops";
  auto chain = Chain(options);
  EXPECT_EQ(AccessKey(chain), "AKIDOPS");
  EXPECT_EQ(chain->Describe(), "profile ops in " + options.credentials_file);
}

TEST_F(ChainTest, ExplicitFileProblemsAreErrorsWithoutFallThrough) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "SECRETENV");
  metadata_.imds_up = true;
  CredentialsOptions missing_file;
  missing_file.credentials_file = files_.path() + "/does-not-exist";
  CredentialsOptions missing_profile;
  missing_profile.credentials_file =
      files_.Write("creds", Profile("default", "AKIDMINE", "SECRETMINE"));
  missing_profile.profile = "nope";
  for (const CredentialsOptions& options : {missing_file, missing_profile}) {
    auto r = Chain(options)->GetCredentials();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().errno_value, EACCES);
    EXPECT_NE(r.error().message.find(options.credentials_file),
              std::string::npos)
        << r.error().message;
    std::string profile = options.profile.empty() ? "default" : options.profile;
    EXPECT_NE(r.error().message.find("profile " + profile), std::string::npos)
        << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  EXPECT_TRUE(metadata_.transport->Requests().empty());
}

TEST_F(ChainTest, ExplicitProfileUsesSharedFileAndMustExist) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "SECRETENV");
  WriteHomeCredentials(Profile("default", "AKIDHOME", "SECRETHOME") +
                       Profile("work", "AKIDWORK", "SECRETWORK"));
  CredentialsOptions options;
  options.profile = "work";
  EXPECT_EQ(AccessKey(Chain(options)), "AKIDWORK");
  options.profile = "missing";
  auto r = Chain(options)->GetCredentials();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find(home_.path() + "/.aws/credentials"),
            std::string::npos);
  EXPECT_NE(r.error().message.find("profile missing"), std::string::npos);
}

TEST_F(ChainTest, AwsProfileAndSharedCredentialsFileVariables) {
  WriteHomeCredentials(Profile("default", "AKIDHOME", "SECRETHOME") +
                       Profile("work", "AKIDWORK", "SECRETWORK"));
  env_.Set("AWS_PROFILE", "work");
  EXPECT_EQ(AccessKey(Chain()), "AKIDWORK");
  std::string other = files_.Write("other", Profile("work", "AKIDOTHER", "S"));
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", other);
  EXPECT_EQ(AccessKey(Chain()), "AKIDOTHER");
  // A missing profile in the implicit file just moves on (to nothing here).
  env_.Set("AWS_PROFILE", "absent");
  auto r = Chain()->GetCredentials();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("no such profile"), std::string::npos);
}

TEST_F(ChainTest, TildeInCredentialsFileIsHome) {
  home_.Write("my-creds", Profile("default", "AKIDTILDE", "S"));
  CredentialsOptions options;
  options.credentials_file = "~/my-creds";
  EXPECT_EQ(AccessKey(Chain(options)), "AKIDTILDE");
}

TEST_F(ChainTest, NothingFoundListsEverySource) {
  auto r = Chain()->GetCredentials();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, EACCES);
  const std::string& m = r.error().message;
  EXPECT_TRUE(m.starts_with("no AWS credentials found (tried: ")) << m;
  for (const std::string& part :
       {std::string("environment"), home_.path() + "/.aws/credentials",
        std::string("ECS"), std::string("IMDSv2")}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST_F(ChainTest, ImdsDisabledIsNotContacted) {
  env_.Set("AWS_EC2_METADATA_DISABLED", "true");
  metadata_.imds_up = true;
  EXPECT_FALSE(Chain()->GetCredentials().has_value());
  EXPECT_TRUE(metadata_.transport->Requests().empty());
}

TEST_F(ChainTest, WinnerIsCached) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "SECRETENV");
  auto chain = Chain();
  EXPECT_EQ(chain->Describe(), "default credentials chain (not resolved)");
  EXPECT_EQ(AccessKey(chain), "AKIDENV");
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDCHANGED");
  clock_.Advance(24h);
  EXPECT_EQ(AccessKey(chain), "AKIDENV");
}

TEST_F(ChainTest, TemporaryWinnerIsRefreshedFromTheSameSource) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
  metadata_.ecs_expiration = "2023-11-14T23:00:00Z";  // FakeClock: 22:13:20
  auto chain = Chain();
  EXPECT_EQ(AccessKey(chain), "AKIDECS");
  EXPECT_EQ(metadata_.transport->Requests().size(), 1u);
  // Later a shared file appears; the chain still asks ECS only.
  WriteHomeCredentials(Profile("default", "AKIDHOME", "SECRETHOME"));
  clock_.Advance(30min);  // 16 min 40 s left: cached
  EXPECT_EQ(AccessKey(chain), "AKIDECS");
  EXPECT_EQ(metadata_.transport->Requests().size(), 1u);
  clock_.Advance(13min);  // 3 min 40 s left: refresh from ECS
  metadata_.ecs_expiration = "2023-11-15T05:00:00Z";
  EXPECT_EQ(AccessKey(chain), "AKIDECS");
  EXPECT_EQ(metadata_.transport->Requests().size(), 2u);
  EXPECT_TRUE(metadata_.transport->Requests()[1].url.starts_with(
      "http://169.254.170.2/"));
}

TEST(StaticCredentials, ReturnsWhatItWasGiven) {
  auto p = MakeStaticCredentials(Credentials{"AK", "SK", "TK", std::nullopt});
  EXPECT_EQ(p->GetCredentials()->secret_access_key, "SK");
  EXPECT_EQ(p->GetCredentials()->session_token, "TK");
  EXPECT_EQ(p->Describe(), "static");
  EXPECT_EQ(MakeStaticCredentials({}, "from test")->Describe(), "from test");
}

TEST(ProcessEnv, ReadsTheRealEnvironment) {
  ::setenv("REPOFS_AUTH_TEST_VAR", "value", 1);
  EXPECT_EQ(ProcessEnv()("REPOFS_AUTH_TEST_VAR"), "value");
  ::unsetenv("REPOFS_AUTH_TEST_VAR");
  EXPECT_EQ(ProcessEnv()("REPOFS_AUTH_TEST_VAR"), std::nullopt);
}

// Every provider, succeeding and failing, with a known secret and token:
// neither may appear in Describe(), error messages or the log.
TEST(Secrets, NeverInDescribeErrorsOrLogs) {
  const std::string kSecret = "S3CR3T-wJalrXUtnFEMI-K7MDENG";
  const std::string kToken = "T0K3N-AQoDYXdzEPT";
  const std::string kAuthToken = "AUTHZ-container-token";
  TempDir dir;
  FakeClock clock;
  auto json = R"({"Code":"Success","AccessKeyId":"AKID","SecretAccessKey":")" +
              kSecret + R"(","Token":")" + kToken +
              R"(","Expiration":"2023-11-14T22:20:00Z"})";
  int status = 200;
  std::string body = json;
  auto transport =
      std::make_shared<FakeTransport>([&](const HttpRequest& req) -> Reply {
        if (req.method == "PUT") return FakeTransport::Response(200, kToken);
        if (req.url.ends_with("/security-credentials/")) {
          return FakeTransport::Response(200, "role");
        }
        return FakeTransport::Response(status, body);
      });
  std::string good =
      dir.Write("good",
                "[default]\naws_access_key_id=AKID\n"
                "aws_secret_access_key=" +
                    kSecret + "\naws_session_token=" + kToken + "\n");
  std::string partial = dir.Write(
      "partial", "[default]\naws_secret_access_key=" + kSecret + "\n");
  std::map<std::string, std::string> vars = {
      {"AWS_SECRET_ACCESS_KEY", kSecret},  // partial environment
      {"AWS_SESSION_TOKEN", kToken},
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kAuthToken}};
  EnvLookup env = [&vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };

  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  auto wrap = [&](std::unique_ptr<CredentialsSource> s) {
    providers.push_back(
        std::make_shared<CachingCredentialsProvider>(std::move(s), clock));
  };
  wrap(MakeEnvironmentSource(env));
  wrap(MakeProfileSource(good, "default", true));
  wrap(MakeProfileSource(partial, "default", false));
  wrap(MakeProfileSource(good, "other", true));
  wrap(MakeEcsSource(env, transport));
  wrap(MakeImdsSource(env, transport));
  providers.push_back(
      MakeStaticCredentials(Credentials{"AKID", kSecret, kToken, {}}));
  CredentialsOptions explicit_options;
  explicit_options.credentials_file = good;
  providers.push_back(
      CreateCredentialsChain(explicit_options, transport, clock, env));
  providers.push_back(CreateCredentialsChain({}, transport, clock, env));

  ::testing::internal::CaptureStderr();
  std::vector<std::string> texts;
  auto check_all = [&] {
    for (auto& p : providers) {
      texts.push_back(p->Describe());
      auto r = p->GetCredentials();
      if (!r.has_value()) texts.push_back(r.error().message);
      texts.push_back(p->Describe());
    }
  };
  check_all();   // first round: successes and errors
  status = 500;  // the ECS/IMDS endpoints now fail with the secret in the body
  body = "error " + json;
  clock.Advance(3min);  // their credentials need a refresh: logged failures
  check_all();
  body = "{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"" + kSecret + "\"";
  status = 200;  // broken JSON that contains the secret
  clock.Advance(3min);
  check_all();
  texts.push_back(::testing::internal::GetCapturedStderr());

  int errors = 0;
  for (const std::string& t : texts) {
    EXPECT_EQ(t.find(kSecret), std::string::npos) << t;
    EXPECT_EQ(t.find(kToken), std::string::npos) << t;
    EXPECT_EQ(t.find(kAuthToken), std::string::npos) << t;
    if (t.find("failed") != std::string::npos ||
        t.find("missing") != std::string::npos ||
        t.find("HTTP 500") != std::string::npos) {
      ++errors;
    }
  }
  EXPECT_GE(errors, 4);  // the failure paths really ran
}

}  // namespace
}  // namespace repofs::auth
