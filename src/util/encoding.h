// Byte encodings used on the wire: hex, base64, and the RFC 3986
// percent-encoding that SigV4 and S3 keys need.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace repofs {

// Lower-case hex of the bytes.
std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
// nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

// Percent-encodes every byte except the unreserved set A-Z a-z 0-9 - _ . ~,
// with upper-case hex (SigV4 "UriEncode"). When `keep_slash`, '/' is kept
// (object key paths); otherwise it becomes %2F (query values).
std::string UriEncode(std::string_view text, bool keep_slash);

// Decodes %XX escapes (and '+' as a literal plus). nullopt on a bad escape.
std::optional<std::string> UriDecode(std::string_view text);

}  // namespace repofs
