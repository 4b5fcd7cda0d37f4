// AWS Signature Version 4: the canonical request, string to sign and
// signature of one HTTP request, as a pure function of its inputs.
//
// SignV4 produces the Authorization header value (header auth); PresignQuery
// produces the query string of a presigned URL (query-string auth). Neither
// adds headers: the caller puts host, x-amz-date, x-amz-content-sha256 and,
// for temporary credentials, x-amz-security-token into `headers` itself (and
// sends exactly those headers). The signer never logs and never returns the
// secret key; only the signature derived from it.
//
// S3 flavour: the canonical URI is taken as given (S3 encodes each key byte
// once and never normalizes "." / ".." / "//"), so the caller URI-encodes it.
// Spec:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
//
// Thread-safety: pure functions, no shared state.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "repofs/credentials.h"
#include "repofs/http_transport.h"

namespace repofs::auth {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct CanonicalInput {
  std::string method;  // "GET"
  // The path exactly as it goes into the canonical request: already
  // URI-encoded by the caller ('/' kept); neither re-encoded nor normalized.
  // Empty means "/".
  std::string canonical_uri;
  // DECODED names and values. The signer UriEncode()s them ('/' encoded) and
  // sorts by encoded name, then encoded value; an empty value gives "name=".
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign, any case. Names are lower-cased, values trimmed
  // with inner whitespace runs collapsed to one space; duplicate names are
  // merged with ',' in the given order; the result is sorted by name.
  std::vector<HttpHeader> headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the full Authorization header value
};

// Signs `in` for header auth at `time` (which must be the x-amz-date the
// caller sends).
SigV4Result SignV4(const CanonicalInput& in, const Credentials& creds,
                   std::string_view region, std::string_view service,
                   std::chrono::system_clock::time_point time);

// Query-string auth (presigned URL). `in.headers` normally holds just host;
// `in.payload_hash` is normally "UNSIGNED-PAYLOAD" (used when empty). Returns
// the complete canonical query string: `in.query` plus X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders (and
// X-Amz-Security-Token when creds carry a session token), sorted and encoded,
// followed by "&X-Amz-Signature=<hex>". S3 accepts `expires` up to 7 days.
std::string PresignQuery(const CanonicalInput& in, const Credentials& creds,
                         std::string_view region, std::string_view service,
                         std::chrono::system_clock::time_point time,
                         std::chrono::seconds expires);

// The pieces, exposed for tests and diagnostics.
// "n1=v1&n2=v2": encoded, sorted.
std::string CanonicalQueryString(
    const std::vector<std::pair<std::string, std::string>>& query);
// kDate = HMAC("AWS4" + secret, date) ... kSigning = HMAC(kService,
// "aws4_request"). Raw bytes; a secret in itself, never log it.
std::string DeriveSigningKey(std::string_view secret_access_key,
                             std::string_view date_stamp,
                             std::string_view region, std::string_view service);

}  // namespace repofs::auth
