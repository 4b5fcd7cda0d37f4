// Interpreting S3 responses: HTTP status + error document -> S3Error,
// transport failures -> S3Error, and object headers (HEAD/GET) -> ObjectInfo.
//
// Error mapping order: the <Code> of the error document when it is one we
// know, else the HTTP status (HEAD responses have no body). Messages are one
// line: "<Operation> <target>: <detail>", never credentials or headers.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "repofs/http_transport.h"
#include "repofs/object_client.h"
#include "repofs/s3_error.h"

namespace repofs::s3 {

// What a bodyless 404 means for the operation at hand.
enum class NotFoundMeans { kKey, kBucket, kUpload };

// The error code for an S3 <Code> string; nullopt if not one we map.
std::optional<S3ErrorCode> CodeFromS3Code(std::string_view s3_code);
// The error code for an HTTP status alone (no usable error document).
S3ErrorCode CodeFromStatus(int status, NotFoundMeans not_found);

// The S3Error for a non-2xx response (or a 2xx whose body is an <Error>
// document, as CopyObject and CompleteMultipartUpload may send).
// `context` is "<Operation> <target>", prefixed to the message.
S3Error ErrorFromResponse(std::string_view context,
                          const HttpResponse& response,
                          NotFoundMeans not_found);
S3Error ErrorFromTransport(std::string_view context,
                           const TransportError& error);
S3Error MakeError(S3ErrorCode code, std::string_view context,
                  std::string_view detail, int http_status = 0);

// `text` with control characters replaced, so a key cannot break a line.
std::string OneLine(std::string_view text);

// Removes one pair of surrounding double quotes (ETags are stored unquoted).
std::string Unquote(std::string_view etag);

// ObjectInfo from HEAD/GET response headers: size from Content-Length,
// unquoted ETag, Last-Modified (RFC 1123) in seconds, Content-Type,
// x-amz-storage-class, and x-amz-meta-* as metadata (names lower-cased,
// prefix stripped). has_metadata = true. nullopt when Content-Length is
// missing or not a number.
std::optional<ObjectInfo> InfoFromHeaders(const std::string& key,
                                          const HttpResponse& response);

// "bytes first-last/total" (206) or "bytes */total" (416).
struct ContentRange {
  std::optional<uint64_t> first;  // nullopt for "*"
  uint64_t last = 0;
  std::optional<uint64_t> total;  // nullopt for "/*"
};
std::optional<ContentRange> ParseContentRange(std::string_view value);

}  // namespace repofs::s3
