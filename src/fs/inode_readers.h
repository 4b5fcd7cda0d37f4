// InodeReaders: one shared prefetch::ObjectReader per inode, for reads that
// arrive without a file handle (FUSE no-open mode on read-only mounts: the
// kernel sends READ with fh == 0 and never OPEN/RELEASE).
//
// An inode is one object version, so a reader pinned to the inode's version
// (If-Match on every GET) gives the same guarantee as a reader pinned per
// open handle: bytes of one version or EIO, never a mix. Readers are created
// lazily on the first read of an inode and released when the kernel forgets
// the inode (Erase) or when the bounded LRU evicts them (least recently read
// first, `capacity` live readers at most).
//
// Ownership: the table holds shared_ptrs; Get() hands one to the caller, so
// an evicted or erased reader is destroyed only after its last Read()
// returned (ObjectReader's destructor must not run concurrently with Read).
// Readers are destroyed outside the lock. The ReadaheadContext the readers
// borrow must outlive the table.
//
// Thread-safety: every method is thread-safe (one leaf mutex, never held
// while creating or destroying a reader).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fs/types.h"
#include "prefetch/object_reader.h"
#include "repofs/result.h"

namespace repofs::fs {

class InodeReaders {
 public:
  static constexpr size_t kDefaultCapacity = 256;

  explicit InodeReaders(size_t capacity = kDefaultCapacity)
      : capacity_(capacity == 0 ? 1 : capacity) {}
  ~InodeReaders() { Clear(); }
  InodeReaders(const InodeReaders&) = delete;
  InodeReaders& operator=(const InodeReaders&) = delete;

  // Builds the reader of an inode not in the table (called without the
  // lock; may fail, e.g. ENOENT for an unknown inode).
  using Factory =
      std::function<Result<std::unique_ptr<prefetch::ObjectReader>>()>;

  // The reader of `ino`, marked most recently used; created with `make` on
  // a miss. When two threads miss at once, one reader wins and the other is
  // discarded unused. May evict the least recently used reader.
  Result<std::shared_ptr<prefetch::ObjectReader>> Get(Ino ino,
                                                      const Factory& make);

  // The reader of `ino` if there is one (no LRU change, nothing created).
  std::shared_ptr<prefetch::ObjectReader> Find(Ino ino) const;

  // Drops the reader of `ino`, if any (the kernel forgot the inode).
  void Erase(Ino ino);
  // Drops every reader (shutdown).
  void Clear();

  size_t size() const;
  bool Contains(Ino ino) const;
  size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    std::shared_ptr<prefetch::ObjectReader> reader;
    std::list<Ino>::iterator lru;  // position in lru_
  };

  const size_t capacity_;
  // Leaf lock.
  mutable std::mutex mu_;
  std::unordered_map<Ino, Slot> slots_;  // GUARDED_BY(mu_)
  std::list<Ino> lru_;                   // GUARDED_BY(mu_); front = newest
};

}  // namespace repofs::fs
