// DataFiles: the block data of the cache, one sparse file per object
// version at DIR/data/<2 hex>/<32 hex version id>. Block n of a version
// lives at file offset n * block_size, which is also its offset in the
// object, so any cached range of an object is one contiguous range of one
// file (one fd for a multi-block zero-copy reply). Evicting a block punches
// a hole (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE); the file is deleted
// when its version's last block goes.
//
// Keeps a bounded LRU of open fds. Handed-out fds are shared_ptrs: dropping
// one from the LRU (or unlinking the file) never closes an fd still in use.
//
// Thread-safety: all methods are thread-safe (one internal leaf mutex, never
// held across I/O other than open()).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/version_id.h"
#include "repofs/result.h"
#include "util/handles.h"

namespace repofs::cache {

using SharedFd = std::shared_ptr<const UniqueFd>;

class DataFiles {
 public:
  DataFiles(std::string data_dir, size_t max_open_files);

  const std::string& dir() const { return data_dir_; }
  std::string PathOf(const VersionId& id) const;

  // The open file of `id`; with `create`, creates it (and its fan-out dir).
  // Without `create`, a missing file is ENOENT.
  Result<SharedFd> Open(const VersionId& id, bool create);
  // Writes all of `bytes` at `offset` of `id`'s file (`fd` from Open). The
  // page-aligned whole pages go with O_DIRECT (a second fd) when `bytes`
  // starts on a page boundary in memory, the rest through `fd`: a block
  // written once and read rarely needs no page cache of its own, and the
  // kernel's copy into freshly allocated page-cache pages was the largest
  // cost of a cold read with the cache (on VMs whose freed pages go back
  // to the host, every such page is a host fault too). When the directory's
  // filesystem refuses O_DIRECT (EINVAL), everything is buffered from then
  // on. False with errno set on failure.
  bool Write(const VersionId& id, int fd, std::string_view bytes,
             uint64_t offset);
  // Alignment Write needs in memory and in the file for O_DIRECT.
  static constexpr uint64_t kDirectAlign = 4096;
  bool direct_writes() const {
    return direct_.load(std::memory_order_relaxed);
  }

  // Forgets the cached fd of `id` (fds handed out stay valid).
  void Forget(const VersionId& id);
  // Forget + unlink; a missing file is fine.
  void Remove(const VersionId& id);
  // Releases the bytes [offset, offset + length) of `id`'s file.
  Status PunchHole(const VersionId& id, uint64_t offset, uint64_t length);
  // Size of `id`'s file; nullopt when missing.
  std::optional<uint64_t> FileSize(const VersionId& id) const;
  // Calls `fn(id)` for every data file; removes files and fan-out entries
  // whose name is not a version id (temp or foreign files).
  void ForEach(const std::function<void(const VersionId&)>& fn);
  // Removes every data file.
  void RemoveAll();

 private:
  struct Entry {
    SharedFd fd;
    std::list<VersionId>::iterator lru_pos;
  };
  const std::string data_dir_;
  const size_t max_open_;
  std::atomic<bool> direct_{true};  // O_DIRECT still worth trying
  // Leaf lock.
  std::mutex mu_;
  std::unordered_map<VersionId, Entry, VersionIdHash> open_;  // GUARDED_BY(mu_)
  std::list<VersionId> lru_;  // GUARDED_BY(mu_), most recent at the front
};

}  // namespace repofs::cache
