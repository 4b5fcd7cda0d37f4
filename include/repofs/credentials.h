// Credentials and CredentialsProvider: where the SigV4 keys come from.
//
// A provider returns current credentials, refreshing temporary ones before
// they expire. The default chain (auth::CreateCredentialsChain) tries, in
// order: explicit options (credentials_file/profile), the environment,
// the shared credentials file, ECS container credentials, EC2 IMDSv2.
//
// Secrets never leave this type except into the signer: Describe() and error
// messages name the source, never the key material.
//
// Thread-safety: GetCredentials() is safe to call concurrently; providers
// serialize their own refreshes.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "repofs/result.h"

namespace repofs {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  // When temporary credentials stop working; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// Where the default chain looks first (from -o credentials_file=,profile=).
struct CredentialsOptions {
  std::string credentials_file;  // shared-credentials INI file; "" = default
  std::string profile;           // "" = $AWS_PROFILE, else "default"
  // Endpoint overrides for tests (the SDKs' variables win when set):
  // AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_CONTAINER_CREDENTIALS_FULL_URI.
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials. Errors: EACCES with a message naming the source
  // (and never the secret) when none can be obtained.
  virtual Result<Credentials> GetCredentials() = 0;
  // A short name of where the credentials come from ("environment",
  // "profile default in /root/.aws/credentials", "IMDSv2", ...).
  virtual std::string Describe() const = 0;
};

}  // namespace repofs
