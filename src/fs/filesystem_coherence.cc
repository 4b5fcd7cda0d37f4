// Coherent expiry (Filesystem::SetEntryInvalidator in filesystem.h): when a
// lookup or an open finds that S3 changed under a name this mount knew,
// everything validated before that moment expires together, here and in
// the kernel.
//
// Cost control: a change that S3 made before the last expiry's observation
// (minus kClockSkew, for S3's one-second LastModified and clocks) is already
// covered -- everything validated since saw it -- so the rest of one publish
// (Packages.gz, Release, InRelease: renamed within a second or two) costs a
// few expiries, not one per file; each expires only what was validated
// since the previous one.
//
// Settling: what is validated while a publish is in progress may be a pair
// S3 held only for a moment (reprepro renames Packages.gz, then InRelease:
// a look at both in between sees the old InRelease with the new index).
// Trusted for the whole metadata_ttl, such a pair would be served that
// long. So while S3 is settling -- a change seen within kSettlingTime of
// being made -- entries are handed out for kSettlingTtl only, here and to
// the kernel, and the pair lasts until the next look after the publish.
//
// A name without an inode (never looked up, or forgotten by the kernel
// after an expiry told it to) cannot show "another version"; its first
// sight counts as a change when S3 made it after the last expiry covered.
#include <chrono>
#include <utility>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

constexpr std::time_t kClockSkew = 2;  // seconds
constexpr std::time_t kSettlingTime = 2;  // seconds, S3's whole seconds
constexpr std::chrono::milliseconds kSettlingTtl{250};

}  // namespace

void Filesystem::SetEntryInvalidator(EntryInvalidator invalidator) {
  std::lock_guard lock(coherence_mu_);
  invalidator_ = std::move(invalidator);
}

uint64_t Filesystem::coherent_expiries() const {
  std::lock_guard lock(coherence_mu_);
  return coherent_expiries_;
}

std::time_t Filesystem::InitialCoverage(const Clock& clock) {
  // Objects made before the mount (and within the skew of it) are no news.
  return std::chrono::system_clock::to_time_t(clock.Now()) + kClockSkew + 1;
}

std::chrono::milliseconds Filesystem::EntryTtl(SteadyTime now) const {
  const int64_t until = settling_until_ns_.load(std::memory_order_relaxed);
  if (now.time_since_epoch().count() < until) {
    return std::min(ttl_, kSettlingTtl);
  }
  return ttl_;
}

// Written under coherence_mu_ only; read without it by every lookup.
void Filesystem::StartSettling() {
  const int64_t until =
      (clock_.SteadyNow() + std::chrono::seconds(kSettlingTime))
          .time_since_epoch()
          .count();
  settling_until_ns_.store(
      std::max(until, settling_until_ns_.load(std::memory_order_relaxed)),
      std::memory_order_relaxed);
}

void Filesystem::NoteRemoteChange(std::string_view key, std::time_t changed_at,
                                  SteadyTime observed_at) {
  const auto age = clock_.SteadyNow() - observed_at;
  const std::time_t observed_wall = std::chrono::system_clock::to_time_t(
      clock_.Now() -
      std::chrono::duration_cast<std::chrono::system_clock::duration>(age));
  // A vanished object: when it went is unknown; within the TTL before.
  if (changed_at == 0) {
    changed_at = observed_wall -
                 std::chrono::duration_cast<std::chrono::seconds>(ttl_).count();
  }
  std::vector<EntryRef> known;
  EntryInvalidator invalidator;
  {
    std::lock_guard lock(coherence_mu_);
    if (changed_at + kClockSkew < covered_until_) return;
    if (changed_at + kSettlingTime >= observed_wall) StartSettling();
    covered_until_ = std::max(covered_until_, observed_wall);
    ++coherent_expiries_;
    known = inodes_.ExpireFilesValidatedBefore(observed_at);
    listings_.Clear();
    negatives_.Clear();
    invalidator = invalidator_;
  }
  REPOFS_LOG(kDebug) << "'" << key << "' changed on S3: " << known.size()
                     << " entries the kernel knows revalidate";
  if (invalidator && !known.empty()) invalidator(std::move(known));
}

}  // namespace repofs::fs
