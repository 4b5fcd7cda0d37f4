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
  meta_order_.push_back(d);
  while (meta_.size() > max_versions_ && !meta_order_.empty()) {
    meta_.erase(meta_order_.front());
    meta_order_.pop_front();
  }
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
  target_order_.push_back(d);
  while (targets_.size() > kMaxTargets && !target_order_.empty()) {
    targets_.erase(target_order_.front());
    target_order_.pop_front();
  }
}

bool MemoryMetadataStore::WasDirectory(std::string_view key) {
  Digest d = DigestOf(VersionKey{key, "/", -1});
  std::lock_guard lock(mu_);
  return dirs_.contains(d);
}

void MemoryMetadataStore::NoteDirectory(std::string_view key) {
  Digest d = DigestOf(VersionKey{key, "/", -1});
  std::lock_guard lock(mu_);
  if (!dirs_.emplace(d, true).second) return;
  dir_order_.push_back(d);
  while (dirs_.size() > max_versions_ && !dir_order_.empty()) {
    dirs_.erase(dir_order_.front());
    dir_order_.pop_front();
  }
}

size_t MemoryMetadataStore::size() const {
  std::lock_guard lock(mu_);
  return meta_.size();
}

}  // namespace repofs::fs
