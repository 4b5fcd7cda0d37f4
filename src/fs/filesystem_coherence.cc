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
#include <chrono>
#include <utility>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

constexpr std::time_t kClockSkew = 2;  // seconds

}  // namespace

void Filesystem::SetEntryInvalidator(EntryInvalidator invalidator) {
  std::lock_guard lock(coherence_mu_);
  invalidator_ = std::move(invalidator);
}

uint64_t Filesystem::coherent_expiries() const {
  std::lock_guard lock(coherence_mu_);
  return coherent_expiries_;
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
