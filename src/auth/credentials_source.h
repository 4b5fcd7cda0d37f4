// CredentialsSource: one place credentials may come from (environment,
// shared-credentials file, ECS container endpoint, EC2 IMDSv2), without
// caching. CachingCredentialsProvider turns a source into a
// CredentialsProvider (cache + refresh before expiry); the default chain is
// itself a source that tries the others in order.
//
// Ownership: sources are owned by their provider (or by the chain).
// Thread-safety: Fetch() is called by one thread at a time (the caching
// provider serializes refreshes); Describe() may be called concurrently.
#pragma once

#include <cerrno>
#include <functional>
#include <optional>
#include <string>

#include "repofs/credentials.h"
#include "repofs/http_transport.h"
#include "repofs/result.h"

namespace repofs::auth {

// Reads an environment variable; nullopt when unset. Injected so tests never
// touch the process environment.
using EnvLookup =
    std::function<std::optional<std::string>(const std::string& name)>;

// The value of `name`, or "" when unset (an empty variable counts as unset,
// as in the AWS SDKs).
inline std::string EnvValue(const EnvLookup& env, const std::string& name) {
  if (!env) return {};
  return env(name).value_or(std::string());
}

class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;

  // Fetches fresh credentials from the source.
  // Errors:
  //  - ENOENT: the source is not configured or not present here (no
  //    variable, no file, no profile, not on EC2). The message says why, as
  //    "<description>: <reason>"; the chain tries the next source.
  //  - any other errno (normally EACCES): the source is configured but
  //    broken (explicit file unreadable, partial keys, endpoint failing); the
  //    chain stops with this error.
  // Messages name the source and never contain key material.
  virtual Result<Credentials> Fetch() = 0;

  // Where the credentials come from, e.g. "environment",
  // "profile default in /root/.aws/credentials". Never contains secrets.
  virtual std::string Describe() const = 0;
};

// Helpers for the two kinds of failure above.
inline Error SourceAbsent(const std::string& description,
                          const std::string& reason) {
  return Error{ENOENT, description + ": " + reason};
}
inline Error SourceFailed(std::string message) {
  return Error{EACCES, std::move(message)};
}

// "timeout: <message>" for a failed exchange with a metadata endpoint (the
// transport's messages never contain request headers).
inline std::string TransportErrorText(const TransportError& e) {
  const char* kind = "error";
  switch (e.kind) {
    case TransportErrorKind::kConnect:
      kind = "cannot connect";
      break;
    case TransportErrorKind::kTimeout:
      kind = "timeout";
      break;
    case TransportErrorKind::kReset:
      kind = "connection reset";
      break;
    case TransportErrorKind::kTls:
      kind = "TLS error";
      break;
    default:
      break;
  }
  return e.message.empty() ? kind : std::string(kind) + ": " + e.message;
}

}  // namespace repofs::auth
