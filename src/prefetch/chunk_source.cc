#include "prefetch/chunk_source.h"

#include <cerrno>
#include <string>
#include <utility>

namespace repofs::prefetch {
namespace {

std::string RangeText(const ObjectVersion& version, uint64_t offset,
                      uint64_t length) {
  return "GET " + version.key + " bytes " + std::to_string(offset) + "-" +
         std::to_string(offset + length - 1) + " (etag " + version.etag + ")";
}

Error FetchError(int errno_value, const ObjectVersion& version, uint64_t offset,
                 uint64_t length, const std::string& why) {
  return Error{errno_value, RangeText(version, offset, length) + ": " + why};
}

std::string DescribeS3Error(const S3Error& error) {
  std::string text = ErrorCodeName(error.code);
  if (error.http_status != 0) {
    text += " (HTTP " + std::to_string(error.http_status) + ")";
  }
  if (!error.message.empty()) text += ": " + error.message;
  return text;
}

}  // namespace

S3ChunkSource::S3ChunkSource(std::shared_ptr<ObjectClient> client,
                             std::shared_ptr<ReadaheadCounters> counters)
    : client_(std::move(client)), counters_(std::move(counters)) {}

Status S3ChunkSource::Fetch(const ObjectVersion& version, uint64_t offset,
                            uint64_t length, const ChunkSink& sink) {
  if (length == 0 || offset > version.size || version.size - offset < length) {
    return FetchError(EINVAL, version, offset, length,
                      "range outside the object");
  }
  GetRequest request;
  request.key = version.key;
  request.offset = offset;
  request.length = length;
  // Every GET is pinned: a replaced object answers 412 instead of new bytes.
  request.if_match = version.etag;

  uint64_t received = 0;
  bool overflow = false;
  bool caller_stopped = false;
  auto counting_sink = [&](std::string_view bytes) {
    if (bytes.size() > length - received) {
      overflow = true;
      return false;
    }
    received += bytes.size();
    if (counters_)
      ReadaheadCounters::Add(counters_->bytes_fetched, bytes.size());
    if (!sink(bytes)) {
      caller_stopped = true;
      return false;
    }
    return true;
  };
  if (counters_) ReadaheadCounters::Add(counters_->get_requests, 1);
  S3Result<ObjectInfo> info = client_->GetObject(request, counting_sink);

  if (caller_stopped) {
    return FetchError(ECANCELED, version, offset, length, "cancelled");
  }
  if (overflow) {
    return FetchError(EIO, version, offset, length,
                      "body longer than the requested range");
  }
  if (!info.has_value()) {
    const S3Error& error = info.error();
    if (error.code == S3ErrorCode::kPreconditionFailed ||
        error.code == S3ErrorCode::kNoSuchKey) {
      return FetchError(
          EIO, version, offset, length,
          "object version is gone (" + DescribeS3Error(error) + ")");
    }
    return FetchError(EIO, version, offset, length, DescribeS3Error(error));
  }
  if (received != length) {
    // With If-Match this means the store misbehaves; never pass short data.
    return FetchError(EIO, version, offset, length,
                      "short body: " + std::to_string(received) + " of " +
                          std::to_string(length) + " bytes");
  }
  if (!info->etag.empty() && info->etag != version.etag) {
    return FetchError(EIO, version, offset, length,
                      "served etag " + info->etag + " despite If-Match");
  }
  return OkStatus();
}

}  // namespace repofs::prefetch
