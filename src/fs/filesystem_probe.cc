// Filesystem::ProbeKey: what a name is on S3 (file, directory, nothing) when
// no fresh listing of its parent answers, with the same requests and a
// latency that does not grow with the directory's size.
#include <future>

#include "fs/filesystem.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

// Entries the children probe of a lookup asks for. Names between "key" and
// "key/" in S3's order ("key.asc", "key-1.0", the object "key" itself) come
// first; with more of them than this the page cannot tell and LIST
// prefix="key/" max-keys=1 decides.
constexpr int kChildrenProbeKeys = 8;

// Whether a LIST prefix="key" delimiter="/" page shows "key/" (true), shows
// that there is none (false: the listing ended, or went past "key/" in S3's
// byte order without it), or cannot tell (nullopt: truncated before it).
std::optional<bool> HasChildrenEntry(const ListPage& page,
                                     const std::string& marker_key) {
  for (const std::string& prefix : page.common_prefixes) {
    if (prefix == marker_key) return true;
  }
  if (!page.truncated) return false;
  // char_traits<char> compares as unsigned char: S3's (UTF-8 byte) order.
  if (!page.objects.empty() && page.objects.back().key > marker_key) {
    return false;
  }
  if (!page.common_prefixes.empty() &&
      page.common_prefixes.back() > marker_key) {
    return false;
  }
  return std::nullopt;
}

using HeadResult = S3Result<std::optional<ObjectInfo>>;

}  // namespace

// The children of "key" are found by one LIST prefix="key" delimiter="/":
// everything under "key/" rolls up into one common prefix, so RGW's cost
// hardly grows with the children (3-4 ms among 100,000, 2-3 ms among 100;
// an ordered LIST prefix="key/" max-keys=1 costs 7-9 ms against 2-3 ms, as
// RGW reads ahead 1,000 entries in every index shard). "key" itself, the
// smallest key with that prefix, comes first if it exists.
// - attr_source=list: that LIST alone. Directories show no marker (as a
//   listing shows them).
// - attr_source=head: in parallel, HEAD "key" (a file's metadata), or HEAD
//   "key/" (a directory marker's metadata) when the name was last seen as
//   a directory: two requests. A directory seen for the first time costs
//   the marker's HEAD after the LIST (a third request, ~2 ms later) so
//   that files and missing names, the common lookups, cost two. A wrong
//   hint costs the missing HEAD afterwards, never a wrong answer.
// nullopt: nothing there.
Result<std::optional<Observation>> Filesystem::ProbeKey(const std::string& key,
                                                        bool seen_as_dir,
                                                        SteadyTime now) {
  const std::string marker_key = key + "/";
  const bool heads = mapper_.uses_metadata();
  auto head_async = [this](std::string k) {
    return lookup_pool_.Async([this, k = std::move(k)] {
      return client_->HeadObject(k);
    });
  };
  std::future<HeadResult> head_key;
  std::future<HeadResult> head_marker;
  if (heads) {
    if (seen_as_dir) {
      head_marker = head_async(marker_key);
    } else {
      head_key = head_async(key);
    }
  }
  ListRequest request;
  request.prefix = key;
  request.delimiter = "/";
  request.max_keys = kChildrenProbeKeys;
  S3Result<ListPage> page = client_->ListObjects(request);
  std::optional<HeadResult> object;
  std::optional<HeadResult> marker;
  if (head_key.valid()) object = head_key.get();
  if (head_marker.valid()) marker = head_marker.get();
  if (!page.has_value()) return ToError(page.error());
  if (object && !object->has_value()) return ToError(object->error());
  if (marker && !marker->has_value()) return ToError(marker->error());

  std::optional<ObjectInfo> listed;
  if (!page->objects.empty() && page->objects.front().key == key) {
    listed = page->objects.front();
  }
  std::optional<bool> children = HasChildrenEntry(*page, marker_key);
  std::optional<ListPage> under;  // LIST prefix="key/" max-keys=1
  if (!children) {  // too many names between "key" and "key/"
    ListRequest first;
    first.prefix = marker_key;
    first.max_keys = 1;
    S3Result<ListPage> got = client_->ListObjects(first);
    if (!got.has_value()) return ToError(got.error());
    children = !got->objects.empty() || !got->common_prefixes.empty();
    under = std::move(*got);
  }
  if (*children) {
    if (object ? (*object)->has_value() : listed.has_value()) {
      LogOnce(LogLevel::kWarning, "conflict:" + key,
              "object '" + key + "' and keys under '" + key +
                  "/' both exist; showing a directory");
    }
    store_->NoteDirectory(key);
    // attr_source=list: no HEAD, and a listing of the parent does not show
    // the marker either, so a directory has the mount time both ways.
    if (!heads) {
      return std::optional<Observation>(DirObservation(std::nullopt, now));
    }
    // The ordered LIST of "key/" has the marker, if any, first.
    if (under) {
      Result<Observation> dir = MarkerDirObservation(*under, marker_key, now);
      if (!dir.has_value()) return dir.error();
      return std::optional<Observation>(std::move(*dir));
    }
    if (!marker) marker = client_->HeadObject(marker_key);
    if (!marker->has_value()) return ToError(marker->error());
    return std::optional<Observation>(MarkerObservation(**marker, now));
  }
  if (!heads) {
    if (!listed) return std::optional<Observation>();
    return std::optional<Observation>(
        FileObservation(key, listed->size, listed->etag,
                        listed->last_modified, nullptr, now));
  }
  if (!object) {  // seen as a directory, and it has no children any more
    if (!listed) return std::optional<Observation>();
    object = client_->HeadObject(key);
    if (!object->has_value()) return ToError(object->error());
  }
  return HeadObservation(key, **object, now);
}

}  // namespace repofs::fs
