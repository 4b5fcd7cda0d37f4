// PendingObject: the next version of one object while it is being written
// through the mount (DESIGN.md "Write path"). The bytes live in a local
// staging file (in UploadOptions::staging_dir, unlinked right after creation
// so a crashed daemon leaves nothing behind); reads of the pending content
// come from that file. When the writer writes sequentially from offset 0,
// every completed `part_size` piece is uploaded as a multipart part while
// the writer goes on (at most `parallelism` parts in flight, memory bounded:
// parts are read back from the staging file, never buffered whole). Commit()
// makes the content the object's new version: one PUT below
// `multipart_threshold`, else it uploads the remaining parts and completes
// the multipart upload. Nothing is visible in S3 before Commit() succeeds;
// any failure or Abort() aborts the multipart upload (no partial object).
//
// A write that is not at the current end of the streamed prefix (a random
// write, an overwrite of an already uploaded part, a truncate below it)
// turns streaming off for this version: the multipart upload started so far
// is aborted and Commit() uploads from the staging file.
//
// After a successful Commit() the PendingObject stays usable: further writes
// start a new cycle (the next Commit() uploads the whole content again).
//
// Every multipart upload this process starts is recorded in the upload
// journal (UploadJournal, upload_journal.h) and removed when completed or
// aborted, so the next mount can abort what a killed daemon left behind.
//
// Ownership: shares the ObjectClient, the ThreadPool and the journal; all
// must outlive the PendingObject. Thread-safety: all methods are
// thread-safe (one internal mutex; no lock held across an S3 request except
// the object's own commit serialization).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "repofs/object_client.h"
#include "repofs/result.h"
#include "util/thread_pool.h"

namespace repofs::upload {

class UploadJournal;

struct UploadOptions {
  std::string staging_dir;               // must exist; on a local disk
  uint64_t part_size = 8ull << 20;       // upload_part_size (>= 5 MiB)
  uint64_t multipart_threshold = 16ull << 20;
  int parallelism = 4;                   // upload_parallelism: parts in flight per object
};

class PendingObject {
 public:
  // A new, empty pending version of `key` (O_CREAT / O_TRUNC). Errors:
  // ENOSPC/EIO/EACCES from creating the staging file.
  static Result<std::unique_ptr<PendingObject>> Create(
      std::shared_ptr<ObjectClient> client, ThreadPool& pool,
      UploadJournal* journal, const UploadOptions& options, std::string key);

  ~PendingObject();  // aborts an uncommitted multipart upload

  // Copies the current content of the object version `etag` (size `size`)
  // into the staging file with If-Match GETs, so random writes, appends and
  // truncates work on an existing object. EIO if that version is gone.
  Status LoadFrom(const std::string& etag, uint64_t size);

  // pwrite semantics on the staging file (the file grows; holes read as 0).
  Status Write(uint64_t offset, std::string_view data);
  // Exactly min(size, Size() - offset) bytes.
  Result<size_t> Read(uint64_t offset, size_t size, char* out);
  Status Truncate(uint64_t size);
  uint64_t Size() const;
  // True when content changed since the last Commit() (or creation).
  bool Dirty() const;

  // Uploads the content as the new version of the key (see the class
  // comment) with `put` (metadata, content type, If-None-Match). Errors:
  // EIO (S3 failed after retries), EACCES, EEXIST (If-None-Match lost),
  // ENOSPC. On error nothing new is visible in S3 and the content is kept,
  // so a later Commit() may retry.
  Result<WriteResult> Commit(const PutOptions& put);

  // Drops the content and aborts any multipart upload.
  void Abort();

  const std::string& key() const;
  // The object is being renamed while still pending (rename of a file that
  // is open for writing): later Commit()s go to `key`. A multipart upload
  // already streaming under the old key is aborted (the next Commit()
  // uploads from the staging file).
  void Rekey(std::string key);

  // The staging file's descriptor (for zero-copy reads of pending content).
  int fd() const;

 private:
  PendingObject() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace repofs::upload
