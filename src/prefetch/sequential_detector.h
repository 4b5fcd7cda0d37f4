// SequentialDetector: recognizes read streams within one open file and sizes
// their read-ahead windows. Pure bookkeeping (no I/O, no locking), used by
// ObjectReader under its mutex.
//
// A stream is a position where the next sequential read is expected and a
// window. A read that starts within kSequentialGap of a stream's position
// (before or after it: the kernel may deliver concurrent read-ahead requests
// out of order) belongs to that stream; if it also moves the position forward
// it is a sequential hit: the window becomes `initial` on the first hit and
// doubles on each further hit, up to `max`. A read that matches
// no stream is random: it starts a new stream with no window, replacing the
// least recently used window-less stream first, so a random read does not
// discard an established read-ahead stream elsewhere (nginx serving two
// ranges of one file). A fresh detector has one stream at offset 0, so a
// reader that starts at the beginning is sequential from its first read.
//
// Thread-safety: none; the owner serializes calls.
#pragma once

#include <cstdint>
#include <vector>

#include "repofs/fs_options.h"

namespace repofs::prefetch {

struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;  // exclusive
  bool empty() const { return begin >= end; }
};

class SequentialDetector {
 public:
  // Reads this close to a stream's position count as sequential.
  static constexpr uint64_t kSequentialGap = 1 << 20;
  // How far behind a stream partly read blocks are kept for late reads.
  static constexpr uint64_t kStragglerDistance = 4 << 20;
  // Streams tracked per open file.
  static constexpr int kMaxStreams = 4;

  // `chunk_bytes` is the read-ahead request size: windows are rounded up to
  // whole aligned chunks. `object_size` clamps every range.
  SequentialDetector(const ReadaheadOptions& options, uint64_t object_size,
                     uint64_t chunk_bytes);

  // Records a read of [offset, offset + length). Returns true when it
  // belonged to an existing stream (false: a random read).
  bool OnRead(uint64_t offset, uint64_t length);

  // Byte ranges that read-ahead should keep buffered: for each stream with a
  // window, [position, position + window) rounded up to a chunk boundary and
  // clamped to the object. Nearest first (most recently used stream first).
  std::vector<ByteRange> ReadaheadRanges() const;

  // True when any byte of [begin, end) is still useful: inside a read-ahead
  // range, or near the position of a stream that has not reached the end of
  // the object (the chunk being read, and up to kSequentialGap behind it for
  // slightly reordered reads). A finished stream retains nothing, so a file
  // read to the end holds no memory while its handle stays open.
  bool Retains(uint64_t begin, uint64_t end) const;

  // True when [begin, end) lies at most kStragglerDistance behind the
  // position of a stream that has not reached the end of the object.
  bool Trails(uint64_t begin, uint64_t end) const;

  // Forgets every window (streams keep their positions and regrow on the
  // next sequential hits). Used when an idle reader gives its memory back.
  void DropWindows();

  // Window of the most recently used stream (0 for a random reader).
  uint64_t current_window() const;

 private:
  struct Stream {
    uint64_t position = 0;  // where the next sequential read would start
    uint64_t window = 0;    // bytes to read ahead of `position`
    uint64_t last_use = 0;  // tick of the last hit
  };

  Stream* Match(uint64_t offset);
  Stream& NewStream();
  ByteRange ReadaheadRange(const Stream& stream) const;

  const ReadaheadOptions options_;
  const uint64_t object_size_;
  const uint64_t chunk_bytes_;
  uint64_t tick_ = 0;
  std::vector<Stream> streams_;
};

}  // namespace repofs::prefetch
