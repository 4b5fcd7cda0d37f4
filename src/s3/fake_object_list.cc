// FakeObjectClient::ListObjects: ListObjectsV2 over the in-memory map.
//
// std::map<std::string> orders keys by unsigned byte value (char_traits<char>
// compares as unsigned char), which is S3's order (UTF-8 binary order).
// Continuation tokens are opaque to callers: base64 of a kind letter ('K'
// last key, 'P' last common prefix) and the last item returned.
#include <algorithm>
#include <optional>
#include <string>

#include "s3/fake_internal.h"
#include "s3/fake_object_client.h"
#include "util/encoding.h"

namespace repofs {
namespace {

struct Marker {
  std::string item;
  bool is_prefix = false;
};

std::string EncodeToken(const Marker& marker) {
  return Base64Encode((marker.is_prefix ? "P" : "K") + marker.item);
}

std::optional<Marker> DecodeToken(const std::string& token) {
  std::optional<std::string> raw = Base64Decode(token);
  if (!raw || raw->empty() || ((*raw)[0] != 'K' && (*raw)[0] != 'P')) {
    return std::nullopt;
  }
  return Marker{raw->substr(1), (*raw)[0] == 'P'};
}

// The smallest string greater than every string starting with `prefix`, or
// nullopt when there is none (prefix is all 0xff bytes).
std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) {
    prefix.pop_back();
  }
  if (prefix.empty()) return std::nullopt;
  prefix.back() =
      static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

S3Result<ListPage> FakeObjectClient::ListObjects(const ListRequest& request) {
  std::lock_guard lock(mu_);
  if (auto error = BeginLocked("ListObjects")) return *error;
  list_requests_.push_back(request);
  return ListLocked(request);
}

S3Result<ListPage> FakeObjectClient::ListLocked(
    const ListRequest& request) const {
  if (request.max_keys < 0) {
    return fake_internal::InvalidRequest("InvalidArgument",
                                         "max-keys must be >= 0");
  }
  const size_t max_keys = static_cast<size_t>(
      std::min(request.max_keys, fake_internal::kMaxListKeys));
  std::optional<Marker> marker;
  if (!request.continuation_token.empty()) {
    marker = DecodeToken(request.continuation_token);
    if (!marker) {
      return fake_internal::InvalidRequest(
          "InvalidArgument", "The continuation token provided is incorrect");
    }
  } else if (!request.start_after.empty()) {
    marker = Marker{request.start_after, false};
  }

  // Iterator past everything starting with `prefix` (used for markers and
  // common prefixes).
  auto past = [this](const std::string& prefix) {
    std::optional<std::string> next = PrefixSuccessor(prefix);
    return next ? objects_.lower_bound(*next) : objects_.end();
  };
  auto it = objects_.lower_bound(request.prefix);
  if (marker && it != objects_.end()) {
    auto after = marker->is_prefix ? past(marker->item)
                                   : objects_.upper_bound(marker->item);
    if (after == objects_.end() || it->first < after->first) it = after;
  }

  ListPage page;
  size_t count = 0;
  Marker last;
  // Bounded by the number of stored objects.
  while (it != objects_.end() && it->first.starts_with(request.prefix)) {
    if (count == max_keys) {
      page.truncated = max_keys > 0;
      break;
    }
    const std::string& key = it->first;
    size_t pos = std::string::npos;
    if (!request.delimiter.empty()) {
      pos = key.find(request.delimiter, request.prefix.size());
    }
    if (pos != std::string::npos) {
      std::string common = key.substr(0, pos + request.delimiter.size());
      it = past(common);
      page.common_prefixes.push_back(common);
      last = Marker{std::move(common), true};
    } else {
      page.objects.push_back(InfoOf(key, it->second, false));
      last = Marker{key, false};
      ++it;
    }
    ++count;
  }
  if (page.truncated) page.next_continuation_token = EncodeToken(last);
  return page;
}

}  // namespace repofs
