#include "util/hash.h"

#include <gtest/gtest.h>

#include "util/encoding.h"

namespace repofs {
namespace {

TEST(Hash, Sha256KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("Welcome to Amazon S3.")),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(Hash, Sha256StreamMatchesOneShot) {
  Sha256Stream s;
  s.Update("Welcome ");
  s.Update("to Amazon S3.");
  EXPECT_EQ(s.Final(), Sha256("Welcome to Amazon S3."));
}

TEST(Hash, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hash, Md5AndCrc32c) {
  EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), 0xE3069283u);
}

// Bitwise reference (the definition of CRC-32C, reflected 0x82F63B78),
// against which the word-at-a-time implementation is checked for every
// length and alignment mix, including chained calls.
uint32_t ReferenceCrc32c(std::string_view data, uint32_t crc = 0) {
  crc = ~crc;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

TEST(Hash, Crc32cOfLargeBuffersMatchesTheBitwiseDefinition) {
  // Sizes on both sides of the three-lane path, odd tails, and chaining
  // from a non-zero CRC.
  std::string data((1 << 20) + 37, '\0');
  uint32_t x = 99;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  for (size_t len : {size_t{12287}, size_t{12288}, size_t{12289}, size_t{65536 + 5},
                     size_t{1} << 20, data.size()}) {
    std::string_view piece(data.data(), len);
    ASSERT_EQ(Crc32c(piece), ReferenceCrc32c(piece)) << len;
    ASSERT_EQ(Crc32c(piece.substr(100), Crc32c(piece.substr(0, 100))),
              ReferenceCrc32c(piece)) << len;
  }
}

TEST(Hash, Crc32cMatchesTheBitwiseDefinition) {
  std::string data(300, '\0');
  uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); len += 7) {
      std::string_view piece(data.data() + start, len);
      ASSERT_EQ(Crc32c(piece), ReferenceCrc32c(piece)) << start << "+" << len;
      const size_t half = len / 3;
      ASSERT_EQ(Crc32c(piece.substr(half), Crc32c(piece.substr(0, half))),
                ReferenceCrc32c(piece));
    }
  }
}

}  // namespace
}  // namespace repofs
