// InodeReaders: the per-inode reader LRU (see the header).
#include "fs/inode_readers.h"

#include <utility>

namespace repofs::fs {

std::shared_ptr<prefetch::ObjectReader> InodeReaders::Find(Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(ino);
  return it == slots_.end() ? nullptr : it->second.reader;
}

Result<std::shared_ptr<prefetch::ObjectReader>> InodeReaders::Get(
    Ino ino, const Factory& make) {
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(ino);
    if (it != slots_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.reader;
    }
  }
  Result<std::unique_ptr<prefetch::ObjectReader>> made = make();
  if (!made.has_value()) return made.error();
  std::shared_ptr<prefetch::ObjectReader> fresh(std::move(*made));
  // Destroyed after the lock is released: a lost race's reader, or evicted.
  std::shared_ptr<prefetch::ObjectReader> dropped;
  std::lock_guard lock(mu_);
  auto it = slots_.find(ino);
  if (it != slots_.end()) {  // another thread created it meanwhile
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    dropped = std::move(fresh);
    return it->second.reader;
  }
  if (slots_.size() >= capacity_) {
    auto victim = slots_.find(lru_.back());
    dropped = std::move(victim->second.reader);
    slots_.erase(victim);
    lru_.pop_back();
  }
  lru_.push_front(ino);
  slots_.emplace(ino, Slot{fresh, lru_.begin()});
  return fresh;
}

void InodeReaders::Erase(Ino ino) {
  // Declared before the lock: destroyed after it is released.
  std::shared_ptr<prefetch::ObjectReader> dropped;
  std::lock_guard lock(mu_);
  auto it = slots_.find(ino);
  if (it == slots_.end()) return;
  dropped = std::move(it->second.reader);
  lru_.erase(it->second.lru);
  slots_.erase(it);
}

void InodeReaders::Clear() {
  std::unordered_map<Ino, Slot> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(slots_);
    lru_.clear();
  }
}

size_t InodeReaders::size() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

bool InodeReaders::Contains(Ino ino) const {
  std::lock_guard lock(mu_);
  return slots_.count(ino) != 0;
}

}  // namespace repofs::fs
