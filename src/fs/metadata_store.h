// MetadataStore: POSIX metadata (and symlink targets) of object versions,
// keyed by (key, ETag, LastModified). LastModified is part of the identity
// because a chmod by self-copy keeps the ETag but changes LastModified.
//
// A listed entry whose version is in the store needs no HEAD. This is the
// seam for the persistent cache: MemoryMetadataStore keeps a bounded map in
// RAM; an LMDB-backed store (cache/) can implement the same interface so the
// knowledge survives remounts.
//
// Thread-safety: implementations are safe for concurrent calls.
#pragma once

#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "fs/attr_mapping.h"

namespace repofs::fs {

struct VersionKey {
  std::string_view key;   // full object key
  std::string_view etag;  // unquoted
  std::time_t last_modified = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  // The metadata recorded for `version`, or nullopt when unknown.
  virtual std::optional<PosixMeta> Get(const VersionKey& version) = 0;
  // Records the metadata of `version` (idempotent; an object version's
  // metadata never changes).
  virtual void Put(const VersionKey& version, const PosixMeta& meta) = 0;
  // The symlink target stored as the body of `version`, if known.
  virtual std::optional<std::string> GetSymlinkTarget(
      const VersionKey& version) = 0;
  virtual void PutSymlinkTarget(const VersionKey& version,
                                std::string_view target) = 0;
  // Directory hints: `key` (no trailing '/') was seen as a directory. A hint
  // only orders a lookup's requests (the LIST of its children first, a HEAD
  // only when that finds none), so a stale hint costs latency, never a wrong
  // answer.
  virtual bool WasDirectory(std::string_view key) = 0;
  virtual void NoteDirectory(std::string_view key) = 0;
};

// In-memory store with a bound on the number of versions; the oldest entries
// are dropped first (they are only an optimisation: a dropped version costs
// one HEAD when seen again). Versions are keyed by a 128-bit digest of the
// identity, so keys are not stored twice.
class MemoryMetadataStore final : public MetadataStore {
 public:
  explicit MemoryMetadataStore(size_t max_versions = 1'000'000);

  std::optional<PosixMeta> Get(const VersionKey& version) override;
  void Put(const VersionKey& version, const PosixMeta& meta) override;
  std::optional<std::string> GetSymlinkTarget(
      const VersionKey& version) override;
  void PutSymlinkTarget(const VersionKey& version,
                        std::string_view target) override;
  bool WasDirectory(std::string_view key) override;
  void NoteDirectory(std::string_view key) override;

  size_t size() const;

 private:
  struct Digest {
    uint64_t hi = 0, lo = 0;
    bool operator==(const Digest&) const = default;
  };
  struct DigestHash {
    size_t operator()(const Digest& d) const { return d.lo ^ (d.hi * 31); }
  };
  static Digest DigestOf(const VersionKey& version);
  // Records `d` (just inserted into `entries`) in insertion order and drops
  // the oldest entries beyond `max`.
  template <typename Container>
  static void AppendBounded(Container& entries, std::deque<Digest>& order,
                            const Digest& d, size_t max) {
    order.push_back(d);
    while (entries.size() > max && !order.empty()) {
      entries.erase(order.front());
      order.pop_front();
    }
  }

  const size_t max_versions_;
  // Leaf lock: never held while calling out.
  mutable std::mutex mu_;
  std::unordered_map<Digest, PosixMeta, DigestHash> meta_;  // GUARDED_BY(mu_)
  std::deque<Digest> meta_order_;                           // GUARDED_BY(mu_)
  std::unordered_map<Digest, std::string, DigestHash>
      targets_;                                  // GUARDED_BY(mu_)
  std::deque<Digest> target_order_;              // GUARDED_BY(mu_)
  std::unordered_set<Digest, DigestHash> dirs_;  // GUARDED_BY(mu_)
  std::deque<Digest> dir_order_;                 // GUARDED_BY(mu_)
};

}  // namespace repofs::fs
