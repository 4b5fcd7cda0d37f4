// ECS (and EKS Pod Identity) container credentials: a GET on the endpoint
// named by the environment, answering the credentials JSON.
//
//   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  -> http://169.254.170.2<uri>
//   AWS_CONTAINER_CREDENTIALS_FULL_URI      -> that URL (https, or http to a
//       loopback / ECS / EKS address only, as the AWS SDKs require, because
//       the authorization token is sent to it)
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  -> Authorization: <file content>
//   AWS_CONTAINER_AUTHORIZATION_TOKEN       -> Authorization: <value>
//     (the file wins when both are set, as in botocore)
// Neither URI variable set: ENOENT (absent). Otherwise every failure is an
// EACCES error (the container was meant to get credentials this way). A
// transport error or 5xx is tried twice. The token, the response body and
// the URL path never appear in messages.
//
// Ownership: shares `transport`; its timeouts apply (the HttpTransport
// interface has none of its own).
// Thread-safety: as CredentialsSource.
#pragma once

#include <memory>

#include "auth/credentials_source.h"
#include "repofs/http_transport.h"

namespace repofs::auth {

inline constexpr const char* kEcsDefaultHost = "http://169.254.170.2";

std::unique_ptr<CredentialsSource> MakeEcsSource(
    EnvLookup env, std::shared_ptr<HttpTransport> transport);

}  // namespace repofs::auth
