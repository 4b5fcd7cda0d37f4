// Filesystem: directory handles (OPENDIR / READDIR / READDIRPLUS /
// RELEASEDIR).
#include <sys/stat.h>

#include "fs/filesystem.h"
#include "util/log.h"
#include "util/memory.h"

namespace repofs::fs {
namespace {

// Offsets index [".", "..", items...]; an entry's next_offset is its index+1.
constexpr size_t kDotEntries = 2;

std::string_view NameAt(const Listing& listing, size_t index) {
  if (index == 0) return ".";
  if (index == 1) return "..";
  return listing.items[index - kDotEntries].name;
}

}  // namespace

Result<uint64_t> Filesystem::OpenDir(Ino ino) {
  // Pinned while the handle is open: READDIRPLUS binds children to it.
  std::optional<InodeInfo> info = inodes_.Pin(ino);
  if (!info) return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  Result<uint64_t> fh = OpenPinnedDir(*info);
  if (!fh.has_value()) inodes_.Unpin(ino);
  return fh;
}

Result<uint64_t> Filesystem::OpenPinnedDir(const InodeInfo& info) {
  const Ino ino = info.ino;
  if (info.type != FileType::kDirectory) {
    return Error{ENOTDIR,
                 "inode " + std::to_string(ino) + " is not a directory"};
  }
  const SteadyTime now = clock_.SteadyNow();
  std::shared_ptr<const Listing> listing = listings_.GetFresh(ino, now);
  if (!listing) {
    std::optional<std::string> dir_key = DirKeyOf(ino);
    if (!dir_key) return Error{ESTALE, "directory inode vanished"};
    // A create or unlink here while the pages arrive: this handle keeps its
    // snapshot, but the cache must not serve it as current.
    const uint64_t token = listings_.ChangeToken();
    Result<std::shared_ptr<const Listing>> listed =
        ListDirectory(*client_, *dir_key, now);
    if (listed.has_value()) {
      listing = std::move(*listed);
      listings_.PutIfUnchanged(ino, listing, token);
      if (listing->marker_mtime) {
        inodes_.SetDirMtime(ino, *listing->marker_mtime);
      }
    } else {
      listing = StaleListing(ino, listed.error());
      if (!listing) return listed.error();
    }
  }
  return dirs_.Add(std::make_shared<DirHandle>(ino, info.parent, listing));
}

void Filesystem::NoteExpiredLookup(Ino dir, const std::string& dir_key,
                                   size_t items) {
  constexpr size_t kKeysPerPage = 1000;  // ListDirectory's max-keys
  constexpr size_t kMaxCountedDirs = 4096;
  const size_t pages = items / kKeysPerPage + 1;
  {
    std::lock_guard lock(refresh_mu_);
    if (expired_probes_.size() >= kMaxCountedDirs) {
      std::erase_if(expired_probes_, [](const auto& entry) {
        return entry.second != kRelisting;
      });
    }
    uint32_t& probes = expired_probes_[dir];
    if (probes == kRelisting) return;
    if (2 * static_cast<size_t>(++probes) < pages) return;
    probes = kRelisting;
  }
  refresh_pool_.Submit([this, dir, dir_key] {
    const uint64_t token = listings_.ChangeToken();
    Result<std::shared_ptr<const Listing>> listed =
        ListDirectory(*client_, dir_key, clock_.SteadyNow());
    if (listed.has_value()) {
      const std::optional<std::time_t> marker_mtime = (*listed)->marker_mtime;
      const bool big = (*listed)->items.size() >= kTrimAfterEntries;
      if (listings_.PutIfUnchanged(dir, std::move(*listed), token)) {
        if (big) ReturnFreedMemory();  // the listing it replaced
        if (marker_mtime) inodes_.SetDirMtime(dir, *marker_mtime);
        listing_refreshes_.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      REPOFS_LOG(kDebug) << "re-listing '" << dir_key
                         << "': " << listed.error().message;
    }
    std::lock_guard lock(refresh_mu_);
    expired_probes_.erase(dir);
  });
}

void Filesystem::StartPrefetch(DirHandle& dir, AttrPrefetch& prefetch) {
  const Listing& listing = dir.listing();
  std::vector<AttrPrefetch::Work> work;
  for (size_t i = 0; i < listing.items.size(); ++i) {
    const ListingItem& item = listing.items[i];
    if (item.is_dir) continue;
    std::string key = listing.dir_key + item.name;
    std::string etag = item.etag.str();
    if (store_->Get(VersionKey{key, etag, item.last_modified})) continue;
    work.push_back({i, std::move(key)});
  }
  prefetch.Start(head_pool_, *client_, *store_, std::move(work));
}

DirEntry Filesystem::PlainEntry(const DirHandle& dir, size_t index) const {
  const Listing& listing = dir.listing();
  DirEntry entry;
  entry.next_offset = index + 1;
  entry.name = std::string(NameAt(listing, index));
  if (index < kDotEntries) {
    entry.ino = index == 0 ? dir.ino() : dir.parent();
    entry.type = S_IFDIR;
    return entry;
  }
  const ListingItem& item = listing.items[index - kDotEntries];
  entry.type = item.is_dir ? S_IFDIR : S_IFREG;
  // Report the inode number only when the kernel already knows this very
  // version; otherwise "unknown" (no reference may be created by READDIR).
  if (std::optional<InodeInfo> bound = inodes_.Bound(dir.ino(), item.name)) {
    bool same = item.is_dir ? bound->type == FileType::kDirectory
                            : bound->type != FileType::kDirectory &&
                                  item.etag.Equals(bound->etag) &&
                                  bound->last_modified == item.last_modified;
    if (same) {
      entry.ino = bound->ino;
      entry.type = bound->attr.mode & S_IFMT;
    }
  }
  return entry;
}

Result<std::optional<DirEntry>> Filesystem::PlusEntry(DirHandle& dir,
                                                      AttrPrefetch* prefetch,
                                                      size_t index,
                                                      SteadyTime now) {
  const Listing& listing = dir.listing();
  const ListingItem& item = listing.items[index - kDotEntries];
  Result<std::optional<Observation>> observed = std::optional<Observation>();
  const size_t item_index = index - kDotEntries;
  if (prefetch != nullptr && !item.is_dir && prefetch->Has(item_index)) {
    // This entry's metadata was unknown when the listing was first read:
    // wait for its background HEAD only.
    HeadOutcome outcome = prefetch->Wait(item_index);
    if (outcome.state == HeadOutcome::State::kFailed) return outcome.error;
    if (outcome.state == HeadOutcome::State::kGone) {
      return std::optional<DirEntry>();  // deleted since the LIST
    }
    observed = std::optional<Observation>(FileObservation(
        listing.dir_key + item.name, outcome.size, outcome.etag,
        outcome.last_modified, &outcome.meta, listing.listed_at));
  } else {
    observed = ObserveListed(dir.ino(), listing, item, now);
  }
  if (!observed.has_value()) return observed.error();
  if (!observed->has_value()) return std::optional<DirEntry>();
  Result<InodeInfo> info = inodes_.Bind(dir.ino(), item.name, **observed, 1);
  if (!info.has_value()) return info.error();
  DirEntry entry;
  entry.name = item.name;
  entry.ino = info->ino;
  entry.type = info->attr.mode & S_IFMT;
  entry.next_offset = index + 1;
  entry.has_entry = true;
  entry.entry = MakeEntry(info->attr, Remaining(info->validated_at, now));
  return std::optional<DirEntry>(std::move(entry));
}

Result<std::vector<DirEntry>> Filesystem::ReadDir(uint64_t fh, uint64_t offset,
                                                  bool plus,
                                                  const ReserveEntry& reserve) {
  std::shared_ptr<DirHandle> dir = dirs_.Get(fh);
  if (!dir) return Error{EBADF, "unknown directory handle"};
  const Listing& listing = dir->listing();
  const size_t total = listing.items.size() + kDotEntries;
  std::shared_ptr<AttrPrefetch> prefetch;
  if (plus && mapper_.uses_metadata()) {
    prefetch = dir->Prefetch([&](AttrPrefetch& p) { StartPrefetch(*dir, p); });
  }
  const SteadyTime now = clock_.SteadyNow();
  std::vector<DirEntry> out;
  // Entries deleted between LIST and HEAD are skipped; keep going until
  // something is returned or the end, so an empty reply always means EOF.
  size_t index = offset;
  while (out.empty() && index < total) {
    std::vector<size_t> batch;
    for (; index < total && reserve(NameAt(listing, index)); ++index) {
      batch.push_back(index);
    }
    if (batch.empty()) break;
    for (size_t i : batch) {
      if (!plus || i < kDotEntries) {
        out.push_back(PlainEntry(*dir, i));
        continue;
      }
      Result<std::optional<DirEntry>> entry =
          PlusEntry(*dir, prefetch.get(), i, now);
      if (!entry.has_value()) {
        // Return what is ready; the kernel asks again from the failed entry.
        if (out.empty()) return entry.error();
        REPOFS_LOG(kWarning) << "readdirplus: " << entry.error().message;
        return out;
      }
      if (entry->has_value()) out.push_back(std::move(**entry));
    }
  }
  return out;
}

void Filesystem::ReleaseDir(uint64_t fh) {
  std::shared_ptr<DirHandle> dir = dirs_.Remove(fh);
  if (!dir) return;
  inodes_.Unpin(dir->ino());
  const size_t entries = dir->listing().items.size();
  dir.reset();  // the snapshot and its HEAD results, unless still shared
  if (entries >= kTrimAfterEntries) {
    ReturnFreedMemory();
    REPOFS_LOG(kDebug) << "released the handle of a listing of " << entries
                       << " entries; freed memory returned";
  }
}

}  // namespace repofs::fs
