// Compact string storage for per-inode records (100,000 inodes must fit in a
// few tens of MB): PackedString is one pointer to a length-prefixed heap
// buffer (8 bytes instead of std::string's 32 + heap), CompactEtag keeps the
// common MD5 form "<32 hex>[-<parts>]" as 16 raw bytes plus a part count and
// falls back to a PackedString for anything else (other stores' ETags).
//
// Thread-safety: value types; no shared state.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace repofs::fs {

class PackedString {
 public:
  PackedString() = default;
  explicit PackedString(std::string_view s);
  PackedString(const PackedString& other) : PackedString(other.view()) {}
  PackedString& operator=(const PackedString& other) {
    if (this != &other) *this = PackedString(other.view());
    return *this;
  }
  PackedString(PackedString&&) noexcept = default;
  PackedString& operator=(PackedString&&) noexcept = default;

  std::string_view view() const {
    if (!data_) return {};
    uint32_t len;
    std::memcpy(&len, data_.get(), sizeof(len));
    return {data_.get() + sizeof(len), len};
  }
  bool empty() const { return data_ == nullptr; }

 private:
  std::unique_ptr<char[]> data_;  // [uint32 length][bytes]; null when empty
};

class CompactEtag {
 public:
  CompactEtag() = default;
  explicit CompactEtag(std::string_view etag);

  std::string str() const;
  bool operator==(const CompactEtag& other) const;
  bool operator!=(const CompactEtag& other) const { return !(*this == other); }
  bool Equals(std::string_view etag) const;

 private:
  // kind_ 0: empty, 1: md5 (+parts_), 2: other (in other_).
  uint8_t kind_ = 0;
  uint16_t parts_ = 0;  // multipart suffix "-N"; 0 = none
  uint8_t md5_[16] = {};
  PackedString other_;
};

}  // namespace repofs::fs
