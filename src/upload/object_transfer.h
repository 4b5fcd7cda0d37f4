// Whole-object transfers between a local file and S3, used by PendingObject
// (and meant for `repofs s3 put/get` too):
// - UploadFile: one PUT below the multipart threshold, else a parallel
//   multipart upload read part by part from the file (journaled, aborted on
//   failure: nothing visible unless it succeeds);
// - CompleteUpload / AbortUpload: the end of any multipart upload,
//   including the streaming one PendingObject drives itself;
// - DownloadToFile: parallel ranged GETs pinned with If-Match.
// If-None-Match: a single PUT carries the header. A multipart upload is made
// conditional by a HEAD right before CompleteMultipartUpload (S3Client sends
// no conditional Complete; RGW has none): a writer that creates the key
// between that HEAD and the Complete is overwritten. Documented race.
// The ETag/LastModified of the new version are always filled in: when the
// response lacks them (RGW answers Complete with an empty ETag) a HEAD
// supplies them.
//
// Ownership: TransferContext borrows everything it names. Thread-safety: the
// functions are reentrant; they block the calling thread, which must not be
// a thread of `pool` (they wait for tasks queued on it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repofs/object_client.h"
#include "repofs/result.h"
#include "upload/pending_object.h"
#include "util/thread_pool.h"

namespace repofs::upload {

struct TransferContext {
  ObjectClient& client;
  ThreadPool& pool;
  UploadJournal* journal;  // may be null: nothing journaled
  const UploadOptions& options;
};

// S3 allows at most 10,000 parts: the part size for an object of `size`
// bytes (at least `part_size`, rounded up to whole MiB when enlarged).
uint64_t PartSizeFor(uint64_t size, uint64_t part_size);

// The errno-carrying error of a failed write of `key`; a failed
// If-None-Match (kPreconditionFailed) becomes EEXIST.
Error WriteError(const S3Error& error, bool if_none_match);

// Uploads bytes [0, size) of `fd` as `key`. Errors: EIO, EACCES, EEXIST
// (if_none_match and the key exists), ENOTSUP, ... (see WriteError).
Result<WriteResult> UploadFile(const TransferContext& ctx,
                               const std::string& key, int fd, uint64_t size,
                               const PutOptions& put);

// Completes `upload_id` (parts in ascending order) after the If-None-Match
// HEAD check when asked, removes it from the journal and fills in the
// result. On error the upload is left as it was (the caller aborts it).
Result<WriteResult> CompleteUpload(const TransferContext& ctx,
                                   const std::string& key,
                                   const std::string& upload_id,
                                   const std::vector<CompletedPart>& parts,
                                   bool if_none_match);

// Aborts `upload_id` (best effort, logged) and removes it from the journal
// when S3 confirms it is gone; a failed abort stays journaled for the next
// mount.
void AbortUpload(const TransferContext& ctx, const std::string& key,
                 const std::string& upload_id);

// Creates a multipart upload for `key` and journals it. The PutOptions'
// if_none_match is not sent (see the file comment).
Result<std::string> StartUpload(const TransferContext& ctx,
                                const std::string& key, const PutOptions& put);

// Fills an empty ETag or a zero LastModified of `result` with a HEAD of
// `key`. EIO if the key is not there.
Status FillWriteResult(ObjectClient& client, const std::string& key,
                       WriteResult* result);

// Copies version `etag` of `key` (exactly `size` bytes) into `fd` at offset
// 0 with If-Match ranged GETs (in parallel, part_size each, for big
// objects). EIO if the version is gone or its size differs.
Status DownloadToFile(const TransferContext& ctx, const std::string& key,
                      const std::string& etag, uint64_t size, int fd);

}  // namespace repofs::upload
