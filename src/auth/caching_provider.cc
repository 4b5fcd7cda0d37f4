#include "auth/caching_provider.h"

#include <utility>

#include "util/log.h"

namespace repofs::auth {

CachingCredentialsProvider::CachingCredentialsProvider(
    std::unique_ptr<CredentialsSource> source, const Clock& clock,
    CachingOptions options)
    : source_(std::move(source)), clock_(clock), options_(options) {}

std::string CachingCredentialsProvider::Describe() const {
  return source_->Describe();
}

bool CachingCredentialsProvider::IsFresh(const Credentials& c,
                                         TimePoint now) const {
  return !c.expiration || *c.expiration - now > options_.refresh_margin;
}

bool CachingCredentialsProvider::IsValid(const Credentials& c, TimePoint now) {
  return !c.expiration || now < *c.expiration;
}

Result<Credentials> CachingCredentialsProvider::GetCredentials() {
  std::unique_lock<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  if (cached_ && IsFresh(*cached_, now)) return *cached_;
  const bool usable = cached_ && IsValid(*cached_, now);
  if (now < next_attempt_) {
    // Backing off after a recent fetch: serve what we have.
    if (usable) return *cached_;
    if (last_error_) return *last_error_;
  }
  if (refreshing_) {
    if (usable) return *cached_;
    const uint64_t generation = generation_;
    refreshed_.wait(lock, [&] { return generation_ != generation; });
    if (cached_ && IsValid(*cached_, clock_.Now())) return *cached_;
    if (last_error_) return *last_error_;
    return Error{EACCES, "no credentials from " + source_->Describe()};
  }
  refreshing_ = true;
  return Refresh(lock);
}

Result<Credentials> CachingCredentialsProvider::Refresh(
    std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  Result<Credentials> fetched = source_->Fetch();
  lock.lock();
  refreshing_ = false;
  ++generation_;
  const TimePoint now = clock_.Now();
  next_attempt_ = now + options_.retry_interval;
  refreshed_.notify_all();
  if (fetched) {
    cached_ = fetched.value();
    last_error_.reset();
    failure_logged_ = false;
    return *cached_;
  }
  Error error{EACCES, fetched.error().message};
  last_error_ = error;
  if (cached_ && IsValid(*cached_, now)) {
    if (!failure_logged_) {
      failure_logged_ = true;
      auto left = std::chrono::duration_cast<std::chrono::seconds>(
          *cached_->expiration - now);
      REPOFS_LOG(kWarning) << "refreshing credentials failed: " << error.message
                           << "; using the current ones, "
                           << "which expire in " << left.count() << " s";
    }
    return *cached_;
  }
  return error;
}

}  // namespace repofs::auth
