#include "auth/imds_source.h"

#include <string>
#include <utility>

#include "auth/credentials_json.h"
#include "repofs/payload.h"
#include "util/string_util.h"

namespace repofs::auth {
namespace {

constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kRolesPath =
    "/latest/meta-data/iam/security-credentials/";
constexpr const char* kTokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr const char* kTokenHeader = "X-aws-ec2-metadata-token";
constexpr const char* kTokenTtlSeconds = "21600";  // 6 h, the SDK default

// IAM role names: [A-Za-z0-9+=,.@_-]{1,64}; anything else is not a name.
bool IsRoleName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '=' || c == ',' ||
              c == '.' || c == '@' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

class ImdsSource final : public CredentialsSource {
 public:
  ImdsSource(EnvLookup env, std::shared_ptr<HttpTransport> transport)
      : transport_(std::move(transport)) {
    disabled_ = ToLower(EnvValue(env, "AWS_EC2_METADATA_DISABLED")) == "true";
    endpoint_ = EnvValue(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint_.empty()) endpoint_ = kImdsDefaultEndpoint;
    while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
    describe_ = "IMDSv2 at " + endpoint_;
  }

  Result<Credentials> Fetch() override;
  std::string Describe() const override { return describe_; }

 private:
  Result<std::string> GetToken();
  Result<HttpResponse, TransportError> Get(const std::string& path,
                                           const std::string& token);

  const std::shared_ptr<HttpTransport> transport_;
  bool disabled_ = false;
  std::string endpoint_;
  std::string describe_;
};

// The session token, or ENOENT (not on EC2 / IMDSv2 unavailable).
Result<std::string> ImdsSource::GetToken() {
  static const Payload kEmptyBody = Payload::FromBuffer({});
  HttpRequest put;
  put.method = "PUT";
  put.url = endpoint_ + kTokenPath;
  put.headers.push_back({kTokenTtlHeader, kTokenTtlSeconds});
  put.body = &kEmptyBody;
  auto response = transport_->Perform(put, nullptr);
  if (!response) {
    return SourceAbsent(describe_, TransportErrorText(response.error()));
  }
  if (response->status != 200) {
    return SourceAbsent(
        describe_, "token request: HTTP " + std::to_string(response->status));
  }
  std::string token(Trim(response->body));
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
    return SourceFailed(describe_ + ": malformed session token");
  }
  return token;
}

Result<HttpResponse, TransportError> ImdsSource::Get(const std::string& path,
                                                     const std::string& token) {
  HttpRequest get;
  get.method = "GET";
  get.url = endpoint_ + path;
  get.headers.push_back({kTokenHeader, token});
  return transport_->Perform(get, nullptr);
}

Result<Credentials> ImdsSource::Fetch() {
  if (disabled_) {
    return SourceAbsent(describe_, "AWS_EC2_METADATA_DISABLED=true");
  }
  if (!transport_) return SourceAbsent(describe_, "no HTTP transport");
  Result<std::string> token = GetToken();
  if (!token) return token.error();

  auto roles = Get(kRolesPath, *token);
  if (!roles) {
    return SourceFailed(describe_ + ": " + TransportErrorText(roles.error()));
  }
  if (roles->status == 404) {
    return SourceAbsent(describe_, "no IAM role attached to the instance");
  }
  if (roles->status != 200) {
    return SourceFailed(describe_ + ": role list: HTTP " +
                        std::to_string(roles->status));
  }
  // One role per instance profile; take the first line.
  std::string role(Trim(roles->body.substr(0, roles->body.find('\n'))));
  if (!IsRoleName(role)) {
    return SourceFailed(describe_ + ": malformed role name in the role list");
  }

  auto creds = Get(kRolesPath + role, *token);
  if (!creds) {
    return SourceFailed(describe_ + ": " + TransportErrorText(creds.error()));
  }
  if (creds->status != 200) {
    return SourceFailed(describe_ + ": role " + role + ": HTTP " +
                        std::to_string(creds->status));
  }
  return ParseCredentialsJson(creds->body, describe_ + " (role " + role + ")");
}

}  // namespace

std::unique_ptr<CredentialsSource> MakeImdsSource(
    EnvLookup env, std::shared_ptr<HttpTransport> transport) {
  return std::make_unique<ImdsSource>(std::move(env), std::move(transport));
}

}  // namespace repofs::auth
