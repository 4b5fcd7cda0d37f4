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
// Writes need not arrive strictly in order for streaming to go on: a write
// beyond the contiguous written prefix is remembered and joins it when the
// gap is filled (FUSE may deliver a sequential writer's writes slightly out
// of order). Only a change below the already streamed prefix stops it.
// Backpressure: Write() returns once its bytes are in the staging file and
// no complete part is left waiting for an upload slot, so close() waits for
// at most `parallelism` parts plus the tail.
//
// Metadata: a streaming multipart upload is created before Commit() knows
// the final PutOptions, so it uses those of SetStreamingPutOptions(). If
// Commit() is given other metadata or content type, the streamed parts are
// discarded and the content is uploaded again from the staging file (never a
// visible version with the wrong metadata). If-None-Match on a multipart
// upload is a HEAD right before CompleteMultipartUpload (object_transfer.h).
//
// A part or CreateMultipartUpload failure (after the client's retries) stops
// streaming; the next Commit() returns that error (nothing visible); the
// Commit() after it uploads from the staging file.
//
// Every multipart upload this process starts is recorded in the upload
// journal (UploadJournal, upload_journal.h) and removed when completed or
// aborted, so the next mount can abort what a killed daemon left behind.
//
// Ownership: shares the ObjectClient, the ThreadPool and the journal; all
// must outlive the PendingObject (the destructor waits for its background
// tasks). Thread-safety: all methods are thread-safe (one internal mutex,
// never held across an S3 request; Commit/LoadFrom/Rekey/Abort are
// serialized, and Write/Truncate wait while a Commit or LoadFrom runs so a
// commit uploads one consistent content). No method may be called from a
// task running on `pool` (they wait for tasks queued there).
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
  std::string staging_dir;          // must exist; on a local disk
  uint64_t part_size = 8ull << 20;  // upload_part_size (>= 5 MiB)
  uint64_t multipart_threshold = 16ull << 20;
  int parallelism = 4;  // upload_parallelism: parts in flight per object
};

class PendingObject {
 public:
  // A new, empty pending version of `key` (O_CREAT / O_TRUNC). Errors:
  // ENOSPC/EIO/EACCES/ENOENT from creating the staging file, EINVAL for
  // part_size < 5 MiB or parallelism < 1.
  static Result<std::unique_ptr<PendingObject>> Create(
      std::shared_ptr<ObjectClient> client, ThreadPool& pool,
      UploadJournal* journal, const UploadOptions& options, std::string key);

  ~PendingObject();  // aborts an uncommitted multipart upload

  // Copies the current content of the object version `etag` (size `size`)
  // into the staging file with If-Match GETs, so random writes, appends and
  // truncates work on an existing object. EIO if that version is gone.
  Status LoadFrom(const std::string& etag, uint64_t size);

  // pwrite semantics on the staging file (the file grows; holes read as 0).
  // Errors: the staging file's (ENOSPC, EIO). May block for backpressure
  // (see the class comment) and while a Commit() runs.
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

  // Drops the content and aborts any multipart upload (waits for the abort).
  void Abort();

  // The metadata and content type (if_none_match is ignored here) for a
  // multipart upload started while streaming; default: none. Call it when
  // the file is opened for writing and whenever they change; a streaming
  // upload already started with different ones is abandoned. Commit() with
  // the same metadata/content type completes the streamed upload.
  void SetStreamingPutOptions(const PutOptions& put);

  // True while a streaming multipart upload is active (for tests/metrics).
  bool Streaming() const;

  // The current key (not to be called concurrently with Rekey()).
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
