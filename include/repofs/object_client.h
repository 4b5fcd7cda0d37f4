// ObjectClient: the object store as repofs sees it -- one bucket, keys are
// full keys (the mount prefix is applied by the caller).
//
// Implementations: s3::S3Client (REST over HttpTransport, one HTTP exchange
// per call, no retries), s3::RetryingObjectClient (decorator: retries with
// back-off, resumes interrupted GETs), FakeObjectClient (in memory, full
// semantics, for unit tests) and FailureObjectClient (decorator injecting
// latency, 500, 503 SlowDown, resets and truncated bodies).
//
// Conventions shared by every method:
// - ETags are stored and returned WITHOUT the surrounding double quotes;
//   implementations add quotes when sending If-Match etc.
// - Times are Unix seconds (S3 LIST has milliseconds, HEAD has seconds; both
//   are truncated to seconds so the same version always reports the same time).
// - User metadata maps hold lower-cased names WITHOUT the "x-amz-meta-" prefix.
// - A missing object is std::nullopt from HeadObject and kNoSuchKey elsewhere.
// - Failures are S3Error values (see s3_error.h); no method throws.
//
// Thread-safety: every implementation is safe for concurrent calls from many
// threads; the client owns no per-call state.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repofs/payload.h"
#include "repofs/s3_error.h"

namespace repofs {

using Metadata = std::map<std::string, std::string>;

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;            // unquoted
  std::time_t last_modified = 0;
  std::string storage_class;   // from LIST; may be empty
  // Only HEAD and GET report these; `has_metadata` tells whether they did.
  bool has_metadata = false;
  Metadata metadata;
  std::string content_type;
};

struct GetRequest {
  std::string key;
  uint64_t offset = 0;                   // first byte wanted
  std::optional<uint64_t> length;        // nullopt: to the end of the object
  std::string if_match;                  // unquoted ETag; empty: none
};

// Receives body bytes in order. Returning false aborts the transfer; the
// call then fails with kAborted.
using DataSink = std::function<bool(std::string_view chunk)>;

struct PutOptions {
  Metadata metadata;
  std::string content_type;
  bool if_none_match = false;            // "If-None-Match: *" (create only)
};

struct WriteResult {
  std::string etag;                      // unquoted; may be empty (RGW quirk)
  std::time_t last_modified = 0;         // 0 when the response did not say
};

enum class MetadataDirective { kCopy, kReplace };

struct CopyOptions {
  MetadataDirective directive = MetadataDirective::kCopy;
  Metadata metadata;                     // with kReplace
  std::string content_type;              // with kReplace
  std::string source_if_match;           // x-amz-copy-source-if-match
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;                 // "" or "/"
  std::string continuation_token;
  std::string start_after;
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ObjectInfo> objects;       // has_metadata == false
  std::vector<std::string> common_prefixes;  // full keys ending in delimiter
  bool truncated = false;
  std::string next_continuation_token;
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;                      // unquoted
};

struct MultipartUploadInfo {
  std::string key;
  std::string upload_id;
  std::time_t initiated = 0;
};

class ObjectClient {
 public:
  virtual ~ObjectClient() = default;

  // Succeeds when the bucket exists and the credentials may use it.
  // Errors: kNoSuchBucket, kAccessDenied, kSignatureDoesNotMatch,
  // kInvalidAccessKeyId, kNetwork, kTimeout, ...
  virtual S3Status HeadBucket() = 0;

  // Metadata of `key` (has_metadata = true), or nullopt if it does not exist.
  virtual S3Result<std::optional<ObjectInfo>> HeadObject(
      const std::string& key) = 0;

  // Streams the requested range of the object into `sink` and returns the
  // object's info (size = whole object size, not the range length).
  // Delivers exactly the requested bytes (clamped at end of object) or fails:
  // kNoSuchKey, kPreconditionFailed (if_match differs), kInvalidRange (offset
  // beyond the end of a non-empty object), kTruncatedBody, kAborted, ...
  // A request for offset 0 of an empty object succeeds with no bytes.
  virtual S3Result<ObjectInfo> GetObject(const GetRequest& request,
                                         const DataSink& sink) = 0;

  // Creates or replaces `key` with `body`. With if_none_match, fails with
  // kPreconditionFailed when the key exists (or kNotImplemented when the
  // endpoint does not support conditional writes).
  virtual S3Result<WriteResult> PutObject(const std::string& key,
                                          const Payload& body,
                                          const PutOptions& options) = 0;

  // Deleting a missing key succeeds (S3 semantics).
  virtual S3Status DeleteObject(const std::string& key) = 0;

  // Deletes many keys (any count; batched by 1000). Returns the keys that
  // could not be deleted (empty on full success).
  virtual S3Result<std::vector<std::string>> DeleteObjects(
      const std::vector<std::string>& keys) = 0;

  // Server-side copy (objects up to 5 GiB; larger ones need UploadPartCopy).
  // Copying a key onto itself requires kReplace. Errors: kNoSuchKey (source),
  // kPreconditionFailed (source_if_match), ...
  virtual S3Result<WriteResult> CopyObject(const std::string& source_key,
                                           const std::string& dest_key,
                                           const CopyOptions& options) = 0;

  // One page of ListObjectsV2.
  virtual S3Result<ListPage> ListObjects(const ListRequest& request) = 0;

  virtual S3Result<std::string> CreateMultipartUpload(
      const std::string& key, const PutOptions& options) = 0;
  // Returns the part's ETag (unquoted). part_number is 1..10000.
  virtual S3Result<std::string> UploadPart(const std::string& key,
                                           const std::string& upload_id,
                                           int part_number,
                                           const Payload& body) = 0;
  // Copies bytes [offset, offset+length) of source_key as a part.
  virtual S3Result<std::string> UploadPartCopy(
      const std::string& key, const std::string& upload_id, int part_number,
      const std::string& source_key, uint64_t offset, uint64_t length,
      const std::string& source_if_match) = 0;
  // Parts must be in ascending part_number order.
  virtual S3Result<WriteResult> CompleteMultipartUpload(
      const std::string& key, const std::string& upload_id,
      const std::vector<CompletedPart>& parts) = 0;
  virtual S3Status AbortMultipartUpload(const std::string& key,
                                        const std::string& upload_id) = 0;
  // Every in-progress upload whose key starts with `prefix` (all pages).
  virtual S3Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string& prefix) = 0;

  // Requests issued so far by operation name ("GetObject", "HeadObject",
  // "ListObjects", "PutObject", ...). Used by tests and metrics.
  virtual std::map<std::string, uint64_t> RequestCounts() const = 0;
};

// Pages through ListObjectsV2 until the end, calling `on_page` per page.
// Stops early (returning OK) when on_page returns false.
S3Status ListAll(ObjectClient& client, ListRequest request,
                 const std::function<bool(const ListPage&)>& on_page);

}  // namespace repofs
