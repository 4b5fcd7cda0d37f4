// Internal helpers shared by the FakeObjectClient translation units
// (fake_object_client.cc, fake_object_list.cc, fake_multipart.cc): S3-style
// error values, payload reading, key and metadata validation.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "repofs/object_client.h"

namespace repofs::fake_internal {

// S3's limits.
inline constexpr uint64_t kMaxSinglePutSize = 5ULL << 30;  // 5 GiB
inline constexpr size_t kMaxKeyLength = 1024;
inline constexpr size_t kMaxMetadataBytes = 2048;
inline constexpr int kMaxListKeys = 1000;
inline constexpr int kMaxPartNumber = 10000;

inline S3Error MakeError(S3ErrorCode code, int http_status, std::string s3_code,
                         std::string message) {
  return S3Error{code, http_status, std::move(s3_code), std::move(message),
                 "fake"};
}

inline S3Error NoSuchKey(const std::string& key) {
  return MakeError(S3ErrorCode::kNoSuchKey, 404, "NoSuchKey",
                   "The specified key does not exist: " + key);
}

inline S3Error NoSuchUpload(const std::string& upload_id) {
  return MakeError(S3ErrorCode::kNoSuchUpload, 404, "NoSuchUpload",
                   "The specified upload does not exist: " + upload_id);
}

inline S3Error PreconditionFailed(const std::string& what) {
  return MakeError(S3ErrorCode::kPreconditionFailed, 412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not "
                   "hold (" +
                       what + ")");
}

inline S3Error InvalidRequest(std::string s3_code, std::string message) {
  return MakeError(S3ErrorCode::kInvalidRequest, 400, std::move(s3_code),
                   std::move(message));
}

// Reads the whole payload (file payloads with pread).
S3Result<std::shared_ptr<const std::string>> ReadPayload(const Payload& body);

// Empty or over 1024 bytes -> kInvalidRequest.
std::optional<S3Error> CheckKey(const std::string& key);

// Lower-cases names; more than 2 KiB of names and values -> kInvalidRequest.
S3Result<Metadata> NormalizeMetadata(const Metadata& metadata);

// "binary/octet-stream" when empty, like S3.
std::string ContentTypeOrDefault(const std::string& content_type);

}  // namespace repofs::fake_internal
