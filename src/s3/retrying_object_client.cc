#include "s3/retrying_object_client.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include "util/hash.h"
#include "util/log.h"

namespace repofs::s3 {
namespace {

S3Error VersionChanged(const std::string& key, const std::string& why) {
  return S3Error{
      S3ErrorCode::kPreconditionFailed, 0, "",
      "GetObject " + key + ": object changed while being read (" + why + ")",
      ""};
}

// The state of one GetObject call across its attempts: how many bytes the
// caller has received, and what a retry must check before delivering more
// (see the header comment for the two resume strategies).
class ResumingGet {
 public:
  ResumingGet(const GetRequest& request, const DataSink& sink, bool may_retry)
      : request_(request),
        sink_(sink),
        pinned_(!request.if_match.empty()),
        may_retry_(may_retry) {}

  bool caller_stopped() const { return caller_stopped_; }

  // Resets the per-attempt state; returns the request to send.
  GetRequest StartAttempt() {
    GetRequest next = request_;
    seen_ = 0;
    changed_ = false;
    if (pinned_) {
      // Re-request the last delivered byte too: the offset then always lies
      // inside the pinned version (no 416 when everything already arrived),
      // and the byte is one more check that the version is the same.
      skip_ = delivered_ > 0 ? 1 : 0;
      next.offset = request_.offset + delivered_ - skip_;
      if (request_.length) next.length = *request_.length - delivered_ + skip_;
      return next;
    }
    skip_ = delivered_;  // replay from the start and compare
    running_.reset();
    verify_.reset();
    if (may_retry_) running_ = std::make_unique<Sha256Stream>();
    if (skip_ > 0) verify_ = std::make_unique<Sha256Stream>();
    return next;
  }

  bool OnChunk(std::string_view chunk) {
    if (seen_ < skip_) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(chunk.size(), skip_ - seen_));
      if (!Replay(chunk.substr(0, n))) {
        changed_ = true;
        return false;  // aborts the inner transfer
      }
      chunk.remove_prefix(n);
    }
    if (chunk.empty()) return true;
    if (running_) running_->Update(chunk);
    const bool more = sink_(chunk);
    delivered_ += chunk.size();
    last_byte_ = chunk.back();
    if (!more) caller_stopped_ = true;
    return more;
  }

  // Turns the inner result of an attempt into the result of this attempt.
  S3Result<ObjectInfo> FinishAttempt(S3Result<ObjectInfo> result) {
    if (caller_stopped_) return result;
    if (changed_) return VersionChanged(request_.key, "bytes differ");
    if (result.has_value()) {
      if (seen_ < skip_) {
        return VersionChanged(request_.key, "now shorter than bytes read");
      }
      if (pinned_ && !result->etag.empty() &&
          result->etag != request_.if_match) {
        return VersionChanged(request_.key, "ETag " + result->etag);
      }
      return result;
    }
    if (skip_ > 0 && result.error().code == S3ErrorCode::kInvalidRange) {
      // The resumed range lies inside the bytes already read, so only a
      // shorter (new) object can make it unsatisfiable.
      return VersionChanged(request_.key, "now shorter than bytes read");
    }
    if (running_ && seen_ == skip_) {
      // The attempt got past the replay: the running digest now covers
      // exactly the delivered bytes.
      prefix_digest_ = running_->Final();
      running_.reset();
    }
    return result;
  }

 private:
  // Checks replayed bytes against what the caller already has.
  bool Replay(std::string_view bytes) {
    seen_ += bytes.size();
    if (pinned_) return bytes.back() == last_byte_;
    verify_->Update(bytes);
    running_->Update(bytes);
    if (seen_ < skip_) return true;
    return verify_->Final() == prefix_digest_;
  }

  const GetRequest& request_;
  const DataSink& sink_;
  const bool pinned_;
  const bool may_retry_;

  uint64_t delivered_ = 0;  // bytes passed to sink_
  char last_byte_ = 0;
  bool caller_stopped_ = false;
  std::string prefix_digest_;  // unpinned: SHA-256 of the delivered bytes

  // Per attempt.
  uint64_t skip_ = 0;  // leading bytes of the response already delivered
  uint64_t seen_ = 0;  // of those, received so far
  bool changed_ = false;
  std::unique_ptr<Sha256Stream> running_;  // unpinned: all bytes received
  std::unique_ptr<Sha256Stream> verify_;   // unpinned: replayed bytes
};

}  // namespace

RetryingObjectClient::RetryingObjectClient(std::shared_ptr<ObjectClient> inner,
                                           RetryPolicy policy,
                                           const Clock& clock)
    : inner_(std::move(inner)), policy_(std::move(policy)), clock_(clock) {}

void RetryingObjectClient::BackOff(const char* operation,
                                   const std::string& key, const S3Error& error,
                                   int attempt) const {
  const std::chrono::nanoseconds delay = policy_.BackoffDelay(attempt);
  REPOFS_LOG(kDebug)
      << "S3 " << operation << (key.empty() ? "" : " ") << key << ": "
      << ErrorCodeName(error.code) << " (HTTP " << error.http_status
      << ") on attempt " << attempt + 1 << " of " << policy_.max_retries() + 1
      << ", retrying in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()
      << " ms";
  clock_.SleepFor(delay);
}

template <typename Call>
auto RetryingObjectClient::Run(const char* operation, const std::string& key,
                               const Call& call) -> decltype(call()) {
  // Bounded: ShouldRetry is false once attempt reaches max_retries.
  for (int attempt = 0;; ++attempt) {
    auto result = call();
    if (result.has_value() || !policy_.ShouldRetry(result.error(), attempt)) {
      return result;
    }
    BackOff(operation, key, result.error(), attempt);
  }
}

S3Status RetryingObjectClient::HeadBucket() {
  return Run("HeadBucket", "", [&] { return inner_->HeadBucket(); });
}

S3Result<std::optional<ObjectInfo>> RetryingObjectClient::HeadObject(
    const std::string& key) {
  return Run("HeadObject", key, [&] { return inner_->HeadObject(key); });
}

S3Result<ObjectInfo> RetryingObjectClient::GetObject(const GetRequest& request,
                                                     const DataSink& sink) {
  ResumingGet get(request, sink, policy_.max_retries() > 0);
  const DataSink attempt_sink = [&get](std::string_view chunk) {
    return get.OnChunk(chunk);
  };
  for (int attempt = 0;; ++attempt) {
    const GetRequest attempt_request = get.StartAttempt();
    S3Result<ObjectInfo> result =
        get.FinishAttempt(inner_->GetObject(attempt_request, attempt_sink));
    if (result.has_value() || get.caller_stopped() ||
        !policy_.ShouldRetry(result.error(), attempt)) {
      return result;
    }
    BackOff("GetObject", request.key, result.error(), attempt);
  }
}

S3Result<WriteResult> RetryingObjectClient::PutObject(
    const std::string& key, const Payload& body, const PutOptions& options) {
  return Run("PutObject", key,
             [&] { return inner_->PutObject(key, body, options); });
}

S3Status RetryingObjectClient::DeleteObject(const std::string& key) {
  return Run("DeleteObject", key, [&] { return inner_->DeleteObject(key); });
}

S3Result<std::vector<std::string>> RetryingObjectClient::DeleteObjects(
    const std::vector<std::string>& keys) {
  return Run("DeleteObjects", "", [&] { return inner_->DeleteObjects(keys); });
}

S3Result<WriteResult> RetryingObjectClient::CopyObject(
    const std::string& source_key, const std::string& dest_key,
    const CopyOptions& options) {
  return Run("CopyObject", dest_key,
             [&] { return inner_->CopyObject(source_key, dest_key, options); });
}

S3Result<ListPage> RetryingObjectClient::ListObjects(
    const ListRequest& request) {
  return Run("ListObjects", request.prefix,
             [&] { return inner_->ListObjects(request); });
}

S3Result<std::string> RetryingObjectClient::CreateMultipartUpload(
    const std::string& key, const PutOptions& options) {
  return Run("CreateMultipartUpload", key,
             [&] { return inner_->CreateMultipartUpload(key, options); });
}

S3Result<std::string> RetryingObjectClient::UploadPart(
    const std::string& key, const std::string& upload_id, int part_number,
    const Payload& body) {
  return Run("UploadPart", key, [&] {
    return inner_->UploadPart(key, upload_id, part_number, body);
  });
}

S3Result<std::string> RetryingObjectClient::UploadPartCopy(
    const std::string& key, const std::string& upload_id, int part_number,
    const std::string& source_key, uint64_t offset, uint64_t length,
    const std::string& source_if_match) {
  return Run("UploadPartCopy", key, [&] {
    return inner_->UploadPartCopy(key, upload_id, part_number, source_key,
                                  offset, length, source_if_match);
  });
}

S3Result<WriteResult> RetryingObjectClient::CompleteMultipartUpload(
    const std::string& key, const std::string& upload_id,
    const std::vector<CompletedPart>& parts) {
  return Run("CompleteMultipartUpload", key, [&] {
    return inner_->CompleteMultipartUpload(key, upload_id, parts);
  });
}

S3Status RetryingObjectClient::AbortMultipartUpload(
    const std::string& key, const std::string& upload_id) {
  return Run("AbortMultipartUpload", key,
             [&] { return inner_->AbortMultipartUpload(key, upload_id); });
}

S3Result<std::vector<MultipartUploadInfo>>
RetryingObjectClient::ListMultipartUploads(const std::string& prefix) {
  return Run("ListMultipartUploads", prefix,
             [&] { return inner_->ListMultipartUploads(prefix); });
}

std::map<std::string, uint64_t> RetryingObjectClient::RequestCounts() const {
  return inner_->RequestCounts();
}

}  // namespace repofs::s3
