// Time formats of the S3 wire protocol.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace repofs {

// "20150830T123600Z" (SigV4 x-amz-date).
std::string FormatAmzDate(std::chrono::system_clock::time_point t);
// "20150830" (SigV4 credential scope date).
std::string FormatDateStamp(std::chrono::system_clock::time_point t);
// "Sun, 30 Aug 2015 12:36:00 GMT" (RFC 7231 IMF-fixdate).
std::string FormatHttpDate(std::time_t t);
// Parses IMF-fixdate; nullopt if malformed.
std::optional<std::time_t> ParseHttpDate(std::string_view text);
// Parses ISO 8601 "2009-10-12T17:50:30.000Z" (fraction optional, 'Z' or
// +00:00) as in S3 XML and credential JSON; truncated to seconds.
std::optional<std::time_t> ParseIso8601(std::string_view text);

}  // namespace repofs
