#include "daemon/s3_transfer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>

namespace repofs::daemon {
namespace {

S3Error LocalError(const std::string& what) {
  return S3Error{S3ErrorCode::kLocalIo, 0, "", what + ": " + std::strerror(errno), ""};
}

bool IsRegularFile(int fd, uint64_t* size) {
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  *size = static_cast<uint64_t>(st.st_size);
  return true;
}

bool WriteAll(int fd, const char* data, size_t n, int64_t offset) {
  while (n > 0) {
    ssize_t w = offset >= 0 ? pwrite(fd, data, n, offset) : write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
    if (offset >= 0) offset += w;
  }
  return true;
}

// Reads up to `n` bytes from a pipe, returning fewer only at end of input.
ssize_t ReadFull(int fd, char* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = read(fd, out + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

S3Result<ObjectInfo> DownloadObject(ObjectClient& client, const std::string& key,
                                    int fd, const TransferOptions& options,
                                    ThreadPool& pool) {
  uint64_t ignored = 0;
  bool regular = IsRegularFile(fd, &ignored);
  auto head = client.HeadObject(key);
  if (!head) return head.error();
  if (!head->has_value()) {
    return S3Error{S3ErrorCode::kNoSuchKey, 404, "NoSuchKey", "no such key: " + key, ""};
  }
  ObjectInfo info = **head;
  if (!regular || info.size <= options.multipart_threshold) {
    GetRequest request{key, 0, std::nullopt, info.etag};
    bool write_failed = false;
    auto got = client.GetObject(request, [&](std::string_view chunk) {
      write_failed = !WriteAll(fd, chunk.data(), chunk.size(), -1);
      return !write_failed;
    });
    if (write_failed) return LocalError("write");
    return got;
  }
  if (ftruncate(fd, static_cast<off_t>(info.size)) != 0) return LocalError("truncate");
  std::vector<std::future<S3Status>> ranges;
  for (uint64_t off = 0; off < info.size; off += options.part_size) {
    uint64_t len = std::min(options.part_size, info.size - off);
    ranges.push_back(pool.Async([&client, &key, &info, fd, off, len]() -> S3Status {
      GetRequest request{key, off, len, info.etag};
      uint64_t pos = off;
      bool write_failed = false;
      auto got = client.GetObject(request, [&](std::string_view chunk) {
        write_failed = !WriteAll(fd, chunk.data(), chunk.size(), static_cast<int64_t>(pos));
        pos += chunk.size();
        return !write_failed;
      });
      if (write_failed) return LocalError("write");
      if (!got) return got.error();
      return S3Status();
    }));
  }
  S3Status first_error;
  for (auto& range : ranges) {
    S3Status status = range.get();
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  if (!first_error.ok()) return first_error.error();
  return info;
}

S3Result<WriteResult> UploadObject(ObjectClient& client, const std::string& key,
                                   int fd, const PutOptions& put,
                                   const TransferOptions& options,
                                   ThreadPool& pool) {
  uint64_t size = 0;
  bool regular = IsRegularFile(fd, &size);
  std::string first(regular ? 0 : options.multipart_threshold, '\0');
  if (!regular) {
    ssize_t n = ReadFull(fd, first.data(), first.size());
    if (n < 0) return LocalError("read");
    if (static_cast<uint64_t>(n) < first.size()) {
      first.resize(static_cast<size_t>(n));
      return client.PutObject(key, Payload::FromBuffer(first), put);
    }
  } else if (size <= options.multipart_threshold) {
    return client.PutObject(key, Payload::FromFile(fd, 0, size), put);
  }
  auto upload = client.CreateMultipartUpload(key, put);
  if (!upload) return upload.error();
  const std::string upload_id = *upload;
  std::deque<std::future<S3Result<std::string>>> inflight;
  std::vector<CompletedPart> parts;
  S3Status failure;
  auto collect_one = [&] {
    auto etag = inflight.front().get();
    inflight.pop_front();
    if (!etag && failure.ok()) failure = etag.error();
    if (etag) parts[parts.size() - inflight.size() - 1].etag = *etag;
  };
  uint64_t offset = 0;
  std::string pending = std::move(first);
  for (int number = 1; failure.ok(); ++number) {
    std::shared_ptr<std::string> buffer;
    Payload body;
    if (regular) {
      if (offset >= size) break;
      body = Payload::FromFile(fd, offset, std::min(options.part_size, size - offset));
      offset += body.size();
    } else {
      buffer = std::make_shared<std::string>(std::move(pending));
      pending.assign(options.part_size, '\0');
      ssize_t n = ReadFull(fd, pending.data(), pending.size());
      if (n < 0) {
        failure = LocalError("read");
        break;
      }
      pending.resize(static_cast<size_t>(n));
      if (buffer->empty()) break;
      body = Payload::FromBuffer(*buffer);
    }
    parts.push_back(CompletedPart{number, ""});
    inflight.push_back(pool.Async([&client, &key, &upload_id, number, body, buffer] {
      return client.UploadPart(key, upload_id, number, body);
    }));
    while (static_cast<int>(inflight.size()) >= options.parallelism) collect_one();
  }
  while (!inflight.empty()) collect_one();
  if (failure.ok()) {
    auto done = client.CompleteMultipartUpload(key, upload_id, parts);
    if (done) return done;
    failure = done.error();
  }
  (void)client.AbortMultipartUpload(key, upload_id);  // best effort
  return failure.error();
}

}  // namespace repofs::daemon
