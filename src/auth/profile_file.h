// The AWS shared-credentials file (~/.aws/credentials): an INI parser and
// the CredentialsSource that reads one profile from it.
//
// File format (as the AWS CLI and SDKs read it):
//   [profile-name]                 section = profile (name taken literally)
//   aws_access_key_id = AKIA...    keys are case-insensitive, values trimmed
//   aws_secret_access_key = ...
//   aws_session_token = ...        optional
// Lines starting with '#' or ';' are comments, as is the rest of a line after
// whitespace + '#' or ';' (secrets never contain spaces). Indented lines
// under a key with an empty value are nested sub-properties and ignored;
// other lines without '=' are ignored; a repeated section merges, a repeated
// key overrides.
//
// Thread-safety: pure functions; ProfileSource follows CredentialsSource.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "auth/credentials_source.h"

namespace repofs::auth {

// section -> (lower-cased key -> value)
using IniFile = std::map<std::string, std::map<std::string, std::string>>;

IniFile ParseIni(std::string_view text);

// Reads `profile` from the credentials file at `path`.
// When `explicit_choice` (the user named the file or the profile), every
// problem is an EACCES error naming file and profile. Otherwise a missing
// file, a missing profile, or a profile without aws_access_key_id is
// "absent" (ENOENT, the chain moves on); an unreadable file or a profile
// with only one of the two keys is still an error.
std::unique_ptr<CredentialsSource> MakeProfileSource(std::string path,
                                                     std::string profile,
                                                     bool explicit_choice);

}  // namespace repofs::auth
