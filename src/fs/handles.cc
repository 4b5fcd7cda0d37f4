#include "fs/handles.h"

namespace repofs::fs {

prefetch::ObjectReader& FileHandle::Reader(
    prefetch::ReadaheadContext& context) {
  std::call_once(reader_once_, [&] {
    reader_ = std::make_unique<prefetch::ObjectReader>(
        context, prefetch::ObjectVersion{key_, etag_, size_});
    reader_ptr_.store(reader_.get(), std::memory_order_release);
  });
  return *reader_;
}

DirHandle::~DirHandle() {
  std::lock_guard lock(mu_);
  if (prefetch_) prefetch_->Cancel();
}

std::shared_ptr<AttrPrefetch> DirHandle::Prefetch(
    const std::function<void(AttrPrefetch&)>& start) {
  std::lock_guard lock(mu_);
  if (!prefetch_) {
    prefetch_ = std::make_shared<AttrPrefetch>();
    start(*prefetch_);  // only queues work; never blocks on S3
  }
  return prefetch_;
}

}  // namespace repofs::fs
