#include "s3/s3_request.h"

#include <algorithm>
#include <system_error>
#include <vector>

#include "auth/sigv4.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/string_util.h"
#include "util/time_format.h"

namespace repofs::s3 {
namespace {

constexpr size_t kHashChunkBytes = 1 << 20;

struct Endpoint {
  std::string scheme;
  std::string host;  // without port; IPv6 literals keep their brackets
  std::string port;  // "" when not given
  std::string path;  // "" or "/prefix" (no trailing '/')
};

Endpoint ParseEndpoint(const S3Options& options) {
  std::string_view text = options.endpoint;
  std::string fallback;
  if (text.empty()) {
    fallback = "https://s3." + options.region + ".amazonaws.com";
    text = fallback;
  }
  Endpoint e;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    e.scheme = "https";
  } else {
    e.scheme = ToLower(text.substr(0, scheme_end));
    text.remove_prefix(scheme_end + 3);
  }
  size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = text.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    e.path = std::string(path);
  }
  // The port follows the last ':' unless that ':' is inside "[v6]".
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos &&
      (bracket == std::string_view::npos || colon > bracket)) {
    e.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
  }
  e.host = ToLower(authority);
  return e;
}

bool IsDefaultPort(const Endpoint& e) {
  return e.port.empty() || (e.scheme == "http" && e.port == "80") ||
         (e.scheme == "https" && e.port == "443");
}

}  // namespace

std::string EncodeQuery(const QueryParams& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    if (!value.empty()) out += "=" + value;
  }
  return out;
}

RequestBuilder::RequestBuilder(const S3Options& options)
    : bucket_(options.bucket),
      region_(options.region),
      path_style_(options.path_style),
      sign_payload_(options.sign_payload) {
  Endpoint e = ParseEndpoint(options);
  scheme_ = e.scheme;
  base_path_ = e.path;
  host_ = path_style_ ? e.host : bucket_ + "." + e.host;
  if (!IsDefaultPort(e)) host_ += ":" + e.port;
}

std::string RequestBuilder::CanonicalUri(
    const std::optional<std::string>& key) const {
  std::string uri = base_path_;
  if (path_style_) {
    uri += "/" + UriEncode(bucket_, false);
    if (key) uri += "/" + UriEncode(*key, true);
  } else {
    uri += "/";
    if (key) uri += UriEncode(*key, true);
  }
  return uri;
}

std::string RequestBuilder::Url(const S3Request& request) const {
  std::string url = scheme_ + "://" + host_ + CanonicalUri(request.key);
  std::string query = EncodeQuery(request.query);
  if (!query.empty()) url += "?" + query;
  return url;
}

std::string RequestBuilder::CopySource(std::string_view key) const {
  return "/" + UriEncode(bucket_, false) + "/" + UriEncode(key, true);
}

S3Result<std::string> RequestBuilder::PayloadHash(const Payload* body) const {
  if (!sign_payload_) return std::string(auth::kUnsignedPayload);
  if (body == nullptr) return HexEncode(Sha256(""));
  if (!body->is_file()) return HexEncode(Sha256(body->buffer()));
  Sha256Stream hash;
  std::vector<char> chunk(std::min<uint64_t>(kHashChunkBytes, body->size()));
  uint64_t offset = 0;
  while (offset < body->size()) {
    ssize_t n = body->Read(offset, chunk.data(), chunk.size());
    if (n <= 0) {
      S3Error error;
      error.code = S3ErrorCode::kLocalIo;
      error.message =
          "reading the upload payload to hash it failed: " +
          std::string(n < 0 ? std::error_code(static_cast<int>(-n),
                                              std::generic_category())
                                  .message()
                            : "unexpected end of file");
      return error;
    }
    hash.Update(std::string_view(chunk.data(), static_cast<size_t>(n)));
    offset += static_cast<uint64_t>(n);
  }
  return HexEncode(hash.Final());
}

S3Result<HttpRequest> RequestBuilder::Sign(
    const S3Request& request, const Credentials& credentials,
    std::chrono::system_clock::time_point now) const {
  auto payload_hash = PayloadHash(request.body);
  if (!payload_hash) return payload_hash.error();

  auth::CanonicalInput input;
  input.method = request.method;
  input.canonical_uri = CanonicalUri(request.key);
  input.query = request.query;
  input.headers = request.headers;
  input.headers.push_back({"host", host_});
  input.headers.push_back({"x-amz-date", FormatAmzDate(now)});
  input.headers.push_back({"x-amz-content-sha256", *payload_hash});
  if (!credentials.session_token.empty()) {
    input.headers.push_back(
        {"x-amz-security-token", credentials.session_token});
  }
  input.payload_hash = *payload_hash;
  auth::SigV4Result signature =
      auth::SignV4(input, credentials, region_, "s3", now);

  HttpRequest http;
  http.method = request.method;
  http.url = Url(request);
  http.headers = std::move(input.headers);
  http.headers.push_back({"authorization", std::move(signature.authorization)});
  http.body = request.body;
  return http;
}

}  // namespace repofs::s3
