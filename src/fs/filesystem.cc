// Filesystem: construction, lookup (the request-cost rules), attributes,
// statfs. Directory and file operations are in filesystem_dir.cc and
// filesystem_file.cc.
#include "fs/filesystem.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <future>

#include "util/log.h"

namespace repofs::fs {
namespace {

constexpr int kLookupThreads = 16;
constexpr int kRefreshThreads = 2;

std::time_t MountTime(const Clock& clock) {
  return std::chrono::system_clock::to_time_t(clock.Now());
}

upload::UploadOptions UploadOptionsOf(const WriteOptions& write) {
  upload::UploadOptions upload;
  upload.staging_dir = write.staging_dir;
  if (upload.staging_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    upload.staging_dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  upload.part_size = write.part_size;
  upload.multipart_threshold =
      std::max<uint64_t>(upload.multipart_threshold, 2 * write.part_size);
  upload.parallelism = std::max(1, write.upload_parallelism);
  return upload;
}

Error NotFound(std::string_view name) {
  return Error{ENOENT, "'" + std::string(name) + "': no such entry"};
}

}  // namespace

Filesystem::Filesystem(std::shared_ptr<ObjectClient> client,
                       const FsOptions& options, const Clock& clock,
                       std::shared_ptr<MetadataStore> store,
                       int transfer_threads,
                       std::shared_ptr<prefetch::CachedChunkSource> cached,
                       std::shared_ptr<prefetch::ReadaheadCounters> counters)
    : client_(std::move(client)),
      options_(options),
      clock_(clock),
      ttl_(std::max(options.metadata_ttl, std::chrono::milliseconds(0))),
      negative_ttl_(
          std::max(options.negative_ttl, std::chrono::milliseconds(0))),
      mapper_(options, MountTime(clock)),
      store_(store ? std::move(store)
                   : std::make_shared<MemoryMetadataStore>()),
      cached_(std::move(cached)),
      upload_options_(UploadOptionsOf(options.write)),
      readahead_(
          cached_
              ? prefetch::ReadaheadContext(
                    cached_,
                    counters ? std::move(counters)
                             : std::make_shared<prefetch::ReadaheadCounters>(),
                    options.readahead, std::max(1, transfer_threads))
              : prefetch::ReadaheadContext(client_, options.readahead,
                                           std::max(1, transfer_threads))),
      inodes_(mapper_.DirAttr(std::nullopt)),
      negatives_(negative_ttl_),
      listings_(ttl_),
      upload_pool_(
          std::max(2, 2 * std::max(1, options.write.upload_parallelism))),
      lookup_pool_(kLookupThreads),
      head_pool_(std::max(1, options.head_parallelism)),
      refresh_pool_(kRefreshThreads) {}

Filesystem::~Filesystem() {
  // Released directory handles cancel their queued HEADs, so the pools
  // (destroyed first, see the header) join without issuing them.
  dirs_.Clear();
}

std::string Filesystem::KeyOf(std::string_view dir_path,
                              std::string_view name) const {
  std::string key = options_.prefix;
  if (!dir_path.empty()) {
    key.append(dir_path);
    key.push_back('/');
  }
  key.append(name);
  return key;
}

std::optional<std::string> Filesystem::DirKeyOf(Ino dir) const {
  std::optional<std::string> path = inodes_.PathOf(dir);
  if (!path) return std::nullopt;
  if (path->empty()) return options_.prefix;
  return options_.prefix + *path + "/";
}

std::chrono::milliseconds Filesystem::Remaining(SteadyTime observed_at,
                                                SteadyTime now) const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      observed_at + ttl_ - now);
  return std::clamp(left, std::chrono::milliseconds(0), ttl_);
}

Entry Filesystem::MakeEntry(const Attr& attr,
                            std::chrono::milliseconds remaining) const {
  Entry entry;
  entry.attr = attr;
  entry.entry_timeout = remaining;
  entry.attr_timeout = remaining;
  return entry;
}

Observation Filesystem::DirObservation(std::optional<std::time_t> marker_mtime,
                                       SteadyTime now) const {
  Observation obs;
  obs.type = FileType::kDirectory;
  obs.attr = mapper_.DirAttr(marker_mtime);
  obs.dir_mtime_known = marker_mtime.has_value();
  obs.observed_at = now;
  return obs;
}

Observation Filesystem::FileObservation(const std::string& key, uint64_t size,
                                        std::string etag,
                                        std::time_t last_modified,
                                        const PosixMeta* meta,
                                        SteadyTime now) const {
  if (mapper_.TypeOf(meta) == FileType::kDirectory) {
    // A legacy s3fs directory object ("dir" with S_IFDIR, no trailing '/').
    LogOnce(LogLevel::kInfo, "dirobject:" + key,
            "object '" + key + "' has a directory mode; showing a directory");
    return DirObservation(last_modified, now);
  }
  Observation obs;
  obs.type = mapper_.TypeOf(meta);
  obs.attr = mapper_.ObjectAttr(size, last_modified, meta);
  obs.etag = std::move(etag);
  obs.last_modified = last_modified;
  obs.observed_at = now;
  return obs;
}

// A directory whose LIST prefix="dir/" max-keys=1 returned `page`: the
// marker "dir/", if it comes first, gives the mtime and (attr_source=head)
// its s3fs metadata (mkdir/chmod by repofs or s3fs).
Result<Observation> Filesystem::MarkerDirObservation(
    const ListPage& page, const std::string& marker_key, SteadyTime at) {
  if (page.objects.empty() || page.objects.front().key != marker_key) {
    return DirObservation(std::nullopt, at);
  }
  Observation obs = DirObservation(page.objects.front().last_modified, at);
  if (mapper_.uses_metadata()) {
    Status meta = ApplyMarkerMeta(page.objects.front(), obs);
    if (!meta.ok()) return meta.error();
  }
  return obs;
}

// A constant cost however many objects the directory holds: LIST
// prefix="key/" max-keys=1 (is it a directory?) and, for the object itself,
// HEAD key (attr_source=head: its metadata is needed) or LIST prefix="key"
// max-keys=1 (attr_source=list: "key" is the smallest key with that prefix,
// so it comes first if it exists; no HEAD at all). Both in parallel, except
// for a key last seen as a directory (store hint): since a directory wins
// over an object of the same name, its children LIST alone answers, and the
// object is asked for only when that LIST is empty. nullopt: nothing there.
Result<std::optional<Observation>> Filesystem::ProbeKey(const std::string& key,
                                                        SteadyTime now) {
  auto list_first = [this](std::string prefix) {
    ListRequest request;
    request.prefix = std::move(prefix);
    request.max_keys = 1;
    return client_->ListObjects(request);
  };
  auto probe_object = [&]() -> S3Result<std::optional<ObjectInfo>> {
    if (mapper_.uses_metadata()) return client_->HeadObject(key);
    S3Result<ListPage> page = list_first(key);
    if (!page.has_value()) return page.error();
    if (!page->objects.empty() && page->objects.front().key == key) {
      return std::optional<ObjectInfo>(page->objects.front());
    }
    return std::optional<ObjectInfo>();
  };
  auto has_children = [](const ListPage& page) {
    return !page.objects.empty() || !page.common_prefixes.empty();
  };
  S3Result<std::optional<ObjectInfo>> object = std::optional<ObjectInfo>();
  S3Result<ListPage> page = ListPage{};
  if (store_->WasDirectory(key)) {
    page = list_first(key + "/");
    if (page.has_value() && !has_children(*page)) object = probe_object();
  } else {
    std::future<S3Result<ListPage>> children =
        lookup_pool_.Async([list_first, key] { return list_first(key + "/"); });
    object = probe_object();
    page = children.get();
  }
  if (!object.has_value()) return ToError(object.error());
  if (!page.has_value()) return ToError(page.error());
  if (has_children(*page)) {
    if (object->has_value()) {
      LogOnce(LogLevel::kWarning, "conflict:" + key,
              "object '" + key + "' and keys under '" + key +
                  "/' both exist; showing a directory");
    }
    Result<Observation> dir = MarkerDirObservation(*page, key + "/", now);
    if (!dir.has_value()) return dir.error();
    store_->NoteDirectory(key);
    return std::optional<Observation>(std::move(*dir));
  }
  if (!object->has_value()) return std::optional<Observation>();
  const ObjectInfo& info = **object;
  if (!mapper_.uses_metadata()) {
    return std::optional<Observation>(FileObservation(
        key, info.size, info.etag, info.last_modified, nullptr, now));
  }
  PosixMeta meta = ParseS3fsMetadata(info.metadata, key);
  store_->Put(VersionKey{key, info.etag, info.last_modified}, meta);
  return std::optional<Observation>(FileObservation(
      key, info.size, info.etag, info.last_modified, &meta, now));
}

// A lookup answered by a fresh listing of the parent: no request unless the
// version's metadata is unknown (attr_source=head), then one HEAD.
Result<std::optional<Observation>> Filesystem::ObserveListed(
    Ino parent, const Listing& listing, const ListingItem& item,
    SteadyTime now) {
  if (item.is_dir) {
    if (!mapper_.uses_metadata()) {
      return std::optional<Observation>(
          DirObservation(std::nullopt, listing.listed_at));
    }
    // Already known and fresh: the same directory as seen then.
    if (std::optional<InodeInfo> bound = inodes_.Bound(parent, item.name)) {
      if (bound->type == FileType::kDirectory &&
          now - bound->validated_at < ttl_) {
        Observation obs;
        obs.type = FileType::kDirectory;
        obs.attr = bound->attr;
        obs.observed_at = bound->validated_at;
        return std::optional<Observation>(std::move(obs));
      }
    }
    // A listing does not say whether "name/" has a marker with s3fs
    // metadata (mode/owner of a mkdir or chmod): one LIST of the marker
    // (plus a HEAD per new marker version, cached by version).
    ListRequest first;
    first.prefix = listing.dir_key + item.name + "/";
    first.max_keys = 1;
    S3Result<ListPage> page = client_->ListObjects(first);
    if (!page.has_value()) return ToError(page.error());
    Result<Observation> dir =
        MarkerDirObservation(*page, first.prefix, listing.listed_at);
    if (!dir.has_value()) return dir.error();
    store_->NoteDirectory(listing.dir_key + item.name);
    return std::optional<Observation>(std::move(*dir));
  }
  const std::string key = listing.dir_key + item.name;
  const std::string etag = item.etag.str();
  if (!mapper_.uses_metadata()) {
    return std::optional<Observation>(FileObservation(
        key, item.size, etag, item.last_modified, nullptr, listing.listed_at));
  }
  if (std::optional<PosixMeta> meta =
          store_->Get(VersionKey{key, etag, item.last_modified})) {
    return std::optional<Observation>(FileObservation(
        key, item.size, etag, item.last_modified, &*meta, listing.listed_at));
  }
  S3Result<std::optional<ObjectInfo>> head = client_->HeadObject(key);
  if (!head.has_value()) return ToError(head.error());
  if (!head->has_value()) return std::optional<Observation>();
  const ObjectInfo& info = **head;
  PosixMeta meta = ParseS3fsMetadata(info.metadata, key);
  store_->Put(VersionKey{key, info.etag, info.last_modified}, meta);
  return std::optional<Observation>(FileObservation(
      key, info.size, info.etag, info.last_modified, &meta, now));
}

Result<Entry> Filesystem::Lookup(Ino parent, std::string_view name) {
  if (!IsValidName(name)) {
    if (name.size() > 255) {
      return Error{ENAMETOOLONG, "name longer than 255 bytes"};
    }
    return NotFound(name);
  }
  const SteadyTime now = clock_.SteadyNow();
  if (auto hit = inodes_.LookupFresh(parent, name, now, ttl_)) {
    return MakeEntry(hit->first, hit->second);
  }
  if (negatives_.Contains(parent, name, now)) return NotFound(name);

  std::optional<InodeInfo> dir = inodes_.Get(parent);
  if (!dir) return Error{ENOENT, "unknown inode " + std::to_string(parent)};
  if (dir->type != FileType::kDirectory) {
    return Error{ENOTDIR,
                 "inode " + std::to_string(parent) + " is not a directory"};
  }
  std::optional<std::string> dir_key = DirKeyOf(parent);
  if (!dir_key) return Error{ESTALE, "directory inode vanished"};

  Result<std::optional<Observation>> observed = std::optional<Observation>();
  if (std::shared_ptr<const Listing> listing =
          listings_.GetFresh(parent, now)) {
    const ListingItem* item = listing->Find(name);
    if (item == nullptr) {
      negatives_.Add(parent, name, now);
      return NotFound(name);
    }
    observed = ObserveListed(parent, *listing, *item, now);
  } else {
    // Listed before, expired since: the names of such a directory tend to
    // be looked up one after another (ls -l after a long READDIRPLUS, nginx
    // serving a tree after the TTL). One re-listing in the background lets
    // the lookups after it answer from the listing instead of a probe each.
    if (std::shared_ptr<const Listing> old = listings_.GetAny(parent);
        old && old->items.size() >= kRefreshMinItems) {
      NoteExpiredLookup(parent, *dir_key, old->items.size());
    }
    observed = ProbeKey(*dir_key + std::string(name), now);
  }
  if (!observed.has_value()) {
    if (auto stale = StaleLookup(parent, name, observed.error(), now)) {
      return std::move(*stale);
    }
    return observed.error();
  }
  // What the name was bound to (expired): a file that is now another
  // version, or gone, is a change on S3 (coherent expiry).
  const std::optional<InodeInfo> before = inodes_.Bound(parent, name);
  const bool was_file = before && before->type != FileType::kDirectory;
  if (!observed->has_value()) {
    if (was_file) NoteRemoteChange(*dir_key + std::string(name), 0, now);
    negatives_.Add(parent, name, now);
    return NotFound(name);
  }
  if (options_.stale_if_error)
    stale_.Put(*dir_key + std::string(name), **observed);
  Result<InodeInfo> info = inodes_.Bind(parent, name, **observed, 1);
  if (!info.has_value()) return info.error();
  if (was_file && info->ino != before->ino) {
    NoteRemoteChange(*dir_key + std::string(name), (*observed)->last_modified,
                     (*observed)->observed_at);
  }
  return MakeEntry(info->attr, Remaining(info->validated_at, now));
}

void Filesystem::Forget(Ino ino, uint64_t nlookup) {
  inodes_.Forget(ino, nlookup);
  // The kernel no longer knows the inode, so it reads it no more: drop its
  // shared reader (no-open mode), if any.
  if (inodes_.nlookup(ino) == 0) inode_readers_.Erase(ino);
}

Result<AttrReply> Filesystem::GetAttr(Ino ino, uint64_t fh) {
  if (std::optional<AttrReply> pending = PendingAttr(ino, fh)) return *pending;
  std::optional<InodeInfo> info = inodes_.Get(ino);
  if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  // An inode is one object version: its attributes never change, so the
  // kernel may keep them for the whole TTL; changes are found by LOOKUP.
  return AttrReply{info->attr, ttl_};
}

StatFsInfo Filesystem::StatFs() const {
  // Object stores have no meaningful capacity: report a large fixed size
  // (1 PiB, like s3fs) so tools that check free space proceed.
  StatFsInfo info;
  info.block_size = kBlockSize;
  info.blocks = (1ull << 50) / kBlockSize;
  info.blocks_free = info.blocks;
  info.blocks_available = info.blocks;
  info.files = 1ull << 32;
  info.files_free = 1ull << 32;
  info.name_max = 255;
  return info;
}

Status Filesystem::RefuseWrite(std::string_view operation) const {
  return Error{EROFS,
               std::string(operation) + ": repofs serves this mount read-only"};
}

}  // namespace repofs::fs
