// InodeTable: the inodes the kernel knows, and the dentry index
// (parent inode, name) -> inode.
//
// An inode is one directory, or one VERSION of an object at one path: a
// replaced object (new ETag or LastModified, or a type change) gets a new
// inode number on the next lookup, and the old inode becomes "stale" (unbound
// from its name, kept until the kernel forgets it and no handle is open), so
// nginx open_file_cache and apt, which compare st_ino, see the change.
// Directories keep their inode while they exist. Numbers come from a 64-bit
// counter and are never reused; the root is kRootIno.
//
// Lifetime: a record lives while nlookup > 0 (kernel references), handles are
// open on it, or a child record references it (so a child's path can always
// be rebuilt). Records are compact (parent + name instead of a path, packed
// strings, binary MD5 ETags): ~200 bytes per inode, see inode_table_test.
//
// Thread-safety: all methods are thread-safe; one leaf mutex, never held
// while calling out of this class.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fs/compact_strings.h"
#include "fs/types.h"
#include "fs/write_types.h"
#include "repofs/result.h"

namespace repofs::fs {

using SteadyTime = std::chrono::steady_clock::time_point;

// What a lookup, listing or HEAD found at a name.
struct Observation {
  FileType type = FileType::kRegular;
  // Resolved attributes (ino ignored). For directories only mtime matters,
  // and only when `dir_mtime_known`.
  Attr attr;
  bool dir_mtime_known = false;
  // Directories: mode/uid/gid/mtime come from the marker's metadata (they
  // then replace what the inode had).
  bool dir_meta_known = false;
  // Object version (files and symlinks).
  std::string etag;
  std::time_t last_modified = 0;
  // When the store was asked (validation time of the resulting inode).
  SteadyTime observed_at{};
};

// A consistent copy of one inode's state.
struct InodeInfo {
  Ino ino = 0;
  Ino parent = 0;
  FileType type = FileType::kRegular;
  Attr attr;
  std::string etag;
  std::time_t last_modified = 0;
  SteadyTime validated_at{};
  bool stale = false;  // no longer bound to its name
};

class InodeTable {
 public:
  // `mount_time`: mtime of the root directory.
  explicit InodeTable(const Attr& root_attr);
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // The inode bound to (parent, name) if it was validated less than `ttl`
  // before `now`; adds one kernel reference. Returns its attributes and the
  // remaining time it may be trusted.
  std::optional<std::pair<Attr, std::chrono::milliseconds>> LookupFresh(
      Ino parent, std::string_view name, SteadyTime now,
      std::chrono::milliseconds ttl);

  // Binds (parent, name) to an inode for `obs` and adds `nlookup` references:
  // the bound inode is reused when it is the same version (or both are
  // directories) or was validated after `obs.observed_at`; otherwise a new
  // inode is created and the previous one becomes stale. ENOENT if `parent`
  // is unknown, ENOTDIR if it is not a directory.
  Result<InodeInfo> Bind(Ino parent, std::string_view name,
                         const Observation& obs, uint64_t nlookup);

  // The inode bound to (parent, name), if any (no reference added).
  std::optional<InodeInfo> Bound(Ino parent, std::string_view name) const;

  std::optional<InodeInfo> Get(Ino ino) const;

  // The path of `ino` relative to the mount root ("" for the root, "a/b"
  // otherwise). nullopt if unknown.
  std::optional<std::string> PathOf(Ino ino) const;

  // Drops `nlookup` kernel references (FORGET); frees the record when
  // nothing references it any more.
  void Forget(Ino ino, uint64_t nlookup);

  // Open-handle references: while pinned, the record is not freed. Also
  // returns the inode's path (as PathOf) in `path` when not null.
  std::optional<InodeInfo> Pin(Ino ino, std::string* path = nullptr);
  void Unpin(Ino ino);

  // Re-validated now: the object at its path is still this version.
  void MarkValidated(Ino ino, SteadyTime when);
  // The object at its path is gone or replaced: unbind it (no-op for root).
  void MarkStale(Ino ino);
  // Records a directory's marker mtime (e.g. seen by its own listing).
  void SetDirMtime(Ino ino, std::time_t mtime);

  // --- Write path ---
  // Open-handle references (Pin) currently held on `ino` (0 if unknown).
  uint32_t OpenCount(Ino ino) const;
  // The object of `ino` became a new version in place (setattr by
  // self-copy, truncate without an open file): same inode number, new
  // version and attributes; stays bound. ENOENT if unknown.
  Result<InodeInfo> Update(Ino ino, const Observation& obs);
  // rename: binds `ino` to (new_parent, new_name) -- the inode bound there
  // before becomes stale -- with the version in `obs` (files; null keeps
  // the version, e.g. directories). ENOENT/ENOTDIR for a bad parent.
  Result<InodeInfo> Move(Ino ino, Ino new_parent, std::string_view new_name,
                         const Observation* obs);
  // Coherent expiry: every bound file inode validated before `cutoff` is no
  // longer fresh (the next lookup asks S3). Returns the dentries of those
  // the kernel holds (nlookup > 0), for the kernel to forget; an inode
  // already expired this way is not returned again.
  std::vector<EntryRef> ExpireFilesValidatedBefore(SteadyTime cutoff);
  // Unbinds every file inode below directory `dir` (their keys changed by a
  // directory rename); the next lookup finds the new versions.
  void UnbindDescendantFiles(Ino dir);

  size_t size() const;
  uint64_t nlookup(Ino ino) const;  // for tests

 private:
  struct Record {
    Ino ino = 0;
    Ino parent = 0;
    PackedString name;
    CompactEtag etag;
    uint64_t size = 0;
    int64_t last_modified = 0;
    int64_t mtime_sec = 0;
    int64_t validated_ns = 0;  // steady_clock ticks since epoch
    uint64_t nlookup = 0;
    uint32_t mtime_nsec = 0;
    uint32_t mode = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t open_count = 0;
    uint32_t child_refs = 0;  // records whose parent is this one
    FileType type = FileType::kRegular;
    bool bound = false;
    // Coherent expiry: not fresh whatever validated_ns says, until a newer
    // observation validates it. validated_ns keeps its value, so an
    // observation older than it (a listing snapshot) still cannot replace it.
    bool expired = false;
  };
  struct DentryKey {
    Ino parent;
    std::string_view name;
  };
  struct DentryHash {
    using is_transparent = void;
    size_t operator()(const DentryKey& k) const;
    size_t operator()(const Record* r) const {
      return (*this)(DentryKey{r->parent, r->name.view()});
    }
  };
  struct DentryEq {
    using is_transparent = void;
    static DentryKey KeyOf(const DentryKey& k) { return k; }
    static DentryKey KeyOf(const Record* r) {
      return {r->parent, r->name.view()};
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      DentryKey ka = KeyOf(a), kb = KeyOf(b);
      return ka.parent == kb.parent && ka.name == kb.name;
    }
  };

  static InodeInfo InfoOf(const Record& r);
  std::optional<std::string> PathOfLocked(Ino ino) const;  // mu_ held
  static bool SameObject(const Record& r, const Observation& obs);
  Record* FindBound(Ino parent, std::string_view name) const;  // mu_ held
  Record& Create(Ino parent, std::string_view name, const Observation& obs);
  void Unbind(Record& r);                                     // mu_ held
  static void SetVersion(Record& r, const Observation& obs);  // mu_ held
  void MaybeFree(Record* r);                                  // mu_ held

  // Leaf lock: no other lock is taken while it is held.
  mutable std::mutex mu_;
  // Node-based: Record addresses are stable, the dentry index points at them.
  std::unordered_map<Ino, Record> records_;  // GUARDED_BY(mu_)
  std::unordered_set<Record*, DentryHash, DentryEq>
      dentries_;                 // GUARDED_BY(mu_)
  Ino next_ino_ = kRootIno + 1;  // GUARDED_BY(mu_)
};

}  // namespace repofs::fs
