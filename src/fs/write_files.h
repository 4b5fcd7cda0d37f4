// The write path's state: files open for writing (OpenFile, one per inode,
// shared by every write handle of that inode), the handles the kernel holds
// on them (WriteHandle, in WriteFiles), and local copies of object versions
// that were replaced or deleted while this process had them open for
// reading (PreservedCopies).
//
// An OpenFile is the next version of one object: its content is an
// upload::PendingObject (a staging file), loaded from the committed `base`
// version only when first needed (a write, read or truncate that is not
// to 0), plus the s3fs metadata to upload (mode/uid/gid/mtime). It is
// committed at FLUSH/FSYNC (Filesystem::Flush) and dropped when its last
// handle is released.
//
// Write handle numbers carry kWriteHandleBit so that Filesystem::Read and
// Release can tell them from read handles (HandleTable numbers are small).
//
// Thread-safety: WriteFiles and PreservedCopies are thread-safe (one leaf
// mutex each). OpenFile fields are guarded by OpenFile::mu, the file's
// operation lock: it serializes loads, writes and commits of that one file
// and IS held across that file's S3 transfers (like the kernel's inode
// lock); no other lock is taken while it is held except the leaf locks of
// the inode table, caches and WriteFiles.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fs/attr_mapping.h"
#include "fs/types.h"
#include "fs/write_types.h"
#include "repofs/clock.h"
#include "repofs/object_client.h"
#include "upload/pending_object.h"

namespace repofs::fs {

// s3fs-compatible user metadata (x-amz-meta-mode/-uid/-gid/-mtime; mtime as
// "seconds[.nanoseconds]") of `meta`, whose four fields must be present.
Metadata ToS3fsMetadata(const PosixMeta& meta);
// Metadata of a new object created by `caller` with st_mode `mode` at `now`.
PosixMeta NewMeta(mode_t mode, const Caller& caller, timespec now);
timespec WallNow(const Clock& clock);
void SetMtime(PosixMeta& meta, timespec when);
struct OpenFile;
// The PUT of new content of `file`: its s3fs metadata (filesystem_write.cc).
PutOptions ContentPut(const OpenFile& file);

inline constexpr uint64_t kWriteHandleBit = 1ull << 62;
inline bool IsWriteHandle(uint64_t fh) { return (fh & kWriteHandleBit) != 0; }

// A committed object version.
struct FileVersion {
  std::string etag;  // "" = no committed version (a new file)
  std::time_t last_modified = 0;
  uint64_t size = 0;
};

struct OpenFile {
  OpenFile(Ino ino, std::unique_ptr<upload::PendingObject> pending)
      : ino(ino), pending(std::move(pending)) {}

  const Ino ino;  // the kernel inode the handles were opened on
  std::mutex mu;  // the file's operation lock (see the header comment)
  std::unique_ptr<upload::PendingObject> pending;  // GUARDED_BY(mu)
  // Where the next commit goes (changed by rename).   GUARDED_BY(mu)
  Ino parent = 0;
  std::string name;
  std::string key;
  FileVersion base;             // content starts from this version
  bool loaded = false;          // `pending` holds the content
  bool content_dirty = false;   // content changed since the last commit
  bool meta_dirty = false;      // metadata changed since the last commit
  bool needs_commit = false;    // created, never committed (empty file)
  bool exclusive = false;       // O_EXCL: If-None-Match on the first PUT
  // Unlinked while open: commits are dropped. Readable without `mu`.
  std::atomic<bool> unlinked{false};
  bool announce = false;        // committed; the kernel entry is stale
  // Its last handle was released and the final commit done: a SETATTR that
  // found the file just before must apply to the inode instead.
  bool released = false;
  PosixMeta meta;               // all four fields present
  bool mtime_explicit = false;  // meta.mtime set by utimens after writes

  // Sets `key` (mu held) and its copy readable without `mu`: unlink, rmdir
  // and rename scan every open file and must not wait for another file's
  // upload.
  void SetKeyLocked(std::string new_key) {
    std::lock_guard lock(key_mu_);
    key = new_key;
    key_copy_ = std::move(new_key);
  }
  std::string Key() const {
    std::lock_guard lock(key_mu_);
    return key_copy_;
  }

  uint64_t SizeLocked() const {
    return loaded ? pending->Size() : base.size;
  }
  bool DirtyLocked() const {
    return !unlinked && (content_dirty || meta_dirty || needs_commit);
  }

 private:
  mutable std::mutex key_mu_;  // leaf
  std::string key_copy_;       // GUARDED_BY(key_mu_)
};

struct WriteHandle {
  std::shared_ptr<OpenFile> file;
  bool can_write = false;
};

class WriteFiles {
 public:
  // The open file of `ino`, or null.
  std::shared_ptr<OpenFile> Find(Ino ino) const;
  // Registers `file` for its inode unless one is registered already;
  // returns the registered one.
  std::shared_ptr<OpenFile> Insert(std::shared_ptr<OpenFile> file);
  // A new handle on `file`, which must be the one registered for its inode.
  // Returns its number, or 0 when `file` is not registered (its last handle
  // was released since it was found): the caller starts over.
  uint64_t AddHandle(std::shared_ptr<OpenFile> file, bool can_write);
  std::shared_ptr<WriteHandle> Get(uint64_t fh) const;
  // Removes the handle; when it was the last one of its file, the file is
  // unregistered and returned in `*last` (else *last is null).
  std::shared_ptr<WriteHandle> Remove(uint64_t fh,
                                      std::shared_ptr<OpenFile>* last);
  // Handles open on the file of `ino`.
  uint32_t HandleCount(Ino ino) const;
  // Every open file (snapshot).
  std::vector<std::shared_ptr<OpenFile>> All() const;
  size_t size() const;
  // Drops everything (shutdown); files are destroyed outside the lock.
  void Clear();

 private:
  struct Entry {
    std::shared_ptr<OpenFile> file;
    uint32_t handles = 0;
  };
  mutable std::mutex mu_;  // leaf
  std::unordered_map<Ino, Entry> files_;                            // GUARDED_BY(mu_)
  std::unordered_map<uint64_t, std::shared_ptr<WriteHandle>> handles_;  // GUARDED_BY(mu_)
  uint64_t next_ = 1;                                               // GUARDED_BY(mu_)
};

// Local copies of object versions that disappeared from S3 (replaced,
// renamed or deleted through this mount) while read handles of this
// process had them open: those handles read from the copy, so an unlinked
// or replaced open file stays fully readable. Keyed by inode and ETag.
class PreservedCopies {
 public:
  bool Contains(Ino ino, const std::string& etag) const;
  std::shared_ptr<upload::PendingObject> Find(Ino ino,
                                              const std::string& etag) const;
  void Put(Ino ino, std::string etag,
           std::shared_ptr<upload::PendingObject> copy);
  void Erase(Ino ino);
  void Clear();
  size_t size() const;

 private:
  struct Copy {
    std::string etag;
    std::shared_ptr<upload::PendingObject> data;
  };
  mutable std::mutex mu_;  // leaf
  std::unordered_map<Ino, Copy> copies_;  // GUARDED_BY(mu_)
  std::atomic<size_t> count_{0};          // fast path: nothing preserved
};

}  // namespace repofs::fs
