// PassthroughInodes: which inodes the kernel reads itself (FUSE passthrough)
// and with which backing file. A read-only open of a version that the block
// cache holds whole and checked (cache::BlockCache::OpenWhole) can be
// answered "passthrough": the kernel then reads the version's cache data
// file directly, at local-disk speed, and sends no READ for that handle.
//
// The kernel's rules (fs/fuse/iomode.c, Linux 6.9+) shape this class: every
// passthrough open of an inode must use the same backing file, and while an
// inode has passthrough opens the kernel refuses (EIO) every other open of
// it -- page-cached or direct I/O alike -- and a passthrough open while a
// page-cached one exists. So:
//   - a read open joins the inode's backing when it has one; it starts one
//     only when no other handle of the inode is open;
//   - a write open of an inode with a backing is not served on that inode:
//     DetachForWriter unbinds the inode from its name (its readers keep it)
//     and the open returns ESTALE, so the kernel looks the name up again
//     (LOOKUP_REVAL) and opens the same version under a new inode number.
//     For kWriteIntent after that, no new backing is started for that key,
//     so the writer's retry cannot meet a new one.
// The backing file (and the WholeFile pin that keeps eviction off its
// blocks) lives until the inode's last passthrough handle is released.
//
// PassthroughBackings is the kernel side (fuse/ implements it with the
// FUSE_DEV_IOC_BACKING_* ioctls); fs/ never includes a FUSE header.
//
// Thread-safety: thread-safe (one leaf mutex; the backings' ioctls run under
// it, they do not block on the daemon).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/block_cache.h"
#include "fs/inode_table.h"
#include "fs/types.h"

namespace repofs::fs {

class PassthroughBackings {
 public:
  virtual ~PassthroughBackings() = default;
  // Whether the kernel accepted passthrough on this connection (known after
  // FUSE INIT; false before).
  virtual bool enabled() const = 0;
  // Registers `fd` as a backing file: its backing id, or nullopt (the
  // implementation logs why, once, and may turn itself off).
  virtual std::optional<int32_t> Open(int fd) = 0;
  // Unregisters a backing id (open files keep their reference).
  virtual void Close(int32_t backing_id) = 0;
};

inline constexpr std::chrono::seconds kWriteIntent{10};

class PassthroughInodes {
 public:
  // No backings (or disabled ones): every Acquire is a plain open.
  void SetBackings(PassthroughBackings* backings) { backings_ = backings; }
  bool enabled() const { return backings_ != nullptr && backings_->enabled(); }

  // For a new read handle of `ino` (object `key`): the backing id to reply
  // with, or nullopt (a plain open). `open_count()` counts every open handle
  // of the inode including this one (read under the lock, after the new
  // handle's pin); `whole()` asks the cache for the inode's version whole
  // (called only when a new backing is needed).
  std::optional<int32_t> Acquire(
      Ino ino, std::string_view key, SteadyTime now,
      const std::function<uint32_t()>& open_count,
      const std::function<std::optional<cache::WholeFile>()>& whole);
  // A passthrough handle of `ino` is gone.
  void Release(Ino ino);
  // A write open of `ino` (after its pin): true when the inode has a backing
  // (the caller unbinds it and answers ESTALE); notes the write intent.
  bool DetachForWriter(Ino ino, std::string_view key, SteadyTime now);
  // Inodes with passthrough handles (tests, metrics).
  size_t active() const;

 private:
  struct Backing {
    int32_t id = 0;
    uint32_t handles = 0;
    cache::WholeFile file;
  };
  PassthroughBackings* backings_ = nullptr;  // set before the loop starts
  mutable std::mutex mu_;                    // leaf
  std::unordered_map<Ino, Backing> by_inode_;  // GUARDED_BY(mu_)
  // Keys whose writer was sent away, and when (pruned after kWriteIntent).
  std::unordered_map<std::string, SteadyTime> write_intent_;  // GUARDED_BY
};

}  // namespace repofs::fs
