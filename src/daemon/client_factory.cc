#include "daemon/client_factory.h"

#include "auth/credentials_chain.h"
#include "http/curl_transport.h"
#include "s3/circuit_breaker.h"
#include "s3/retry_policy.h"
#include "s3/retrying_object_client.h"
#include "s3/s3_client.h"
#include "util/string_util.h"

namespace repofs::daemon {

Result<ClientStack> CreateClientStack(const S3Options& s3,
                                      const CredentialsOptions& credentials) {
  if (!s3.endpoint.empty() && !StartsWith(s3.endpoint, "http://") &&
      !StartsWith(s3.endpoint, "https://")) {
    return Error{EINVAL, "endpoint '" + s3.endpoint + "' must start with http:// or https://"};
  }
  std::shared_ptr<HttpTransport> transport =
      http::CreateCurlTransport(http::TransportOptionsFrom(s3));
  // The chain gets its own transport with short timeouts: off EC2/ECS the
  // metadata endpoints do not answer, and that must cost ~1 s, not 30.
  http::CurlTransportOptions metadata_options;
  metadata_options.connect_timeout_ms = 1000;
  metadata_options.request_timeout_ms = 3000;
  metadata_options.max_connections = 4;
  ClientStack stack;
  stack.credentials = auth::CreateCredentialsChain(
      credentials, http::CreateCurlTransport(metadata_options), RealClock());
  auto creds = stack.credentials->GetCredentials();
  if (!creds) return creds.error();
  stack.s3 = std::make_shared<s3::S3Client>(s3, transport, stack.credentials);
  // The breaker watches single attempts (below the retries), so once S3 is
  // down, requests fail fast instead of each waiting out timeouts and
  // back-offs (circuit_breaker.h).
  stack.breaker = std::make_shared<s3::CircuitBreaker>();
  auto guarded = std::make_shared<s3::BreakerObjectClient>(stack.s3, stack.breaker);
  stack.client = std::make_shared<s3::RetryingObjectClient>(guarded, s3::RetryPolicy(s3));
  return stack;
}

Result<ListPage> CheckBucket(const ClientStack& stack, const S3Options& s3,
                             const std::string& prefix) {
  // Two quick retries only: a wrong endpoint or secret must stop the mount in
  // seconds, not after the full back-off schedule.
  S3Options quick = s3;
  quick.max_retries = 2;
  quick.retry_max_delay_ms = 500;
  s3::RetryingObjectClient checker(stack.s3, s3::RetryPolicy(quick));
  // A LIST, not a HEAD of the bucket: its errors carry the precise code
  // (SignatureDoesNotMatch, InvalidAccessKeyId, NoSuchBucket; a HEAD has no
  // body, so a wrong secret and a missing permission both read as 403).
  ListRequest root;
  root.prefix = prefix;
  root.delimiter.assign(1, '/');  // (GCC 12 -Wrestrict false positive with = "/")
  root.max_keys = 1000;
  S3Result<ListPage> listed = checker.ListObjects(root);
  if (listed.has_value()) return std::move(*listed);
  Error error = ToError(listed.error());
  std::string where = s3.endpoint.empty() ? "s3." + s3.region + ".amazonaws.com" : s3.endpoint;
  error.message = "bucket '" + s3.bucket + "' at " + where + ": " + error.message;
  return error;
}

}  // namespace repofs::daemon
