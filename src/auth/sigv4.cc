#include "auth/sigv4.h"

#include <algorithm>
#include <map>

#include "util/encoding.h"
#include "util/hash.h"
#include "util/string_util.h"
#include "util/time_format.h"

namespace repofs::auth {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// "Trimall" of the SigV4 spec: strip both ends, turn each inner run of
// whitespace into a single space (botocore does ' '.join(value.split())).
std::string TrimAll(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : Trim(value)) {
    if (IsSpace(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;         // "name:value\n" per header
  std::string signed_names;  // "a;b;c"
};

CanonicalHeaders BuildCanonicalHeaders(const std::vector<HttpHeader>& headers) {
  // std::map sorts by lower-cased name; duplicates merge in arrival order.
  std::map<std::string, std::string> merged;
  for (const auto& h : headers) {
    std::string name = ToLower(Trim(h.name));
    auto [it, inserted] = merged.try_emplace(name, TrimAll(h.value));
    if (!inserted) {
      it->second.push_back(',');
      it->second += TrimAll(h.value);
    }
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name;
    out.block += ':';
    out.block += value;
    out.block += '\n';
    if (!out.signed_names.empty()) out.signed_names.push_back(';');
    out.signed_names += name;
  }
  return out;
}

std::string CredentialScope(std::chrono::system_clock::time_point time,
                            std::string_view region, std::string_view service) {
  std::string scope = FormatDateStamp(time);
  scope.push_back('/');
  scope += region;
  scope.push_back('/');
  scope += service;
  scope += "/aws4_request";
  return scope;
}

// Everything both signing modes share: canonical request -> signature.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;
};

Signed Sign(const CanonicalInput& in, const std::string& canonical_query,
            const Credentials& creds, std::string_view region,
            std::string_view service,
            std::chrono::system_clock::time_point time) {
  CanonicalHeaders headers = BuildCanonicalHeaders(in.headers);
  Signed s;
  s.signed_headers = headers.signed_names;
  s.canonical_request = in.method + "\n" +
                        (in.canonical_uri.empty() ? "/" : in.canonical_uri) +
                        "\n" + canonical_query + "\n" + headers.block + "\n" +
                        headers.signed_names + "\n" + in.payload_hash;
  s.string_to_sign = std::string(kSigV4Algorithm) + "\n" + FormatAmzDate(time) +
                     "\n" + CredentialScope(time, region, service) + "\n" +
                     HexEncode(Sha256(s.canonical_request));
  std::string key = DeriveSigningKey(creds.secret_access_key,
                                     FormatDateStamp(time), region, service);
  s.signature = HexEncode(HmacSha256(key, s.string_to_sign));
  return s;
}

}  // namespace

std::string CanonicalQueryString(
    const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  // The spec sorts by encoded name, then by value for repeated names.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string DeriveSigningKey(std::string_view secret_access_key,
                             std::string_view date_stamp,
                             std::string_view region,
                             std::string_view service) {
  std::string k_date =
      HmacSha256("AWS4" + std::string(secret_access_key), date_stamp);
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  return HmacSha256(k_service, "aws4_request");
}

SigV4Result SignV4(const CanonicalInput& in, const Credentials& creds,
                   std::string_view region, std::string_view service,
                   std::chrono::system_clock::time_point time) {
  Signed s =
      Sign(in, CanonicalQueryString(in.query), creds, region, service, time);
  SigV4Result r;
  r.authorization =
      std::string(kSigV4Algorithm) + " Credential=" + creds.access_key_id +
      "/" + CredentialScope(time, region, service) +
      ", SignedHeaders=" + s.signed_headers + ", Signature=" + s.signature;
  r.canonical_request = std::move(s.canonical_request);
  r.string_to_sign = std::move(s.string_to_sign);
  r.signed_headers = std::move(s.signed_headers);
  r.signature = std::move(s.signature);
  return r;
}

std::string PresignQuery(const CanonicalInput& in, const Credentials& creds,
                         std::string_view region, std::string_view service,
                         std::chrono::system_clock::time_point time,
                         std::chrono::seconds expires) {
  CanonicalInput with_auth = in;
  if (with_auth.payload_hash.empty()) {
    with_auth.payload_hash = std::string(kUnsignedPayload);
  }
  auto& q = with_auth.query;
  q.emplace_back("X-Amz-Algorithm", std::string(kSigV4Algorithm));
  q.emplace_back(
      "X-Amz-Credential",
      creds.access_key_id + "/" + CredentialScope(time, region, service));
  q.emplace_back("X-Amz-Date", FormatAmzDate(time));
  q.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  q.emplace_back("X-Amz-SignedHeaders",
                 BuildCanonicalHeaders(in.headers).signed_names);
  // S3 wants the token inside the signed query for presigned URLs.
  if (!creds.session_token.empty()) {
    q.emplace_back("X-Amz-Security-Token", creds.session_token);
  }
  std::string canonical_query = CanonicalQueryString(q);
  Signed s = Sign(with_auth, canonical_query, creds, region, service, time);
  return canonical_query + "&X-Amz-Signature=" + s.signature;
}

}  // namespace repofs::auth
