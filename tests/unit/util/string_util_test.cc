#include "util/string_util.h"

#include <gtest/gtest.h>

namespace repofs {
namespace {

TEST(Strings, TrimLowerSplit) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(ToLower("X-Amz-Date"), "x-amz-date");
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
}

TEST(Strings, ParseSizeSuffixesAndErrors) {
  EXPECT_EQ(ParseSize("4096").value(), 4096u);
  EXPECT_EQ(ParseSize("8M").value(), 8u << 20);
  EXPECT_EQ(ParseSize("2g").value(), 2ull << 30);
  EXPECT_FALSE(ParseSize("").has_value());
  EXPECT_FALSE(ParseSize("12x").has_value());
  EXPECT_FALSE(ParseSize("-1").has_value());
  EXPECT_FALSE(ParseSize("99999999999999T").has_value());
}

TEST(Strings, ParseInt) {
  EXPECT_EQ(ParseInt("-12").value(), -12);
  EXPECT_FALSE(ParseInt("1.5").has_value());
}

}  // namespace
}  // namespace repofs
