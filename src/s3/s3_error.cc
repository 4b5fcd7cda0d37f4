// S3Error helpers: code names, the single S3 -> errno mapping, and the
// conversion to the repofs-wide Error type.
#include "repofs/s3_error.h"

#include <cerrno>
#include <string>

namespace repofs {

bool S3Error::retryable() const {
  switch (code) {
    case S3ErrorCode::kSlowDown:
    case S3ErrorCode::kServerError:
    case S3ErrorCode::kRequestTimeout:
    case S3ErrorCode::kNetwork:
    case S3ErrorCode::kTimeout:
    case S3ErrorCode::kTruncatedBody:
    // The next attempt is signed with refreshed credentials (the provider
    // refreshes before expiry; an early expiry is fixed by the next fetch).
    case S3ErrorCode::kExpiredToken:
      return true;
    default:
      return false;
  }
}

const char* ErrorCodeName(S3ErrorCode code) {
  switch (code) {
    case S3ErrorCode::kNoSuchKey:
      return "NoSuchKey";
    case S3ErrorCode::kNoSuchBucket:
      return "NoSuchBucket";
    case S3ErrorCode::kNoSuchUpload:
      return "NoSuchUpload";
    case S3ErrorCode::kAccessDenied:
      return "AccessDenied";
    case S3ErrorCode::kInvalidAccessKeyId:
      return "InvalidAccessKeyId";
    case S3ErrorCode::kSignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case S3ErrorCode::kExpiredToken:
      return "ExpiredToken";
    case S3ErrorCode::kPreconditionFailed:
      return "PreconditionFailed";
    case S3ErrorCode::kInvalidRange:
      return "InvalidRange";
    case S3ErrorCode::kEntityTooSmall:
      return "EntityTooSmall";
    case S3ErrorCode::kEntityTooLarge:
      return "EntityTooLarge";
    case S3ErrorCode::kInvalidRequest:
      return "InvalidRequest";
    case S3ErrorCode::kNotImplemented:
      return "NotImplemented";
    case S3ErrorCode::kConflict:
      return "Conflict";
    case S3ErrorCode::kSlowDown:
      return "SlowDown";
    case S3ErrorCode::kServerError:
      return "ServerError";
    case S3ErrorCode::kRequestTimeout:
      return "RequestTimeout";
    case S3ErrorCode::kNetwork:
      return "Network";
    case S3ErrorCode::kTimeout:
      return "Timeout";
    case S3ErrorCode::kTruncatedBody:
      return "TruncatedBody";
    case S3ErrorCode::kMalformedResponse:
      return "MalformedResponse";
    case S3ErrorCode::kAborted:
      return "Aborted";
    case S3ErrorCode::kLocalIo:
      return "LocalIo";
    case S3ErrorCode::kCredentials:
      return "Credentials";
    case S3ErrorCode::kUnavailable:
      return "Unavailable";
    case S3ErrorCode::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

int ToErrno(S3ErrorCode code) {
  switch (code) {
    case S3ErrorCode::kNoSuchKey:
    case S3ErrorCode::kNoSuchBucket:
    case S3ErrorCode::kNoSuchUpload:
      return ENOENT;
    case S3ErrorCode::kAccessDenied:
    case S3ErrorCode::kInvalidAccessKeyId:
    case S3ErrorCode::kSignatureDoesNotMatch:
    case S3ErrorCode::kExpiredToken:
    case S3ErrorCode::kCredentials:
      return EACCES;
    case S3ErrorCode::kPreconditionFailed:
      return ESTALE;
    case S3ErrorCode::kEntityTooLarge:
      return EFBIG;
    case S3ErrorCode::kNotImplemented:
      return ENOTSUP;
    case S3ErrorCode::kInvalidRange:
      return EINVAL;
    case S3ErrorCode::kTimeout:
      return ETIMEDOUT;
    case S3ErrorCode::kAborted:
      return ECANCELED;
    default:
      return EIO;
  }
}

namespace {

// Messages come from servers and transports; keep the result on one line.
std::string OneLine(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

Error ToError(const S3Error& error) {
  std::string message = ErrorCodeName(error.code);
  // http_status 0 means no response was received (network, timeout, local).
  if (error.http_status != 0) {
    message += " (HTTP " + std::to_string(error.http_status) + ")";
  }
  std::string detail = error.message.empty() ? error.s3_code : error.message;
  if (!detail.empty()) message += ": " + OneLine(detail);
  return Error{ToErrno(error.code), std::move(message)};
}

}  // namespace repofs
