#include "util/time_format.h"

#include <gtest/gtest.h>

namespace repofs {
namespace {

TEST(TimeFormat, AmzDateAndStamp) {
  auto t = std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30T12:36:00Z
  EXPECT_EQ(FormatAmzDate(t), "20150830T123600Z");
  EXPECT_EQ(FormatDateStamp(t), "20150830");
}

TEST(TimeFormat, HttpDateRoundTrip) {
  EXPECT_EQ(FormatHttpDate(1440938160), "Sun, 30 Aug 2015 12:36:00 GMT");
  EXPECT_EQ(ParseHttpDate("Sun, 30 Aug 2015 12:36:00 GMT").value(), 1440938160);
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
  EXPECT_FALSE(ParseHttpDate("Sun, 30 Foo 2015 12:36:00 GMT").has_value());
}

TEST(TimeFormat, Iso8601WithAndWithoutFraction) {
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00.000Z").value(), 1440938160);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00Z").value(), 1440938160);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00.999Z").value(), 1440938160);
  EXPECT_FALSE(ParseIso8601("2015-08-30").has_value());
  EXPECT_FALSE(ParseIso8601("2015-08-30T12:36:00+02:00").has_value());
}

}  // namespace
}  // namespace repofs
