#include "util/time_format.h"

#include <cstdio>
#include <cstring>

namespace repofs {
namespace {

std::string Strftime(std::time_t t, const char* format) {
  std::tm tm_utc{};
  gmtime_r(&t, &tm_utc);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), format, &tm_utc);
  return std::string(buf, n);
}

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed",
                                 "Thu", "Fri", "Sat"};

}  // namespace

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  return Strftime(std::chrono::system_clock::to_time_t(t), "%Y%m%dT%H%M%SZ");
}

std::string FormatDateStamp(std::chrono::system_clock::time_point t) {
  return Strftime(std::chrono::system_clock::to_time_t(t), "%Y%m%d");
}

std::string FormatHttpDate(std::time_t t) {
  // Not strftime("%a %b"): those are locale-dependent.
  std::tm tm_utc{};
  gmtime_r(&t, &tm_utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[tm_utc.tm_wday], tm_utc.tm_mday, kMonths[tm_utc.tm_mon],
                tm_utc.tm_year + 1900, tm_utc.tm_hour, tm_utc.tm_min,
                tm_utc.tm_sec);
  return buf;
}

std::optional<std::time_t> ParseHttpDate(std::string_view text) {
  std::string s(text);
  char day[4] = {}, mon[4] = {}, zone[4] = {};
  std::tm tm_utc{};
  if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", day,
                  &tm_utc.tm_mday, mon, &tm_utc.tm_year, &tm_utc.tm_hour,
                  &tm_utc.tm_min, &tm_utc.tm_sec, zone) != 8 ||
      std::strcmp(zone, "GMT") != 0) {
    return std::nullopt;
  }
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(mon, kMonths[i]) == 0) month = i;
  }
  if (month < 0) return std::nullopt;
  tm_utc.tm_mon = month;
  tm_utc.tm_year -= 1900;
  return timegm(&tm_utc);
}

std::optional<std::time_t> ParseIso8601(std::string_view text) {
  std::string s(text);
  std::tm tm_utc{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm_utc.tm_year,
                  &tm_utc.tm_mon, &tm_utc.tm_mday, &tm_utc.tm_hour,
                  &tm_utc.tm_min, &tm_utc.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    rest.remove_prefix(i);
  }
  if (rest != "Z" && rest != "+00:00" && !rest.empty()) return std::nullopt;
  tm_utc.tm_year -= 1900;
  tm_utc.tm_mon -= 1;
  return timegm(&tm_utc);
}

}  // namespace repofs
