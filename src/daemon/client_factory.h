// Builds the S3 client stack the daemon and the `repofs s3` command use:
// libcurl transport -> S3Client (signing with the credentials chain) ->
// BreakerObjectClient (fail fast while S3 is down) -> RetryingObjectClient
// (back-off, resumed GETs).
//
// Thread-safety: the returned clients are thread-safe.
#pragma once

#include <memory>

#include "repofs/credentials.h"
#include "repofs/object_client.h"
#include "repofs/result.h"
#include "repofs/s3_options.h"

namespace repofs::s3 {
class CircuitBreaker;
class S3Client;
}

namespace repofs::daemon {

struct ClientStack {
  std::shared_ptr<s3::S3Client> s3;          // single attempts (bucket admin)
  std::shared_ptr<ObjectClient> client;      // retrying; use for everything else
  std::shared_ptr<s3::CircuitBreaker> breaker;  // fail-fast state of `client`
  std::shared_ptr<CredentialsProvider> credentials;
};

// Errors: EACCES when no credentials are found (message names the sources
// tried), EINVAL for a malformed endpoint.
Result<ClientStack> CreateClientStack(const S3Options& s3,
                                      const CredentialsOptions& credentials);

// Checks that the bucket answers with these credentials, with few retries
// (startup must fail fast), by listing the mount's root (`prefix`, "" or
// ending in '/'): one delimited LIST page of up to 1,000 entries, which is
// also the permission every lookup needs. Returns that page (the root's
// listing when not truncated). The error message is one line naming the
// endpoint and bucket, never a secret.
Result<ListPage> CheckBucket(const ClientStack& stack, const S3Options& s3,
                             const std::string& prefix);

}  // namespace repofs::daemon
