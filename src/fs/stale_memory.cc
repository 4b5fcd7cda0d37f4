#include "fs/stale_memory.h"

namespace repofs::fs {

void StaleMemory::Put(std::string key, const Observation& obs) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second.obs = obs;
    order_.splice(order_.begin(), order_, it->second.position);
    return;
  }
  order_.push_front(key);
  map_.emplace(std::move(key), Slot{obs, order_.begin()});
  while (map_.size() > capacity_) {
    map_.erase(order_.back());
    order_.pop_back();
  }
}

std::optional<Observation> StaleMemory::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second.obs;
}

void StaleMemory::Erase(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return;
  order_.erase(it->second.position);
  map_.erase(it);
}

size_t StaleMemory::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

}  // namespace repofs::fs
