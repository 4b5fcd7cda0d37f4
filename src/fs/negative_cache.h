// NegativeCache: names known not to exist, (parent inode, name) -> expiry.
// Trusted for negative_ttl (the kernel gets the same value as the timeout of
// its negative dentry). Bounded: beyond `max_entries` the oldest are dropped.
// The write path (later) must Erase() a name it creates.
//
// Thread-safety: thread-safe; one leaf mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fs/inode_table.h"
#include "fs/types.h"

namespace repofs::fs {

class NegativeCache {
 public:
  NegativeCache(std::chrono::milliseconds ttl, size_t max_entries = 100'000);

  void Add(Ino parent, std::string_view name, SteadyTime now);
  // True if (parent, name) was recorded less than ttl before `now`.
  bool Contains(Ino parent, std::string_view name, SteadyTime now);
  void Erase(Ino parent, std::string_view name);
  // Forgets every entry.
  void Clear();
  size_t size() const;

 private:
  static std::string KeyOf(Ino parent, std::string_view name);

  const std::chrono::milliseconds ttl_;
  const size_t max_entries_;
  // Leaf lock.
  mutable std::mutex mu_;
  std::unordered_map<std::string, SteadyTime> entries_;   // GUARDED_BY(mu_)
  std::deque<std::pair<SteadyTime, std::string>> order_;  // GUARDED_BY(mu_)
};

}  // namespace repofs::fs
