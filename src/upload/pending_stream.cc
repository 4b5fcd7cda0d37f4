// PendingObject's streaming multipart upload: while the content is written
// in order from offset 0, each complete part is uploaded in the background
// (read back from the staging file). See pending_object.h for the rules.
#include <algorithm>

#include "upload/pending_state.h"
#include "util/log.h"

namespace repofs::upload {
namespace {

constexpr size_t kMaxPendingRanges = 64;  // out-of-order writes remembered
constexpr size_t kMaxParts = 10000;       // S3's limit per upload

}  // namespace

void PendingObject::State::NoteWriteLocked(uint64_t offset, uint64_t end) {
  if (!stream_eligible) return;
  if (offset < streamed_end) {
    // Rewrites bytes that are (being) uploaded as a part.
    StopStreamingLocked();
    return;
  }
  if (offset <= contiguous_end) {
    contiguous_end = std::max(contiguous_end, end);
  } else {
    auto it = written.upper_bound(offset);
    if (it != written.begin() && std::prev(it)->second >= offset) {
      std::prev(it)->second = std::max(std::prev(it)->second, end);
    } else {
      written[offset] = end;
    }
    if (written.size() > kMaxPendingRanges) {
      StopStreamingLocked();  // random writes: upload at commit
      return;
    }
  }
  while (!written.empty() && written.begin()->first <= contiguous_end) {
    contiguous_end = std::max(contiguous_end, written.begin()->second);
    written.erase(written.begin());
  }
}

void PendingObject::State::NoteTruncateLocked(uint64_t new_size) {
  if (!stream_eligible) return;
  if (new_size < streamed_end) {
    StopStreamingLocked();
    return;
  }
  contiguous_end = std::min(contiguous_end, new_size);
  written.erase(written.lower_bound(new_size), written.end());
  if (!written.empty()) {
    auto last = std::prev(written.end());
    last->second = std::min(last->second, new_size);
  }
}

void PendingObject::State::StopStreamingLocked() {
  stream_eligible = false;
  written.clear();
  if (stream != nullptr) {
    AbandonLocked(stream);
    stream = nullptr;
  }
  cv.notify_all();
}

void PendingObject::State::ResetCycleLocked() {
  if (stream != nullptr) {
    AbandonLocked(stream);
    stream = nullptr;
  }
  stream_eligible = true;
  contiguous_end = 0;
  streamed_end = 0;
  written.clear();
  cv.notify_all();
}

void PendingObject::State::AbandonLocked(
    const std::shared_ptr<StreamUpload>& s) {
  s->abandoned = true;
  MaybeAbortLocked(s);
}

void PendingObject::State::MaybeAbortLocked(
    const std::shared_ptr<StreamUpload>& s) {
  // Abort once no part of it is in flight: a part finishing after the abort
  // could otherwise leave storage behind (S3 docs, AbortMultipartUpload).
  if (!s->abandoned || s->in_flight > 0 || s->upload_id.empty() ||
      s->abort_started)
    return;
  s->abort_started = true;
  ++tasks;
  pool.Submit([this, s] { RunAbort(s); });
}

void PendingObject::State::RunAbort(const std::shared_ptr<StreamUpload>& s) {
  AbortUpload(Context(), s->key, s->upload_id);
  std::lock_guard lock(mu);
  --tasks;
  cv.notify_all();
}

void PendingObject::State::PumpLocked() {
  if (!stream_eligible) return;
  const uint64_t part_size = options.part_size;
  if (stream == nullptr) {
    if (contiguous_end < std::max(options.multipart_threshold, part_size))
      return;
    stream = std::make_shared<StreamUpload>();
    stream->key = key;
    stream->put = stream_put;
    stream->creating = true;
    stream->in_flight = 1;
    ++tasks;
    pool.Submit([this, s = stream] { RunCreate(s); });
    return;
  }
  StreamUpload& s = *stream;
  if (s.creating) return;
  const uint64_t ready_end = s.final ? size : contiguous_end;
  while (s.in_flight < options.parallelism && streamed_end < ready_end) {
    const uint64_t available = ready_end - streamed_end;
    if (available < part_size && !s.final) break;
    if (s.parts.size() >= kMaxParts) {
      StopStreamingLocked();  // Commit picks a bigger part size
      return;
    }
    const uint64_t length = std::min(part_size, available);
    const uint64_t offset = streamed_end;
    const int number = static_cast<int>(s.parts.size()) + 1;
    s.parts.push_back(CompletedPart{number, ""});
    streamed_end += length;
    ++s.in_flight;
    ++tasks;
    pool.Submit([this, st = stream, number, offset, length] {
      RunPart(st, number, offset, length);
    });
  }
  cv.notify_all();
}

bool PendingObject::State::BacklogFullLocked() const {
  return stream_eligible && stream != nullptr &&
         contiguous_end - streamed_end >= options.part_size;
}

void PendingObject::State::RunCreate(const std::shared_ptr<StreamUpload>& s) {
  auto upload_id = StartUpload(Context(), s->key, s->put);
  std::lock_guard lock(mu);
  s->creating = false;
  --s->in_flight;
  if (!upload_id) {
    if (!s->abandoned) {
      stream_error = upload_id.error();
      StopStreamingLocked();
    }
  } else {
    s->upload_id = *upload_id;
    if (s->abandoned) {
      MaybeAbortLocked(s);
    } else {
      PumpLocked();
    }
  }
  --tasks;
  cv.notify_all();
}

void PendingObject::State::RunPart(const std::shared_ptr<StreamUpload>& s,
                                   int number, uint64_t offset,
                                   uint64_t length) {
  auto etag = client->UploadPart(s->key, s->upload_id, number,
                                 Payload::FromFile(file.fd(), offset, length));
  std::lock_guard lock(mu);
  --s->in_flight;
  if (etag) {
    s->parts[static_cast<size_t>(number - 1)].etag = *etag;
  } else if (!s->abandoned) {
    REPOFS_LOG(kWarning) << "part " << number << " of " << s->key
                         << " failed: " << ToError(etag.error()).message;
    stream_error = WriteError(etag.error(), false);
    StopStreamingLocked();
  }
  if (s->abandoned) {
    MaybeAbortLocked(s);
  } else {
    PumpLocked();
  }
  --tasks;
  cv.notify_all();
}

std::optional<Result<WriteResult>> PendingObject::State::FinishStreamLocked(
    std::unique_lock<std::mutex>& lock, const PutOptions& put) {
  const std::shared_ptr<StreamUpload> s = stream;
  if (s == nullptr || !stream_eligible) return std::nullopt;
  if (size < options.multipart_threshold || size == 0 ||
      put.metadata != s->put.metadata ||
      put.content_type != s->put.content_type) {
    StopStreamingLocked();
    return std::nullopt;
  }
  s->final = true;
  PumpLocked();
  cv.wait(lock, [&] {
    return s->abandoned ||
           (!s->creating && streamed_end == size && s->in_flight == 0);
  });
  if (s->abandoned) {
    if (!stream_error) return std::nullopt;  // e.g. too many parts: start over
    Error error = *stream_error;
    stream_error.reset();
    return Result<WriteResult>(error);
  }
  const std::vector<CompletedPart> parts = s->parts;
  lock.unlock();
  Result<WriteResult> result =
      CompleteUpload(Context(), s->key, s->upload_id, parts, put.if_none_match);
  lock.lock();
  if (!result) {
    stream_eligible = false;
    AbandonLocked(s);
  }
  stream = nullptr;
  return result;
}

void PendingObject::State::WaitForTasksLocked(
    std::unique_lock<std::mutex>& lock) {
  cv.wait(lock, [&] { return tasks == 0; });
}

}  // namespace repofs::upload
