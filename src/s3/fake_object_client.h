// FakeObjectClient: an in-memory bucket implementing the full ObjectClient
// contract (object_client.h) with S3's observable semantics, for unit tests
// of every layer above s3/:
// - ETag: hex MD5 of the body for PutObject/CopyObject; for multipart
//   uploads hex MD5 of the concatenated binary part MD5s plus "-<parts>".
// - last_modified: the injected Clock's Now(), in whole seconds.
// - storage_class: "STANDARD" in LIST pages, empty from HEAD/GET (S3 omits
//   x-amz-storage-class for STANDARD objects).
// - user metadata (names lower-cased; at most 2 KiB of names + values, like
//   S3) and content type stored; HEAD/GET report them (has_metadata).
// - GET: ranges clamped at the end; offset at/after the end of a non-empty
//   object (or > 0 on an empty one) -> kInvalidRange; If-Match is checked
//   before the range (RFC 9110) -> kPreconditionFailed. A request with
//   length 0 succeeds with no bytes.
// - PUT: If-None-Match (kPreconditionFailed; kNotImplemented when
//   SetConditionalWritesSupported(false)); keys must be 1..1024 bytes.
// - LIST (ListObjectsV2): byte-order keys, prefix, delimiter with
//   CommonPrefixes (each reported once across pages), start_after,
//   max_keys (capped at 1000; keys and prefixes both count) and opaque
//   continuation tokens (an invalid one -> kInvalidRequest).
// - CopyObject: COPY/REPLACE directives, source_if_match, copying onto
//   itself needs REPLACE (else kInvalidRequest). The copy gets a fresh
//   last_modified; its ETag is the MD5 of the body.
// - Multipart: parts per upload id (replacing a part number is allowed);
//   Complete checks ascending order and part ETags (kInvalidRequest),
//   non-last parts >= 5 MiB (kEntityTooSmall); unknown or finished upload
//   ids -> kNoSuchUpload; If-None-Match given at Create is honored at
//   Complete; UploadPartCopy copies a byte range of an object.
// - DeleteObject of a missing key succeeds; DeleteObjects deletes all.
// - SetMissingBucket(true): every operation fails with kNoSuchBucket.
//   SetHeadBucketError(): HeadBucket alone fails with the given error.
// - RequestCounts(): per operation name, like s3::S3Client counts HTTP
//   requests ("HeadBucket", "HeadObject", "GetObject", "PutObject",
//   "DeleteObject", "DeleteObjects" (one per batch of 1000 keys; none for an
//   empty list), "CopyObject", "ListObjects", "CreateMultipartUpload",
//   "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
//   "AbortMultipartUpload", "ListMultipartUploads"). Failed calls count too.
//   The ...ForTest helpers do not count.
//
// Thread-safety: every method may be called concurrently. One mutex guards
// the state; GetObject copies a reference to the (immutable) body out and
// calls the sink without holding it, so a sink may call back into the fake.
// The Clock must outlive the fake.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "repofs/clock.h"
#include "repofs/object_client.h"

namespace repofs {

class FakeObjectClient final : public ObjectClient {
 public:
  // S3's minimum size of every part but the last.
  static constexpr uint64_t kMinPartSize = 5 * 1024 * 1024;

  explicit FakeObjectClient(const Clock& clock = RealClock());

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

  // --- Test helpers (not counted as requests) ---
  // Stores an object as PutObject would (ETag = MD5, time = clock).
  WriteResult PutForTest(const std::string& key, const std::string& body,
                         const Metadata& metadata = {},
                         const std::string& content_type = "");
  std::optional<std::string> BodyForTest(const std::string& key) const;
  // HEAD without counting a request.
  std::optional<ObjectInfo> InfoForTest(const std::string& key) const;
  size_t ObjectCount() const;
  // Multipart uploads created and neither completed nor aborted.
  size_t PendingUploadCount() const;
  void ResetRequestCounts();
  // The ListObjects requests since the last ResetRequestCounts(), in order.
  std::vector<ListRequest> ListRequestsForTest() const;
  // true: every operation fails with kNoSuchBucket (404).
  void SetMissingBucket(bool missing);
  // HeadBucket alone fails with `error` (nullopt: succeeds again).
  void SetHeadBucketError(std::optional<S3Error> error);
  // false: PUT/Complete with if_none_match fail with kNotImplemented (like
  // endpoints without conditional writes).
  void SetConditionalWritesSupported(bool supported);

 private:
  struct Object {
    std::shared_ptr<const std::string> body;  // immutable once stored
    std::string etag;
    std::time_t last_modified = 0;
    Metadata metadata;
    std::string content_type;
  };
  struct Part {
    std::shared_ptr<const std::string> body;
    std::string md5;  // raw 16 bytes
  };
  struct Upload {
    std::string key;
    PutOptions options;
    std::time_t initiated = 0;
    std::map<int, Part> parts;
  };

  // Counts the request and checks the bucket. Requires mu_.
  std::optional<S3Error> BeginLocked(const char* operation);
  std::time_t NowSeconds() const;
  ObjectInfo InfoOf(const std::string& key, const Object& object,
                    bool with_metadata) const;
  // Stores `object` (ETag and time already set) and returns the result.
  WriteResult StoreLocked(const std::string& key, Object object);
  S3Result<ListPage> ListLocked(const ListRequest& request) const;
  std::optional<S3Error> CheckCompleteLocked(
      const Upload& upload, const std::vector<CompletedPart>& parts) const;

  const Clock& clock_;
  mutable std::mutex mu_;  // the only lock; never held while calling a sink
  std::map<std::string, Object> objects_;     // GUARDED_BY(mu_)
  std::map<std::string, Upload> uploads_;     // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> counts_;    // GUARDED_BY(mu_)
  std::vector<ListRequest> list_requests_;    // GUARDED_BY(mu_)
  uint64_t next_upload_id_ = 1;               // GUARDED_BY(mu_)
  bool missing_bucket_ = false;               // GUARDED_BY(mu_)
  bool conditional_writes_ = true;            // GUARDED_BY(mu_)
  std::optional<S3Error> head_bucket_error_;  // GUARDED_BY(mu_)
};

}  // namespace repofs
