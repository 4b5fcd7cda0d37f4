#include "fs/metadata_store.h"

#include <cstring>

#include "util/hash.h"

namespace repofs::fs {
namespace {
// Symlink targets are rare and small; keep a smaller bound.
constexpr size_t kMaxTargets = 100'000;
}  // namespace

MemoryMetadataStore::MemoryMetadataStore(size_t max_versions)
    : max_versions_(max_versions) {}

MemoryMetadataStore::Digest MemoryMetadataStore::DigestOf(
    const VersionKey& version) {
  std::string identity;
  identity.reserve(version.key.size() + version.etag.size() + 24);
  identity.append(version.key);
  identity.push_back('\0');
  identity.append(version.etag);
  identity.push_back('\0');
  identity.append(std::to_string(version.last_modified));
  std::string sha = Sha256(identity);
  Digest d;
  std::memcpy(&d.hi, sha.data(), 8);
  std::memcpy(&d.lo, sha.data() + 8, 8);
  return d;
}

std::optional<PosixMeta> MemoryMetadataStore::Get(const VersionKey& version) {
  Digest d = DigestOf(version);
  std::lock_guard lock(mu_);
  auto it = meta_.find(d);
  if (it == meta_.end()) return std::nullopt;
  return it->second;
}

void MemoryMetadataStore::Put(const VersionKey& version,
                              const PosixMeta& meta) {
  Digest d = DigestOf(version);
  std::lock_guard lock(mu_);
  // Overwrites: a self-copy (chmod) within the same second as the previous
  // version keeps ETag and LastModified, so the last writer's word wins.
  if (!meta_.insert_or_assign(d, meta).second) return;
  AppendBounded(meta_, meta_order_, d, max_versions_);
}

std::optional<std::string> MemoryMetadataStore::GetSymlinkTarget(
    const VersionKey& version) {
  Digest d = DigestOf(version);
  std::lock_guard lock(mu_);
  auto it = targets_.find(d);
  if (it == targets_.end()) return std::nullopt;
  return it->second;
}

void MemoryMetadataStore::PutSymlinkTarget(const VersionKey& version,
                                           std::string_view target) {
  Digest d = DigestOf(version);
  std::lock_guard lock(mu_);
  if (!targets_.emplace(d, std::string(target)).second) return;
  AppendBounded(targets_, target_order_, d, kMaxTargets);
}

bool MemoryMetadataStore::WasDirectory(std::string_view key) {
  Digest d = DigestOf(VersionKey{key, "/", -1});
  std::lock_guard lock(mu_);
  return dirs_.contains(d);
}

void MemoryMetadataStore::NoteDirectory(std::string_view key) {
  Digest d = DigestOf(VersionKey{key, "/", -1});
  std::lock_guard lock(mu_);
  if (!dirs_.insert(d).second) return;
  AppendBounded(dirs_, dir_order_, d, max_versions_);
}

size_t MemoryMetadataStore::size() const {
  std::lock_guard lock(mu_);
  return meta_.size();
}

}  // namespace repofs::fs
