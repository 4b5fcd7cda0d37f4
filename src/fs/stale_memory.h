// StaleMemory: the last observation of recently looked-up paths, kept
// independently of the kernel's references, for stale-if-error. When the
// kernel forgets an inode (memory pressure, drop_caches) the inode table
// frees its record; if S3 then fails, a lookup of that path can still be
// answered with the version seen last (FsOptions::stale_if_error).
//
// Bounded LRU by full object key (directories: their key prefix without the
// trailing '/'); the oldest entries go first. Thread-safety: one leaf mutex.
#pragma once

#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fs/inode_table.h"

namespace repofs::fs {

class StaleMemory {
 public:
  explicit StaleMemory(size_t capacity = kDefaultCapacity)
      : capacity_(capacity) {}

  void Put(std::string key, const Observation& obs);
  std::optional<Observation> Get(const std::string& key) const;
  void Erase(const std::string& key);
  size_t size() const;

  static constexpr size_t kDefaultCapacity = 16384;

 private:
  using Order = std::list<std::string>;
  struct Slot {
    Observation obs;
    Order::iterator position;
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  Order order_;                                 // GUARDED_BY(mu_), newest first
  std::unordered_map<std::string, Slot> map_;   // GUARDED_BY(mu_)
};

}  // namespace repofs::fs
