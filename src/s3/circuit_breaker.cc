#include "s3/circuit_breaker.h"

#include <algorithm>

#include "util/log.h"

namespace repofs::s3 {
namespace {

using std::chrono::milliseconds;

int64_t Seconds(milliseconds ms) { return (ms.count() + 999) / 1000; }

}  // namespace

CircuitBreaker::CircuitBreaker(BreakerOptions options, const Clock& clock)
    : options_(options), clock_(clock), interval_(options.open_interval) {}

bool CircuitBreaker::IsOutage(const S3Error& error) {
  switch (error.code) {
    case S3ErrorCode::kNetwork:
    case S3ErrorCode::kTimeout:
    case S3ErrorCode::kServerError:
      return true;
    default:
      return false;
  }
}

bool CircuitBreaker::Allow(S3Error* error) {
  std::lock_guard lock(mu_);
  if (!open_) return true;
  const auto now = clock_.SteadyNow();
  if (!probing_ && now >= open_until_) {
    probing_ = true;  // this caller is the probe
    return true;
  }
  error->code = S3ErrorCode::kUnavailable;
  error->http_status = 0;
  error->message = "S3 unavailable (" + last_error_ +
                   "); not retrying for up to " +
                   std::to_string(Seconds(interval_)) + "s";
  return false;
}

void CircuitBreaker::OnSuccess() {
  std::lock_guard lock(mu_);
  if (open_) {
    REPOFS_LOG(kInfo) << "S3 answers again; leaving fail-fast mode";
  }
  failures_ = 0;
  open_ = false;
  probing_ = false;
  interval_ = options_.open_interval;
}

void CircuitBreaker::OnFailure(const S3Error& error) {
  if (!IsOutage(error)) {
    // The endpoint answered (4xx, precondition...): it is up.
    OnSuccess();
    return;
  }
  std::lock_guard lock(mu_);
  last_error_ = error.message;
  if (open_) {
    if (probing_) {
      probing_ = false;
      interval_ = std::min(interval_ * 2, options_.max_open_interval);
      open_until_ = clock_.SteadyNow() + interval_;
    }
    return;
  }
  if (++failures_ < std::max(1, options_.threshold)) return;
  open_ = true;
  ++trips_;
  interval_ = options_.open_interval;
  open_until_ = clock_.SteadyNow() + interval_;
  REPOFS_LOG(kWarning) << "S3 failing (" << error.message
                       << "); failing fast and serving from cache until it "
                          "answers again";
}

bool CircuitBreaker::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

uint64_t CircuitBreaker::trips() const {
  std::lock_guard lock(mu_);
  return trips_;
}

BreakerObjectClient::BreakerObjectClient(
    std::shared_ptr<ObjectClient> inner,
    std::shared_ptr<CircuitBreaker> breaker)
    : inner_(std::move(inner)), breaker_(std::move(breaker)) {}

template <typename Call>
auto BreakerObjectClient::Guard(const Call& call) -> decltype(call()) {
  S3Error refused;
  if (!breaker_->Allow(&refused)) return refused;
  auto result = call();
  if (result.has_value()) {
    breaker_->OnSuccess();
  } else {
    breaker_->OnFailure(result.error());
  }
  return result;
}

S3Status BreakerObjectClient::HeadBucket() {
  return Guard([&] { return inner_->HeadBucket(); });
}

S3Result<std::optional<ObjectInfo>> BreakerObjectClient::HeadObject(
    const std::string& key) {
  return Guard([&] { return inner_->HeadObject(key); });
}

S3Result<ObjectInfo> BreakerObjectClient::GetObject(const GetRequest& request,
                                                    const DataSink& sink) {
  return Guard([&] { return inner_->GetObject(request, sink); });
}

S3Result<WriteResult> BreakerObjectClient::PutObject(
    const std::string& key, const Payload& body, const PutOptions& options) {
  return Guard([&] { return inner_->PutObject(key, body, options); });
}

S3Status BreakerObjectClient::DeleteObject(const std::string& key) {
  return Guard([&] { return inner_->DeleteObject(key); });
}

S3Result<std::vector<std::string>> BreakerObjectClient::DeleteObjects(
    const std::vector<std::string>& keys) {
  return Guard([&] { return inner_->DeleteObjects(keys); });
}

S3Result<WriteResult> BreakerObjectClient::CopyObject(
    const std::string& source_key, const std::string& dest_key,
    const CopyOptions& options) {
  return Guard([&] { return inner_->CopyObject(source_key, dest_key, options); });
}

S3Result<ListPage> BreakerObjectClient::ListObjects(const ListRequest& request) {
  return Guard([&] { return inner_->ListObjects(request); });
}

S3Result<std::string> BreakerObjectClient::CreateMultipartUpload(
    const std::string& key, const PutOptions& options) {
  return Guard([&] { return inner_->CreateMultipartUpload(key, options); });
}

S3Result<std::string> BreakerObjectClient::UploadPart(
    const std::string& key, const std::string& upload_id, int part_number,
    const Payload& body) {
  return Guard(
      [&] { return inner_->UploadPart(key, upload_id, part_number, body); });
}

S3Result<std::string> BreakerObjectClient::UploadPartCopy(
    const std::string& key, const std::string& upload_id, int part_number,
    const std::string& source_key, uint64_t offset, uint64_t length,
    const std::string& source_if_match) {
  return Guard([&] {
    return inner_->UploadPartCopy(key, upload_id, part_number, source_key,
                                  offset, length, source_if_match);
  });
}

S3Result<WriteResult> BreakerObjectClient::CompleteMultipartUpload(
    const std::string& key, const std::string& upload_id,
    const std::vector<CompletedPart>& parts) {
  return Guard(
      [&] { return inner_->CompleteMultipartUpload(key, upload_id, parts); });
}

S3Status BreakerObjectClient::AbortMultipartUpload(
    const std::string& key, const std::string& upload_id) {
  return Guard([&] { return inner_->AbortMultipartUpload(key, upload_id); });
}

S3Result<std::vector<MultipartUploadInfo>>
BreakerObjectClient::ListMultipartUploads(const std::string& prefix) {
  return Guard([&] { return inner_->ListMultipartUploads(prefix); });
}

std::map<std::string, uint64_t> BreakerObjectClient::RequestCounts() const {
  return inner_->RequestCounts();
}

}  // namespace repofs::s3
