// Small string helpers shared by the parsers (options, INI files, headers).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace repofs {

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::vector<std::string> Split(std::string_view s, char sep);
// Parses a non-negative integer with an optional binary suffix
// (k/K, m/M, g/G, t/T = powers of 1024). nullopt if malformed.
std::optional<uint64_t> ParseSize(std::string_view s);
// Parses a whole number; nullopt if malformed or out of range.
std::optional<int64_t> ParseInt(std::string_view s);

}  // namespace repofs
