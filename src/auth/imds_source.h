// EC2 instance-profile credentials through IMDSv2 (session tokens only; no
// IMDSv1 fallback):
//   PUT  <endpoint>/latest/api/token
//        X-aws-ec2-metadata-token-ttl-seconds: 21600      -> token
//   GET  <endpoint>/latest/meta-data/iam/security-credentials/
//        X-aws-ec2-metadata-token: <token>                -> role name
//   GET  <endpoint>/latest/meta-data/iam/security-credentials/<role>
//        X-aws-ec2-metadata-token: <token>                -> credentials JSON
// The endpoint is http://169.254.169.254 unless
// AWS_EC2_METADATA_SERVICE_ENDPOINT is set; AWS_EC2_METADATA_DISABLED=true
// turns the source off.
//
// Absent (ENOENT, the chain moves on): disabled, the token request fails at
// the transport level or is refused (not on EC2, or IMDS off), or no role is
// attached (404 on the role list). Any later failure is an EACCES error. The
// token and the response body never appear in messages.
//
// Ownership: shares `transport`. Off EC2 the token request hangs until the
// transport's connect timeout, so give this source a transport with short
// timeouts (1 s): the HttpTransport interface has no per-request timeout.
// Thread-safety: as CredentialsSource.
#pragma once

#include <memory>

#include "auth/credentials_source.h"
#include "repofs/http_transport.h"

namespace repofs::auth {

inline constexpr const char* kImdsDefaultEndpoint = "http://169.254.169.254";

std::unique_ptr<CredentialsSource> MakeImdsSource(
    EnvLookup env, std::shared_ptr<HttpTransport> transport);

}  // namespace repofs::auth
