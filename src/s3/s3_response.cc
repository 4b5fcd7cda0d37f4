#include "s3/s3_response.h"

#include <utility>

#include "s3/s3_xml.h"
#include "util/string_util.h"
#include "util/time_format.h"

namespace repofs::s3 {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

std::optional<uint64_t> ParseU64(std::string_view text) {
  auto v = ParseInt(Trim(text));
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

}  // namespace

std::optional<S3ErrorCode> CodeFromS3Code(std::string_view s3_code) {
  using C = S3ErrorCode;
  // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
  static constexpr std::pair<std::string_view, C> kTable[] = {
      {"NoSuchKey", C::kNoSuchKey},
      {"NoSuchVersion", C::kNoSuchKey},
      {"NoSuchBucket", C::kNoSuchBucket},
      {"NoSuchUpload", C::kNoSuchUpload},
      {"AccessDenied", C::kAccessDenied},
      {"AllAccessDisabled", C::kAccessDenied},
      {"AccountProblem", C::kAccessDenied},
      {"InvalidAccessKeyId", C::kInvalidAccessKeyId},
      {"SignatureDoesNotMatch", C::kSignatureDoesNotMatch},
      {"ExpiredToken", C::kExpiredToken},
      {"TokenRefreshRequired", C::kExpiredToken},
      {"PreconditionFailed", C::kPreconditionFailed},
      {"InvalidRange", C::kInvalidRange},
      {"EntityTooSmall", C::kEntityTooSmall},
      {"EntityTooLarge", C::kEntityTooLarge},
      {"NotImplemented", C::kNotImplemented},
      {"OperationAborted", C::kConflict},
      {"ConditionalRequestConflict", C::kConflict},
      {"SlowDown", C::kSlowDown},
      {"Throttling", C::kSlowDown},
      {"ThrottlingException", C::kSlowDown},
      {"RequestThrottled", C::kSlowDown},
      {"RequestLimitExceeded", C::kSlowDown},
      {"TooManyRequests", C::kSlowDown},
      {"TooManyRequestsException", C::kSlowDown},
      {"InternalError", C::kServerError},
      {"ServiceUnavailable", C::kServerError},
      {"RequestTimeout", C::kRequestTimeout},
      {"InvalidArgument", C::kInvalidRequest},
      {"InvalidRequest", C::kInvalidRequest},
      {"MalformedXML", C::kInvalidRequest},
      {"InvalidPart", C::kInvalidRequest},
      {"InvalidPartOrder", C::kInvalidRequest},
      {"InvalidDigest", C::kInvalidRequest},
      {"BadDigest", C::kInvalidRequest},
      {"InvalidBucketName", C::kInvalidRequest},
      {"KeyTooLongError", C::kInvalidRequest},
      {"MetadataTooLarge", C::kInvalidRequest},
      {"IncompleteBody", C::kInvalidRequest},
      {"MissingContentLength", C::kInvalidRequest},
      {"InvalidStorageClass", C::kInvalidRequest},
  };
  for (const auto& [name, code] : kTable) {
    if (name == s3_code) return code;
  }
  return std::nullopt;
}

S3ErrorCode CodeFromStatus(int status, NotFoundMeans not_found) {
  using C = S3ErrorCode;
  switch (status) {
    case 301:  // PermanentRedirect: wrong region or endpoint
    case 307:
    case 400:
    case 405:
    case 411:
      return C::kInvalidRequest;
    case 401:
    case 403:
      return C::kAccessDenied;
    case 404:
      switch (not_found) {
        case NotFoundMeans::kBucket:
          return C::kNoSuchBucket;
        case NotFoundMeans::kUpload:
          return C::kNoSuchUpload;
        case NotFoundMeans::kKey:
          return C::kNoSuchKey;
      }
      return C::kNoSuchKey;
    case 408:
      return C::kRequestTimeout;
    case 409:
      return C::kConflict;
    case 412:
      return C::kPreconditionFailed;
    case 416:
      return C::kInvalidRange;
    case 429:
      return C::kSlowDown;
    case 501:
      return C::kNotImplemented;
    // On S3 a 503 is throttling (SlowDown); a HEAD carries no code to tell.
    case 503:
      return C::kSlowDown;
    default:
      return status >= 500 && status < 600 ? C::kServerError : C::kUnknown;
  }
}

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

S3Error MakeError(S3ErrorCode code, std::string_view context,
                  std::string_view detail, int http_status) {
  S3Error error;
  error.code = code;
  error.http_status = http_status;
  error.message = OneLine(context) + ": " + OneLine(detail);
  return error;
}

S3Error ErrorFromResponse(std::string_view context,
                          const HttpResponse& response,
                          NotFoundMeans not_found) {
  std::optional<ErrorDocument> doc = ParseErrorDocument(response.body);
  std::optional<S3ErrorCode> code;
  std::string detail;
  if (doc) {
    code = CodeFromS3Code(doc->code);
    detail = doc->code;
    if (!doc->message.empty()) detail += ": " + doc->message;
  } else {
    detail = "HTTP " + std::to_string(response.status);
  }
  if (!code) {
    // A 2xx carrying an <Error> document failed server-side mid-operation
    // (AWS: "design your application to parse the contents of the response").
    code = response.status >= 200 && response.status < 300
               ? S3ErrorCode::kServerError
               : CodeFromStatus(response.status, not_found);
  }
  if (const std::string* region = response.Header("x-amz-bucket-region");
      region != nullptr && (response.status == 301 || response.status == 400)) {
    detail += " (the bucket is in region " + *region + ")";
  }
  S3Error error = MakeError(*code, context, detail, response.status);
  if (doc) error.s3_code = doc->code;
  if (const std::string* id = response.Header("x-amz-request-id")) {
    error.request_id = *id;
  } else if (doc) {
    error.request_id = doc->request_id;
  }
  return error;
}

S3Error ErrorFromTransport(std::string_view context,
                           const TransportError& error) {
  S3ErrorCode code = S3ErrorCode::kUnknown;
  std::string detail = error.message;
  switch (error.kind) {
    case TransportErrorKind::kConnect:
    case TransportErrorKind::kReset:
    case TransportErrorKind::kOther:
      code = S3ErrorCode::kNetwork;
      break;
    case TransportErrorKind::kTls:
      code = S3ErrorCode::kNetwork;
      detail = "TLS: " + detail;
      break;
    case TransportErrorKind::kTimeout:
      code = S3ErrorCode::kTimeout;
      break;
    case TransportErrorKind::kAborted:
      code = S3ErrorCode::kAborted;
      break;
    case TransportErrorKind::kLocalIo:
      code = S3ErrorCode::kLocalIo;
      break;
  }
  return MakeError(code, context, detail);
}

std::string Unquote(std::string_view etag) {
  etag = Trim(etag);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::optional<ObjectInfo> InfoFromHeaders(const std::string& key,
                                          const HttpResponse& response) {
  ObjectInfo info;
  info.key = key;
  info.has_metadata = true;
  const std::string* length = response.Header("content-length");
  std::optional<uint64_t> size = length ? ParseU64(*length) : std::nullopt;
  if (!size) return std::nullopt;
  info.size = *size;
  for (const HttpHeader& h : response.headers) {
    if (h.name == "etag") {
      info.etag = Unquote(h.value);
    } else if (h.name == "last-modified") {
      info.last_modified = ParseHttpDate(h.value).value_or(0);
    } else if (h.name == "content-type") {
      info.content_type = h.value;
    } else if (h.name == "x-amz-storage-class") {
      info.storage_class = h.value;
    } else if (StartsWith(h.name, kMetaPrefix) &&
               h.name.size() > kMetaPrefix.size()) {
      info.metadata[h.name.substr(kMetaPrefix.size())] = h.value;
    }
  }
  return info;
}

std::optional<ContentRange> ParseContentRange(std::string_view value) {
  value = Trim(value);
  if (!StartsWith(value, "bytes ")) return std::nullopt;
  value.remove_prefix(6);
  size_t slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view range = Trim(value.substr(0, slash));
  std::string_view total = Trim(value.substr(slash + 1));
  ContentRange out;
  if (total != "*") {
    out.total = ParseU64(total);
    if (!out.total) return std::nullopt;
  }
  if (range == "*") return out;
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  out.first = ParseU64(range.substr(0, dash));
  std::optional<uint64_t> last = ParseU64(range.substr(dash + 1));
  if (!out.first || !last || *last < *out.first) return std::nullopt;
  if (out.total && *last >= *out.total) return std::nullopt;
  out.last = *last;
  return out;
}

}  // namespace repofs::s3
