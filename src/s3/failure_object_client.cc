#include "s3/failure_object_client.h"

#include <algorithm>
#include <utility>

namespace repofs {

FailureObjectClient::Fault FailureObjectClient::Fault::Error(S3Error error) {
  Fault fault;
  fault.kind = Kind::kError;
  fault.error = std::move(error);
  return fault;
}

FailureObjectClient::Fault FailureObjectClient::Fault::LoseResponse(
    S3Error error) {
  Fault fault;
  fault.kind = Kind::kLoseResponse;
  fault.error = std::move(error);
  return fault;
}

FailureObjectClient::Fault FailureObjectClient::Fault::TruncateBody(
    uint64_t bytes) {
  Fault fault;
  fault.kind = Kind::kTruncateBody;
  fault.truncate_after = bytes;
  return fault;
}

S3Error FailureObjectClient::ServerError() {
  return S3Error{S3ErrorCode::kServerError, 500, "InternalError",
                 "injected: We encountered an internal error. Please try "
                 "again.",
                 "injected"};
}

S3Error FailureObjectClient::SlowDown() {
  return S3Error{S3ErrorCode::kSlowDown, 503, "SlowDown",
                 "injected: Please reduce your request rate.", "injected"};
}

S3Error FailureObjectClient::ConnectionReset() {
  return S3Error{S3ErrorCode::kNetwork, 0, "",
                 "injected: connection reset by peer", ""};
}

S3Error FailureObjectClient::Timeout() {
  return S3Error{S3ErrorCode::kTimeout, 0, "", "injected: operation timed out",
                 ""};
}

FailureObjectClient::FailureObjectClient(std::shared_ptr<ObjectClient> inner,
                                         const Clock& clock)
    : inner_(std::move(inner)), clock_(clock) {}

void FailureObjectClient::Schedule(const std::string& operation,
                                   const Fault& fault, int count) {
  Fault stored = fault;
  if (fault.kind == Fault::Kind::kTruncateBody && operation != "GetObject" &&
      operation != kAnyOperation) {
    // Only GETs stream a body to a sink; elsewhere a cut response is
    // reported as what the real client would return.
    stored = Fault::Error(S3Error{S3ErrorCode::kTruncatedBody, 200, "",
                                  "injected: response body truncated", ""});
  }
  std::lock_guard lock(mu_);
  auto& queue = schedule_[operation];
  for (int i = 0; i < count; ++i) queue.push_back(stored);
}

void FailureObjectClient::FailNext(const std::string& operation, int count,
                                   S3Error error) {
  Schedule(operation, Fault::Error(std::move(error)), count);
}

void FailureObjectClient::TruncateNextGets(uint64_t bytes, int count) {
  Schedule("GetObject", Fault::TruncateBody(bytes), count);
}

void FailureObjectClient::SetLatency(const std::string& operation,
                                     std::chrono::nanoseconds latency) {
  std::lock_guard lock(mu_);
  if (latency.count() <= 0) {
    latency_.erase(operation);
  } else {
    latency_[operation] = latency;
  }
}

void FailureObjectClient::SetRandomFailures(double probability, uint64_t seed,
                                            std::vector<S3Error> errors,
                                            bool truncate_gets,
                                            const std::string& operation) {
  std::lock_guard lock(mu_);
  if (!(probability > 0)) {
    random_.reset();
    return;
  }
  if (errors.empty()) errors = {ServerError(), SlowDown(), ConnectionReset()};
  random_ = RandomMode{std::min(probability, 1.0), std::move(errors),
                       truncate_gets, operation};
  rng_.seed(seed);
}

void FailureObjectClient::ClearFaults() {
  std::lock_guard lock(mu_);
  schedule_.clear();
  latency_.clear();
  random_.reset();
}

size_t FailureObjectClient::PendingFaults() const {
  std::lock_guard lock(mu_);
  size_t total = 0;
  for (const auto& [operation, queue] : schedule_) total += queue.size();
  return total;
}

FailureObjectClient::FaultCounts FailureObjectClient::InjectedFaults() const {
  std::lock_guard lock(mu_);
  return injected_;
}

uint64_t FailureObjectClient::InjectedFaultCount() const {
  std::lock_guard lock(mu_);
  return injected_.errors + injected_.truncations;
}

std::map<std::string, uint64_t> FailureObjectClient::RequestCounts() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::optional<FailureObjectClient::Fault>
FailureObjectClient::TakeScheduledLocked(const std::string& operation,
                                         bool is_get) {
  for (const std::string& name : {operation, std::string(kAnyOperation)}) {
    auto it = schedule_.find(name);
    if (it == schedule_.end() || it->second.empty()) continue;
    // A truncation waiting in the any-operation schedule is for a GET.
    if (it->second.front().kind == Fault::Kind::kTruncateBody && !is_get) {
      continue;
    }
    Fault fault = std::move(it->second.front());
    it->second.pop_front();
    return fault;
  }
  return std::nullopt;
}

std::optional<FailureObjectClient::Fault> FailureObjectClient::DrawRandomLocked(
    const std::string& operation, bool is_get,
    std::optional<uint64_t> get_length) {
  if (!random_ || (random_->operation != kAnyOperation &&
                   random_->operation != operation)) {
    return std::nullopt;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (unit(rng_) >= random_->probability) return std::nullopt;
  if (is_get && random_->truncate_gets && unit(rng_) < 0.5) {
    uint64_t bound = 1 << 20;
    if (get_length) bound = std::min(bound, *get_length);
    uint64_t at = bound == 0 ? 0
                             : std::uniform_int_distribution<uint64_t>(
                                   0, bound - 1)(rng_);
    return Fault::TruncateBody(at);
  }
  std::uniform_int_distribution<size_t> pick(0, random_->errors.size() - 1);
  return Fault::Error(random_->errors[pick(rng_)]);
}

std::optional<FailureObjectClient::Fault> FailureObjectClient::Begin(
    const std::string& operation, bool is_get,
    std::optional<uint64_t> get_length) {
  std::chrono::nanoseconds delay{0};
  std::optional<Fault> fault;
  {
    std::lock_guard lock(mu_);
    ++calls_[operation];
    auto latency = latency_.find(operation);
    if (latency == latency_.end()) latency = latency_.find(kAnyOperation);
    if (latency != latency_.end()) {
      delay = latency->second;
      ++injected_.delays;
    }
    fault = TakeScheduledLocked(operation, is_get);
    if (!fault) fault = DrawRandomLocked(operation, is_get, get_length);
    if (fault) {
      ++(fault->kind == Fault::Kind::kTruncateBody ? injected_.truncations
                                                   : injected_.errors);
    }
  }
  if (delay.count() > 0) clock_.SleepFor(delay);
  return fault;
}

template <typename Call>
auto FailureObjectClient::Run(const char* operation, const Call& call)
    -> decltype(call()) {
  std::optional<Fault> fault = Begin(operation, false, std::nullopt);
  if (!fault) return call();
  if (fault->kind == Fault::Kind::kLoseResponse) (void)call();
  return fault->error;
}

S3Result<ObjectInfo> FailureObjectClient::TruncatedGet(
    const GetRequest& request, const DataSink& sink, uint64_t limit) {
  uint64_t delivered = 0;
  bool cut = false;
  bool caller_stopped = false;
  auto result = inner_->GetObject(request, [&](std::string_view chunk) {
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(chunk.size(), limit - delivered));
    if (n > 0) {
      const bool more = sink(chunk.substr(0, n));
      delivered += n;
      if (!more) {
        caller_stopped = true;
        return false;
      }
    }
    if (n < chunk.size()) {
      cut = true;  // the connection "drops" here
      return false;
    }
    return true;
  });
  if (caller_stopped || (!result.has_value() && !cut)) return result;
  const bool ranged = request.offset > 0 || request.length.has_value();
  return S3Error{S3ErrorCode::kTruncatedBody, ranged ? 206 : 200, "",
                 "injected: connection closed after " +
                     std::to_string(delivered) + " body bytes of " +
                     request.key,
                 ""};
}

S3Status FailureObjectClient::HeadBucket() {
  return Run("HeadBucket", [&] { return inner_->HeadBucket(); });
}

S3Result<std::optional<ObjectInfo>> FailureObjectClient::HeadObject(
    const std::string& key) {
  return Run("HeadObject", [&] { return inner_->HeadObject(key); });
}

S3Result<ObjectInfo> FailureObjectClient::GetObject(const GetRequest& request,
                                                    const DataSink& sink) {
  std::optional<Fault> fault = Begin("GetObject", true, request.length);
  if (!fault) return inner_->GetObject(request, sink);
  if (fault->kind == Fault::Kind::kError) return fault->error;
  if (fault->kind == Fault::Kind::kLoseResponse) {
    auto result = inner_->GetObject(request, sink);
    if (!result.has_value() && result.error().code == S3ErrorCode::kAborted) {
      return result;  // the caller stopped: that is what it sees
    }
    return fault->error;
  }
  return TruncatedGet(request, sink, fault->truncate_after);
}

S3Result<WriteResult> FailureObjectClient::PutObject(
    const std::string& key, const Payload& body, const PutOptions& options) {
  return Run("PutObject",
             [&] { return inner_->PutObject(key, body, options); });
}

S3Status FailureObjectClient::DeleteObject(const std::string& key) {
  return Run("DeleteObject", [&] { return inner_->DeleteObject(key); });
}

S3Result<std::vector<std::string>> FailureObjectClient::DeleteObjects(
    const std::vector<std::string>& keys) {
  return Run("DeleteObjects", [&] { return inner_->DeleteObjects(keys); });
}

S3Result<WriteResult> FailureObjectClient::CopyObject(
    const std::string& source_key, const std::string& dest_key,
    const CopyOptions& options) {
  return Run("CopyObject",
             [&] { return inner_->CopyObject(source_key, dest_key, options); });
}

S3Result<ListPage> FailureObjectClient::ListObjects(
    const ListRequest& request) {
  return Run("ListObjects", [&] { return inner_->ListObjects(request); });
}

S3Result<std::string> FailureObjectClient::CreateMultipartUpload(
    const std::string& key, const PutOptions& options) {
  return Run("CreateMultipartUpload",
             [&] { return inner_->CreateMultipartUpload(key, options); });
}

S3Result<std::string> FailureObjectClient::UploadPart(
    const std::string& key, const std::string& upload_id, int part_number,
    const Payload& body) {
  return Run("UploadPart", [&] {
    return inner_->UploadPart(key, upload_id, part_number, body);
  });
}

S3Result<std::string> FailureObjectClient::UploadPartCopy(
    const std::string& key, const std::string& upload_id, int part_number,
    const std::string& source_key, uint64_t offset, uint64_t length,
    const std::string& source_if_match) {
  return Run("UploadPartCopy", [&] {
    return inner_->UploadPartCopy(key, upload_id, part_number, source_key,
                                  offset, length, source_if_match);
  });
}

S3Result<WriteResult> FailureObjectClient::CompleteMultipartUpload(
    const std::string& key, const std::string& upload_id,
    const std::vector<CompletedPart>& parts) {
  return Run("CompleteMultipartUpload", [&] {
    return inner_->CompleteMultipartUpload(key, upload_id, parts);
  });
}

S3Status FailureObjectClient::AbortMultipartUpload(
    const std::string& key, const std::string& upload_id) {
  return Run("AbortMultipartUpload",
             [&] { return inner_->AbortMultipartUpload(key, upload_id); });
}

S3Result<std::vector<MultipartUploadInfo>>
FailureObjectClient::ListMultipartUploads(const std::string& prefix) {
  return Run("ListMultipartUploads",
             [&] { return inner_->ListMultipartUploads(prefix); });
}

}  // namespace repofs
