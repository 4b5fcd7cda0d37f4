#include "upload/object_transfer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <optional>

#include "upload/upload_journal.h"
#include "util/log.h"

namespace repofs::upload {
namespace {

constexpr uint64_t kMaxParts = 10000;
constexpr uint64_t kMiB = 1024 * 1024;

Error Prefixed(Error error, const std::string& what) {
  error.message = what + ": " + error.message;
  return error;
}

// Uploads [0, size) of `fd` as parts of `upload_id`, at most `parallelism`
// at a time. Returns the parts in order or the first failure.
Result<std::vector<CompletedPart>> UploadParts(const TransferContext& ctx,
                                               const std::string& key,
                                               const std::string& upload_id,
                                               int fd, uint64_t size) {
  const uint64_t part_size = PartSizeFor(size, ctx.options.part_size);
  const size_t window =
      static_cast<size_t>(std::max(1, ctx.options.parallelism));
  std::vector<CompletedPart> parts;
  std::deque<std::future<S3Result<std::string>>> inflight;
  std::optional<S3Error> failure;
  size_t collected = 0;
  auto collect_one = [&] {
    auto etag = inflight.front().get();
    inflight.pop_front();
    if (etag) {
      parts[collected].etag = *etag;
    } else if (!failure) {
      failure = etag.error();
    }
    ++collected;
  };
  ObjectClient& client = ctx.client;
  for (uint64_t offset = 0; offset < size && !failure; offset += part_size) {
    const int number = static_cast<int>(parts.size()) + 1;
    const Payload body =
        Payload::FromFile(fd, offset, std::min(part_size, size - offset));
    parts.push_back(CompletedPart{number, ""});
    inflight.push_back(
        ctx.pool.Async([&client, &key, &upload_id, number, body] {
          return client.UploadPart(key, upload_id, number, body);
        }));
    while (inflight.size() >= window) collect_one();
  }
  while (!inflight.empty()) collect_one();
  if (failure) return WriteError(*failure, false);
  return parts;
}

}  // namespace

uint64_t PartSizeFor(uint64_t size, uint64_t part_size) {
  part_size = std::max<uint64_t>(part_size, 1);
  if (size <= part_size * kMaxParts) return part_size;
  uint64_t needed = (size + kMaxParts - 1) / kMaxParts;
  return (needed + kMiB - 1) / kMiB * kMiB;
}

Error WriteError(const S3Error& error, bool if_none_match) {
  Error out = ToError(error);
  if (if_none_match && error.code == S3ErrorCode::kPreconditionFailed) {
    out.errno_value = EEXIST;
  }
  return out;
}

Result<std::string> StartUpload(const TransferContext& ctx,
                                const std::string& key, const PutOptions& put) {
  PutOptions create = put;
  create.if_none_match = false;  // checked by HEAD before Complete
  auto upload = ctx.client.CreateMultipartUpload(key, create);
  if (!upload) return ToError(upload.error());
  if (ctx.journal != nullptr) {
    // Journaling is for cleanup after a crash; an upload is not failed for
    // it, but the operator should know.
    if (Status added = ctx.journal->Add(key, *upload); !added) {
      REPOFS_LOG(kWarning) << "upload journal: " << added.error().message;
    }
  }
  return std::move(*upload);
}

void AbortUpload(const TransferContext& ctx, const std::string& key,
                 const std::string& upload_id) {
  S3Status aborted = ctx.client.AbortMultipartUpload(key, upload_id);
  if (!aborted && aborted.error().code != S3ErrorCode::kNoSuchUpload) {
    REPOFS_LOG(kWarning) << "abort of the multipart upload of " << key
                         << " failed (left for the next mount): "
                         << ToError(aborted.error()).message;
    return;
  }
  if (ctx.journal != nullptr) (void)ctx.journal->Remove(upload_id);
}

Result<WriteResult> CompleteUpload(const TransferContext& ctx,
                                   const std::string& key,
                                   const std::string& upload_id,
                                   const std::vector<CompletedPart>& parts,
                                   bool if_none_match) {
  if (if_none_match) {
    // Race: a key created between this HEAD and the Complete is replaced.
    auto head = ctx.client.HeadObject(key);
    if (!head) return ToError(head.error());
    if (head->has_value())
      return Error{EEXIST, key + " exists (If-None-Match)"};
  }
  auto done = ctx.client.CompleteMultipartUpload(key, upload_id, parts);
  if (!done) return WriteError(done.error(), if_none_match);
  if (ctx.journal != nullptr) (void)ctx.journal->Remove(upload_id);
  WriteResult result = *done;
  if (Status filled = FillWriteResult(ctx.client, key, &result); !filled) {
    return filled.error();
  }
  return result;
}

Result<WriteResult> UploadFile(const TransferContext& ctx,
                               const std::string& key, int fd, uint64_t size,
                               const PutOptions& put) {
  if (size < ctx.options.multipart_threshold || size == 0) {
    auto put_result =
        ctx.client.PutObject(key, Payload::FromFile(fd, 0, size), put);
    if (!put_result && put.if_none_match &&
        put_result.error().code == S3ErrorCode::kNotImplemented) {
      // The endpoint has no conditional PUT: HEAD, then an unconditional
      // PUT (same race as the multipart check).
      auto head = ctx.client.HeadObject(key);
      if (!head) return ToError(head.error());
      if (head->has_value())
        return Error{EEXIST, key + " exists (If-None-Match)"};
      PutOptions plain = put;
      plain.if_none_match = false;
      put_result =
          ctx.client.PutObject(key, Payload::FromFile(fd, 0, size), plain);
    }
    if (!put_result) return WriteError(put_result.error(), put.if_none_match);
    WriteResult result = *put_result;
    if (Status filled = FillWriteResult(ctx.client, key, &result); !filled) {
      return filled.error();
    }
    return result;
  }
  auto upload = StartUpload(ctx, key, put);
  if (!upload) return upload.error();
  auto parts = UploadParts(ctx, key, *upload, fd, size);
  Result<WriteResult> result =
      parts ? CompleteUpload(ctx, key, *upload, *parts, put.if_none_match)
            : Result<WriteResult>(parts.error());
  if (!result) AbortUpload(ctx, key, *upload);
  return result;
}

Status FillWriteResult(ObjectClient& client, const std::string& key,
                       WriteResult* result) {
  if (!result->etag.empty() && result->last_modified != 0) return OkStatus();
  auto head = client.HeadObject(key);
  if (!head) return Prefixed(ToError(head.error()), "HEAD after upload");
  if (!head->has_value())
    return Error{EIO, key + " vanished right after its upload"};
  const ObjectInfo& info = **head;
  if (result->etag.empty()) result->etag = info.etag;
  if (result->last_modified == 0) result->last_modified = info.last_modified;
  return OkStatus();
}

namespace {

Status DownloadRange(ObjectClient& client, const std::string& key,
                     const std::string& etag, uint64_t offset, uint64_t length,
                     uint64_t size, int fd) {
  GetRequest request{key, offset, length, etag};
  uint64_t pos = offset;
  std::optional<Error> write_error;
  auto got = client.GetObject(request, [&](std::string_view chunk) {
    size_t done = 0;
    while (done < chunk.size()) {
      ssize_t n = ::pwrite(fd, chunk.data() + done, chunk.size() - done,
                           static_cast<off_t>(pos + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        write_error =
            Error{err, std::string("write to staging file: ") + strerror(err)};
        return false;
      }
      done += static_cast<size_t>(n);
    }
    pos += chunk.size();
    return true;
  });
  if (write_error) return *write_error;
  if (!got) {
    Error error = ToError(got.error());
    S3ErrorCode code = got.error().code;
    if (code == S3ErrorCode::kPreconditionFailed ||
        code == S3ErrorCode::kNoSuchKey) {
      error.errno_value = EIO;  // the version we were asked for is gone
    }
    return error;
  }
  if (got->size != size || pos != offset + length) {
    return Error{
        EIO, key + ": version " + etag + " does not have the expected size"};
  }
  return OkStatus();
}

}  // namespace

Status DownloadToFile(const TransferContext& ctx, const std::string& key,
                      const std::string& etag, uint64_t size, int fd) {
  if (size == 0) return OkStatus();
  const uint64_t range = std::max<uint64_t>(ctx.options.part_size, 1);
  const size_t window =
      static_cast<size_t>(std::max(1, ctx.options.parallelism));
  ObjectClient& client = ctx.client;
  std::deque<std::future<Status>> inflight;
  std::optional<Error> failure;
  auto collect_one = [&] {
    Status status = inflight.front().get();
    inflight.pop_front();
    if (!status && !failure) failure = status.error();
  };
  if (size <= range) return DownloadRange(client, key, etag, 0, size, size, fd);
  for (uint64_t offset = 0; offset < size && !failure; offset += range) {
    const uint64_t length = std::min(range, size - offset);
    inflight.push_back(
        ctx.pool.Async([&client, &key, &etag, offset, length, size, fd] {
          return DownloadRange(client, key, etag, offset, length, size, fd);
        }));
    while (inflight.size() >= window) collect_one();
  }
  while (!inflight.empty()) collect_one();
  if (failure) return *failure;
  return OkStatus();
}

}  // namespace repofs::upload
