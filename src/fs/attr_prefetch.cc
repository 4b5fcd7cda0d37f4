#include "fs/attr_prefetch.h"

#include <algorithm>
#include <optional>

namespace repofs::fs {

void AttrPrefetch::Start(ThreadPool& pool, ObjectClient& client,
                         MetadataStore& store, std::vector<Work> work) {
  indices_.reserve(work.size());
  key_ends_.reserve(work.size());
  size_t bytes = 0;
  for (const Work& w : work) bytes += w.key.size();
  keys_.reserve(bytes);
  for (const Work& w : work) {
    indices_.push_back(static_cast<uint32_t>(w.index));
    keys_ += w.key;
    key_ends_.push_back(static_cast<uint32_t>(keys_.size()));
  }
  {
    std::lock_guard lock(mu_);
    slots_.resize(indices_.size());
  }
  const size_t runners =
      std::min(indices_.size(), static_cast<size_t>(std::max(1, pool.size())));
  auto self = shared_from_this();
  for (size_t i = 0; i < runners; ++i) {
    pool.Submit([self, &pool, &client, &store] {
      self->RunTurn(pool, client, store);
    });
  }
}

void AttrPrefetch::RunTurn(ThreadPool& pool, ObjectClient& client,
                           MetadataStore& store) {
  for (size_t n = 0; n < kTurn; ++n) {
    const size_t slot = next_.fetch_add(1);
    if (slot >= indices_.size()) return;
    RunOne(slot, client, store);
  }
  if (next_.load() >= indices_.size()) return;
  // The end of the queue: HEADs queued meanwhile (another directory) first.
  pool.Submit([self = shared_from_this(), &pool, &client, &store] {
    self->RunTurn(pool, client, store);
  });
}

void AttrPrefetch::RunOne(size_t slot, ObjectClient& client,
                          MetadataStore& store) {
  Slot done;
  std::optional<Error> error;
  const std::string key(KeyOf(slot));
  if (cancelled_.load()) {
    error = Error{ECANCELED, "directory handle released"};
  } else {
    S3Result<std::optional<ObjectInfo>> head = client.HeadObject(key);
    if (!head.has_value()) {
      error = ToError(head.error());
    } else if (!head->has_value()) {
      done.state = HeadOutcome::State::kGone;
    } else {
      const ObjectInfo& info = **head;
      done.state = HeadOutcome::State::kFound;
      done.size = info.size;
      done.etag = CompactEtag(info.etag);
      done.last_modified = info.last_modified;
      done.meta = ParseS3fsMetadata(info.metadata, key);
      store.Put(VersionKey{key, info.etag, info.last_modified}, done.meta);
    }
  }
  if (error) done.state = HeadOutcome::State::kFailed;
  {
    std::lock_guard lock(mu_);
    slots_[slot] = std::move(done);
    if (error) failures_.emplace(slot, std::move(*error));
  }
  done_cv_.notify_all();
}

size_t AttrPrefetch::SlotOf(size_t index) const {
  auto it = std::lower_bound(indices_.begin(), indices_.end(), index);
  if (it == indices_.end() || *it != index) return std::string::npos;
  return static_cast<size_t>(it - indices_.begin());
}

bool AttrPrefetch::Has(size_t index) const {
  return SlotOf(index) != std::string::npos;
}

HeadOutcome AttrPrefetch::Wait(size_t index) {
  HeadOutcome outcome;
  const size_t slot = SlotOf(index);
  if (slot == std::string::npos) {
    outcome.state = HeadOutcome::State::kFailed;
    outcome.error = Error{EIO, "no HEAD queued"};
    return outcome;
  }
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] {
    return slots_[slot].state != HeadOutcome::State::kPending;
  });
  const Slot& done = slots_[slot];
  outcome.state = done.state;
  outcome.size = done.size;
  outcome.etag = done.etag.str();
  outcome.last_modified = done.last_modified;
  outcome.meta = done.meta;
  if (auto it = failures_.find(slot); it != failures_.end()) {
    outcome.error = it->second;
  }
  return outcome;
}

}  // namespace repofs::fs
