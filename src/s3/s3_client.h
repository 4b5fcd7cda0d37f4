// S3Client: the ObjectClient that speaks the S3 REST API over an
// HttpTransport, signing every request with SigV4.
//
// One call is one HTTP exchange (two in the rare cases noted below), with no
// retries: s3::RetryingObjectClient wraps this class and re-signs each
// attempt. Credentials are fetched from the provider for every request, so
// refreshed temporary credentials take effect at once. Request building and
// signing live in s3_request.h, response interpretation in s3_response.h,
// XML in s3_xml.h; this class sequences them per operation (object
// operations in s3_client.cc, multipart in s3_multipart.cc).
//
// Extra exchanges: DeleteObjects sends one POST per 1000 keys (plus a
// DeleteObject for each key that XML cannot carry); ListMultipartUploads
// pages until the end; a ranged GetObject at offset 0 that gets 416 (the
// object is empty) confirms with a HEAD so the caller still gets the ETag.
//
// Ownership: shares the transport and credentials provider; keeps a
// reference to `clock`, which must outlive the client.
// Thread-safety: all methods may be called concurrently; the only mutable
// state is the atomic request counters.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repofs/clock.h"
#include "repofs/credentials.h"
#include "repofs/http_transport.h"
#include "repofs/object_client.h"
#include "repofs/s3_options.h"
#include "s3/s3_request.h"
#include "s3/s3_response.h"

namespace repofs::s3 {

class S3Client final : public ObjectClient {
 public:
  S3Client(S3Options options, std::shared_ptr<HttpTransport> transport,
           std::shared_ptr<CredentialsProvider> credentials,
           const Clock& clock = RealClock());

  // PUT bucket (with a LocationConstraint unless the region is us-east-1).
  // "BucketAlreadyOwnedByYou" counts as success; other errors as usual
  // (kConflict for a bucket owned by someone else, kAccessDenied, ...).
  S3Status CreateBucket();

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

  // Operation name -> HTTP requests actually sent (only non-zero entries).
  std::map<std::string, uint64_t> RequestCounts() const override;

  const S3Options& options() const { return options_; }

 private:
  enum class Op {
    kHeadBucket,
    kHeadObject,
    kGetObject,
    kPutObject,
    kDeleteObject,
    kDeleteObjects,
    kCopyObject,
    kListObjects,
    kCreateMultipartUpload,
    kUploadPart,
    kUploadPartCopy,
    kCompleteMultipartUpload,
    kAbortMultipartUpload,
    kListMultipartUploads,
    kCreateBucket,
    kCount
  };
  static const char* OpName(Op op);

  // "<Op> s3://bucket/key" (or "s3://bucket" without a key) for messages.
  std::string Context(Op op, const std::optional<std::string>& key) const;
  // Fetches credentials, signs, counts and performs `request`. Any HTTP
  // status is a value; failures are kCredentials, kLocalIo or transport
  // errors.
  S3Result<HttpResponse> Send(Op op, const S3Request& request,
                              const BodySink* sink, std::string_view context);
  // Content-Type, storage class, SSE and x-amz-meta-* headers of a write.
  // kInvalidRequest for metadata that cannot travel in a header.
  S3Status AddWriteHeaders(std::vector<HttpHeader>* headers,
                           const Metadata& metadata,
                           const std::string& content_type,
                           std::string_view context) const;
  void AddStorageHeaders(std::vector<HttpHeader>* headers) const;
  S3Result<std::optional<ObjectInfo>> Head(const std::string& key,
                                           const std::string& if_match);
  S3Result<ObjectInfo> CheckGetResponse(const GetRequest& request,
                                        const HttpResponse& response,
                                        uint64_t delivered,
                                        std::string_view context) const;
  S3Result<ObjectInfo> EmptyObjectAfter416(const GetRequest& request,
                                           std::string_view context);
  S3Result<std::vector<std::string>> DeleteBatch(
      const std::vector<std::string>& keys, size_t begin, size_t end);

  const S3Options options_;
  const RequestBuilder builder_;
  const std::shared_ptr<HttpTransport> transport_;
  const std::shared_ptr<CredentialsProvider> credentials_;
  const Clock& clock_;
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Op::kCount)> counts_{};
};

// `error` with "<context>: " put in front of its message (and the HTTP status
// of the response it came from), for errors produced by context-free parsers.
S3Error InContext(S3Error error, std::string_view context, int http_status);

// Adds the copy-source If-Match condition for `etag` (unquoted; nothing when
// empty) under both the AWS header name and the one Ceph RGW reads.
void AddCopySourceIfMatch(std::vector<HttpHeader>* headers,
                          const std::string& etag);

// True for 2xx.
inline bool IsSuccess(const HttpResponse& response) {
  return response.status >= 200 && response.status < 300;
}

}  // namespace repofs::s3
