#include "cache/version_id.h"

#include "util/encoding.h"
#include "util/hash.h"

namespace repofs::cache {

VersionId VersionId::Of(std::string_view key, std::string_view etag) {
  std::string identity;
  identity.reserve(key.size() + etag.size() + 1);
  identity.append(key);
  identity.push_back('\0');  // keys cannot contain NUL: unambiguous
  identity.append(etag);
  std::string sha = Sha256(identity);
  VersionId id;
  std::memcpy(id.bytes.data(), sha.data(), id.bytes.size());
  return id;
}

bool VersionId::FromRaw(std::string_view raw, VersionId* out) {
  if (raw.size() != out->bytes.size()) return false;
  std::memcpy(out->bytes.data(), raw.data(), raw.size());
  return true;
}

std::string VersionId::Hex() const { return HexEncode(raw()); }

bool VersionId::FromHex(std::string_view hex, VersionId* out) {
  if (hex.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    int value = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = hex[2 * i + j];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return false;
      }
      value = value * 16 + d;
    }
    out->bytes[i] = static_cast<unsigned char>(value);
  }
  return true;
}

}  // namespace repofs::cache
