// Filesystem: the repofs namespace over one bucket (or prefix), on its own
// types (fs/types.h) and inode numbers, so it is testable without a kernel;
// fuse/ is a thin translation layer (one fuse_reply_* per call).
//
// Semantics (DESIGN.md): path /a/b = key PREFIX + "a/b"; directories are
// common prefixes or "a/b/" markers; an inode is one object version (a
// replaced object gets a new inode number); attributes come from LIST plus
// s3fs metadata (HEAD, cached by version in the MetadataStore); lookups,
// attributes and listings are trusted for metadata_ttl, negative lookups for
// negative_ttl, and the kernel gets the same timeouts. Reads go through one
// prefetch::ObjectReader per open handle, pinned to the version known at
// open, or -- for reads without a handle (FUSE no-open mode on read-only
// mounts, ReadInode) -- through one shared reader per inode (an inode is one
// version, so the pinning guarantee is the same). This is the read path:
// modifying operations return EROFS on read-only mounts; on read-write
// mounts they are the write path (filesystem_write.cc, filesystem_namespace.cc,
// filesystem_rename.cc; semantics in docs/dev/WRITE-PATH.md): files are
// written to a staging file (upload::PendingObject) and committed at
// FLUSH/FSYNC; a commit gives the path a new inode number (the old one stays
// valid for its open handles); versions that open read handles still need
// when they are replaced or deleted are copied locally first.
//
// Request cost: Lookup answers from the inode table (fresh), the negative
// cache, or a fresh listing of the parent with no request (one HEAD if the
// version's metadata is unknown); otherwise it issues two requests in
// parallel, independent of the directory size: LIST prefix="key/"
// max-keys=1 and HEAD key (attr_source=list: LIST prefix="key" max-keys=1
// instead, so that mode never HEADs for attributes). OpenDir issues one LIST
// pass (reused for metadata_ttl). ReadDir with `plus` HEADs unknown versions
// in the background (head_parallelism at a time). Open within the TTL is
// free; after it, one HEAD. GetAttr never issues a request (an inode's
// version, hence its attributes, never changes).
//
// Ownership: shares the ObjectClient; the Clock must outlive the
// Filesystem. Thread-safety: every method may be called concurrently (FUSE
// multi-threaded loop). Each component has its own mutex; the only nesting
// is DirHandle::mu_ -> {MetadataStore, AttrPrefetch, ThreadPool} mutexes
// when a directory's HEADs are queued (handles.h). No lock is held across an
// S3 request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/block_cache.h"
#include "fs/attr_mapping.h"
#include "fs/dir_listing.h"
#include "fs/handles.h"
#include "fs/inode_readers.h"
#include "fs/inode_table.h"
#include "fs/metadata_store.h"
#include "fs/negative_cache.h"
#include "fs/passthrough_inodes.h"
#include "fs/stale_memory.h"
#include "fs/types.h"
#include "fs/write_files.h"
#include "fs/write_types.h"
#include "prefetch/cached_chunk_source.h"
#include "prefetch/readahead_context.h"
#include "repofs/clock.h"
#include "repofs/fs_options.h"
#include "repofs/object_client.h"
#include "repofs/result.h"
#include "upload/upload_journal.h"
#include "util/thread_pool.h"

namespace repofs::fs {

// Decides whether the next directory entry named `name` still fits in the
// reply (READDIR/READDIRPLUS buffers are bounded). Called in order; the
// first `false` ends the batch.
using ReserveEntry = std::function<bool(std::string_view name)>;

class Filesystem {
 public:
  static constexpr int kDefaultTransferThreads = 16;

  // `store`: metadata by version; null -> an in-memory store.
  // `transfer_threads`: workers for read-ahead GETs (all open files).
  // `cached`: reads go through the persistent block cache (its upstream
  // must be an S3ChunkSource counting into `counters`); null -> straight to
  // S3 (a fresh S3ChunkSource over `client`).
  Filesystem(std::shared_ptr<ObjectClient> client, const FsOptions& options,
             const Clock& clock = RealClock(),
             std::shared_ptr<MetadataStore> store = nullptr,
             int transfer_threads = kDefaultTransferThreads,
             std::shared_ptr<prefetch::CachedChunkSource> cached = nullptr,
             std::shared_ptr<prefetch::ReadaheadCounters> counters = nullptr);
  // The daemon's form: real clock, in-memory metadata store.
  Filesystem(std::shared_ptr<ObjectClient> client, const FsOptions& options,
             int transfer_threads)
      : Filesystem(std::move(client), options, RealClock(), nullptr,
                   transfer_threads) {}
  ~Filesystem();
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  // --- Namespace ---
  // Errors: ENOENT (negative: cache it for negative_timeout()),
  // ENAMETOOLONG, ENOTDIR, EIO/EACCES/ETIMEDOUT from S3.
  Result<Entry> Lookup(Ino parent, std::string_view name);
  // Drops `nlookup` kernel references.
  void Forget(Ino ino, uint64_t nlookup);
  // Never issues a request. Errors: ENOENT (unknown inode). `fh` (0: none)
  // is the handle the kernel asks through: a file open for writing reports
  // its pending size and metadata, except to a read handle, which sees its
  // own version.
  Result<AttrReply> GetAttr(Ino ino, uint64_t fh = 0);
  // The symlink target (GET of the body, cached per version). EINVAL if not
  // a symlink.
  Result<std::string> ReadLink(Ino ino);

  // --- Directories ---
  // One LIST pass (or a listing younger than metadata_ttl); the snapshot
  // lives in the handle. Errors: ENOTDIR, ENOENT, S3 errors.
  Result<uint64_t> OpenDir(Ino ino);
  // Entries from index `offset` of [".", "..", snapshot...] while `reserve`
  // accepts them. With `plus`, each returned entry except "." and ".." has
  // `entry` set and counts as one lookup. An empty vector means end.
  Result<std::vector<DirEntry>> ReadDir(uint64_t fh, uint64_t offset, bool plus,
                                        const ReserveEntry& reserve);
  void ReleaseDir(uint64_t fh);

  // --- Files ---
  // Read-only opens only (EROFS otherwise). Pins the version known now,
  // revalidating with a HEAD when older than metadata_ttl; ESTALE when the
  // object at the inode's path is now another version or gone (the kernel
  // then redoes the lookup). EISDIR for directories. With passthrough
  // backings enabled (SetPassthroughBackings), a read-only open of a version
  // the block cache holds whole and checked is a passthrough handle
  // (OpenReply::backing_id; fs/passthrough_inodes.h).
  Result<OpenReply> Open(Ino ino, int flags);
  // The kernel side of FUSE passthrough (owned by fuse/, outlives this);
  // set before serving. Null: no passthrough.
  void SetPassthroughBackings(PassthroughBackings* backings) {
    passthrough_.SetBackings(backings);
  }
  // Inodes read through passthrough now (tests, metrics).
  size_t passthrough_inodes() const { return passthrough_.active(); }
  // Background re-listings of expired directories done (tests, metrics).
  uint64_t listing_refreshes() const { return listing_refreshes_.load(); }
  // Exactly min(size, file_size - offset) bytes or an error (EIO when the
  // pinned version is gone); EBADF for an unknown handle. With a `view`,
  // read-ahead bytes may be left in place (ObjectReader::Read): then the
  // view's pieces are the bytes; when it has none, they are in `out`.
  Result<size_t> Read(uint64_t fh, uint64_t offset, size_t size, char* out,
                      prefetch::ReadView* view = nullptr);
  void Release(uint64_t fh);
  // Zero-copy reads from the block cache: when the bytes READ(fh, offset,
  // size) would return (clamped at EOF, non-empty) are all cached, a pinned
  // fd slice of them (BlockRef: keep it alive until the reply is sent);
  // otherwise nullopt, and Read()/ReadInode() do the work. `fh` 0 means the
  // inode's version (no-open mode). Never issues a request; handles that
  // are not plain read handles get nullopt.
  std::optional<cache::BlockRef> CachedRead(uint64_t fh, Ino ino,
                                            uint64_t offset, size_t size);
  // The same bytes copied into `out` (each cache block read once, checked
  // on first use): their count, or nullopt when not all cached. For replies
  // too large to splice.
  std::optional<size_t> CachedCopy(uint64_t fh, Ino ino, uint64_t offset,
                                   size_t size, char* out);
  // A read without a handle (the kernel's no-open mode: READ with fh 0).
  // Same contract as Read(), through a reader shared by every reader of the
  // inode and pinned to its version (If-Match: EIO once that version is
  // gone, never bytes of two versions). The reader is created on the first
  // read (no request before that) and kept until the kernel forgets the
  // inode or the LRU of kInodeReaderLimit readers evicts it; no
  // revalidation per read. ENOENT for an unknown inode, EISDIR for a
  // directory.
  Result<size_t> ReadInode(Ino ino, uint64_t offset, size_t size, char* out,
                           prefetch::ReadView* view = nullptr);
  static constexpr size_t kInodeReaderLimit = InodeReaders::kDefaultCapacity;

  StatFsInfo StatFs() const;

  // Coherent expiry (filesystem_coherence.cc). Where this mount sees that S3
  // changed under a name it knew (a new version, or gone), what it
  // validated before that change may be just as outdated: an apt repository
  // on another host replaced Packages.gz, then InRelease. Every file entry
  // validated before the observation expires at once (in this process, and
  // in the kernel through `invalidator`, which receives the dentries the
  // kernel holds, to forget outside any request), with the listing and
  // negative caches. Without it, entries expire one by one metadata_ttl
  // after their own lookup, and a web host could serve a new InRelease
  // with an old Packages.gz for up to metadata_ttl. Thread-safe; null
  // turns the kernel part off (the daemon sets it while serving).
  using EntryInvalidator = std::function<void(std::vector<EntryRef>)>;
  void SetEntryInvalidator(EntryInvalidator invalidator);
  // Times the expiry above ran (for tests and the unmount log).
  uint64_t coherent_expiries() const;

  // Multipart uploads started from now on are recorded in `journal`, so the
  // next mount can abort what a killed daemon left (call before serving).
  void SetUploadJournal(std::shared_ptr<upload::UploadJournal> journal) {
    upload_journal_ = std::move(journal);
  }

  // The root directory's LIST page (prefix, delimiter "/") that the mount's
  // check of the bucket got at `at`: when complete (not truncated) it is
  // the root's listing, so the first lookups of a fresh mount cost no probe.
  void SeedRootListing(const ListPage& page, SteadyTime at);

  // --- Modifications: EROFS on read-only mounts. ---
  Status RefuseWrite(std::string_view operation) const;

  // --- Write path (filesystem_write.cc) ---
  // Open() with O_WRONLY/O_RDWR/O_TRUNC/O_APPEND lands in OpenForWrite.
  // CREATE: a new pending file (nothing in S3 until FLUSH). O_EXCL is
  // enforced at the first commit with If-None-Match: * (EEXIST at close()
  // when another host created the key meanwhile). Errors: EROFS, ENOENT,
  // ENOTDIR, ENAMETOOLONG, EIO/ENOSPC (staging file).
  Result<CreateReply> Create(Ino parent, std::string_view name, mode_t mode,
                             int flags, const Caller& caller);
  // pwrite on the pending copy; EBADF for a handle not open for writing.
  Result<size_t> Write(uint64_t fh, uint64_t offset, std::string_view data);
  // FLUSH (every close()): commits the file if it changed, so close()
  // returns the upload's error (EIO, EACCES, ENOSPC, EEXIST for a lost
  // O_EXCL). Returns the dentry the kernel must invalidate when a new
  // version was committed. Read handles: nothing to do.
  Result<std::optional<EntryRef>> Flush(uint64_t fh);
  // FSYNC: commits like Flush (the dentry is announced by the next Flush).
  Status Fsync(uint64_t fh);
  // SETATTR. size: truncates the pending copy (or, without an open file,
  // makes a new version of the object with the new size); mode/uid/gid/
  // mtime: pending metadata of an open file (uploaded at its commit), else
  // a self-copy with MetadataDirective::kReplace. Directories: this mount's
  // inode takes mode/uid/gid/mtime and the marker "dir/" is rewritten with
  // them (the read path reports dir_mode for directories found in S3).
  // atime: accepted, not stored.
  Result<AttrReply> SetAttr(Ino ino, const SetAttrRequest& request,
                            uint64_t fh);
  // copy_file_range of a whole committed file (offsets 0, len >= its size)
  // onto a file open for writing: one server-side CopyObject. Anything
  // else: EOPNOTSUPP (the kernel then copies through the page cache).
  Result<size_t> CopyFileRange(uint64_t fh_in, uint64_t offset_in,
                               uint64_t fh_out, uint64_t offset_out,
                               size_t length);

  // --- Namespace (filesystem_namespace.cc, filesystem_rename.cc) ---
  // unlink: DELETE; an open file stays readable through its handles.
  // Errors: ENOENT, EISDIR, EROFS, S3 errors.
  Status Unlink(Ino parent, std::string_view name);
  // mkdir: zero-byte marker "dir/" with x-amz-meta-mode. EEXIST, ENOENT...
  Result<Entry> MkDir(Ino parent, std::string_view name, mode_t mode,
                      const Caller& caller);
  // rmdir: ENOTEMPTY exactly when a key other than the marker exists
  // below (or a file is being written there); ENOENT, ENOTDIR.
  Status RmDir(Ino parent, std::string_view name);
  // symlink: an object whose body is the target, mode S_IFLNK|0777.
  Result<Entry> SymLink(std::string_view target, Ino parent,
                        std::string_view name, const Caller& caller);
  // rename (flags: RENAME_NOREPLACE -> EEXIST if the target exists;
  // RENAME_EXCHANGE and others -> EINVAL). Files: server-side copy carrying
  // the metadata, then delete; atomic replace of an existing target. A
  // directory: every key below it, not atomic (EBUSY while a file below it
  // is open for writing).
  Status Rename(Ino parent, std::string_view name, Ino new_parent,
                std::string_view new_name, unsigned int flags);

  // Introspection (tests).
  size_t OpenWriteFileCount() const { return writes_.size(); }
  size_t PreservedCopyCount() const { return preserved_.size(); }

  // --- Timeouts for the kernel ---
  std::chrono::milliseconds negative_timeout() const { return negative_ttl_; }
  std::chrono::milliseconds metadata_timeout() const { return ttl_; }
  // FsOptions::read_only: no handle ever writes (the FUSE layer may then
  // use the kernel's no-open mode).
  bool read_only() const { return options_.read_only; }

  // --- Introspection (tests, metrics) ---
  size_t InodeCount() const { return inodes_.size(); }
  uint64_t LookupCount(Ino ino) const { return inodes_.nlookup(ino); }
  size_t OpenFileCount() const { return files_.size(); }
  size_t InodeReaderCount() const { return inode_readers_.size(); }
  bool HasInodeReader(Ino ino) const { return inode_readers_.Contains(ino); }

 private:
  std::string KeyOf(std::string_view dir_path, std::string_view name) const;
  std::optional<std::string> DirKeyOf(Ino dir) const;
  // `seen_as_dir`: the name was a directory when last seen (an expired
  // inode or listing, the store's hints). It only picks the probe's
  // requests (filesystem_probe.cc).
  Result<std::optional<Observation>> ProbeKey(const std::string& key,
                                              bool seen_as_dir,
                                              SteadyTime now);
  Result<Observation> MarkerDirObservation(const ListPage& page,
                                           const std::string& marker_key,
                                           SteadyTime at);
  Observation MarkerObservation(const std::optional<ObjectInfo>& marker,
                                SteadyTime at);
  Result<std::optional<Observation>> ObserveListed(Ino parent,
                                                   const Listing& listing,
                                                   const ListingItem& item,
                                                   SteadyTime now);
  // A HEAD's answer for `key` (nullopt: no object): its s3fs metadata,
  // recorded in the store for its version.
  std::optional<Observation> HeadObservation(
      const std::string& key, const std::optional<ObjectInfo>& head,
      SteadyTime now);
  Observation FileObservation(const std::string& key, uint64_t size,
                              std::string etag, std::time_t last_modified,
                              const PosixMeta* meta, SteadyTime now) const;
  Observation DirObservation(std::optional<std::time_t> marker_mtime,
                             SteadyTime now) const;
  Entry MakeEntry(const Attr& attr, std::chrono::milliseconds remaining) const;
  std::chrono::milliseconds Remaining(SteadyTime observed_at,
                                      SteadyTime now) const;
  Result<std::optional<DirEntry>> PlusEntry(DirHandle& dir,
                                            AttrPrefetch* prefetch,
                                            size_t index, SteadyTime now);
  DirEntry PlainEntry(const DirHandle& dir, size_t index) const;
  Result<uint64_t> OpenPinnedDir(const InodeInfo& info);
  void StartPrefetch(DirHandle& dir, AttrPrefetch& prefetch);
  // A lookup probes a name of `dir` (key prefix `dir_key`), whose listing of
  // `items` entries has expired. Once such probes (two requests each) have
  // cost as much as re-listing would (a LIST page per 1,000 entries), the
  // directory is re-listed in the background, unless that is under way;
  // the listing is stored only if the directory was not changed through this
  // mount meanwhile. So a re-listing never costs more than the probes it
  // replaces cost already (one file of a huge directory served after the
  // TTL does not re-list it).
  void NoteExpiredLookup(Ino dir, const std::string& dir_key, size_t items);
  // Expired listings smaller than this are not worth a re-listing.
  static constexpr size_t kRefreshMinItems = 2;
  // Freeing a listing (and its HEAD results) this big returns the memory
  // to the kernel (RSS with 100,000 inodes known).
  static constexpr size_t kTrimAfterEntries = 10000;
  Status RevalidateForOpen(const InodeInfo& info, const std::string& key,
                           SteadyTime now);
  // ESTALE for a stale inode; after the TTL, RevalidateForOpen, whose S3
  // failure is forgiven when `serve_stale` and stale_if_error allows it.
  Status EnsureCurrentForOpen(const InodeInfo& info, const std::string& key,
                              SteadyTime now, bool serve_stale);
  Result<std::unique_ptr<prefetch::ObjectReader>> MakeInodeReader(Ino ino);
  // Pins `ino` for an open (filling `path`): ENOENT for an unknown inode,
  // EISDIR (unpinned again) for a directory.
  Result<InodeInfo> PinForOpen(Ino ino, std::string* path);
  // For a cached read: the version a plain read handle (or, fh 0, the
  // inode) reads and the byte count READ(offset, size) returns (clamped at
  // EOF, > 0); nullopt without a cache, for other handles, or at EOF.
  struct CachedSpan {
    prefetch::ObjectVersion version;
    uint64_t length = 0;
  };
  std::optional<CachedSpan> SpanToRead(uint64_t fh, Ino ino, uint64_t offset,
                                       size_t size);
  // Stale-if-error (filesystem_stale.cc): whether `error` (from S3) allows
  // answering from expired knowledge, and the answers themselves.
  bool ServeStale(const Error& error, std::string_view what) const;
  std::optional<Result<Entry>> StaleLookup(Ino parent, std::string_view name,
                                           const Error& error, SteadyTime now);
  std::shared_ptr<const Listing> StaleListing(Ino dir, const Error& error);

  // Write path helpers (filesystem_write*.cc, filesystem_namespace.cc,
  // filesystem_rename.cc).
  Result<OpenReply> OpenForWrite(Ino ino, int flags);
  Result<std::shared_ptr<OpenFile>> WriterFor(const InodeInfo& info,
                                              const std::string& path);
  // Rounds of OpenForWrite's find-and-add-handle against racing closes.
  static constexpr int kOpenRounds = 4;
  int64_t OtherReaders(Ino ino) const;
  void SettleReleases(Ino ino);
  // How long a write open waits for readers' RELEASEs in flight (50 ms).
  static constexpr int kReleaseSettleSteps = 50;
  static constexpr std::chrono::milliseconds kReleaseSettleStep{1};
  Result<OpenReply> OpenWhileWriting(Ino ino, std::shared_ptr<OpenFile> file);
  Result<size_t> ReadWriteHandle(uint64_t fh, uint64_t offset, size_t size,
                                 char* out);
  void CommitAtReleaseLocked(OpenFile& file);
  void ReleaseWriteHandle(uint64_t fh);
  void DropPreservedIfUnused(Ino ino);
  std::optional<AttrReply> PendingAttr(Ino ino, uint64_t fh);
  Attr PendingAttrLocked(OpenFile& file);
  Status LoadLocked(OpenFile& file);
  Status CommitLocked(OpenFile& file);
  Result<FileVersion> ResolveVersion(const std::string& key,
                                     const WriteResult& written, uint64_t size);
  void Publish(Ino parent, std::string_view name, const std::string& key,
               const FileVersion& version, const PosixMeta& meta);
  Observation VersionObservation(const std::string& key,
                                 const FileVersion& version,
                                 const PosixMeta& meta) const;
  Result<std::unique_ptr<upload::PendingObject>> NewPending(std::string key);
  void PreserveForReaders(Ino ino);
  PosixMeta MetaOf(const Attr& attr) const;
  Result<AttrReply> SetAttrStored(const InodeInfo& info,
                                  const SetAttrRequest& request);
  Result<AttrReply> SetDirAttr(const InodeInfo& info,
                               const SetAttrRequest& request);
  Status ApplyMarkerMeta(const ObjectInfo& marker, Observation& obs);
  void ApplyDirMeta(const PosixMeta& meta, Observation& obs) const;
  // Coherent expiry: S3 changed `key` at `changed_at` (wall clock, S3's
  // second; for a vanished object: unknown, pass 0), as seen by a request
  // started at `observed_at`.
  void NoteRemoteChange(std::string_view key, std::time_t changed_at,
                        SteadyTime observed_at);
  // The TTL of entries handed out now: metadata_ttl, or kSettlingTtl while
  // S3 is settling (a change seen within kSettlingTime of being made: a
  // publish in progress, whose files are renamed one after another).
  std::chrono::milliseconds EntryTtl(SteadyTime now) const;
  static std::time_t InitialCoverage(const Clock& clock);
  void StartSettling();  // with coherence_mu_ held
  Result<InodeInfo> ResolveChild(Ino parent, std::string_view name);
  Result<std::string> ChildKey(Ino parent, std::string_view name);
  Result<bool> HasKeysBelow(const std::string& dir_prefix);
  Status RenameFile(const InodeInfo& src, const std::string& src_key,
                    Ino new_parent, std::string_view new_name,
                    const std::string& dst_key);
  Status RenameDir(const InodeInfo& src, const std::string& src_prefix,
                   Ino new_parent, std::string_view new_name,
                   const std::string& dst_prefix);
  Result<WriteResult> CopyKey(const std::string& from, const std::string& to,
                              const std::string& etag, uint64_t size,
                              const Metadata* replace);

  const std::shared_ptr<ObjectClient> client_;
  const FsOptions options_;
  const Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const std::chrono::milliseconds negative_ttl_;
  const AttrMapper mapper_;
  const std::shared_ptr<MetadataStore> store_;
  const std::shared_ptr<prefetch::CachedChunkSource> cached_;  // may be null
  const upload::UploadOptions upload_options_;

  // Readers (in files_) must be destroyed before the context: keep it
  // declared first.
  prefetch::ReadaheadContext readahead_;
  InodeTable inodes_;
  NegativeCache negatives_;
  ListingCache listings_;
  StaleMemory stale_;  // last observations by key (stale_if_error only)
  // Coherent expiry state; coherence_mu_ is taken before the caches' locks.
  mutable std::mutex coherence_mu_;
  EntryInvalidator invalidator_;    // GUARDED_BY(coherence_mu_)
  std::time_t covered_until_;       // GUARDED_BY(coherence_mu_), wall s
  std::atomic<int64_t> settling_until_ns_{0};  // steady ticks
  uint64_t coherent_expiries_ = 0;  // GUARDED_BY(coherence_mu_)
  HandleTable<FileHandle> files_;
  PassthroughInodes passthrough_;  // read handles the kernel reads itself
  InodeReaders inode_readers_;     // reads without a handle (no-open mode)
  HandleTable<DirHandle> dirs_;
  // Write path. The upload pool outlives the pending objects that use it.
  ThreadPool upload_pool_;
  // Records multipart uploads in flight (may be null); set before serving.
  std::shared_ptr<upload::UploadJournal> upload_journal_;
  WriteFiles writes_;
  PreservedCopies preserved_;
  // Per directory with an expired listing: the probes since it expired, or
  // kRelisting while it is re-listed in the background (NoteExpiredLookup).
  std::mutex refresh_mu_;
  std::unordered_map<Ino, uint32_t> expired_probes_;  // GUARDED_BY(refresh_mu_)
  static constexpr uint32_t kRelisting = UINT32_MAX;
  std::atomic<uint64_t> listing_refreshes_{0};
  // Pools last: destroyed (joined) first, while what their tasks use lives.
  ThreadPool lookup_pool_;   // the LIST half of a lookup probe
  ThreadPool head_pool_;     // READDIRPLUS attribute HEADs
  ThreadPool refresh_pool_;  // background re-listings
};

}  // namespace repofs::fs
