#include "prefetch/sequential_detector.h"

#include <algorithm>

namespace repofs::prefetch {
namespace {

uint64_t RoundUp(uint64_t value, uint64_t unit) {
  return value % unit == 0 ? value : value + (unit - value % unit);
}

}  // namespace

SequentialDetector::SequentialDetector(const ReadaheadOptions& options,
                                       uint64_t object_size,
                                       uint64_t chunk_bytes)
    : options_(options),
      object_size_(object_size),
      chunk_bytes_(std::max<uint64_t>(chunk_bytes, 1)) {
  streams_.push_back(Stream{});
}

bool SequentialDetector::OnRead(uint64_t offset, uint64_t length) {
  ++tick_;
  const uint64_t end = offset + length;
  Stream* stream = Match(offset);
  if (stream == nullptr) {
    Stream& fresh = NewStream();
    fresh = Stream{end, 0, tick_};
    return false;
  }
  stream->last_use = tick_;
  // A read wholly behind the position (a repeat, or a reordered concurrent
  // kernel read) belongs to the stream but does not grow its window.
  if (end <= stream->position) return true;
  const uint64_t max = options_.max;
  if (stream->window == 0) {
    stream->window = std::min(options_.initial, max);
  } else {
    stream->window = std::min(stream->window * 2, max);
  }
  stream->position = end;
  return true;
}

SequentialDetector::Stream* SequentialDetector::Match(uint64_t offset) {
  Stream* best = nullptr;
  uint64_t best_distance = 0;
  for (Stream& stream : streams_) {
    uint64_t distance = offset > stream.position ? offset - stream.position
                                                 : stream.position - offset;
    if (distance > kSequentialGap) continue;
    if (best == nullptr || distance < best_distance) {
      best = &stream;
      best_distance = distance;
    }
  }
  return best;
}

SequentialDetector::Stream& SequentialDetector::NewStream() {
  if (streams_.size() < static_cast<size_t>(kMaxStreams)) {
    streams_.push_back(Stream{});
    return streams_.back();
  }
  // Replace the least recently used stream, preferring one without a window
  // so random reads do not cancel an established sequential stream.
  auto older = [](const Stream& a, const Stream& b) {
    return a.last_use < b.last_use;
  };
  Stream* victim = nullptr;
  for (Stream& stream : streams_) {
    if (stream.window == 0 && (victim == nullptr || older(stream, *victim))) {
      victim = &stream;
    }
  }
  if (victim == nullptr) {
    victim = &*std::min_element(streams_.begin(), streams_.end(), older);
  }
  return *victim;
}

ByteRange SequentialDetector::ReadaheadRange(const Stream& stream) const {
  if (stream.window == 0 || stream.position >= object_size_) return {};
  uint64_t end = RoundUp(stream.position + stream.window, chunk_bytes_);
  return ByteRange{stream.position, std::min(end, object_size_)};
}

std::vector<ByteRange> SequentialDetector::ReadaheadRanges() const {
  std::vector<const Stream*> order;
  for (const Stream& stream : streams_) order.push_back(&stream);
  std::sort(order.begin(), order.end(), [](const Stream* a, const Stream* b) {
    return a->last_use > b->last_use;
  });
  std::vector<ByteRange> ranges;
  for (const Stream* stream : order) {
    ByteRange range = ReadaheadRange(*stream);
    if (!range.empty()) ranges.push_back(range);
  }
  return ranges;
}

bool SequentialDetector::Retains(uint64_t begin, uint64_t end) const {
  for (const Stream& stream : streams_) {
    if (stream.position >= object_size_) continue;
    uint64_t low =
        stream.position > kSequentialGap ? stream.position - kSequentialGap : 0;
    // At least the byte at `position` (the chunk the next read starts in).
    uint64_t high = stream.position + 1;
    ByteRange ahead = ReadaheadRange(stream);
    if (!ahead.empty()) high = std::max(high, ahead.end);
    if (begin < high && end > low) return true;
  }
  return false;
}

bool SequentialDetector::Trails(uint64_t begin, uint64_t end) const {
  for (const Stream& stream : streams_) {
    if (stream.position >= object_size_ || end > stream.position) continue;
    if (stream.position - begin <= kStragglerDistance) return true;
  }
  return false;
}

void SequentialDetector::DropWindows() {
  for (Stream& stream : streams_) stream.window = 0;
}

uint64_t SequentialDetector::current_window() const {
  const Stream* latest = &streams_.front();
  for (const Stream& stream : streams_) {
    if (stream.last_use > latest->last_use) latest = &stream;
  }
  return latest->window;
}

}  // namespace repofs::prefetch
