// PendingObject::State: the shared state of one PendingObject and its
// streaming machinery (internal to src/upload; see pending_object.h for the
// behaviour). pending_object.cc holds the public operations,
// pending_stream.cc the streaming multipart upload (part tasks, backpressure,
// abandon/abort, the final drain at Commit).
//
// Locking: commit_mu (Commit, LoadFrom, Rekey, Abort) before mu. mu guards
// every field below it, is held for local file I/O but never across an S3
// request; cv is notified on every change a waiter may wait for. Background
// tasks capture the State pointer and are counted in `tasks`; the
// destructor waits for them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "upload/object_transfer.h"
#include "upload/pending_object.h"
#include "upload/staging_file.h"

namespace repofs::upload {

// One streaming multipart upload (there may be abandoned ones still
// finishing their tasks beside the current one). Guarded by State::mu; key,
// put and (once set) upload_id never change, so tasks read them unlocked.
struct StreamUpload {
  std::string key;
  PutOptions put;         // metadata/content type at creation
  std::string upload_id;  // empty until created
  bool creating = false;
  bool abandoned = false;  // discarded: abort when idle
  bool abort_started = false;
  bool final = false;                // Commit is draining: short tail allowed
  int in_flight = 0;                 // the create task + part tasks
  std::vector<CompletedPart> parts;  // submitted; index = part_number - 1
};

struct PendingObject::State {
  State(std::shared_ptr<ObjectClient> client_in, ThreadPool& pool_in,
        UploadJournal* journal_in, const UploadOptions& options_in,
        std::string key_in, StagingFile file_in)
      : client(std::move(client_in)),
        pool(pool_in),
        journal(journal_in),
        options(options_in),
        file(std::move(file_in)),
        key(std::move(key_in)) {}

  TransferContext Context() const {
    return TransferContext{*client, pool, journal, options};
  }

  // --- pending_stream.cc; all require mu held ---
  // Records a write [offset, end) for the streaming decision.
  void NoteWriteLocked(uint64_t offset, uint64_t end);
  // Records a truncate to `new_size`.
  void NoteTruncateLocked(uint64_t new_size);
  // Turns streaming off for this cycle and abandons the current upload.
  void StopStreamingLocked();
  // A fresh cycle after a commit/load/abort: streaming possible again.
  void ResetCycleLocked();
  // Starts the upload / submits parts as far as the limits allow.
  void PumpLocked();
  // True when a complete part waits for an upload slot (Write backpressure).
  bool BacklogFullLocked() const;
  // Uploads the tail and completes the current stream (Commit). Returns
  // nullopt when the stream cannot be used (the caller uploads from the
  // staging file) or the commit's result.
  std::optional<Result<WriteResult>> FinishStreamLocked(
      std::unique_lock<std::mutex>& lock, const PutOptions& put);
  void AbandonLocked(const std::shared_ptr<StreamUpload>& stream);
  void MaybeAbortLocked(const std::shared_ptr<StreamUpload>& stream);
  void RunCreate(const std::shared_ptr<StreamUpload>& stream);
  void RunPart(const std::shared_ptr<StreamUpload>& stream, int number,
               uint64_t offset, uint64_t length);
  void RunAbort(const std::shared_ptr<StreamUpload>& stream);
  void WaitForTasksLocked(std::unique_lock<std::mutex>& lock);

  const std::shared_ptr<ObjectClient> client;
  ThreadPool& pool;
  UploadJournal* const journal;
  const UploadOptions options;
  const StagingFile file;

  std::mutex commit_mu;  // serializes Commit, LoadFrom, Rekey, Abort
  std::mutex mu;
  std::condition_variable cv;
  std::string key;        // GUARDED_BY(mu)
  PutOptions stream_put;  // GUARDED_BY(mu)
  uint64_t size = 0;      // GUARDED_BY(mu)
  bool dirty = false;     // GUARDED_BY(mu)
  bool busy = false;      // GUARDED_BY(mu): Commit/LoadFrom running
  int tasks = 0;          // GUARDED_BY(mu): background tasks
  // Streaming decision for the current cycle.
  bool stream_eligible = true;  // GUARDED_BY(mu)
  uint64_t contiguous_end = 0;  // GUARDED_BY(mu): written prefix [0, n)
  uint64_t streamed_end = 0;    // GUARDED_BY(mu): submitted as parts
  std::map<uint64_t, uint64_t>
      written;  // GUARDED_BY(mu): ranges past the prefix
  std::shared_ptr<StreamUpload> stream;  // GUARDED_BY(mu): current, or null
  std::optional<Error> stream_error;     // GUARDED_BY(mu): for the next Commit
};

}  // namespace repofs::upload
