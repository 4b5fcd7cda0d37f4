// Open handles: FileHandle (a file opened for reading, pinned to one object
// version) and DirHandle (a directory snapshot), and HandleTable, which maps
// the 64-bit `fh` given to the kernel to them.
//
// A FileHandle reads through one prefetch::ObjectReader created on the first
// read (warm nginx requests served from the page cache never read, so open
// stays cheap). The write path (later) adds a writable kind with a staging
// file and a dirty flag; `kind` and `dirty` are its hooks.
//
// Thread-safety: HandleTable is thread-safe (one leaf mutex). FileHandle::
// Reader() is thread-safe; other members are immutable after open. DirHandle
// guards its prefetch state with its own mutex (lock order below).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "fs/attr_prefetch.h"
#include "fs/dir_listing.h"
#include "fs/types.h"
#include "prefetch/object_reader.h"

namespace repofs::fs {

class FileHandle {
 public:
  enum class Kind { kRead };  // kWrite: added by the write path

  FileHandle(Ino ino, std::string key, std::string etag, uint64_t size)
      : ino_(ino), key_(std::move(key)), etag_(std::move(etag)), size_(size) {}

  Ino ino() const { return ino_; }
  const std::string& key() const { return key_; }
  const std::string& etag() const { return etag_; }
  uint64_t size() const { return size_; }
  Kind kind() const { return Kind::kRead; }
  bool dirty() const { return false; }
  // Read by the kernel from a backing file (FUSE passthrough); set before
  // the handle is published in the handle table.
  bool passthrough() const { return passthrough_; }
  void set_passthrough() { passthrough_ = true; }

  // The reader pinned to this handle's version, created on first use.
  prefetch::ObjectReader& Reader(prefetch::ReadaheadContext& context);
  // The reader if the first read has created it, else null.
  prefetch::ObjectReader* ReaderIfAny() const {
    return reader_ptr_.load(std::memory_order_acquire);
  }

 private:
  const Ino ino_;
  const std::string key_;
  const std::string etag_;
  const uint64_t size_;
  bool passthrough_ = false;
  std::once_flag reader_once_;
  std::unique_ptr<prefetch::ObjectReader>
      reader_;  // set once under reader_once_
  std::atomic<prefetch::ObjectReader*> reader_ptr_{nullptr};  // = reader_
};

class DirHandle {
 public:
  DirHandle(Ino ino, Ino parent, std::shared_ptr<const Listing> listing)
      : ino_(ino), parent_(parent), listing_(std::move(listing)) {}
  ~DirHandle();

  Ino ino() const { return ino_; }
  Ino parent() const { return parent_; }
  const Listing& listing() const { return *listing_; }

  // The attribute prefetch of this snapshot; `start` runs once, on the
  // first call, to queue its HEADs.
  std::shared_ptr<AttrPrefetch> Prefetch(
      const std::function<void(AttrPrefetch&)>& start);

 private:
  const Ino ino_;
  const Ino parent_;
  const std::shared_ptr<const Listing> listing_;
  // Lock order: mu_ -> {MetadataStore, AttrPrefetch, ThreadPool} mutexes
  // (taken by `start` inside Prefetch()); nothing else while held.
  std::mutex mu_;
  std::shared_ptr<AttrPrefetch> prefetch_;  // GUARDED_BY(mu_)
};

// Maps fh numbers to handles. Numbers start at 1 and are never reused.
template <typename T>
class HandleTable {
 public:
  uint64_t Add(std::shared_ptr<T> handle) {
    std::lock_guard lock(mu_);
    uint64_t fh = next_++;
    handles_.emplace(fh, std::move(handle));
    return fh;
  }
  std::shared_ptr<T> Get(uint64_t fh) const {
    std::lock_guard lock(mu_);
    auto it = handles_.find(fh);
    return it == handles_.end() ? nullptr : it->second;
  }
  std::shared_ptr<T> Remove(uint64_t fh) {
    std::lock_guard lock(mu_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return nullptr;
    std::shared_ptr<T> handle = std::move(it->second);
    handles_.erase(it);
    return handle;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return handles_.size();
  }
  // Drops every handle (shutdown); they are destroyed outside the lock.
  void Clear() {
    std::unordered_map<uint64_t, std::shared_ptr<T>> dropped;
    {
      std::lock_guard lock(mu_);
      dropped.swap(handles_);
    }
  }

 private:
  // Leaf lock.
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<T>> handles_;  // GUARDED_BY(mu_)
  uint64_t next_ = 1;                                         // GUARDED_BY(mu_)
};

}  // namespace repofs::fs
