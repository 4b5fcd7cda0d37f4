#include "fs/lmdb_metadata_store.h"

#include <utility>

#include "util/hash.h"

namespace repofs::fs {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetU32(std::string_view* in, uint32_t* v) {
  uint64_t wide = 0;
  if (!GetVarint(in, &wide) || wide > 0xffffffffu) return false;
  *v = static_cast<uint32_t>(wide);
  return true;
}

}  // namespace

LmdbMetadataStore::LmdbMetadataStore(std::shared_ptr<cache::BlockCache> cache)
    : cache_(std::move(cache)) {}

std::string LmdbMetadataStore::IdOf(char type, const VersionKey& version) {
  std::string identity;
  identity.reserve(version.key.size() + version.etag.size() + 24);
  identity.append(version.key);
  identity.push_back('\0');
  identity.append(version.etag);
  identity.push_back('\0');
  identity.append(std::to_string(version.last_modified));
  std::string id(1, type);
  id.append(Sha256(identity).substr(0, 16));
  return id;
}

std::string LmdbMetadataStore::EncodeMeta(const PosixMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  out.push_back(static_cast<char>(meta.present));
  if (meta.Has(PosixMeta::kMode)) PutVarint(&out, meta.mode);
  if (meta.Has(PosixMeta::kUid)) PutVarint(&out, meta.uid);
  if (meta.Has(PosixMeta::kGid)) PutVarint(&out, meta.gid);
  if (meta.Has(PosixMeta::kMtime)) {
    auto sec = static_cast<uint64_t>(meta.mtime_sec);
    PutVarint(&out, (sec << 1) ^ static_cast<uint64_t>(meta.mtime_sec >> 63));
    PutVarint(&out, meta.mtime_nsec);
  }
  return out;
}

std::optional<PosixMeta> LmdbMetadataStore::DecodeMeta(std::string_view blob) {
  if (blob.size() < 2 || static_cast<uint8_t>(blob[0]) != kFormat)
    return std::nullopt;
  PosixMeta meta;
  meta.present = static_cast<uint8_t>(blob[1]);
  if ((meta.present & ~0x0f) != 0) return std::nullopt;
  blob.remove_prefix(2);
  if (meta.Has(PosixMeta::kMode) && !GetU32(&blob, &meta.mode))
    return std::nullopt;
  if (meta.Has(PosixMeta::kUid) && !GetU32(&blob, &meta.uid))
    return std::nullopt;
  if (meta.Has(PosixMeta::kGid) && !GetU32(&blob, &meta.gid))
    return std::nullopt;
  if (meta.Has(PosixMeta::kMtime)) {
    uint64_t zigzag = 0;
    if (!GetVarint(&blob, &zigzag) || !GetU32(&blob, &meta.mtime_nsec) ||
        meta.mtime_nsec >= 1000000000u) {
      return std::nullopt;
    }
    meta.mtime_sec =
        static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
  }
  if (!blob.empty()) return std::nullopt;
  return meta;
}

std::optional<PosixMeta> LmdbMetadataStore::Get(const VersionKey& version) {
  std::optional<std::string> blob = cache_->GetMeta(IdOf('p', version));
  if (!blob) return std::nullopt;
  return DecodeMeta(*blob);
}

void LmdbMetadataStore::Put(const VersionKey& version, const PosixMeta& meta) {
  // A version's metadata never changes: skip the write txn when known.
  std::string id = IdOf('p', version);
  std::string blob = EncodeMeta(meta);
  if (cache_->GetMeta(id) == blob) return;
  cache_->PutMeta(id, blob);
}

std::optional<std::string> LmdbMetadataStore::GetSymlinkTarget(
    const VersionKey& version) {
  std::optional<std::string> blob = cache_->GetMeta(IdOf('s', version));
  if (!blob || blob->empty() || static_cast<uint8_t>((*blob)[0]) != kFormat)
    return std::nullopt;
  return blob->substr(1);
}

void LmdbMetadataStore::PutSymlinkTarget(const VersionKey& version,
                                         std::string_view target) {
  std::string blob(1, static_cast<char>(kFormat));
  blob.append(target);
  cache_->PutMeta(IdOf('s', version), blob);
}

bool LmdbMetadataStore::WasDirectory(std::string_view key) {
  std::optional<std::string> blob =
      cache_->GetMeta(IdOf('d', VersionKey{key, "", 0}));
  return blob && blob->size() == 1 &&
         static_cast<uint8_t>((*blob)[0]) == kFormat;
}

void LmdbMetadataStore::NoteDirectory(std::string_view key) {
  // Read first: a listing notes every subdirectory, most already known.
  if (WasDirectory(key)) return;
  cache_->PutMeta(IdOf('d', VersionKey{key, "", 0}),
                  std::string(1, static_cast<char>(kFormat)));
}

}  // namespace repofs::fs
