#include "util/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>
#include <stdexcept>

#include "util/handles.h"

namespace repofs {
namespace {

using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, CDeleter<EVP_MD_CTX_free>>;

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

std::string Sha256(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Md5(std::string_view data) { return Digest(EVP_md5(), data); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           out, &len) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

namespace {

uint32_t Crc32cTable(std::string_view data, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = MakeCrc32cTable();
  crc = ~crc;
  for (unsigned char c : data) crc = kTable[(crc ^ c) & 0xff] ^ (crc >> 8);
  return ~crc;
}

// CRC combination over GF(2) (as zlib's crc32_combine, for the CRC-32C
// polynomial): the operator that advances a CRC over `len` zero bytes is a
// 32x32 bit matrix; applying it to crc(A) and xoring crc(B) gives crc(A||B).
using Gf2Matrix = std::array<uint32_t, 32>;

uint32_t Gf2Times(const Gf2Matrix& mat, uint32_t vec) {
  uint32_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1) {
    if (vec & 1) sum ^= mat[i];
  }
  return sum;
}

Gf2Matrix Gf2Square(const Gf2Matrix& mat) {
  Gf2Matrix sq{};
  for (int n = 0; n < 32; ++n) sq[n] = Gf2Times(mat, mat[n]);
  return sq;
}

Gf2Matrix Gf2Multiply(const Gf2Matrix& a, const Gf2Matrix& b) {
  Gf2Matrix out{};  // a after b
  for (int n = 0; n < 32; ++n) out[n] = Gf2Times(a, b[n]);
  return out;
}

// The operator "append `len` zero bytes" (len > 0).
Gf2Matrix ZerosOperator(uint64_t len) {
  Gf2Matrix one_bit{};  // one zero bit
  one_bit[0] = 0x82F63B78u;
  for (int n = 1; n < 32; ++n) one_bit[n] = 1u << (n - 1);
  Gf2Matrix power = Gf2Square(Gf2Square(Gf2Square(one_bit)));  // one byte
  Gf2Matrix result{};
  bool have = false;
  for (; len != 0; len >>= 1) {
    if (len & 1) {
      result = have ? Gf2Multiply(power, result) : power;
      have = true;
    }
    power = Gf2Square(power);
  }
  return result;
}

#if defined(__x86_64__)
// Three independent streams hide the instruction's 3-cycle latency: thirds
// of the buffer are checksummed interleaved, then combined (the combine
// operator for the lane length is cached per thread: block sizes repeat).
__attribute__((target("sse4.2"))) uint32_t Crc32cThreeWay(
    const unsigned char* p, size_t lane, uint32_t crc) {
  uint64_t c0 = ~crc, c1 = 0xFFFFFFFFu, c2 = 0xFFFFFFFFu;
  const unsigned char* p1 = p + lane;
  const unsigned char* p2 = p + 2 * lane;
  for (size_t i = 0; i < lane; i += 8) {
    uint64_t w0, w1, w2;
    std::memcpy(&w0, p + i, 8);
    std::memcpy(&w1, p1 + i, 8);
    std::memcpy(&w2, p2 + i, 8);
    c0 = __builtin_ia32_crc32di(c0, w0);
    c1 = __builtin_ia32_crc32di(c1, w1);
    c2 = __builtin_ia32_crc32di(c2, w2);
  }
  thread_local size_t cached_lane = 0;
  thread_local Gf2Matrix shift{};
  if (cached_lane != lane) {
    shift = ZerosOperator(lane);
    cached_lane = lane;
  }
  uint32_t r = ~static_cast<uint32_t>(c0);
  r = Gf2Times(shift, r) ^ ~static_cast<uint32_t>(c1);
  r = Gf2Times(shift, r) ^ ~static_cast<uint32_t>(c2);
  return r;
}

// The SSE4.2 CRC32 instruction computes CRC-32C: 8 bytes per instruction,
// ~20x the table loop (block cache checksums are on the read path).
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(
    std::string_view data, uint32_t crc) {
  constexpr size_t kThreeWayMin = 3 * 4096;
  if (data.size() >= kThreeWayMin) {
    const size_t lane = (data.size() / 24) * 8;
    crc = Crc32cThreeWay(reinterpret_cast<const unsigned char*>(data.data()),
                         lane, crc);
    data.remove_prefix(3 * lane);
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint64_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    c = __builtin_ia32_crc32di(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return ~c32;
}
#endif

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
#if defined(__x86_64__)
  static const bool kHardware = __builtin_cpu_supports("sse4.2");
  if (kHardware) return Crc32cHardware(data, crc);
#endif
  return Crc32cTable(data, crc);
}

struct Sha256Stream::Impl {
  EvpMdCtx ctx{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_DigestInit_ex failed");
  }
}
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size());
}

std::string Sha256Stream::Final() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx.get(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace repofs
