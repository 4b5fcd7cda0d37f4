// Directory listings: one LIST pass (delimiter "/", all pages) turned into a
// sorted snapshot of valid entries, and a cache of recent listings per
// directory inode.
//
// Mapping rules (DESIGN.md "Namespace mapping"):
// - common prefixes are directories (markerless or with a "name/" marker);
// - an object "name" AND keys under "name/" -> one directory entry (logged
//   once);
// - the listed directory's own marker (key == prefix) is not an entry, its
//   LastModified is the directory's mtime;
// - names that cannot be file names (empty segment "a//b", "." / "..",
//   longer than 255 bytes, NUL) are skipped and logged once per key.
//
// Thread-safety: a Listing is immutable once built (shared by dir handles and
// the cache); ListingCache is thread-safe with one leaf mutex.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/compact_strings.h"
#include "fs/inode_table.h"
#include "fs/types.h"
#include "repofs/object_client.h"
#include "repofs/result.h"

namespace repofs::fs {

struct ListingItem {
  std::string name;
  bool is_dir = false;
  // Objects only:
  uint64_t size = 0;
  CompactEtag etag;
  std::time_t last_modified = 0;
};

struct Listing {
  std::string dir_key;  // key prefix of the directory ("" or ending in '/')
  SteadyTime listed_at{};
  std::vector<ListingItem> items;  // sorted by name (byte order), unique
  std::optional<std::time_t> marker_mtime;

  const ListingItem* Find(std::string_view name) const;
};

// Lists `dir_key` (the mount prefix + directory path + '/', or the bare mount
// prefix for the root) with delimiter "/", following every page.
// The listing of `dir_key` that `page` (LIST prefix=dir_key delimiter="/",
// not truncated) is, seen at `at`.
std::shared_ptr<const Listing> ListingOfPage(const ListPage& page,
                                             const std::string& dir_key,
                                             SteadyTime at);

Result<std::shared_ptr<const Listing>> ListDirectory(ObjectClient& client,
                                                     const std::string& dir_key,
                                                     SteadyTime now);

// Recent listings by directory inode, trusted for `ttl`. Expired listings
// are kept for kStaleKeep more (then dropped as new ones arrive) so that
// they can answer when S3 is failing (stale-if-error).
class ListingCache {
 public:
  static constexpr std::chrono::minutes kStaleKeep{15};

  explicit ListingCache(std::chrono::milliseconds ttl);

  std::shared_ptr<const Listing> GetFresh(Ino dir, SteadyTime now);
  // The listing whatever its age (nullptr if none is kept).
  std::shared_ptr<const Listing> GetAny(Ino dir);
  void Put(Ino dir, std::shared_ptr<const Listing> listing);
  // For a listing fetched in the background: take a token before the LIST,
  // and PutIfUnchanged stores the result only if `dir` was not changed here
  // (Erase, Clear) since then; a listing begun before a local create would
  // hide the new name otherwise.
  uint64_t ChangeToken() const;
  bool PutIfUnchanged(Ino dir, std::shared_ptr<const Listing> listing,
                      uint64_t token);
  void Erase(Ino dir);
  // Drops every listing (a directory rename changed keys below it).
  void Clear();
  size_t size() const;

 private:
  const std::chrono::milliseconds ttl_;
  // Leaf lock.
  mutable std::mutex mu_;
  std::unordered_map<Ino, std::shared_ptr<const Listing>>
      listings_;                                  // GUARDED_BY(mu_)
  std::deque<std::pair<SteadyTime, Ino>> order_;  // GUARDED_BY(mu_)
  void PutLocked(Ino dir, std::shared_ptr<const Listing> listing);
  // Change tokens: a counter, the last Erase of each directory and the
  // last Clear (or forgetting of changed_ when it grew too big).
  uint64_t changes_ = 0;                       // GUARDED_BY(mu_)
  std::unordered_map<Ino, uint64_t> changed_;  // GUARDED_BY(mu_)
  uint64_t cleared_ = 0;                       // GUARDED_BY(mu_)
  static constexpr size_t kMaxChangedDirs = 4096;
};

}  // namespace repofs::fs
