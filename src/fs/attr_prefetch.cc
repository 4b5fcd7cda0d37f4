#include "fs/attr_prefetch.h"

namespace repofs::fs {

void AttrPrefetch::Start(ThreadPool& pool, ObjectClient& client,
                         MetadataStore& store, std::vector<Work> work) {
  {
    std::lock_guard lock(mu_);
    for (const Work& w : work) outcomes_[w.index];  // kPending
  }
  auto self = shared_from_this();
  for (Work& w : work) {
    pool.Submit([self, index = w.index, key = std::move(w.key), &client,
                 &store] { self->RunOne(index, key, client, store); });
  }
}

void AttrPrefetch::RunOne(size_t index, const std::string& key,
                          ObjectClient& client, MetadataStore& store) {
  HeadOutcome outcome;
  if (cancelled_.load()) {
    outcome.state = HeadOutcome::State::kFailed;
    outcome.error = Error{ECANCELED, "directory handle released"};
  } else {
    S3Result<std::optional<ObjectInfo>> head = client.HeadObject(key);
    if (!head.has_value()) {
      outcome.state = HeadOutcome::State::kFailed;
      outcome.error = ToError(head.error());
    } else if (!head->has_value()) {
      outcome.state = HeadOutcome::State::kGone;
    } else {
      const ObjectInfo& info = **head;
      outcome.state = HeadOutcome::State::kFound;
      outcome.size = info.size;
      outcome.etag = info.etag;
      outcome.last_modified = info.last_modified;
      outcome.meta = ParseS3fsMetadata(info.metadata, key);
      store.Put(VersionKey{key, info.etag, info.last_modified}, outcome.meta);
    }
  }
  {
    std::lock_guard lock(mu_);
    outcomes_[index] = std::move(outcome);
  }
  done_cv_.notify_all();
}

bool AttrPrefetch::Has(size_t index) const {
  std::lock_guard lock(mu_);
  return outcomes_.count(index) != 0;
}

HeadOutcome AttrPrefetch::Wait(size_t index) {
  std::unique_lock lock(mu_);
  auto it = outcomes_.find(index);
  if (it == outcomes_.end()) {
    HeadOutcome none;
    none.state = HeadOutcome::State::kFailed;
    none.error = Error{EIO, "no HEAD queued"};
    return none;
  }
  // unordered_map references stay valid across inserts; only RunOne writes.
  done_cv_.wait(
      lock, [&] { return it->second.state != HeadOutcome::State::kPending; });
  return it->second;
}

}  // namespace repofs::fs
