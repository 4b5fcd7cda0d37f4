#include "auth/credentials_chain.h"

#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include "auth/caching_provider.h"
#include "auth/ecs_source.h"
#include "auth/imds_source.h"
#include "auth/profile_file.h"
#include "util/log.h"

namespace repofs::auth {
namespace {

class StaticProvider final : public CredentialsProvider {
 public:
  StaticProvider(Credentials creds, std::string description)
      : creds_(std::move(creds)), description_(std::move(description)) {}
  Result<Credentials> GetCredentials() override { return creds_; }
  std::string Describe() const override { return description_; }

 private:
  const Credentials creds_;
  const std::string description_;
};

class EnvironmentSource final : public CredentialsSource {
 public:
  explicit EnvironmentSource(EnvLookup env) : env_(std::move(env)) {}

  Result<Credentials> Fetch() override {
    Credentials creds;
    creds.access_key_id = EnvValue(env_, "AWS_ACCESS_KEY_ID");
    creds.secret_access_key = EnvValue(env_, "AWS_SECRET_ACCESS_KEY");
    creds.session_token = EnvValue(env_, "AWS_SESSION_TOKEN");
    if (creds.access_key_id.empty() && creds.secret_access_key.empty()) {
      return SourceAbsent("environment", "AWS_ACCESS_KEY_ID not set");
    }
    if (creds.secret_access_key.empty()) {
      return SourceFailed(
          "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
          "is not");
    }
    if (creds.access_key_id.empty()) {
      return SourceFailed(
          "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID "
          "is not");
    }
    return creds;
  }
  std::string Describe() const override { return "environment"; }

 private:
  const EnvLookup env_;
};

// A step that cannot run here (e.g. no $HOME): absent, so the final message
// stays complete, or an error when the user asked for it explicitly.
class UnavailableSource final : public CredentialsSource {
 public:
  UnavailableSource(std::string description, std::string reason, bool fatal)
      : description_(std::move(description)),
        reason_(std::move(reason)),
        fatal_(fatal) {}
  Result<Credentials> Fetch() override {
    if (fatal_) return SourceFailed(description_ + ": " + reason_);
    return SourceAbsent(description_, reason_);
  }
  std::string Describe() const override { return description_; }

 private:
  const std::string description_;
  const std::string reason_;
  const bool fatal_;
};

// Tries its sources in order until one yields; then only that one. Fetch()
// runs on one thread at a time (CachingCredentialsProvider).
class ChainSource final : public CredentialsSource {
 public:
  explicit ChainSource(std::vector<std::unique_ptr<CredentialsSource>> sources)
      : sources_(std::move(sources)) {}

  Result<Credentials> Fetch() override {
    CredentialsSource* winner = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      winner = winner_;
    }
    if (winner != nullptr) return winner->Fetch();
    std::string tried;
    for (const auto& source : sources_) {
      Result<Credentials> r = source->Fetch();
      if (r) {
        REPOFS_LOG(kDebug) << "using AWS credentials from "
                          << source->Describe();
        std::lock_guard<std::mutex> lock(mu_);
        winner_ = source.get();
        return r;
      }
      if (r.error().errno_value != ENOENT)
        return SourceFailed(r.error().message);
      if (!tried.empty()) tried += "; ";
      tried += r.error().message;
    }
    return SourceFailed("no AWS credentials found (tried: " + tried + ")");
  }

  std::string Describe() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return winner_ != nullptr ? winner_->Describe()
                              : "default credentials chain (not resolved)";
  }

 private:
  const std::vector<std::unique_ptr<CredentialsSource>> sources_;
  mutable std::mutex mu_;                // leaf lock
  CredentialsSource* winner_ = nullptr;  // GUARDED_BY(mu_), not owned
};

std::string ExpandHome(const std::string& path, const EnvLookup& env) {
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') {
    std::string home = EnvValue(env, "HOME");
    if (!home.empty()) return home + path.substr(1);
  }
  return path;
}

// $AWS_SHARED_CREDENTIALS_FILE or $HOME/.aws/credentials; "" if neither.
std::string SharedCredentialsPath(const EnvLookup& env) {
  std::string path = EnvValue(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (!path.empty()) return ExpandHome(path, env);
  std::string home = EnvValue(env, "HOME");
  return home.empty() ? std::string() : home + "/.aws/credentials";
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::shared_ptr<CredentialsProvider> MakeStaticCredentials(
    Credentials creds, std::string description) {
  return std::make_shared<StaticProvider>(std::move(creds),
                                          std::move(description));
}

std::unique_ptr<CredentialsSource> MakeEnvironmentSource(EnvLookup env) {
  return std::make_unique<EnvironmentSource>(std::move(env));
}

std::shared_ptr<CredentialsProvider> CreateCredentialsChain(
    const CredentialsOptions& options, std::shared_ptr<HttpTransport> transport,
    const Clock& clock, EnvLookup env) {
  std::string profile = options.profile;
  if (profile.empty()) profile = EnvValue(env, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  const std::string shared_path = SharedCredentialsPath(env);

  std::vector<std::unique_ptr<CredentialsSource>> sources;
  if (!options.credentials_file.empty() || !options.profile.empty()) {
    std::string path = options.credentials_file.empty()
                           ? shared_path
                           : ExpandHome(options.credentials_file, env);
    if (path.empty()) {
      sources.push_back(std::make_unique<UnavailableSource>(
          "credentials file (profile " + profile + ")",
          "HOME and AWS_SHARED_CREDENTIALS_FILE not set", true));
    } else {
      sources.push_back(MakeProfileSource(path, profile, true));
    }
  }
  sources.push_back(MakeEnvironmentSource(env));
  if (shared_path.empty()) {
    sources.push_back(std::make_unique<UnavailableSource>(
        "~/.aws/credentials", "HOME and AWS_SHARED_CREDENTIALS_FILE not set",
        false));
  } else {
    sources.push_back(MakeProfileSource(shared_path, profile, false));
  }
  sources.push_back(MakeEcsSource(env, transport));
  sources.push_back(MakeImdsSource(env, transport));
  return std::make_shared<CachingCredentialsProvider>(
      std::make_unique<ChainSource>(std::move(sources)), clock);
}

}  // namespace repofs::auth
