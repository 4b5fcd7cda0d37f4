#include "fs/dir_listing.h"

#include <algorithm>

#include "fs/attr_mapping.h"
#include "util/log.h"

namespace repofs::fs {
namespace {

void LogInvalidKey(const std::string& key) {
  LogOnce(LogLevel::kWarning, "badkey:" + key,
          "key '" + key + "' cannot be a file name; not shown");
}

// Adds the entry named by `rest` (the key after the directory prefix).
void AddObject(const ObjectInfo& object, std::string_view rest,
               Listing& listing) {
  ListingItem item;
  item.name = std::string(rest);
  item.size = object.size;
  item.etag = CompactEtag(object.etag);
  item.last_modified = object.last_modified;
  listing.items.push_back(std::move(item));
}

void AddPage(const ListPage& page, Listing& listing) {
  const std::string& dir = listing.dir_key;
  for (const ObjectInfo& object : page.objects) {
    if (object.key.size() < dir.size() ||
        object.key.compare(0, dir.size(), dir) != 0) {
      continue;  // not ours (defensive: the server honours the prefix)
    }
    std::string_view rest = std::string_view(object.key).substr(dir.size());
    if (rest.empty()) {
      listing.marker_mtime = object.last_modified;  // our own marker
      continue;
    }
    if (!IsValidName(rest)) {
      LogInvalidKey(object.key);
      continue;
    }
    AddObject(object, rest, listing);
  }
  for (const std::string& prefix : page.common_prefixes) {
    if (prefix.size() <= dir.size() + 1 ||
        prefix.compare(0, dir.size(), dir) != 0) {
      if (prefix.size() == dir.size() + 1) LogInvalidKey(prefix);  // "a//"
      continue;
    }
    std::string_view rest = std::string_view(prefix).substr(
        dir.size(), prefix.size() - dir.size() - 1);
    if (!IsValidName(rest)) {
      LogInvalidKey(prefix);
      continue;
    }
    ListingItem item;
    item.name = std::string(rest);
    item.is_dir = true;
    listing.items.push_back(std::move(item));
  }
}

// Sorts and merges duplicates: "name" as object and as prefix -> directory.
void Normalize(Listing& listing) {
  auto& items = listing.items;
  std::sort(items.begin(), items.end(),
            [](const ListingItem& a, const ListingItem& b) {
              if (a.name != b.name) return a.name < b.name;
              return a.is_dir > b.is_dir;  // directory first
            });
  auto out = items.begin();
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (out != items.begin() && (out - 1)->name == it->name) {
      LogOnce(LogLevel::kWarning, "conflict:" + listing.dir_key + it->name,
              "object '" + listing.dir_key + it->name + "' and keys under '" +
                  listing.dir_key + it->name +
                  "/' both exist; showing a directory");
      continue;
    }
    if (out != it) *out = std::move(*it);
    ++out;
  }
  items.erase(out, items.end());
}

}  // namespace

const ListingItem* Listing::Find(std::string_view name) const {
  auto it = std::lower_bound(items.begin(), items.end(), name,
                             [](const ListingItem& item, std::string_view n) {
                               return item.name < n;
                             });
  if (it == items.end() || it->name != name) return nullptr;
  return &*it;
}

std::shared_ptr<const Listing> ListingOfPage(const ListPage& page,
                                             const std::string& dir_key,
                                             SteadyTime at) {
  auto listing = std::make_shared<Listing>();
  listing->dir_key = dir_key;
  listing->listed_at = at;
  AddPage(page, *listing);
  Normalize(*listing);
  return listing;
}

Result<std::shared_ptr<const Listing>> ListDirectory(ObjectClient& client,
                                                     const std::string& dir_key,
                                                     SteadyTime now) {
  auto listing = std::make_shared<Listing>();
  listing->dir_key = dir_key;
  listing->listed_at = now;
  ListRequest request;
  request.prefix = dir_key;
  request.delimiter.assign(
      1, '/');  // (GCC 12 -Wrestrict false positive with = "/")
  request.max_keys = 1000;
  S3Status status = ListAll(client, request, [&](const ListPage& page) {
    AddPage(page, *listing);
    return true;
  });
  if (!status.ok()) {
    Error error = ToError(status.error());
    error.message = "listing '" + dir_key + "': " + error.message;
    return error;
  }
  Normalize(*listing);
  return std::shared_ptr<const Listing>(std::move(listing));
}

ListingCache::ListingCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

std::shared_ptr<const Listing> ListingCache::GetFresh(Ino dir, SteadyTime now) {
  std::lock_guard lock(mu_);
  auto it = listings_.find(dir);
  if (it == listings_.end()) return nullptr;
  if (it->second->listed_at + ttl_ <= now) return nullptr;
  return it->second;
}

std::shared_ptr<const Listing> ListingCache::GetAny(Ino dir) {
  std::lock_guard lock(mu_);
  auto it = listings_.find(dir);
  return it == listings_.end() ? nullptr : it->second;
}

void ListingCache::Put(Ino dir, std::shared_ptr<const Listing> listing) {
  if (ttl_.count() <= 0) return;
  std::lock_guard lock(mu_);
  PutLocked(dir, std::move(listing));
}

uint64_t ListingCache::ChangeToken() const {
  std::lock_guard lock(mu_);
  return changes_;
}

bool ListingCache::PutIfUnchanged(Ino dir,
                                  std::shared_ptr<const Listing> listing,
                                  uint64_t token) {
  if (ttl_.count() <= 0) return false;
  std::lock_guard lock(mu_);
  auto it = changed_.find(dir);
  if (cleared_ > token || (it != changed_.end() && it->second > token)) {
    return false;
  }
  PutLocked(dir, std::move(listing));
  return true;
}

void ListingCache::PutLocked(Ino dir, std::shared_ptr<const Listing> listing) {
  const SteadyTime now = listing->listed_at;
  // Drop old listings so a tree walk does not keep every directory's
  // listing in memory much longer than the TTL.
  while (!order_.empty() && order_.front().first + ttl_ + kStaleKeep <= now) {
    auto it = listings_.find(order_.front().second);
    if (it != listings_.end() &&
        it->second->listed_at == order_.front().first) {
      listings_.erase(it);
    }
    order_.pop_front();
  }
  auto& slot = listings_[dir];
  if (slot && slot->listed_at > now) return;  // keep the newer one
  slot = std::move(listing);
  order_.emplace_back(now, dir);
}

void ListingCache::Erase(Ino dir) {
  std::lock_guard lock(mu_);
  listings_.erase(dir);
  if (changed_.size() >= kMaxChangedDirs) {
    changed_.clear();  // as if all changed: pending background puts fail
    cleared_ = ++changes_;
  }
  changed_[dir] = ++changes_;
}

void ListingCache::Clear() {
  std::lock_guard lock(mu_);
  listings_.clear();
  order_.clear();
  changed_.clear();
  cleared_ = ++changes_;
}

size_t ListingCache::size() const {
  std::lock_guard lock(mu_);
  return listings_.size();
}

}  // namespace repofs::fs
