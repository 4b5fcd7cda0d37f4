// Filesystem: construction, lookup (the request-cost rules), attributes,
// statfs. Directory and file operations are in filesystem_dir.cc and
// filesystem_file.cc.
#include "fs/filesystem.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

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
      covered_until_(InitialCoverage(clock)),
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
  const std::chrono::milliseconds ttl = EntryTtl(now);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      observed_at + ttl - now);
  return std::clamp(left, std::chrono::milliseconds(0), ttl);
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
  if (!mapper_.uses_metadata() || page.objects.empty() ||
      page.objects.front().key != marker_key) {
    return DirObservation(std::nullopt, at);  // list: as a listing shows it
  }
  Observation obs = DirObservation(page.objects.front().last_modified, at);
  Status meta = ApplyMarkerMeta(page.objects.front(), obs);
  if (!meta.ok()) return meta.error();
  return obs;
}

// A directory whose marker "dir/" was asked for with HEAD (nullopt: no
// marker): its mtime and (attr_source=head) s3fs metadata.
Observation Filesystem::MarkerObservation(
    const std::optional<ObjectInfo>& marker, SteadyTime at) {
  if (!marker) return DirObservation(std::nullopt, at);
  Observation obs = DirObservation(marker->last_modified, at);
  if (mapper_.uses_metadata()) {
    PosixMeta meta = ParseS3fsMetadata(marker->metadata, marker->key);
    store_->Put(VersionKey{marker->key, marker->etag, marker->last_modified},
                meta);
    ApplyDirMeta(meta, obs);
  }
  return obs;
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
    // metadata (mode/owner of a mkdir or chmod): one HEAD of the marker
    // (a LIST prefix="name/" would cost more the more children it has).
    S3Result<std::optional<ObjectInfo>> marker =
        client_->HeadObject(listing.dir_key + item.name + "/");
    if (!marker.has_value()) return ToError(marker.error());
    store_->NoteDirectory(listing.dir_key + item.name);
    return std::optional<Observation>(
        MarkerObservation(*marker, listing.listed_at));
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
  return HeadObservation(key, *head, now);
}

std::optional<Observation> Filesystem::HeadObservation(
    const std::string& key, const std::optional<ObjectInfo>& head,
    SteadyTime now) {
  if (!head) return std::nullopt;
  PosixMeta meta = ParseS3fsMetadata(head->metadata, key);
  store_->Put(VersionKey{key, head->etag, head->last_modified}, meta);
  return FileObservation(key, head->size, head->etag, head->last_modified,
                         &meta, now);
}

void Filesystem::SeedRootListing(const ListPage& page, SteadyTime at) {
  if (page.truncated) return;
  listings_.Put(kRootIno, ListingOfPage(page, options_.prefix, at));
}

Result<Entry> Filesystem::Lookup(Ino parent, std::string_view name) {
  if (!IsValidName(name)) {
    if (name.size() > 255) {
      return Error{ENAMETOOLONG, "name longer than 255 bytes"};
    }
    return NotFound(name);
  }
  const SteadyTime now = clock_.SteadyNow();
  if (auto hit = inodes_.LookupFresh(parent, name, now, EntryTtl(now))) {
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
    const std::string key = *dir_key + std::string(name);
    std::shared_ptr<const Listing> old = listings_.GetAny(parent);
    if (old && old->items.size() >= kRefreshMinItems) {
      NoteExpiredLookup(parent, *dir_key, old->items.size());
    }
    bool seen_as_dir;
    if (std::optional<InodeInfo> bound = inodes_.Bound(parent, name)) {
      seen_as_dir = bound->type == FileType::kDirectory;
    } else if (const ListingItem* item = old ? old->Find(name) : nullptr) {
      seen_as_dir = item->is_dir;
    } else {
      seen_as_dir = store_->WasDirectory(key);
    }
    observed = ProbeKey(key, seen_as_dir, now);
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
  } else if (!before && info->type != FileType::kDirectory) {
    // No inode to compare (never seen, or forgotten by the kernel after an
    // expiry): a change if S3 made it after the last expiry covered.
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
