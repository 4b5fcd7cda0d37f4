// EntryNotifier: tells the kernel to forget dentries
// (fuse_lowlevel_notify_inval_entry) from its own thread. A notification
// must not run in the path of a request that holds the directory's lock
// (a LOOKUP in that directory would deadlock with it), so Filesystem's
// coherent expiry, which happens inside a LOOKUP, posts the dentries here
// and returns.
//
// Ownership: borrows the session, which must outlive Stop(). Thread-safety:
// Post() from any thread; Stop() once, from the owner (also run by the
// destructor). Dentries the kernel no longer has are skipped (-ENOENT).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "fs/write_types.h"

struct fuse_session;

namespace repofs::fuse {

class EntryNotifier {
 public:
  explicit EntryNotifier(::fuse_session* session);
  ~EntryNotifier();
  EntryNotifier(const EntryNotifier&) = delete;
  EntryNotifier& operator=(const EntryNotifier&) = delete;

  // Queues the dentries; returns at once.
  void Post(std::vector<fs::EntryRef> entries);
  // Sends what is queued, then ends the thread. Idempotent.
  void Stop();

 private:
  void Loop();

  ::fuse_session* const session_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<fs::EntryRef> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;           // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace repofs::fuse
