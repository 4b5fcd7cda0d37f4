#include "fs/inode_table.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace repofs::fs {
namespace {

int64_t ToTicks(SteadyTime t) { return t.time_since_epoch().count(); }
SteadyTime FromTicks(int64_t ticks) {
  return SteadyTime(SteadyTime::duration(ticks));
}

}  // namespace

size_t InodeTable::DentryHash::operator()(const DentryKey& k) const {
  size_t h = std::hash<std::string_view>()(k.name);
  return h ^ (k.parent * 0x9e3779b97f4a7c15ull);
}

InodeTable::InodeTable(const Attr& root_attr) {
  Record& root = records_[kRootIno];
  root.ino = kRootIno;
  root.parent = kRootIno;
  root.type = FileType::kDirectory;
  root.mode = root_attr.mode;
  root.uid = root_attr.uid;
  root.gid = root_attr.gid;
  root.mtime_sec = root_attr.mtime.tv_sec;
  root.nlookup = 1;  // the kernel never forgets the root
}

InodeInfo InodeTable::InfoOf(const Record& r) {
  InodeInfo info;
  info.ino = r.ino;
  info.parent = r.parent;
  info.type = r.type;
  info.etag = r.etag.str();
  info.last_modified = r.last_modified;
  // An expired record reports an age beyond any TTL.
  info.validated_at = r.expired ? SteadyTime{} : FromTicks(r.validated_ns);
  info.stale = !r.bound && r.ino != kRootIno;
  Attr& a = info.attr;
  a.ino = r.ino;
  a.mode = r.mode;
  a.uid = r.uid;
  a.gid = r.gid;
  a.mtime = {static_cast<time_t>(r.mtime_sec), static_cast<long>(r.mtime_nsec)};
  if (r.type == FileType::kDirectory) {
    a.nlink = 2;
    a.size = kBlockSize;
    a.blocks = kBlockSize / 512;
  } else {
    a.nlink = 1;
    a.size = r.size;
    a.blocks = (r.size + 511) / 512;
  }
  return info;
}

bool InodeTable::SameObject(const Record& r, const Observation& obs) {
  if (r.type != obs.type) return false;
  if (r.type == FileType::kDirectory) return true;
  return r.last_modified == obs.last_modified && r.size == obs.attr.size &&
         r.etag.Equals(obs.etag);
}

InodeTable::Record* InodeTable::FindBound(Ino parent,
                                          std::string_view name) const {
  auto it = dentries_.find(DentryKey{parent, name});
  return it == dentries_.end() ? nullptr : *it;
}

std::optional<std::pair<Attr, std::chrono::milliseconds>>
InodeTable::LookupFresh(Ino parent, std::string_view name, SteadyTime now,
                        std::chrono::milliseconds ttl) {
  std::lock_guard lock(mu_);
  Record* r = FindBound(parent, name);
  if (r == nullptr) return std::nullopt;
  // Expired (coherent expiry): as old as the clock (stale-if-error may
  // still ask with a ttl that long).
  auto age = now - (r->expired ? SteadyTime{} : FromTicks(r->validated_ns));
  if (age >= ttl) return std::nullopt;
  ++r->nlookup;
  auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(ttl - age);
  return std::make_pair(InfoOf(*r).attr, remaining);
}

InodeTable::Record& InodeTable::Create(Ino parent, std::string_view name,
                                       const Observation& obs) {
  Ino ino = next_ino_++;
  Record& r = records_[ino];
  r.ino = ino;
  r.parent = parent;
  r.name = PackedString(name);
  r.type = obs.type;
  r.mode = obs.attr.mode;
  r.uid = obs.attr.uid;
  r.gid = obs.attr.gid;
  r.mtime_sec = obs.attr.mtime.tv_sec;
  r.mtime_nsec = static_cast<uint32_t>(obs.attr.mtime.tv_nsec);
  if (obs.type != FileType::kDirectory) {
    r.size = obs.attr.size;
    r.etag = CompactEtag(obs.etag);
    r.last_modified = obs.last_modified;
  }
  r.validated_ns = ToTicks(obs.observed_at);
  r.bound = true;
  dentries_.insert(&r);
  ++records_.at(parent).child_refs;
  return r;
}

Result<InodeInfo> InodeTable::Bind(Ino parent, std::string_view name,
                                   const Observation& obs, uint64_t nlookup) {
  std::lock_guard lock(mu_);
  auto pit = records_.find(parent);
  if (pit == records_.end()) {
    return Error{ENOENT, "unknown parent inode " + std::to_string(parent)};
  }
  if (pit->second.type != FileType::kDirectory) {
    return Error{ENOTDIR,
                 "inode " + std::to_string(parent) + " is not a directory"};
  }
  Record* r = FindBound(parent, name);
  const int64_t observed = ToTicks(obs.observed_at);
  if (r != nullptr && SameObject(*r, obs)) {
    if (observed > r->validated_ns) {
      r->validated_ns = observed;
      r->expired = false;
    }
    if (r->type == FileType::kDirectory && obs.dir_mtime_known) {
      r->mtime_sec = obs.attr.mtime.tv_sec;
    }
    if (r->type == FileType::kDirectory && obs.dir_meta_known) {
      SetVersion(*r, obs);
    }
  } else if (r != nullptr && r->validated_ns > observed) {
    // The bound inode was confirmed after this (older) observation was
    // made, e.g. a listing snapshot taken before a lookup saw a new version.
  } else {
    if (r != nullptr) Unbind(*r);
    r = &Create(parent, name, obs);
  }
  r->nlookup += nlookup;
  return InfoOf(*r);
}

std::optional<InodeInfo> InodeTable::Bound(Ino parent,
                                           std::string_view name) const {
  std::lock_guard lock(mu_);
  Record* r = FindBound(parent, name);
  if (r == nullptr) return std::nullopt;
  return InfoOf(*r);
}

std::optional<InodeInfo> InodeTable::Get(Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  if (it == records_.end()) return std::nullopt;
  return InfoOf(it->second);
}

std::optional<std::string> InodeTable::PathOf(Ino ino) const {
  std::lock_guard lock(mu_);
  return PathOfLocked(ino);
}

std::optional<std::string> InodeTable::PathOfLocked(Ino ino) const {
  std::vector<std::string_view> parts;
  // Bounded by kMaxDepth steps: rename may move an inode under a younger
  // directory, so parent numbers are not ordered; the kernel forbids
  // moving a directory below itself, so there is no cycle.
  constexpr int kMaxDepth = 4096;
  for (int depth = 0; ino != kRootIno; ++depth) {
    auto it = records_.find(ino);
    if (it == records_.end() || depth >= kMaxDepth) return std::nullopt;
    parts.push_back(it->second.name.view());
    ino = it->second.parent;
  }
  std::string path;
  for (auto p = parts.rbegin(); p != parts.rend(); ++p) {
    if (!path.empty()) path.push_back('/');
    path.append(*p);
  }
  return path;
}

void InodeTable::Unbind(Record& r) {
  if (!r.bound) return;
  auto it = dentries_.find(DentryKey{r.parent, r.name.view()});
  if (it != dentries_.end() && *it == &r) dentries_.erase(it);
  r.bound = false;
}

void InodeTable::MaybeFree(Record* r) {
  // Freeing a child may make its parent freeable: walk up, bounded by depth.
  while (r != nullptr && r->ino != kRootIno && r->nlookup == 0 &&
         r->open_count == 0 && r->child_refs == 0) {
    Unbind(*r);
    Ino parent = r->parent;
    records_.erase(r->ino);
    auto pit = records_.find(parent);
    if (pit == records_.end()) return;
    --pit->second.child_refs;
    r = &pit->second;
  }
}

void InodeTable::Forget(Ino ino, uint64_t nlookup) {
  std::lock_guard lock(mu_);
  if (ino == kRootIno) return;
  auto it = records_.find(ino);
  if (it == records_.end()) return;
  Record& r = it->second;
  r.nlookup = nlookup >= r.nlookup ? 0 : r.nlookup - nlookup;
  MaybeFree(&r);
}

std::optional<InodeInfo> InodeTable::Pin(Ino ino, std::string* path) {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  if (it == records_.end()) return std::nullopt;
  if (path != nullptr) {
    std::optional<std::string> p = PathOfLocked(ino);
    if (!p) return std::nullopt;
    *path = std::move(*p);
  }
  ++it->second.open_count;
  return InfoOf(it->second);
}

void InodeTable::Unpin(Ino ino) {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  if (it == records_.end() || it->second.open_count == 0) return;
  --it->second.open_count;
  MaybeFree(&it->second);
}

void InodeTable::MarkValidated(Ino ino, SteadyTime when) {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  if (it == records_.end()) return;
  if (ToTicks(when) >= it->second.validated_ns) it->second.expired = false;
  it->second.validated_ns = std::max(it->second.validated_ns, ToTicks(when));
}

std::vector<EntryRef> InodeTable::ExpireFilesValidatedBefore(
    SteadyTime cutoff) {
  const int64_t cut = ToTicks(cutoff);
  std::vector<EntryRef> known;
  std::lock_guard lock(mu_);
  for (auto& [ino, r] : records_) {
    if (!r.bound || r.type == FileType::kDirectory) continue;
    if (r.expired || r.validated_ns >= cut) continue;
    r.expired = true;
    if (r.nlookup > 0)
      known.push_back(EntryRef{r.parent, std::string(r.name.view())});
  }
  return known;
}

void InodeTable::MarkStale(Ino ino) {
  std::lock_guard lock(mu_);
  if (ino == kRootIno) return;
  auto it = records_.find(ino);
  if (it != records_.end()) Unbind(it->second);
}

void InodeTable::SetDirMtime(Ino ino, std::time_t mtime) {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  if (it != records_.end() && it->second.type == FileType::kDirectory) {
    it->second.mtime_sec = mtime;
  }
}

uint32_t InodeTable::OpenCount(Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  return it == records_.end() ? 0 : it->second.open_count;
}

void InodeTable::SetVersion(Record& r, const Observation& obs) {
  r.type = obs.type;
  r.mode = obs.attr.mode;
  r.uid = obs.attr.uid;
  r.gid = obs.attr.gid;
  r.mtime_sec = obs.attr.mtime.tv_sec;
  r.mtime_nsec = static_cast<uint32_t>(obs.attr.mtime.tv_nsec);
  if (obs.type != FileType::kDirectory) {
    r.size = obs.attr.size;
    r.etag = CompactEtag(obs.etag);
    r.last_modified = obs.last_modified;
  }
  if (ToTicks(obs.observed_at) >= r.validated_ns) r.expired = false;
  r.validated_ns = std::max(r.validated_ns, ToTicks(obs.observed_at));
}

Result<InodeInfo> InodeTable::Update(Ino ino, const Observation& obs) {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  if (it == records_.end() || ino == kRootIno) {
    return Error{ENOENT, "unknown inode " + std::to_string(ino)};
  }
  SetVersion(it->second, obs);
  return InfoOf(it->second);
}

Result<InodeInfo> InodeTable::Move(Ino ino, Ino new_parent,
                                   std::string_view new_name,
                                   const Observation* obs) {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  auto pit = records_.find(new_parent);
  if (it == records_.end() || ino == kRootIno || pit == records_.end()) {
    return Error{ENOENT, "unknown inode"};
  }
  if (pit->second.type != FileType::kDirectory) {
    return Error{ENOTDIR, "new parent is not a directory"};
  }
  Record& r = it->second;
  if (Record* there = FindBound(new_parent, new_name); there && there != &r) {
    Unbind(*there);
  }
  Unbind(r);
  if (r.parent != new_parent) {
    auto old = records_.find(r.parent);
    ++pit->second.child_refs;
    r.parent = new_parent;
    if (old != records_.end()) {
      --old->second.child_refs;
      MaybeFree(&old->second);
    }
  }
  r.name = PackedString(new_name);
  if (obs != nullptr) SetVersion(r, *obs);
  r.bound = true;
  dentries_.insert(&r);
  return InfoOf(r);
}

void InodeTable::UnbindDescendantFiles(Ino dir) {
  std::lock_guard lock(mu_);
  for (auto& [ino, r] : records_) {
    if (r.type == FileType::kDirectory || !r.bound) continue;
    Ino up = r.parent;
    for (int depth = 0; depth < 4096 && up != kRootIno; ++depth) {
      if (up == dir) {
        Unbind(r);
        break;
      }
      auto pit = records_.find(up);
      if (pit == records_.end()) break;
      up = pit->second.parent;
    }
  }
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

uint64_t InodeTable::nlookup(Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(ino);
  return it == records_.end() ? 0 : it->second.nlookup;
}

}  // namespace repofs::fs
