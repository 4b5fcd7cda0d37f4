#include "s3_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "auth/credentials_chain.h"
#include "http/curl_transport.h"
#include "repofs/clock.h"
#include "s3/retry_policy.h"
#include "s3/retrying_object_client.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs::integration {
namespace {

// One id per test process, so re-runs against the same bucket never collide.
const std::string& RunId() {
  static const std::string id = [] {
    std::random_device rd;
    uint64_t r = (static_cast<uint64_t>(rd()) << 32) | rd();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    return std::to_string(secs) + "-" + HexEncode(std::string_view(
                                            reinterpret_cast<char*>(&r), 4));
  }();
  return id;
}

int PortOf(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon < endpoint.find("://") + 3) return 80;
  return std::atoi(endpoint.c_str() + colon + 1);
}

}  // namespace

std::optional<TestEnv> LoadTestEnv(std::string* missing) {
  auto get = [&](const char* name, std::string* out) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
      if (missing->empty()) *missing = name;
      return false;
    }
    *out = v;
    return true;
  };
  TestEnv env;
  missing->clear();
  bool ok = get("REPOFS_TEST_ENDPOINT", &env.endpoint);
  ok = get("REPOFS_TEST_ACCESS_KEY", &env.access_key) && ok;
  ok = get("REPOFS_TEST_SECRET_KEY", &env.secret_key) && ok;
  ok = get("REPOFS_TEST_BUCKET", &env.bucket) && ok;
  ok = get("REPOFS_TEST_BUCKET2", &env.bucket2) && ok;
  if (!ok) return std::nullopt;
  const char* region = std::getenv("REPOFS_TEST_REGION");
  env.region = (region != nullptr && *region != '\0') ? region : "us-east-1";
  env.port = PortOf(env.endpoint);
  return env;
}

S3Options OptionsFor(const TestEnv& env) {
  S3Options options;
  options.endpoint = env.endpoint;
  options.region = env.region;
  options.bucket = env.bucket;
  options.path_style = true;
  return options;
}

std::shared_ptr<s3::S3Client> MakeS3Client(const S3Options& options,
                                           const std::string& access_key,
                                           const std::string& secret_key) {
  Credentials creds;
  creds.access_key_id = access_key;
  creds.secret_access_key = secret_key;
  return std::make_shared<s3::S3Client>(
      options, http::CreateCurlTransport(http::TransportOptionsFrom(options)),
      auth::MakeStaticCredentials(creds, "integration test"));
}

std::shared_ptr<ObjectClient> MakeRetryingClient(const S3Options& options,
                                                 const std::string& access_key,
                                                 const std::string& secret_key) {
  return std::make_shared<s3::RetryingObjectClient>(
      MakeS3Client(options, access_key, secret_key), s3::RetryPolicy(options));
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed;
  size_t i = 0;
  while (i < size) {
    // splitmix64
    x += 0x9E3779B97F4A7C15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int b = 0; b < 8 && i < size; ++b, ++i) {
      out[i] = static_cast<char>(z >> (8 * b));
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }
std::string Md5Hex(std::string_view data) { return HexEncode(Md5(data)); }

S3Result<std::string> GetString(ObjectClient& client, const GetRequest& request,
                                ObjectInfo* info) {
  std::string body;
  auto result = client.GetObject(request, [&](std::string_view chunk) {
    body.append(chunk);
    return true;
  });
  if (!result) return result.error();
  if (info != nullptr) *info = *result;
  return body;
}

S3Result<std::string> GetString(ObjectClient& client, const std::string& key) {
  GetRequest request;
  request.key = key;
  return GetString(client, request);
}

S3Result<WriteResult> PutString(ObjectClient& client, const std::string& key,
                                std::string_view body,
                                const PutOptions& options) {
  Payload payload = Payload::FromBuffer(body);
  return client.PutObject(key, payload, options);
}

void ParallelFor(int count, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

S3Result<std::vector<std::string>> ListKeys(ObjectClient& client,
                                            const std::string& prefix) {
  std::vector<std::string> keys;
  ListRequest request;
  request.prefix = prefix;
  S3Status status = ListAll(client, request, [&](const ListPage& page) {
    for (const auto& object : page.objects) keys.push_back(object.key);
    return true;
  });
  if (!status) return status.error();
  return keys;
}

int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (fd >= 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);  // never listened on: connecting is refused
  return port;
}

std::string Describe(const S3Error& error) {
  return std::string(ErrorCodeName(error.code)) + " (HTTP " +
         std::to_string(error.http_status) + ", s3 code '" + error.s3_code +
         "'): " + error.message;
}

void S3IntegrationTest::SetUp() {
  std::string missing;
  auto env = LoadTestEnv(&missing);
  if (!env) {
    GTEST_FAIL() << missing
                 << " is not set. Integration tests need a real S3: run "
                    "scripts/test, or `scripts/rgw start DIR && source "
                    "DIR/env` first.";
  }
  env_ = *env;
  options_ = OptionsFor(env_);
  client_ = MakeS3Client(options_, env_.access_key, env_.secret_key);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    if (c == '/') c = '.';
  }
  prefix_ = "it-" + RunId() + "/" + name + "/";
  ready_ = true;
}

void S3IntegrationTest::TearDown() {
  if (!ready_) return;
  // Best effort: leave the bucket as we found it.
  auto uploads = client_->ListMultipartUploads(prefix_);
  if (uploads) {
    for (const auto& u : *uploads) {
      (void)client_->AbortMultipartUpload(u.key, u.upload_id);
    }
  }
  auto keys = ListKeys(*client_, prefix_);
  if (keys && !keys->empty()) (void)client_->DeleteObjects(*keys);
}

std::string S3IntegrationTest::Key(std::string_view name) const {
  return prefix_ + std::string(name);
}

}  // namespace repofs::integration
