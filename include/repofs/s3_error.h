// S3Error: the typed failure of one object-store operation.
//
// Every ObjectClient implementation (real S3, the in-memory fake, the
// fault-injecting wrapper) reports failures with these codes, so the layers
// above decide by code (retry? which errno?) and never parse messages.
// ToErrno() is the single place where S3 failures become errno values.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <string>

#include "repofs/result.h"

namespace repofs {

enum class S3ErrorCode {
  kNoSuchKey,             // 404 on an object (or its version went away)
  kNoSuchBucket,          // 404 NoSuchBucket
  kNoSuchUpload,          // 404 NoSuchUpload (multipart id unknown/aborted)
  kAccessDenied,          // 403 AccessDenied / AllAccessDisabled
  kInvalidAccessKeyId,    // 403 InvalidAccessKeyId
  kSignatureDoesNotMatch, // 403 SignatureDoesNotMatch (wrong secret)
  kExpiredToken,          // 400/403 ExpiredToken / TokenRefreshRequired
  kPreconditionFailed,    // 412 (If-Match / If-None-Match failed)
  kInvalidRange,          // 416
  kEntityTooSmall,        // 400 EntityTooSmall (non-last part < 5 MiB)
  kEntityTooLarge,        // 400 EntityTooLarge
  kInvalidRequest,        // other 400s (InvalidArgument, MalformedXML, ...)
  kNotImplemented,        // 501
  kConflict,              // 409 (OperationAborted, concurrent conditional write)
  kSlowDown,              // 503 SlowDown / 429 throttling
  kServerError,           // other 5xx (InternalError, ServiceUnavailable)
  kRequestTimeout,        // 400 RequestTimeout from the server
  kNetwork,               // connect refused, reset, DNS, TLS failure
  kTimeout,               // client-side timeout (connect or low-speed)
  kTruncatedBody,         // fewer body bytes than Content-Length promised
  kMalformedResponse,     // unparseable XML or missing fields
  kAborted,               // the caller's data sink asked to stop
  kLocalIo,               // reading the upload payload (staging file) failed
  kCredentials,           // no usable credentials could be obtained
  kUnavailable,           // not attempted: S3 is failing (circuit breaker open)
  kUnknown,               // anything else (see http_status / s3_code)
};

struct S3Error {
  S3ErrorCode code = S3ErrorCode::kUnknown;
  int http_status = 0;    // 0 when no HTTP response was received
  std::string s3_code;    // the <Code> from the error XML, if any
  std::string message;    // one line, never contains secrets
  std::string request_id; // x-amz-request-id when known

  // True for failures that a later identical attempt may not have:
  // kSlowDown, kServerError, kRequestTimeout, kNetwork, kTimeout,
  // kTruncatedBody, kExpiredToken (after refreshing credentials).
  bool retryable() const;
};

// Stable identifier of a code, e.g. "SignatureDoesNotMatch" for logs/tests.
const char* ErrorCodeName(S3ErrorCode code);

// The errno a filesystem caller should see for `code`:
// kNoSuchKey/kNoSuchBucket/kNoSuchUpload -> ENOENT, kAccessDenied/
// kInvalidAccessKeyId/kSignatureDoesNotMatch/kExpiredToken/kCredentials ->
// EACCES, kPreconditionFailed -> ESTALE (callers that use If-None-Match map
// it to EEXIST themselves), kEntityTooLarge -> EFBIG, kNotImplemented ->
// ENOTSUP, kInvalidRange -> EINVAL, kTimeout -> ETIMEDOUT, kAborted ->
// ECANCELED, everything else -> EIO.
int ToErrno(S3ErrorCode code);

// An Error for the layers above: ToErrno(code) and a one-line message
// "<operation detail>: <CodeName> (HTTP n): <message>".
Error ToError(const S3Error& error);

template <typename T>
using S3Result = Result<T, S3Error>;
using S3Status = BasicStatus<S3Error>;

}  // namespace repofs
