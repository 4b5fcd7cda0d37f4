// The JSON document both the ECS container endpoint and EC2 IMDS return:
//   {"AccessKeyId": "...", "SecretAccessKey": "...", "Token": "...",
//    "Expiration": "2024-01-01T00:00:00Z", "Code": "Success", ...}
// ("Code" only from IMDS; "Token" and "Expiration" optional.)
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "repofs/credentials.h"
#include "repofs/result.h"

namespace repofs::auth {

// Parses `body`. Errors are EACCES with a message starting with `source`;
// they never quote the body (it holds the secret).
Result<Credentials> ParseCredentialsJson(std::string_view body,
                                         const std::string& source);

}  // namespace repofs::auth
