#include "auth/credentials_json.h"

#include <nlohmann/json.hpp>

#include "auth/credentials_source.h"
#include "util/time_format.h"

namespace repofs::auth {
namespace {

// The string member `name`, or "" when absent or not a string.
std::string StringMember(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

Result<Credentials> ParseCredentialsJson(std::string_view body,
                                         const std::string& source) {
  // No exceptions: nlohmann's parse_error text quotes the input ("last
  // read: ..."), which may be the secret.
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return SourceFailed(source + ": response is not a JSON object");
  }
  std::string code = StringMember(doc, "Code");
  if (!code.empty() && code != "Success") {
    return SourceFailed(source + ": response Code is " + code);
  }
  Credentials creds;
  creds.access_key_id = StringMember(doc, "AccessKeyId");
  creds.secret_access_key = StringMember(doc, "SecretAccessKey");
  creds.session_token = StringMember(doc, "Token");
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return SourceFailed(source +
                        ": response lacks AccessKeyId or SecretAccessKey");
  }
  std::string expiration = StringMember(doc, "Expiration");
  if (!expiration.empty()) {
    auto t = ParseIso8601(expiration);
    if (!t) {
      return SourceFailed(source + ": cannot parse Expiration \"" + expiration +
                          "\"");
    }
    creds.expiration = std::chrono::system_clock::from_time_t(*t);
  }
  return creds;
}

}  // namespace repofs::auth
