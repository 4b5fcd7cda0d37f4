#include "fs/compact_strings.h"

#include <optional>

namespace repofs::fs {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical: keep such ETags verbatim
}

// Parses "<32 lower-case hex>" or "<32 hex>-<1..10000>".
bool ParseMd5Form(std::string_view etag, uint8_t* md5, uint16_t* parts) {
  if (etag.size() < 32) return false;
  for (int i = 0; i < 16; ++i) {
    int hi = HexValue(etag[2 * i]), lo = HexValue(etag[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    md5[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  std::string_view rest = etag.substr(32);
  *parts = 0;
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest.size() > 6 || rest[0] != '-' || rest[1] == '0') {
    return false;
  }
  uint32_t n = 0;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535) return false;
  *parts = static_cast<uint16_t>(n);
  return true;
}

}  // namespace

PackedString::PackedString(std::string_view s) {
  if (s.empty()) return;
  const uint32_t len = static_cast<uint32_t>(s.size());
  data_ = std::make_unique_for_overwrite<char[]>(sizeof(len) + len);
  std::memcpy(data_.get(), &len, sizeof(len));
  std::memcpy(data_.get() + sizeof(len), s.data(), len);
}

CompactEtag::CompactEtag(std::string_view etag) {
  if (etag.empty()) return;
  if (ParseMd5Form(etag, md5_, &parts_)) {
    kind_ = 1;
  } else {
    kind_ = 2;
    other_ = PackedString(etag);
  }
}

std::string CompactEtag::str() const {
  if (kind_ == 0) return {};
  if (kind_ == 2) return std::string(other_.view());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(38);
  for (uint8_t b : md5_) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  if (parts_ != 0) out += "-" + std::to_string(parts_);
  return out;
}

bool CompactEtag::operator==(const CompactEtag& other) const {
  if (kind_ != other.kind_) return false;
  if (kind_ == 1) {
    return parts_ == other.parts_ && std::memcmp(md5_, other.md5_, 16) == 0;
  }
  return other_.view() == other.other_.view();
}

bool CompactEtag::Equals(std::string_view etag) const {
  return *this == CompactEtag(etag);
}

}  // namespace repofs::fs
