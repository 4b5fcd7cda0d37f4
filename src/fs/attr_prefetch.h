// AttrPrefetch: the background HEADs of one directory snapshot for
// READDIRPLUS. As soon as a listing is read with attributes, every object
// version whose metadata is unknown is HEADed on the shared head pool
// (bounded by head_parallelism); each READDIRPLUS batch then waits only for
// its own entries, so `ls -l` of 10,000 objects costs parallel HEADs, not
// serial ones. Results are also recorded in the MetadataStore.
//
// Ownership: held by the directory handle through a shared_ptr; queued tasks
// hold another reference, so releasing the handle just Cancel()s (queued
// HEADs are then skipped). The pool, client and store must outlive the
// tasks (Filesystem destroys its pool first).
//
// Thread-safety: thread-safe; one leaf mutex per instance.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/attr_mapping.h"
#include "fs/compact_strings.h"
#include "fs/metadata_store.h"
#include "repofs/object_client.h"
#include "repofs/result.h"
#include "util/thread_pool.h"

namespace repofs::fs {

struct HeadOutcome {
  enum class State { kPending, kFound, kGone, kFailed };
  State state = State::kPending;
  // kFound: the version HEAD saw (may be newer than the listed one).
  uint64_t size = 0;
  std::string etag;
  std::time_t last_modified = 0;
  PosixMeta meta;
  Error error;  // kFailed
};

class AttrPrefetch : public std::enable_shared_from_this<AttrPrefetch> {
 public:
  struct Work {
    size_t index;     // caller's index (listing item), ascending
    std::string key;  // object key to HEAD
  };

  // Queues the HEADs of `work` (ascending indices) on `pool`: a few runner
  // tasks (at most the pool's size) take the items in order, so a listing
  // of 100,000 objects costs neither 100,000 queued closures nor a heap
  // object per result. A runner goes back to the end of the pool's queue
  // after kTurn items, so the HEADs of a directory listed meanwhile (an
  // autoindex page) wait for one turn, not for all 100,000. Call once.
  void Start(ThreadPool& pool, ObjectClient& client, MetadataStore& store,
             std::vector<Work> work);

  // True if `index` has a HEAD queued or done.
  bool Has(size_t index) const;
  // Blocks until the HEAD for `index` has finished (Has(index) must hold).
  HeadOutcome Wait(size_t index);
  // Skips HEADs that have not started yet.
  void Cancel() { cancelled_.store(true); }

  // Items a runner HEADs before it queues itself again.
  static constexpr size_t kTurn = 32;

 private:
  // One work item's result, without a heap allocation (errors aside).
  struct Slot {
    HeadOutcome::State state = HeadOutcome::State::kPending;
    uint64_t size = 0;
    CompactEtag etag;
    std::time_t last_modified = 0;
    PosixMeta meta;
  };
  // Runs up to kTurn of the items not yet taken, in order; then, if some
  // are left, queues itself again.
  void RunTurn(ThreadPool& pool, ObjectClient& client, MetadataStore& store);
  void RunOne(size_t slot, ObjectClient& client, MetadataStore& store);
  std::string_view KeyOf(size_t slot) const {
    const uint32_t begin = slot == 0 ? 0 : key_ends_[slot - 1];
    return std::string_view(keys_).substr(begin, key_ends_[slot] - begin);
  }
  // The slot of listing index `index`, or npos.
  size_t SlotOf(size_t index) const;

  std::atomic<bool> cancelled_{false};
  std::atomic<size_t> next_{0};  // next slot to HEAD
  // Set by Start, read-only afterwards.
  std::vector<uint32_t> indices_;      // listing index per slot, ascending
  std::string keys_;                   // every key, concatenated
  std::vector<uint32_t> key_ends_;     // end of each slot's key in keys_
  // Leaf lock.
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::vector<Slot> slots_;                      // GUARDED_BY(mu_)
  std::unordered_map<size_t, Error> failures_;  // GUARDED_BY(mu_) by slot
};

}  // namespace repofs::fs
