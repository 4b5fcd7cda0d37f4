// ObjectReader: the reads of one open file handle, pinned to one object
// version (ETag). The filesystem creates one per open() and calls Read() for
// every FUSE read; the reader turns those reads into block-aligned fetches
// from the context's ChunkSource (ranged GETs with If-Match), detects
// sequential streams and keeps a growing read-ahead window of parallel
// request_size GETs in flight for them (see sequential_detector.h).
//
// Guarantees:
// - Read() returns exactly min(len, size - offset) bytes (0 at or past EOF),
//   never a short count before EOF, or an error; never bytes of two versions.
// - A read waits only for the blocks it needs; a block being fetched is never
//   fetched twice; buffered blocks live only while inside a stream's window
//   (or the block being read), charged to the context's MemoryBudget. When
//   the budget is exhausted there is no read-ahead and a read that cannot
//   buffer is fetched straight into the caller's buffer.
// - A failed fetch fails the reads waiting for it (EIO) and is retried when
//   a later read needs the same bytes again.
//
// Ownership: the reader borrows the context, which must outlive it; queued
// read-ahead tasks keep the reader's internal state alive, not the reader.
// Thread-safety: Read() may be called concurrently from many threads (the
// kernel sends concurrent reads on one handle). The destructor must not run
// concurrently with Read().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "prefetch/chunk_source.h"
#include "prefetch/readahead_context.h"
#include "repofs/result.h"

namespace repofs::prefetch {

namespace internal {
class ReaderCore;
}

// The bytes of one read left where they are (see ObjectReader::Read): in
// order, pieces of the reader's buffered blocks, kept alive by `holds` until
// the view is cleared or destroyed, or of the caller's own buffer.
struct ReadView {
  std::vector<std::string_view> pieces;
  std::vector<std::shared_ptr<const void>> holds;
  void Clear() {
    pieces.clear();
    holds.clear();
  }
};

class ObjectReader {
 public:
  ObjectReader(ReadaheadContext& context, ObjectVersion version);
  // Cancels queued fetches, waits (bounded, see kCloseTimeout) for running
  // ones, frees the buffers (counting unread read-ahead as wasted).
  ~ObjectReader();
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  // Copies exactly min(len, size - offset) bytes of the pinned version at
  // `offset` into `out` and returns that count (0 at or past EOF).
  // Errors (errno_value EIO, one-line message naming key and range): the
  // pinned version disappeared (GET answered 412 / 404), S3 failed after the
  // client's retries, or the object is shorter than the pinned size.
  // With a `view`, bytes already buffered are not copied: the view gets
  // pieces covering exactly the returned count, in order (some may point
  // into `out`, which must still have room for len bytes).
  Result<size_t> Read(uint64_t offset, size_t len, char* out,
                      ReadView* view = nullptr);

  // True while some block of [offset, offset + len) is buffered here or
  // being fetched: this reader is streaming over the range, so a read of it
  // belongs to Read() (its bytes are in memory or on the way, and the read
  // moves the read-ahead window on) rather than to the block cache.
  bool Streaming(uint64_t offset, size_t len) const;

  const ObjectVersion& version() const;

 private:
  std::shared_ptr<internal::ReaderCore> core_;
};

}  // namespace repofs::prefetch
