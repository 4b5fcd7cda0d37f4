// Cryptographic digests over OpenSSL 3 EVP (SHA-256, HMAC-SHA256, MD5) and
// a fast non-cryptographic checksum (CRC32C) for cache blocks.
//
// Results are raw bytes; use HexEncode/Base64Encode for text.
// Thread-safety: pure functions; Sha256Stream is single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace repofs {

std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Md5(std::string_view data);
// CRC-32C (Castagnoli), as used by S3 checksums and ext4.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// Incremental SHA-256 for payloads that do not fit in memory.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string Final();  // raw 32 bytes

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace repofs
