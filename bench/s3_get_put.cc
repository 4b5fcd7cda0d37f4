// s3_get_put: whole-object GET and PUT throughput of the repofs S3 client
// (libcurl transport -> S3Client -> RetryingObjectClient, as a mount uses
// it), for bench/s3_transfer.
//
//   s3_get_put get KEY [--parallel N] [--part-mib M] [--sha256] [--discard]
//   s3_get_put put FILE KEY [--parallel N] [--part-mib M]
//
// GET: HEAD for size and ETag, then ranged GETs of M MiB (default 8) with N
// (default 8) in flight, each pinned to the ETag with If-Match, landing in
// one memory buffer. PUT: multipart upload of FILE in M MiB parts read with
// pread (Payload::FromFile), N in flight; a single PUT when FILE fits one
// part. --discard drops GET bytes as they arrive (as curl -o /dev/null
// does) instead of keeping them in memory. Prints one line with bytes, seconds and MiB/s (and the SHA-256 of
// what was read with --sha256, computed after the clock stops).
//
// Connection settings come from REPOFS_TEST_ENDPOINT, _ACCESS_KEY,
// _SECRET_KEY, _REGION, _BUCKET (scripts/rgw's DIR/env); path-style.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/credentials_chain.h"
#include "http/curl_transport.h"
#include "repofs/object_client.h"
#include "s3/retry_policy.h"
#include "s3/retrying_object_client.h"
#include "s3/s3_client.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs::bench {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

struct Args {
  std::string mode, file, key;
  int parallel = 8;
  uint64_t part = 8 * kMiB;
  bool sha = false;
  bool discard = false;  // GET: drop the bytes (like curl -o /dev/null)
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "s3_get_put: %s\n", message.c_str());
  std::exit(1);
}

std::string Env(const char* name, const char* fallback = nullptr) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') return v;
  if (fallback != nullptr) return fallback;
  Die(std::string(name) + " is not set (source the env file of scripts/rgw)");
}

std::string Describe(const S3Error& e) { return ToError(e).message; }

// Runs fn(i) for i in [0, count) on `threads` threads; the first error wins.
void ParallelFor(int count, int threads,
                 const std::function<std::string(int)>& fn) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::string first_error;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        std::string error = fn(i);
        if (!error.empty()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.empty()) first_error = error;
          next = count;  // stop handing out work
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  if (!first_error.empty()) Die(first_error);
}

// The GET target: uninitialised memory (no zero-fill pass before the copy).
struct Buffer {
  std::unique_ptr<char[]> bytes;
  uint64_t size = 0;
};

uint64_t Get(ObjectClient& client, const Args& args, Buffer* data) {
  auto head = client.HeadObject(args.key);
  if (!head) Die(Describe(head.error()));
  if (!head->has_value()) Die("no such key: " + args.key);
  const uint64_t size = (*head)->size;
  const std::string etag = (*head)->etag;
  if (!args.discard) {
    data->bytes = std::make_unique_for_overwrite<char[]>(size);
    data->size = size;
  }
  const int ranges = static_cast<int>((size + args.part - 1) / args.part);
  ParallelFor(ranges, args.parallel, [&](int i) -> std::string {
    GetRequest request;
    request.key = args.key;
    request.offset = i * args.part;
    request.length = std::min<uint64_t>(args.part, size - request.offset);
    request.if_match = etag;
    char* out = args.discard ? nullptr : data->bytes.get() + request.offset;
    uint64_t got = 0;
    auto r = client.GetObject(request, [&](std::string_view chunk) {
      if (got + chunk.size() > *request.length) return false;
      if (out != nullptr) std::memcpy(out + got, chunk.data(), chunk.size());
      got += chunk.size();
      return true;
    });
    if (!r) return Describe(r.error());
    if (got != *request.length) return "short range " + std::to_string(i);
    return "";
  });
  return size;
}

uint64_t Put(ObjectClient& client, const Args& args) {
  int fd = ::open(args.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open " + args.file + ": " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size <= args.part) {
    Payload body = Payload::FromFile(fd, 0, size);
    auto r = client.PutObject(args.key, body, PutOptions{});
    if (!r) Die(Describe(r.error()));
    ::close(fd);
    return size;
  }
  auto upload = client.CreateMultipartUpload(args.key, PutOptions{});
  if (!upload) Die(Describe(upload.error()));
  const int parts = static_cast<int>((size + args.part - 1) / args.part);
  std::vector<CompletedPart> done(parts);
  ParallelFor(parts, args.parallel, [&](int i) -> std::string {
    uint64_t offset = i * args.part;
    Payload body = Payload::FromFile(fd, offset, std::min(args.part, size - offset));
    auto etag = client.UploadPart(args.key, *upload, i + 1, body);
    if (!etag) return Describe(etag.error());
    done[i] = CompletedPart{i + 1, *etag};
    return "";
  });
  auto r = client.CompleteMultipartUpload(args.key, *upload, done);
  if (!r) {
    (void)client.AbortMultipartUpload(args.key, *upload);
    Die(Describe(r.error()));
  }
  ::close(fd);
  return size;
}

Args Parse(int argc, char** argv) {
  Args args;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--parallel" && i + 1 < argc) {
      args.parallel = std::atoi(argv[++i]);
    } else if (a == "--part-mib" && i + 1 < argc) {
      args.part = std::strtoull(argv[++i], nullptr, 10) * kMiB;
    } else if (a == "--sha256") {
      args.sha = true;
    } else if (a == "--discard") {
      args.discard = true;
    } else {
      positional.push_back(a);
    }
  }
  if (!positional.empty()) args.mode = positional[0];
  if (args.mode == "get" && positional.size() == 2) {
    args.key = positional[1];
  } else if (args.mode == "put" && positional.size() == 3) {
    args.file = positional[1];
    args.key = positional[2];
  } else {
    Die("usage: s3_get_put get KEY | put FILE KEY [--parallel N] [--part-mib M] [--sha256]");
  }
  if (args.parallel < 1 || args.part == 0) Die("bad --parallel or --part-mib");
  return args;
}

int Main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  S3Options options;
  options.endpoint = Env("REPOFS_TEST_ENDPOINT");
  options.region = Env("REPOFS_TEST_REGION", "us-east-1");
  options.bucket = Env("REPOFS_TEST_BUCKET");
  options.path_style = true;
  Credentials creds;
  creds.access_key_id = Env("REPOFS_TEST_ACCESS_KEY");
  creds.secret_access_key = Env("REPOFS_TEST_SECRET_KEY");
  auto s3 = std::make_shared<s3::S3Client>(
      options, http::CreateCurlTransport(http::TransportOptionsFrom(options)),
      auth::MakeStaticCredentials(creds, "bench"));
  s3::RetryingObjectClient client(s3, s3::RetryPolicy(options));

  Buffer data;
  auto start = std::chrono::steady_clock::now();
  uint64_t bytes = args.mode == "get" ? Get(client, args, &data) : Put(client, args);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %llu bytes in %.3f s: %.1f MiB/s (%d x %llu MiB in flight)", args.mode.c_str(),
              static_cast<unsigned long long>(bytes), secs, bytes / secs / kMiB, args.parallel,
              static_cast<unsigned long long>(args.part / kMiB));
  if (args.sha && args.mode == "get" && !args.discard) {
    std::printf(" sha256 %s",
                HexEncode(Sha256(std::string_view(data.bytes.get(), data.size))).c_str());
  }
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace repofs::bench

int main(int argc, char** argv) { return repofs::bench::Main(argc, argv); }
