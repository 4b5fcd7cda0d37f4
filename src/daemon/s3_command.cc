#include "daemon/s3_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>

#include "daemon/client_factory.h"
#include "daemon/config.h"
#include "daemon/s3_transfer.h"
#include "s3/s3_client.h"
#include "upload/upload_journal.h"
#include "util/handles.h"
#include "util/time_format.h"

namespace repofs::daemon {
namespace {

struct Location {
  std::string bucket;
  std::string key;
};

// "BUCKET/KEY" (also accepts an "s3://" prefix).
Location ParseLocation(std::string text) {
  if (text.rfind("s3://", 0) == 0) text = text.substr(5);
  size_t slash = text.find('/');
  if (slash == std::string::npos) return {text, ""};
  return {text.substr(0, slash), text.substr(slash + 1)};
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "repofs s3: %s\n", message.c_str());
  return 1;
}

std::string FormatTime(std::time_t t) {
  std::tm tm_utc{};
  gmtime_r(&t, &tm_utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm_utc);
  return buf;
}

int List(ObjectClient& client, const std::string& prefix, bool recursive) {
  ListRequest request;
  request.prefix = prefix;
  if (!recursive) request.delimiter = "/";
  S3Status status = ListAll(client, request, [](const ListPage& page) {
    for (const auto& p : page.common_prefixes) {
      std::printf("%19s %12s PRE %s\n", "", "", p.c_str());
    }
    for (const auto& o : page.objects) {
      std::printf("%s %12llu %s\n", FormatTime(o.last_modified).c_str(),
                  static_cast<unsigned long long>(o.size), o.key.c_str());
    }
    return true;
  });
  if (!status.ok()) return Fail("ls: " + ToError(status.error()).message);
  return 0;
}

int Stat(ObjectClient& client, const std::string& key) {
  auto head = client.HeadObject(key);
  if (!head) return Fail("stat " + key + ": " + ToError(head.error()).message);
  if (!head->has_value()) return Fail("stat " + key + ": no such key");
  const ObjectInfo& info = **head;
  std::printf("key: %s\nsize: %llu\netag: %s\nlast-modified: %s\n", info.key.c_str(),
              static_cast<unsigned long long>(info.size), info.etag.c_str(),
              FormatHttpDate(info.last_modified).c_str());
  if (!info.content_type.empty()) std::printf("content-type: %s\n", info.content_type.c_str());
  for (const auto& [name, value] : info.metadata) {
    std::printf("x-amz-meta-%s: %s\n", name.c_str(), value.c_str());
  }
  return 0;
}

int Get(ObjectClient& client, const std::string& key, const std::string& path) {
  UniqueFd fd(path == "-" ? dup(STDOUT_FILENO)
                          : open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Fail("get: " + path + ": " + std::strerror(errno));
  ThreadPool pool(8);
  auto got = DownloadObject(client, key, fd.get(), TransferOptions{}, pool);
  if (!got) return Fail("get " + key + ": " + ToError(got.error()).message);
  return 0;
}

int Put(ObjectClient& client, const std::string& path, const std::string& key) {
  UniqueFd fd(path == "-" ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Fail("put: " + path + ": " + std::strerror(errno));
  ThreadPool pool(8);
  auto put = UploadObject(client, key, fd.get(), PutOptions{}, TransferOptions{}, pool);
  if (!put) return Fail("put " + key + ": " + ToError(put.error()).message);
  return 0;
}

int Remove(ObjectClient& client, const std::vector<std::string>& keys) {
  auto failed = client.DeleteObjects(keys);
  if (!failed) return Fail("rm: " + ToError(failed.error()).message);
  for (const auto& key : *failed) std::fprintf(stderr, "repofs s3: rm %s: failed\n", key.c_str());
  return failed->empty() ? 0 : 1;
}

// Aborts multipart uploads under `prefix` older than `age` (a repofs mount
// aborts its own leftovers at the next mount; this is for the rest).
int AbortUploads(ObjectClient& client, const std::string& prefix,
                 const std::string& age) {
  Result<long long> ms = ParseDurationMs(age);
  if (!ms) return Fail("abort-uploads: " + ms.error().message);
  // Started at or before now - age (AbortStaleUploads takes "before").
  const std::time_t cutoff = std::time(nullptr) - static_cast<std::time_t>(*ms / 1000) + 1;
  auto aborted = upload::AbortStaleUploads(client, prefix, cutoff);
  if (!aborted) return Fail("abort-uploads: " + aborted.error().message);
  for (const MultipartUploadInfo& u : *aborted) {
    std::printf("aborted %s (upload %s, started %s)\n", u.key.c_str(),
                u.upload_id.c_str(), FormatTime(u.initiated).c_str());
  }
  return 0;
}

}  // namespace

const char* S3CommandHelp() {
  return R"(usage: repofs s3 [-o opt[,opt...]] COMMAND ARGS
  ls [-r] BUCKET[/PREFIX]      list (one level, or all keys with -r)
  stat BUCKET/KEY              size, ETag, Last-Modified, metadata
  get BUCKET/KEY FILE|-        download (parallel ranged GETs)
  put FILE|- BUCKET/KEY        upload (multipart above 16 MiB)
  rm BUCKET/KEY...             delete keys
  cp BUCKET/SRC BUCKET/DST     server-side copy within a bucket
  mb BUCKET                    create a bucket
  abort-uploads BUCKET[/PREFIX] [AGE]
                               abort unfinished multipart uploads under
                               PREFIX started more than AGE ago (default
                               24h; 0 = all, also ones still being written)
Options are the S3 connection options of a mount (endpoint, region,
path_style, profile, credentials_file, ca_file, ...; see repofs --help).
)";
}

int RunS3Command(const std::vector<std::string>& args) {
  Config config;
  std::vector<std::string> rest;
  bool recursive = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-o" && i + 1 < args.size()) {
      Status status = ApplyOptions(args[++i], &config);
      if (!status.ok()) return Fail(status.error().message);
    } else if (args[i] == "-r") {
      recursive = true;
    } else if (args[i] == "-h" || args[i] == "--help") {
      std::fputs(S3CommandHelp(), stdout);
      return 0;
    } else {
      rest.push_back(args[i]);
    }
  }
  if (rest.size() < 2) {
    std::fputs(S3CommandHelp(), stderr);
    return 2;
  }
  const std::string& command = rest[0];
  Location where = ParseLocation(command == "put" && rest.size() > 2 ? rest[2] : rest[1]);
  config.s3.bucket = where.bucket;
  auto stack = CreateClientStack(config.s3, config.credentials);
  if (!stack) return Fail(stack.error().message);
  ObjectClient& client = *stack->client;
  if (command == "ls") return List(client, where.key, recursive);
  if (command == "stat" && rest.size() == 2) return Stat(client, where.key);
  if (command == "get" && rest.size() == 3) return Get(client, where.key, rest[2]);
  if (command == "put" && rest.size() == 3) return Put(client, rest[1], where.key);
  if (command == "rm") {
    std::vector<std::string> keys;
    for (size_t i = 1; i < rest.size(); ++i) {
      Location l = ParseLocation(rest[i]);
      if (l.bucket != where.bucket) return Fail("rm: all keys must be in one bucket");
      keys.push_back(l.key);
    }
    return Remove(client, keys);
  }
  if (command == "cp" && rest.size() == 3) {
    Location dst = ParseLocation(rest[2]);
    if (dst.bucket != where.bucket) return Fail("cp: source and destination must share a bucket");
    auto copied = client.CopyObject(where.key, dst.key, CopyOptions{});
    if (!copied) return Fail("cp: " + ToError(copied.error()).message);
    return 0;
  }
  if (command == "mb" && rest.size() == 2) {
    S3Status made = stack->s3->CreateBucket();
    if (!made.ok()) return Fail("mb " + where.bucket + ": " + ToError(made.error()).message);
    return 0;
  }
  if (command == "abort-uploads" && rest.size() <= 3) {
    return AbortUploads(client, where.key, rest.size() == 3 ? rest[2] : "24h");
  }
  std::fputs(S3CommandHelp(), stderr);
  return 2;
}

}  // namespace repofs::daemon
