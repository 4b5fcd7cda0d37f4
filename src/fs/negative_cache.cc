#include "fs/negative_cache.h"

#include <cstring>

namespace repofs::fs {

NegativeCache::NegativeCache(std::chrono::milliseconds ttl, size_t max_entries)
    : ttl_(ttl), max_entries_(max_entries) {}

std::string NegativeCache::KeyOf(Ino parent, std::string_view name) {
  std::string key(sizeof(parent), '\0');
  std::memcpy(key.data(), &parent, sizeof(parent));
  key.append(name);
  return key;
}

void NegativeCache::Add(Ino parent, std::string_view name, SteadyTime now) {
  if (ttl_.count() <= 0) return;
  std::string key = KeyOf(parent, name);
  std::lock_guard lock(mu_);
  // Drop expired and excess entries from the front (oldest first). An entry
  // re-added later has a newer time in `entries_`; its old queue slot is
  // then skipped.
  while (!order_.empty() && (order_.front().first + ttl_ <= now ||
                             entries_.size() >= max_entries_)) {
    auto it = entries_.find(order_.front().second);
    if (it != entries_.end() && it->second == order_.front().first) {
      entries_.erase(it);
    }
    order_.pop_front();
  }
  entries_[key] = now;
  order_.emplace_back(now, std::move(key));
}

bool NegativeCache::Contains(Ino parent, std::string_view name,
                             SteadyTime now) {
  std::string key = KeyOf(parent, name);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (it->second + ttl_ <= now) {
    entries_.erase(it);
    return false;
  }
  return true;
}

void NegativeCache::Erase(Ino parent, std::string_view name) {
  std::string key = KeyOf(parent, name);
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

void NegativeCache::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  order_.clear();
}

size_t NegativeCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace repofs::fs
