// UploadJournal: a small append-only file (in the cache directory) listing
// the multipart uploads this process has started and not yet finished, so
// that the next mount can abort what a killed daemon left behind (DESIGN.md
// "Write path": no partial object, abandoned uploads aborted at mount).
//
// Format: one line per event, fields separated by one space, the key
// percent-encoded (UriEncode, '/' kept) so keys with spaces or newlines
// survive, the upload id percent-encoded too:
//   started <key> <upload_id>
//   done <upload_id>
// Add() appends a "started" line and fdatasyncs it before returning, so an
// upload whose id reached S3 is journaled before any part is sent. Remove()
// appends "done" without syncing: losing it only means a later, harmless
// abort of an upload that is already gone. Open() compacts the file (rewrites
// it with only the pending entries, atomically via rename); Remove() empties
// it when nothing is pending and it has grown past a few KiB. Unparseable
// lines (a torn last line after a crash) are skipped.
//
// Also here: the two cleanup routines that use it or list S3 directly.
//
// Ownership: owns its descriptor. Thread-safety: all methods are
// thread-safe (one mutex; held across the local write and fsync only).
#pragma once

#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "repofs/object_client.h"
#include "repofs/result.h"
#include "util/handles.h"

namespace repofs::upload {

class UploadJournal {
 public:
  // Opens (creating if missing, mode 0600) and compacts the journal at
  // `path`. Errors: the errno of open/write/fsync/rename.
  static Result<std::unique_ptr<UploadJournal>> Open(const std::string& path);

  // Records that `upload_id` was created for `key` (durable on return).
  Status Add(const std::string& key, const std::string& upload_id);
  // Records that `upload_id` was completed or aborted. Unknown ids are
  // ignored (no line written).
  Status Remove(const std::string& upload_id);
  // The uploads added and not removed, in the order they were added
  // (`initiated` is 0: the journal does not keep times).
  std::vector<MultipartUploadInfo> Pending() const;

  const std::string& path() const { return path_; }

 private:
  UploadJournal(std::string path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}
  Status AppendLocked(const std::string& line, bool sync);

  const std::string path_;
  mutable std::mutex mu_;
  UniqueFd fd_;                 // GUARDED_BY(mu_), O_APPEND
  uint64_t file_bytes_ = 0;     // GUARDED_BY(mu_)
  uint64_t next_sequence_ = 0;  // GUARDED_BY(mu_)
  // upload_id -> (order of Add, key).
  std::map<std::string, std::pair<uint64_t, std::string>>
      pending_;  // GUARDED_BY(mu_)
};

// Aborts every upload pending in `journal` (run at mount, before anything
// new is uploaded) and removes each one whose abort succeeded or that S3 no
// longer knows (kNoSuchUpload). Returns how many were removed; the first
// failure (after trying all) as an error, the failed entries staying in the
// journal for the next mount.
Result<size_t> AbortJournaledUploads(ObjectClient& client,
                                     UploadJournal& journal);

// Aborts every in-progress multipart upload under `prefix` initiated before
// `older_than` (Unix seconds), whoever started it (`repofs cleanup-uploads`).
// Returns the uploads aborted (including those already gone). Errors: the
// listing's error; or, if some aborts failed, the first failure with a
// message saying how many were aborted. Note: an upload still being written
// by a live process is aborted too if it is older than `older_than`.
Result<std::vector<MultipartUploadInfo>> AbortStaleUploads(
    ObjectClient& client, const std::string& prefix, std::time_t older_than);

}  // namespace repofs::upload
