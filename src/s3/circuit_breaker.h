// CircuitBreaker and BreakerObjectClient: fail fast while S3 is down.
//
// When the endpoint stops answering (process stopped, host unreachable,
// 5xx storm), every request would otherwise wait its full timeout and then
// the retry policy's back-off before failing, so a web server reading
// uncached files from the mount would hang for minutes per request. The
// breaker watches every single attempt (BreakerObjectClient sits BELOW
// RetryingObjectClient, wrapping the one-exchange S3Client):
//
// - closed: calls go through. An outage failure (kNetwork, kTimeout,
//   kServerError) counts; any success resets the count. `threshold`
//   consecutive outage failures open the breaker (one transient reset does
//   not: the retry fixes it).
// - open: calls fail at once with kUnavailable (not retryable, so the
//   retrying client above returns immediately too; errno EIO). The mount
//   then serves what it has cached (stale-if-error) and fails the rest fast.
// - after `open_interval` one call is let through as a probe (half-open);
//   others keep failing fast until it returns. Success closes the breaker;
//   failure reopens it with the interval doubled (up to max_open_interval).
//
// Ownership: BreakerObjectClient shares the inner client and the breaker;
// the Clock must outlive both. Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "repofs/clock.h"
#include "repofs/object_client.h"

namespace repofs::s3 {

struct BreakerOptions {
  int threshold = 3;
  std::chrono::milliseconds open_interval{1000};
  std::chrono::milliseconds max_open_interval{10000};
};

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerOptions options = {},
                          const Clock& clock = RealClock());

  // Whether a call may be attempted now. When it returns false, `error`
  // holds the kUnavailable error to return. A true answer in the open state
  // makes the caller the probe: it must report its outcome.
  bool Allow(S3Error* error);
  // Outcome of an attempted call.
  void OnSuccess();
  void OnFailure(const S3Error& error);

  bool open() const;
  uint64_t trips() const;  // times the breaker opened (tests, metrics)

  // kNetwork, kTimeout and kServerError: the endpoint is failing, not the
  // request.
  static bool IsOutage(const S3Error& error);

 private:
  const BreakerOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;  // leaf lock
  int failures_ = 0;       // consecutive outage failures (GUARDED_BY(mu_))
  bool open_ = false;
  bool probing_ = false;
  std::chrono::steady_clock::time_point open_until_{};
  std::chrono::milliseconds interval_{0};
  std::string last_error_;
  uint64_t trips_ = 0;
};

class BreakerObjectClient final : public ObjectClient {
 public:
  BreakerObjectClient(std::shared_ptr<ObjectClient> inner,
                      std::shared_ptr<CircuitBreaker> breaker);

  S3Status HeadBucket() override;
  S3Result<std::optional<ObjectInfo>> HeadObject(
      const std::string& key) override;
  S3Result<ObjectInfo> GetObject(const GetRequest& request,
                                 const DataSink& sink) override;
  S3Result<WriteResult> PutObject(const std::string& key, const Payload& body,
                                  const PutOptions& options) override;
  S3Status DeleteObject(const std::string& key) override;
  S3Result<std::vector<std::string>> DeleteObjects(
      const std::vector<std::string>& keys) override;
  S3Result<WriteResult> CopyObject(const std::string& source_key,
                                   const std::string& dest_key,
                                   const CopyOptions& options) override;
  S3Result<ListPage> ListObjects(const ListRequest& request) override;
  S3Result<std::string> CreateMultipartUpload(
      const std::string& key, const PutOptions& options) override;
  S3Result<std::string> UploadPart(const std::string& key,
                                   const std::string& upload_id,
                                   int part_number,
                                   const Payload& body) override;
  S3Result<std::string> UploadPartCopy(
      const std::string& key, const std::string& upload_id, int part_number,
      const std::string& source_key, uint64_t offset, uint64_t length,
      const std::string& source_if_match) override;
  S3Result<WriteResult> CompleteMultipartUpload(
      const std::string& key, const std::string& upload_id,
      const std::vector<CompletedPart>& parts) override;
  S3Status AbortMultipartUpload(const std::string& key,
                                const std::string& upload_id) override;
  S3Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string& prefix) override;
  std::map<std::string, uint64_t> RequestCounts() const override;

  CircuitBreaker& breaker() { return *breaker_; }

 private:
  template <typename Call>
  auto Guard(const Call& call) -> decltype(call());

  std::shared_ptr<ObjectClient> inner_;
  std::shared_ptr<CircuitBreaker> breaker_;
};

}  // namespace repofs::s3
