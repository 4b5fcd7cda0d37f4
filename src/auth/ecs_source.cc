#include "auth/ecs_source.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "auth/credentials_json.h"
#include "util/string_util.h"

namespace repofs::auth {
namespace {

constexpr int kAttempts = 2;

struct SplitUrl {
  std::string scheme;  // lower-case
  std::string host;    // as written, "[::1]" keeps its brackets
  std::string origin;  // scheme://host[:port], safe to show
};

std::optional<SplitUrl> ParseUrl(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return std::nullopt;
  SplitUrl out;
  out.scheme = ToLower(url.substr(0, sep));
  size_t authority_end = url.find_first_of("/?#", sep + 3);
  std::string authority = url.substr(sep + 3, authority_end == std::string::npos
                                                  ? std::string::npos
                                                  : authority_end - sep - 3);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return std::nullopt;  // no host, or userinfo (credentials in a URL)
  }
  out.origin = out.scheme + "://" + authority;
  if (authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    out.host = authority.substr(0, close + 1);
  } else {
    out.host = authority.substr(0, authority.find(':'));
  }
  out.host = ToLower(out.host);
  return out;
}

// Plain http is only acceptable to hosts that cannot be on another machine
// (botocore ContainerMetadataFetcher._ALLOWED_HOSTS + loopback).
bool HttpHostAllowed(const std::string& host) {
  return host == "localhost" || StartsWith(host, "127.") || host == "[::1]" ||
         host == "169.254.170.2" || host == "169.254.170.23" ||
         host == "[fd00:ec2::23]";
}

class EcsSource final : public CredentialsSource {
 public:
  EcsSource(EnvLookup env, std::shared_ptr<HttpTransport> transport)
      : env_(std::move(env)), transport_(std::move(transport)) {
    std::string relative =
        EnvValue(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!relative.empty()) {
      url_ = kEcsDefaultHost + relative;
    } else {
      url_ = EnvValue(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    }
    auto parsed = ParseUrl(url_);
    if (parsed) parsed_ = *parsed;
    describe_ = "ECS container credentials";
    if (!parsed_.origin.empty()) describe_ += " at " + parsed_.origin;
  }

  Result<Credentials> Fetch() override;
  std::string Describe() const override { return describe_; }

 private:
  Result<std::string> AuthorizationToken() const;
  Result<Credentials> FetchOnce(const HttpRequest& request);

  const EnvLookup env_;
  const std::shared_ptr<HttpTransport> transport_;
  std::string url_;  // contains the (capability-like) path: never shown
  SplitUrl parsed_;
  std::string describe_;
};

Result<std::string> EcsSource::AuthorizationToken() const {
  std::string file = EnvValue(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  std::string token;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      return SourceFailed(
          describe_ + ": cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
          file);
    }
    std::ostringstream content;
    content << in.rdbuf();
    token = std::string(Trim(content.str()));
  } else {
    token = EnvValue(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return SourceFailed(describe_ +
                        ": the authorization token contains a "
                        "line break");
  }
  return token;
}

Result<Credentials> EcsSource::Fetch() {
  if (url_.empty()) {
    return SourceAbsent(
        "ECS container credentials",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
  }
  if (parsed_.origin.empty()) {
    return SourceFailed(describe_ + ": malformed credentials URI");
  }
  if (parsed_.scheme != "https" &&
      !(parsed_.scheme == "http" && HttpHostAllowed(parsed_.host))) {
    return SourceFailed(describe_ +
                        ": plain http is only allowed to loopback or the "
                        "ECS/EKS link-local addresses");
  }
  if (!transport_) return SourceFailed(describe_ + ": no HTTP transport");
  Result<std::string> token = AuthorizationToken();
  if (!token) return token.error();
  HttpRequest request;
  request.method = "GET";
  request.url = url_;
  request.headers.push_back({"Accept", "application/json"});
  if (!token->empty()) request.headers.push_back({"Authorization", *token});
  Result<Credentials> result = FetchOnce(request);
  for (int attempt = 1; attempt < kAttempts && !result; ++attempt) {
    if (result.error().errno_value != EAGAIN) break;
    result = FetchOnce(request);
  }
  if (!result && result.error().errno_value == EAGAIN) {
    return SourceFailed(result.error().message);
  }
  return result;
}

// EAGAIN marks failures worth one more try (transport errors, 5xx).
Result<Credentials> EcsSource::FetchOnce(const HttpRequest& request) {
  auto response = transport_->Perform(request, nullptr);
  if (!response) {
    return Error{EAGAIN,
                 describe_ + ": " + TransportErrorText(response.error())};
  }
  const int status = response->status;
  if (status != 200) {
    return Error{status >= 500 ? EAGAIN : EACCES,
                 describe_ + ": HTTP " + std::to_string(status)};
  }
  return ParseCredentialsJson(response->body, describe_);
}

}  // namespace

std::unique_ptr<CredentialsSource> MakeEcsSource(
    EnvLookup env, std::shared_ptr<HttpTransport> transport) {
  return std::make_unique<EcsSource>(std::move(env), std::move(transport));
}

}  // namespace repofs::auth
