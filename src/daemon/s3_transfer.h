// Whole-object transfers for the `repofs s3` command: parallel ranged GETs
// into a file and parallel multipart uploads from a file or a pipe.
//
// Thread-safety: each call is independent; the pool is used only for the
// duration of the call.
#pragma once

#include <cstdint>
#include <string>

#include "repofs/object_client.h"
#include "util/thread_pool.h"

namespace repofs::daemon {

struct TransferOptions {
  uint64_t part_size = 8ull << 20;      // multipart part / GET range size
  uint64_t multipart_threshold = 16ull << 20;
  int parallelism = 8;                  // parts or ranges in flight
};

// Downloads `key` into `fd` (a regular file gets pwrite at offsets, a pipe
// gets the bytes in order). Ranges are pinned to the ETag seen first, so a
// concurrently replaced object fails instead of mixing versions.
S3Result<ObjectInfo> DownloadObject(ObjectClient& client, const std::string& key,
                                    int fd, const TransferOptions& options,
                                    ThreadPool& pool);

// Uploads everything readable from `fd` (a regular file by offset, a pipe
// sequentially) to `key`: one PUT below the threshold, otherwise a parallel
// multipart upload that is aborted on any failure (no partial object).
S3Result<WriteResult> UploadObject(ObjectClient& client, const std::string& key,
                                   int fd, const PutOptions& put,
                                   const TransferOptions& options,
                                   ThreadPool& pool);

}  // namespace repofs::daemon
