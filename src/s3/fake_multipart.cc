// FakeObjectClient: multipart uploads (Create, UploadPart, UploadPartCopy,
// Complete, Abort, ListMultipartUploads) with S3's checks.
#include <algorithm>
#include <string>
#include <tuple>

#include "s3/fake_internal.h"
#include "s3/fake_object_client.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs {

using fake_internal::MakeError;

namespace {

S3Error InvalidPartNumber(int part_number) {
  return fake_internal::InvalidRequest(
      "InvalidArgument",
      "Part number must be an integer between 1 and 10000, "
      "inclusive (got " +
          std::to_string(part_number) + ")");
}

bool ValidPartNumber(int n) {
  return n >= 1 && n <= fake_internal::kMaxPartNumber;
}

}  // namespace

S3Result<std::string> FakeObjectClient::CreateMultipartUpload(
    const std::string& key, const PutOptions& options) {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("CreateMultipartUpload")) return *error;
  if (auto error = fake_internal::CheckKey(key)) return *error;
  auto metadata = fake_internal::NormalizeMetadata(options.metadata);
  if (!metadata) return metadata.error();
  Upload upload;
  upload.key = key;
  upload.options = options;
  upload.options.metadata = std::move(*metadata);
  upload.options.content_type =
      fake_internal::ContentTypeOrDefault(options.content_type);
  upload.initiated = NowSeconds();
  std::string id = "fake-upload-" + std::to_string(next_upload_id_++);
  uploads_[id] = std::move(upload);
  return id;
}

S3Result<std::string> FakeObjectClient::UploadPart(const std::string& key,
                                                   const std::string& upload_id,
                                                   int part_number,
                                                   const Payload& body) {
  {
    std::lock_guard lock(mu_);
    if (auto error = BeginLocked("UploadPart")) return *error;
    auto it = uploads_.find(upload_id);
    if (it == uploads_.end() || it->second.key != key) {
      return fake_internal::NoSuchUpload(upload_id);
    }
  }
  if (!ValidPartNumber(part_number)) return InvalidPartNumber(part_number);
  // Read and hash outside the lock (parts are up to 5 GiB files).
  auto data = fake_internal::ReadPayload(body);
  if (!data) return data.error();
  Part part{std::move(*data), ""};
  part.md5 = Md5(*part.body);
  std::string etag = HexEncode(part.md5);

  std::lock_guard lock(mu_);
  auto it = uploads_.find(upload_id);  // may have been aborted meanwhile
  if (it == uploads_.end()) return fake_internal::NoSuchUpload(upload_id);
  it->second.parts[part_number] = std::move(part);
  return etag;
}

S3Result<std::string> FakeObjectClient::UploadPartCopy(
    const std::string& key, const std::string& upload_id, int part_number,
    const std::string& source_key, uint64_t offset, uint64_t length,
    const std::string& source_if_match) {
  std::shared_ptr<const std::string> source;
  {
    std::lock_guard lock(mu_);
    if (auto error = BeginLocked("UploadPartCopy")) return *error;
    auto upload = uploads_.find(upload_id);
    if (upload == uploads_.end() || upload->second.key != key) {
      return fake_internal::NoSuchUpload(upload_id);
    }
    if (!ValidPartNumber(part_number)) return InvalidPartNumber(part_number);
    auto it = objects_.find(source_key);
    if (it == objects_.end()) return fake_internal::NoSuchKey(source_key);
    if (!source_if_match.empty() && source_if_match != it->second.etag) {
      return fake_internal::PreconditionFailed("x-amz-copy-source-if-match");
    }
    source = it->second.body;
  }
  if (length == 0) {
    return fake_internal::InvalidRequest(
        "InvalidArgument", "x-amz-copy-source-range must not be empty");
  }
  if (offset >= source->size() || length > source->size() - offset) {
    return MakeError(
        S3ErrorCode::kInvalidRange, 416, "InvalidRange",
        "The x-amz-copy-source-range is beyond the end of " + source_key);
  }
  if (length > fake_internal::kMaxSinglePutSize) {
    return MakeError(S3ErrorCode::kEntityTooLarge, 400, "EntityTooLarge",
                     "A part may be at most 5 GiB");
  }
  Part part{std::make_shared<const std::string>(source->substr(
                static_cast<size_t>(offset), static_cast<size_t>(length))),
            ""};
  part.md5 = Md5(*part.body);
  std::string etag = HexEncode(part.md5);

  std::lock_guard lock(mu_);
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end()) return fake_internal::NoSuchUpload(upload_id);
  it->second.parts[part_number] = std::move(part);
  return etag;
}

std::optional<S3Error> FakeObjectClient::CheckCompleteLocked(
    const Upload& upload, const std::vector<CompletedPart>& parts) const {
  if (parts.empty()) {
    return fake_internal::InvalidRequest("MalformedXML",
                                         "You must specify at least one part");
  }
  // Like S3: the part list is validated (order, existence, ETags) before
  // part sizes.
  for (size_t i = 0; i < parts.size(); ++i) {
    const CompletedPart& wanted = parts[i];
    if (i > 0 && wanted.part_number <= parts[i - 1].part_number) {
      return fake_internal::InvalidRequest(
          "InvalidPartOrder", "The list of parts was not in ascending order");
    }
    auto it = upload.parts.find(wanted.part_number);
    if (it == upload.parts.end() || HexEncode(it->second.md5) != wanted.etag) {
      return fake_internal::InvalidRequest(
          "InvalidPart",
          "One or more of the specified parts could not be "
          "found or its ETag did not match (part " +
              std::to_string(wanted.part_number) + ")");
    }
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (upload.parts.at(parts[i].part_number).body->size() < kMinPartSize) {
      return MakeError(S3ErrorCode::kEntityTooSmall, 400, "EntityTooSmall",
                       "Your proposed upload is smaller than the minimum "
                       "allowed size (part " +
                           std::to_string(parts[i].part_number) + ")");
    }
  }
  return std::nullopt;
}

S3Result<WriteResult> FakeObjectClient::CompleteMultipartUpload(
    const std::string& key, const std::string& upload_id,
    const std::vector<CompletedPart>& parts) {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("CompleteMultipartUpload")) return *error;
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key) {
    return fake_internal::NoSuchUpload(upload_id);
  }
  const Upload& upload = it->second;
  if (auto error = CheckCompleteLocked(upload, parts)) return *error;
  if (upload.options.if_none_match) {
    if (!conditional_writes_) {
      return MakeError(S3ErrorCode::kNotImplemented, 501, "NotImplemented",
                       "If-None-Match is not implemented");
    }
    if (objects_.count(key)) {
      return fake_internal::PreconditionFailed("If-None-Match");
    }
  }
  // S3's multipart ETag: MD5 of the concatenated binary part MD5s, "-N".
  std::string body;
  std::string md5s;
  for (const CompletedPart& wanted : parts) {
    const Part& part = upload.parts.at(wanted.part_number);
    body += *part.body;
    md5s += part.md5;
  }
  Object object;
  object.body = std::make_shared<const std::string>(std::move(body));
  object.etag = HexEncode(Md5(md5s)) + "-" + std::to_string(parts.size());
  object.metadata = upload.options.metadata;
  object.content_type = upload.options.content_type;
  uploads_.erase(it);
  return StoreLocked(key, std::move(object));
}

S3Status FakeObjectClient::AbortMultipartUpload(const std::string& key,
                                                const std::string& upload_id) {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("AbortMultipartUpload")) return *error;
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key) {
    return fake_internal::NoSuchUpload(upload_id);
  }
  uploads_.erase(it);
  return S3Status();
}

S3Result<std::vector<MultipartUploadInfo>>
FakeObjectClient::ListMultipartUploads(const std::string& prefix) {
  std::lock_guard lock(mu_);
  std::vector<MultipartUploadInfo> result;
  for (const auto& [id, upload] : uploads_) {
    if (upload.key.starts_with(prefix)) {
      result.push_back(MultipartUploadInfo{upload.key, id, upload.initiated});
    }
  }
  // The real client pages by 1000 uploads: count one request per page.
  const size_t pages = result.empty() ? 1 : (result.size() + 999) / 1000;
  for (size_t i = 0; i < pages; ++i) {
    if (auto error = BeginLocked("ListMultipartUploads")) return *error;
  }
  // S3 lists by key, then by initiation time.
  std::sort(result.begin(), result.end(),
            [](const MultipartUploadInfo& a, const MultipartUploadInfo& b) {
              return std::tie(a.key, a.initiated, a.upload_id) <
                     std::tie(b.key, b.initiated, b.upload_id);
            });
  return result;
}

}  // namespace repofs
