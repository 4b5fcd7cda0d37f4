// The core of `repofs cache stats|verify|prune|clear`: offline operations on
// a cache dir, independent of option parsing and terminal output (the
// command in daemon/cache_command.cc formats and prints).
//
// ReadCacheStats works while a mount uses the dir: it opens the LMDB env
// read-only in this process (LMDB supports readers in other processes; the
// mount keeps writing meanwhile) and never takes the dir lock. Verify,
// Prune and Clear open the cache for writing, so they take the dir lock and
// fail with EBUSY ("cache dir DIR is in use by another repofs (pid N)")
// while it is mounted.
//
// Do not call ReadCacheStats on a dir that this same process has open as a
// BlockCache (LMDB forbids opening one env twice in a process).
// Thread-safety: functions are independent; no shared state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cache/block_cache.h"
#include "repofs/result.h"

namespace repofs::cache {

struct CacheDirStats {
  uint64_t bytes = 0;  // block + metadata bytes indexed
  uint64_t blocks = 0;
  uint64_t objects = 0;
  uint64_t meta_entries = 0;
  uint64_t block_size = 0;
  uint64_t hits = 0;  // persisted lookup counters (all mounts)
  uint64_t misses = 0;
  uint64_t disk_bytes = 0;  // what the data files really occupy
  std::optional<pid_t> in_use_by;
};

// ENOENT when DIR holds no cache index.
Result<CacheDirStats> ReadCacheStats(const std::string& dir);

// Options for the write-side commands: block_size 0 = the one stored in the
// dir; max_bytes / min_free_bytes 0 = no limit (nothing evicted for it).
CacheOptions AdminOptions(const std::string& dir, uint64_t max_bytes,
                          uint64_t min_free_bytes);

// Checks every block's checksum and drops bad ones.
Result<VerifyResult> VerifyCacheDir(
    const CacheOptions& options,
    const std::function<void(uint64_t done, uint64_t total)>& progress);
// Repairs (as at mount) and evicts down to the limits; returns the stats
// after.
Result<CacheStats> PruneCacheDir(const CacheOptions& options);
// Drops every block and metadata entry.
Status ClearCacheDir(const CacheOptions& options);

// "1.5 GiB" style.
std::string FormatBytes(uint64_t bytes);

}  // namespace repofs::cache
