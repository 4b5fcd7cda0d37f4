#include "fuse/entry_notifier.h"

#include <cerrno>
#include <utility>

#include "fuse/fuse_ops.h"  // fuse_lowlevel.h at the version in use
#include "util/log.h"

namespace repofs::fuse {

EntryNotifier::EntryNotifier(::fuse_session* session)
    : session_(session), thread_([this] { Loop(); }) {}

EntryNotifier::~EntryNotifier() { Stop(); }

void EntryNotifier::Post(std::vector<fs::EntryRef> entries) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    for (fs::EntryRef& e : entries) queue_.push_back(std::move(e));
  }
  wake_.notify_one();
}

void EntryNotifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void EntryNotifier::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    fs::EntryRef entry = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    int rc = fuse_lowlevel_notify_inval_entry(
        session_, entry.parent, entry.name.c_str(), entry.name.size());
    if (rc != 0 && rc != -ENOENT) {
      REPOFS_LOG(kDebug) << "inval_entry '" << entry.name << "': " << rc;
    }
    lock.lock();
  }
}

}  // namespace repofs::fuse
