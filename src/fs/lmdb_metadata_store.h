// LmdbMetadataStore: the MetadataStore (metadata_store.h) kept in the
// persistent block cache, so POSIX metadata and symlink targets of object
// versions survive remounts: a listed entry whose version was seen before
// needs no HEAD, even right after a mount.
//
// Entries are BlockCache meta blobs (evicted with the cache's LRU, counted
// in cache_size). Id: one type byte ('p' metadata, 's' symlink target, 'd'
// directory hint, whose etag and last_modified are empty) and the first 16
// bytes of SHA-256(key NUL etag NUL last_modified). Blob: a format byte
// (kFormat) then, for metadata, the `present` bits and a varint per present
// field (mode, uid, gid, zigzag mtime_sec, mtime_nsec); for a symlink, the
// target bytes; for a directory hint, nothing. A blob that does not parse is
// unknown (nullopt, or no hint), costing one request, never a wrong answer.
//
// Ownership: shares the cache. Thread-safety: as BlockCache (all methods
// thread-safe).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/block_cache.h"
#include "fs/metadata_store.h"

namespace repofs::fs {

class LmdbMetadataStore final : public MetadataStore {
 public:
  static constexpr uint8_t kFormat = 1;

  explicit LmdbMetadataStore(std::shared_ptr<cache::BlockCache> cache);

  std::optional<PosixMeta> Get(const VersionKey& version) override;
  void Put(const VersionKey& version, const PosixMeta& meta) override;
  std::optional<std::string> GetSymlinkTarget(
      const VersionKey& version) override;
  void PutSymlinkTarget(const VersionKey& version,
                        std::string_view target) override;
  bool WasDirectory(std::string_view key) override;
  void NoteDirectory(std::string_view key) override;

  // The encodings, exposed for tests.
  static std::string EncodeMeta(const PosixMeta& meta);
  static std::optional<PosixMeta> DecodeMeta(std::string_view blob);

 private:
  static std::string IdOf(char type, const VersionKey& version);

  std::shared_ptr<cache::BlockCache> cache_;
};

}  // namespace repofs::fs
