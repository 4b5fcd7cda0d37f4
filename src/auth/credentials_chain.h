// The default credentials chain and the simple providers.
//
// CreateCredentialsChain tries, in order, and the first source that yields
// credentials wins; the chain then sticks to that source (refreshing from it
// when its credentials are temporary):
//  1. explicit options: options.credentials_file and/or options.profile. The
//     file is options.credentials_file, else the shared file of step 3; the
//     profile is options.profile, else $AWS_PROFILE, else "default". When
//     either option is given, any problem (file unreadable, profile or keys
//     missing) is an error that names file and profile: the chain does not
//     fall through to other sources.
//  2. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
//     (+ AWS_SESSION_TOKEN). Only one of the two keys set is an error.
//  3. shared credentials file: $AWS_SHARED_CREDENTIALS_FILE, else
//     $HOME/.aws/credentials; profile $AWS_PROFILE, else "default". A missing
//     file or profile moves on; partial keys are an error.
//  4. ECS container credentials (see ecs_source.h).
//  5. EC2 IMDSv2 unless AWS_EC2_METADATA_DISABLED=true (see imds_source.h).
// If nothing yields credentials the error is EACCES, "no AWS credentials
// found (tried: <each source and why it was skipped>)". Paths starting with
// "~/" are expanded with $HOME. Caching and refresh: caching_provider.h
// (temporary credentials refresh when < 5 min remain; a failed refresh keeps
// the still-valid old ones and logs once; one refresh at a time).
//
// Secrets (secret key, session token, container authorization token) never
// appear in Describe(), error messages or logs.
//
// Ownership: providers share `transport`; `clock` must outlive them.
// Thread-safety: every provider here is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "auth/credentials_source.h"
#include "repofs/clock.h"
#include "repofs/credentials.h"
#include "repofs/http_transport.h"

namespace repofs::auth {

// getenv() behind an EnvLookup.
EnvLookup ProcessEnv();

// Always returns `creds`; Describe() returns `description`.
std::shared_ptr<CredentialsProvider> MakeStaticCredentials(
    Credentials creds, std::string description = "static");

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
std::unique_ptr<CredentialsSource> MakeEnvironmentSource(EnvLookup env);

// `transport` is used only for the ECS and IMDS steps (nullptr skips them);
// it should have short timeouts (connect 1 s), because off EC2 the IMDS
// address does not answer at all.
std::shared_ptr<CredentialsProvider> CreateCredentialsChain(
    const CredentialsOptions& options, std::shared_ptr<HttpTransport> transport,
    const Clock& clock, EnvLookup env = ProcessEnv());

}  // namespace repofs::auth
