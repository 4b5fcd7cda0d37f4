// VersionId: the 128-bit identity of one immutable object version in the
// block cache, the truncated SHA-256 of (key, ETag). A new ETag is a new
// VersionId, so a replaced object can never hit the old object's blocks.
//
// Thread-safety: value type.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace repofs::cache {

struct VersionId {
  std::array<unsigned char, 16> bytes{};

  static VersionId Of(std::string_view key, std::string_view etag);
  // From 16 raw bytes (e.g. an LMDB key); false if `raw` is not 16 bytes.
  static bool FromRaw(std::string_view raw, VersionId* out);
  std::string_view raw() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  std::string Hex() const;
  // Parses 32 lowercase hex digits (data file names).
  static bool FromHex(std::string_view hex, VersionId* out);
  uint64_t Prefix64() const {
    uint64_t v;
    std::memcpy(&v, bytes.data(), sizeof v);
    return v;
  }
  bool operator==(const VersionId&) const = default;
};

struct VersionIdHash {
  size_t operator()(const VersionId& v) const { return v.Prefix64(); }
};

// A block in memory-side sets (verified, pinned, doomed): 64 bits of the
// version id and the exact block number.
struct BlockTag {
  uint64_t version = 0;
  uint64_t block_no = 0;
  bool operator==(const BlockTag&) const = default;
};

struct BlockTagHash {
  size_t operator()(const BlockTag& t) const {
    return t.version ^ (t.block_no * 0x9E3779B97F4A7C15ull);
  }
};

}  // namespace repofs::cache
