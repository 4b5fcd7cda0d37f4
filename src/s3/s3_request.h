// RequestBuilder: turns an S3 operation's pieces (method, key, decoded query,
// headers, payload) into a signed HttpRequest for one bucket: endpoint and
// addressing style (path-style https://host/bucket/key or virtual-hosted
// https://bucket.host/key), key and query encoding, and SigV4 header auth
// (host, x-amz-date, x-amz-content-sha256, x-amz-security-token,
// Authorization).
//
// Encoding rules (S3 flavour of SigV4): the key is UriEncode()d once with
// '/' kept, and the same string is the canonical URI (no normalization, so
// "a//b", "./x", "%", "+" and unicode keys round-trip); query names and values
// are UriEncode()d with '/' as %2F (RGW requires it) and sorted, and a
// value-less parameter is sent bare ("?uploads") and signed as "uploads=".
//
// Ownership: value type built from S3Options; holds no references.
// Thread-safety: immutable after construction; all methods are const.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "repofs/credentials.h"
#include "repofs/http_transport.h"
#include "repofs/payload.h"
#include "repofs/s3_error.h"
#include "repofs/s3_options.h"

namespace repofs::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// One unsigned S3 request.
struct S3Request {
  std::string method;
  std::optional<std::string> key;   // nullopt: a bucket-level request
  QueryParams query;                // DECODED names and values
  std::vector<HttpHeader> headers;  // lower-case names; all are signed
  const Payload* body = nullptr;    // nullptr: no body
};

// The query string as sent (without '?'): encoded, sorted by encoded name,
// "name" alone for an empty value.
std::string EncodeQuery(const QueryParams& query);

class RequestBuilder {
 public:
  explicit RequestBuilder(const S3Options& options);

  // The Host header value: [bucket.]host[:port] (port omitted when it is the
  // scheme's default, as HTTP clients do).
  const std::string& host() const { return host_; }
  const std::string& bucket() const { return bucket_; }

  // The encoded path: "/bucket/<key>" (path-style) or "/<key>"; for a
  // bucket-level request "/bucket" or "/".
  std::string CanonicalUri(const std::optional<std::string>& key) const;
  // scheme://host + CanonicalUri + "?" + EncodeQuery (when not empty).
  std::string Url(const S3Request& request) const;
  // The x-amz-copy-source value for `key` in this bucket: "/bucket/<enc key>".
  std::string CopySource(std::string_view key) const;

  // "UNSIGNED-PAYLOAD", or the hex SHA-256 of the body when sign_payload is
  // set (file payloads are streamed through the hash). kLocalIo when the
  // payload cannot be read.
  S3Result<std::string> PayloadHash(const Payload* body) const;

  // The signed request: request.headers plus host, x-amz-date,
  // x-amz-content-sha256, x-amz-security-token (session credentials) and
  // Authorization. Errors: kLocalIo (payload hash).
  S3Result<HttpRequest> Sign(const S3Request& request,
                             const Credentials& credentials,
                             std::chrono::system_clock::time_point now) const;

 private:
  std::string scheme_;     // "http" or "https"
  std::string host_;       // Host header value, with the bucket if virtual
  std::string base_path_;  // endpoint path prefix without trailing '/'
  std::string bucket_;
  std::string region_;
  bool path_style_ = false;
  bool sign_payload_ = false;
};

}  // namespace repofs::s3
