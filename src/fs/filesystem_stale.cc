// Filesystem: stale-if-error. When S3 fails after the client's retries
// (unreachable, 5xx, timeouts; the circuit breaker then fails requests fast
// with EIO), what this mount knows is served beyond its TTL: a lookup gets
// the entry bound to the name (or the answer of the directory's last
// listing), OPENDIR gets the last listing, OPEN keeps the version it knows.
// Reads of that version come from the block cache; uncached bytes fail with
// EIO. Logged at most once per kLogInterval. FsOptions::stale_if_error=false
// turns it off (errors are returned as they are).
#include <atomic>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

constexpr std::chrono::seconds kLogInterval{10};
// "Any age" for InodeTable::LookupFresh (milliseconds::max() would overflow
// its nanosecond arithmetic).
constexpr std::chrono::milliseconds kForever = std::chrono::hours(24 * 3650);

void LogStale(std::string_view what, const Error& error) {
  static std::atomic<int64_t> last_log{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_log.load(std::memory_order_relaxed);
  if (now - last < kLogInterval.count() && last != 0) return;
  if (!last_log.compare_exchange_strong(last, now)) return;
  REPOFS_LOG(kWarning) << "S3 failing (" << error.message
                       << "): serving cached '" << what
                       << "' beyond its TTL (stale_if_error; logged at most "
                          "every 10s)";
}

}  // namespace

bool Filesystem::ServeStale(const Error& error, std::string_view what) const {
  if (!options_.stale_if_error) return false;
  // EIO: network failures, 5xx, the breaker's fail-fast; ETIMEDOUT: client
  // timeouts. Answers such as ENOENT, EACCES or ESTALE are S3's word.
  if (error.errno_value != EIO && error.errno_value != ETIMEDOUT) return false;
  LogStale(what, error);
  return true;
}

std::optional<Result<Entry>> Filesystem::StaleLookup(Ino parent,
                                                     std::string_view name,
                                                     const Error& error,
                                                     SteadyTime now) {
  if (!ServeStale(error, name)) return std::nullopt;
  // The entry bound to the name, whatever its age: adds a kernel reference
  // like any lookup. The kernel may keep it for the TTL (the breaker keeps
  // S3 requests cheap meanwhile; the next lookup after it tries S3 again).
  if (auto bound = inodes_.LookupFresh(parent, name, now, kForever)) {
    return MakeEntry(bound->first, ttl_);
  }
  // The kernel forgot the inode meanwhile: the version seen last.
  if (std::optional<std::string> dir_key = DirKeyOf(parent)) {
    if (std::optional<Observation> obs =
            stale_.Get(*dir_key + std::string(name))) {
      Result<InodeInfo> info = inodes_.Bind(parent, name, *obs, 1);
      if (!info.has_value()) return Result<Entry>(info.error());
      return MakeEntry(info->attr, ttl_);
    }
  }
  std::shared_ptr<const Listing> listing = listings_.GetAny(parent);
  if (!listing) return std::nullopt;
  const ListingItem* item = listing->Find(name);
  if (item == nullptr) {
    return Result<Entry>(
        Error{ENOENT, "'" + std::string(name) + "': no such entry"});
  }
  // Needs no request when the version's metadata is known (attr_source=list
  // or stored); otherwise its HEAD fails fast and the error stands.
  Result<std::optional<Observation>> observed =
      ObserveListed(parent, *listing, *item, now);
  if (!observed.has_value() || !observed->has_value()) return std::nullopt;
  Observation obs = std::move(**observed);
  obs.observed_at = listing->listed_at;
  Result<InodeInfo> info = inodes_.Bind(parent, name, obs, 1);
  if (!info.has_value()) return Result<Entry>(info.error());
  return MakeEntry(info->attr, ttl_);
}

std::shared_ptr<const Listing> Filesystem::StaleListing(Ino dir,
                                                        const Error& error) {
  std::shared_ptr<const Listing> listing = listings_.GetAny(dir);
  if (!listing) return nullptr;
  std::optional<std::string> path = inodes_.PathOf(dir);
  if (!ServeStale(error, path ? "/" + *path : "directory")) return nullptr;
  return listing;
}

}  // namespace repofs::fs
