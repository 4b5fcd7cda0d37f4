// FakeObjectClient: objects (HEAD/GET/PUT/DELETE/COPY), bucket switches and
// test helpers. Listing is in fake_object_list.cc, multipart uploads in
// fake_multipart.cc.
#include "s3/fake_object_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <utility>

#include "s3/fake_internal.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs {

using fake_internal::MakeError;

namespace fake_internal {

S3Result<std::shared_ptr<const std::string>> ReadPayload(const Payload& body) {
  if (body.size() > kMaxSinglePutSize) {
    return MakeError(S3ErrorCode::kEntityTooLarge, 400, "EntityTooLarge",
                     "Your proposed upload exceeds the maximum allowed size");
  }
  if (!body.is_file()) {
    return std::make_shared<const std::string>(body.buffer());
  }
  std::string data(static_cast<size_t>(body.size()), '\0');
  uint64_t done = 0;
  while (done < body.size()) {  // bounded: every pass reads > 0 bytes
    ssize_t n = body.Read(done, data.data() + done,
                          static_cast<size_t>(body.size() - done));
    if (n <= 0) {
      return MakeError(S3ErrorCode::kLocalIo, 0, "",
                       "reading the request payload failed");
    }
    done += static_cast<uint64_t>(n);
  }
  return std::make_shared<const std::string>(std::move(data));
}

std::optional<S3Error> CheckKey(const std::string& key) {
  if (key.empty()) return InvalidRequest("InvalidArgument", "empty key");
  if (key.size() > kMaxKeyLength) {
    return InvalidRequest("KeyTooLongError", "Your key is too long");
  }
  return std::nullopt;
}

S3Result<Metadata> NormalizeMetadata(const Metadata& metadata) {
  Metadata out;
  size_t bytes = 0;
  for (const auto& [name, value] : metadata) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    bytes += lower.size() + value.size();
    out[lower] = value;
  }
  if (bytes > kMaxMetadataBytes) {
    return InvalidRequest("MetadataTooLarge",
                          "Your metadata headers exceed the maximum allowed "
                          "metadata size");
  }
  return out;
}

std::string ContentTypeOrDefault(const std::string& content_type) {
  return content_type.empty() ? "binary/octet-stream" : content_type;
}

}  // namespace fake_internal

FakeObjectClient::FakeObjectClient(const Clock& clock) : clock_(clock) {}

std::optional<S3Error> FakeObjectClient::BeginLocked(const char* operation) {
  ++counts_[operation];
  if (missing_bucket_) {
    return MakeError(S3ErrorCode::kNoSuchBucket, 404, "NoSuchBucket",
                     "The specified bucket does not exist");
  }
  return std::nullopt;
}

std::time_t FakeObjectClient::NowSeconds() const {
  return std::chrono::system_clock::to_time_t(clock_.Now());
}

ObjectInfo FakeObjectClient::InfoOf(const std::string& key,
                                    const Object& object,
                                    bool with_metadata) const {
  ObjectInfo info;
  info.key = key;
  info.size = object.body->size();
  info.etag = object.etag;
  info.last_modified = object.last_modified;
  if (with_metadata) {
    info.has_metadata = true;
    info.metadata = object.metadata;
    info.content_type = object.content_type;
  } else {
    // LIST always names the class; HEAD/GET omit it for STANDARD objects.
    info.storage_class = "STANDARD";
  }
  return info;
}

WriteResult FakeObjectClient::StoreLocked(const std::string& key,
                                          Object object) {
  object.last_modified = NowSeconds();
  WriteResult result{object.etag, object.last_modified};
  objects_[key] = std::move(object);
  return result;
}

S3Status FakeObjectClient::HeadBucket() {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("HeadBucket")) return *error;
  if (head_bucket_error_) return *head_bucket_error_;
  return S3Status();
}

S3Result<std::optional<ObjectInfo>> FakeObjectClient::HeadObject(
    const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("HeadObject")) return *error;
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::optional<ObjectInfo>();
  return std::optional<ObjectInfo>(InfoOf(key, it->second, true));
}

S3Result<ObjectInfo> FakeObjectClient::GetObject(const GetRequest& request,
                                                 const DataSink& sink) {
  std::shared_ptr<const std::string> body;
  ObjectInfo info;
  uint64_t end = 0;
  {
    std::lock_guard lock(mu_);
    if (auto error = BeginLocked("GetObject")) return *error;
    auto it = objects_.find(request.key);
    if (it == objects_.end()) return fake_internal::NoSuchKey(request.key);
    const Object& object = it->second;
    // RFC 9110 13.2.2: preconditions are evaluated before Range.
    if (!request.if_match.empty() && request.if_match != object.etag) {
      return fake_internal::PreconditionFailed("If-Match");
    }
    const uint64_t size = object.body->size();
    const bool empty_ok = size == 0 && request.offset == 0;
    if (!empty_ok && request.offset >= size) {
      return MakeError(S3ErrorCode::kInvalidRange, 416, "InvalidRange",
                       "The requested range is not satisfiable");
    }
    end = size;
    if (request.length && *request.length < size - request.offset) {
      end = request.offset + *request.length;
    }
    body = object.body;
    info = InfoOf(request.key, object, true);
  }
  // The body is immutable and shared: deliver without holding mu_, in
  // chunks as a network transfer would.
  constexpr uint64_t kChunk = 64 * 1024;
  for (uint64_t pos = request.offset; pos < end; pos += kChunk) {
    const size_t n = static_cast<size_t>(std::min(kChunk, end - pos));
    if (!sink(std::string_view(*body).substr(static_cast<size_t>(pos), n))) {
      return MakeError(S3ErrorCode::kAborted, 0, "",
                       "GetObject " + request.key + ": stopped by the sink");
    }
  }
  return info;
}

S3Result<WriteResult> FakeObjectClient::PutObject(const std::string& key,
                                                  const Payload& body,
                                                  const PutOptions& options) {
  {
    std::lock_guard lock(mu_);
    if (auto error = BeginLocked("PutObject")) return *error;
  }
  if (auto error = fake_internal::CheckKey(key)) return *error;
  auto metadata = fake_internal::NormalizeMetadata(options.metadata);
  if (!metadata) return metadata.error();
  // Read and hash outside the lock: payloads may be large files.
  auto data = fake_internal::ReadPayload(body);
  if (!data) return data.error();
  Object object;
  object.body = std::move(*data);
  object.etag = HexEncode(Md5(*object.body));
  object.metadata = std::move(*metadata);
  object.content_type =
      fake_internal::ContentTypeOrDefault(options.content_type);

  std::lock_guard lock(mu_);
  if (options.if_none_match) {
    if (!conditional_writes_) {
      return MakeError(S3ErrorCode::kNotImplemented, 501, "NotImplemented",
                       "A header you provided implies functionality that is "
                       "not implemented (If-None-Match)");
    }
    if (objects_.count(key)) {
      return fake_internal::PreconditionFailed("If-None-Match");
    }
  }
  return StoreLocked(key, std::move(object));
}

S3Status FakeObjectClient::DeleteObject(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("DeleteObject")) return *error;
  objects_.erase(key);
  return S3Status();
}

S3Result<std::vector<std::string>> FakeObjectClient::DeleteObjects(
    const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  // The real client sends one request per batch of 1000 keys.
  for (size_t i = 0; i < keys.size(); i += fake_internal::kMaxListKeys) {
    if (auto error = BeginLocked("DeleteObjects")) return *error;
  }
  for (const std::string& key : keys) objects_.erase(key);
  return std::vector<std::string>();
}

S3Result<WriteResult> FakeObjectClient::CopyObject(
    const std::string& source_key, const std::string& dest_key,
    const CopyOptions& options) {
  Object copy;
  {
    std::lock_guard lock(mu_);
    if (auto error = BeginLocked("CopyObject")) return *error;
    auto it = objects_.find(source_key);
    if (it == objects_.end()) return fake_internal::NoSuchKey(source_key);
    if (!options.source_if_match.empty() &&
        options.source_if_match != it->second.etag) {
      return fake_internal::PreconditionFailed("x-amz-copy-source-if-match");
    }
    copy = it->second;
  }
  if (auto error = fake_internal::CheckKey(dest_key)) return *error;
  if (source_key == dest_key &&
      options.directive != MetadataDirective::kReplace) {
    return fake_internal::InvalidRequest(
        "InvalidRequest",
        "This copy request is illegal because it is trying to copy an object "
        "to itself without changing the object's metadata");
  }
  if (copy.body->size() > fake_internal::kMaxSinglePutSize) {
    return fake_internal::InvalidRequest(
        "InvalidRequest",
        "The specified copy source is larger than the "
        "maximum allowable size for a copy source");
  }
  if (options.directive == MetadataDirective::kReplace) {
    auto metadata = fake_internal::NormalizeMetadata(options.metadata);
    if (!metadata) return metadata.error();
    copy.metadata = std::move(*metadata);
    copy.content_type =
        fake_internal::ContentTypeOrDefault(options.content_type);
  }
  // A copy is written as one part: a multipart source's "-N" ETag becomes
  // the MD5 of the body.
  if (copy.etag.find('-') != std::string::npos) {
    copy.etag = HexEncode(Md5(*copy.body));
  }
  std::lock_guard lock(mu_);
  return StoreLocked(dest_key, std::move(copy));
}

std::map<std::string, uint64_t> FakeObjectClient::RequestCounts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

WriteResult FakeObjectClient::PutForTest(const std::string& key,
                                         const std::string& body,
                                         const Metadata& metadata,
                                         const std::string& content_type) {
  Object object;
  object.body = std::make_shared<const std::string>(body);
  object.etag = HexEncode(Md5(body));
  auto normalized = fake_internal::NormalizeMetadata(metadata);
  object.metadata = normalized ? *normalized : metadata;
  object.content_type = fake_internal::ContentTypeOrDefault(content_type);
  std::lock_guard lock(mu_);
  return StoreLocked(key, std::move(object));
}

std::optional<std::string> FakeObjectClient::BodyForTest(
    const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return *it->second.body;
}

std::optional<ObjectInfo> FakeObjectClient::InfoForTest(
    const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return InfoOf(key, it->second, true);
}

size_t FakeObjectClient::ObjectCount() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

size_t FakeObjectClient::PendingUploadCount() const {
  std::lock_guard lock(mu_);
  return uploads_.size();
}

void FakeObjectClient::ResetRequestCounts() {
  std::lock_guard lock(mu_);
  counts_.clear();
  list_requests_.clear();
}

std::vector<ListRequest> FakeObjectClient::ListRequestsForTest() const {
  std::lock_guard lock(mu_);
  return list_requests_;
}

void FakeObjectClient::SetMissingBucket(bool missing) {
  std::lock_guard lock(mu_);
  missing_bucket_ = missing;
}

void FakeObjectClient::SetHeadBucketError(std::optional<S3Error> error) {
  std::lock_guard lock(mu_);
  head_bucket_error_ = std::move(error);
}

void FakeObjectClient::SetConditionalWritesSupported(bool supported) {
  std::lock_guard lock(mu_);
  conditional_writes_ = supported;
}

}  // namespace repofs
