// RetryingObjectClient: an ObjectClient decorator that retries failed
// requests of the wrapped client (normally s3::S3Client, which makes exactly
// one HTTP exchange per call) according to a RetryPolicy: only retryable
// codes (5xx, SlowDown, resets, timeouts, truncated bodies, expired tokens),
// a bounded number of times, sleeping a jittered exponential back-off via the
// injected Clock between attempts. After the last attempt the typed error of
// that attempt is returned unchanged. Retries are logged at debug level.
//
// GetObject never passes a byte to the caller's sink twice and never splices
// two object versions together. After a failure mid-body it resumes:
// - when the request pins a version (if_match set; the read path always
//   does), the retry asks only for the remaining range (plus the last byte
//   already delivered, which is checked and dropped) with If-Match on that
//   ETag; if the object was replaced meanwhile the retry fails with
//   kPreconditionFailed and no byte of the new version reaches the sink;
// - without if_match no ETag is known until a GET completes (the transport
//   reports no headers with a failed exchange), so the bytes delivered are
//   hashed (SHA-256) and a retry re-reads them, compares, and continues only
//   if they are identical; otherwise it fails with kPreconditionFailed.
// kAborted (the caller's sink returned false) is never retried.
//
// Caveats of retrying non-idempotent requests (callers must expect them):
// - PutObject with if_none_match: when an attempt fails after the server
//   applied it (e.g. the response was lost: kNetwork/kTimeout), the retry
//   fails with kPreconditionFailed although *our* write created the object.
// - CompleteMultipartUpload: likewise a retry after a lost response may fail
//   with kNoSuchUpload although the object was completed; HEAD the key to
//   tell the cases apart.
// - CreateMultipartUpload: a retry after a lost response leaves an orphan
//   upload (cleaned up by ListMultipartUploads/AbortMultipartUpload or a
//   bucket lifecycle rule).
// - DeleteObjects: per-key failures are returned, not retried.
// Payloads are re-read from their start on every attempt (Payload::Read is
// positional), so the caller keeps them unchanged until the call returns.
//
// Ownership: shares ownership of `inner`; the Clock must outlive this object
// (RealClock() does). Thread-safety: as safe as `inner` (all ObjectClients
// are thread-safe); no per-call state is shared between calls.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "repofs/clock.h"
#include "repofs/object_client.h"
#include "s3/retry_policy.h"

namespace repofs::s3 {

class RetryingObjectClient final : public ObjectClient {
 public:
  RetryingObjectClient(std::shared_ptr<ObjectClient> inner, RetryPolicy policy,
                       const Clock& clock = RealClock());

  // Each method has the contract of ObjectClient (object_client.h); errors
  // are those of the last attempt.
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

  // Forwards to the inner client (one count per attempt).
  std::map<std::string, uint64_t> RequestCounts() const override;

  const RetryPolicy& policy() const { return policy_; }

 private:
  // Calls `call` until it succeeds, fails with a non-retryable error or the
  // policy's attempts are used up; returns the last result.
  template <typename Call>
  auto Run(const char* operation, const std::string& key, const Call& call)
      -> decltype(call());
  // Logs the failed attempt and sleeps the back-off before the next one.
  void BackOff(const char* operation, const std::string& key,
               const S3Error& error, int attempt) const;

  std::shared_ptr<ObjectClient> inner_;
  RetryPolicy policy_;
  const Clock& clock_;
};

}  // namespace repofs::s3
