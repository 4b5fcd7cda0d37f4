// CachingCredentialsProvider: a CredentialsProvider over one
// CredentialsSource that caches what the source returns and refreshes
// temporary credentials before they expire.
//
// Policy:
//  - Credentials without an expiration (long-term keys) are fetched once and
//    kept for the life of the provider.
//  - Credentials with an expiration are refreshed when less than
//    `refresh_margin` (5 min) remains. If the refresh fails while the old
//    ones are still valid, the old ones keep being returned, the failure is
//    logged once per failure streak, and the next attempt waits
//    `retry_interval`.
//  - Without valid credentials, a failure is remembered for `retry_interval`
//    (callers get the same error without hammering the source).
//  - Only one refresh runs at a time. While it runs, callers that still have
//    valid credentials get them immediately; the others wait for its result.
//    No lock is held during the source's network I/O.
// All errors are EACCES with the source's message (which never contains
// secrets).
//
// Ownership: owns the source; `clock` must outlive the provider.
// Thread-safety: GetCredentials() and Describe() are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/credentials_source.h"
#include "repofs/clock.h"
#include "repofs/credentials.h"

namespace repofs::auth {

struct CachingOptions {
  std::chrono::seconds refresh_margin{300};
  std::chrono::seconds retry_interval{10};
};

class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::unique_ptr<CredentialsSource> source,
                             const Clock& clock, CachingOptions options = {});

  // Cached or freshly fetched credentials; EACCES when none can be had.
  Result<Credentials> GetCredentials() override;
  // The source's description.
  std::string Describe() const override;

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  bool IsFresh(const Credentials& c, TimePoint now) const;
  static bool IsValid(const Credentials& c, TimePoint now);
  // Runs the fetch (lock released) and records its outcome. Called with
  // `lock` held and refreshing_ just set.
  Result<Credentials> Refresh(std::unique_lock<std::mutex>& lock);

  const std::unique_ptr<CredentialsSource> source_;
  const Clock& clock_;
  const CachingOptions options_;

  // Leaf lock: nothing else is locked while holding it, and it is never held
  // across the source's Fetch().
  std::mutex mu_;
  std::condition_variable refreshed_;
  std::optional<Credentials> cached_;  // GUARDED_BY(mu_)
  std::optional<Error> last_error_;    // GUARDED_BY(mu_)
  TimePoint next_attempt_{};           // GUARDED_BY(mu_)
  bool refreshing_ = false;            // GUARDED_BY(mu_)
  uint64_t generation_ = 0;            // GUARDED_BY(mu_), bumped per fetch
  bool failure_logged_ = false;        // GUARDED_BY(mu_)
};

}  // namespace repofs::auth
