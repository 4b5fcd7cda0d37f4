#include "upload/pending_object.h"

#include <algorithm>
#include <utility>

#include "upload/pending_state.h"
#include "util/log.h"

namespace repofs::upload {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's minimum (but the last)

}  // namespace

Result<std::unique_ptr<PendingObject>> PendingObject::Create(
    std::shared_ptr<ObjectClient> client, ThreadPool& pool,
    UploadJournal* journal, const UploadOptions& options, std::string key) {
  if (options.part_size < kMinPartSize || options.parallelism < 1) {
    return Error{EINVAL,
                 "upload part size must be >= 5 MiB and parallelism >= 1"};
  }
  auto file = StagingFile::Create(options.staging_dir);
  if (!file) return file.error();
  std::unique_ptr<PendingObject> object(new PendingObject());
  object->state_ =
      std::make_unique<State>(std::move(client), pool, journal, options,
                              std::move(key), std::move(*file));
  return object;
}

PendingObject::~PendingObject() {
  if (state_ == nullptr) return;
  std::unique_lock lock(state_->mu);
  state_->StopStreamingLocked();
  state_->WaitForTasksLocked(lock);
}

Status PendingObject::LoadFrom(const std::string& etag, uint64_t size) {
  State& s = *state_;
  std::lock_guard commit_lock(s.commit_mu);
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return !s.busy; });
  s.StopStreamingLocked();
  s.stream_error.reset();  // it was about the content being replaced
  s.busy = true;
  const std::string key = s.key;
  lock.unlock();
  Status status = s.file.Resize(0);
  if (status)
    status = DownloadToFile(s.Context(), key, etag, size, s.file.fd());
  if (status) status = s.file.Resize(size);
  lock.lock();
  if (status) {
    s.size = size;
  } else {
    s.size = 0;
    (void)s.file.Resize(0);
  }
  s.dirty = false;
  s.ResetCycleLocked();
  s.busy = false;
  s.cv.notify_all();
  return status;
}

Status PendingObject::Write(uint64_t offset, std::string_view data) {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return !s.busy; });
  if (data.empty()) return OkStatus();
  if (Status written = s.file.WriteAt(offset, data); !written) return written;
  const uint64_t end = offset + data.size();
  s.size = std::max(s.size, end);
  s.dirty = true;
  s.NoteWriteLocked(offset, end);
  s.PumpLocked();
  // Backpressure: return once no complete part waits for an upload slot.
  s.cv.wait(lock, [&] { return !s.BacklogFullLocked(); });
  return OkStatus();
}

Result<size_t> PendingObject::Read(uint64_t offset, size_t size, char* out) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (offset >= s.size) return size_t{0};
  const size_t n =
      static_cast<size_t>(std::min<uint64_t>(size, s.size - offset));
  if (Status read = s.file.ReadAt(offset, n, out); !read) return read.error();
  return n;
}

Status PendingObject::Truncate(uint64_t size) {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return !s.busy; });
  if (size == s.size) return OkStatus();
  if (Status resized = s.file.Resize(size); !resized) return resized;
  s.NoteTruncateLocked(size);
  s.size = size;
  s.dirty = true;
  return OkStatus();
}

uint64_t PendingObject::Size() const {
  std::lock_guard lock(state_->mu);
  return state_->size;
}

bool PendingObject::Dirty() const {
  std::lock_guard lock(state_->mu);
  return state_->dirty;
}

Result<WriteResult> PendingObject::Commit(const PutOptions& put) {
  State& s = *state_;
  std::lock_guard commit_lock(s.commit_mu);
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return !s.busy; });
  s.busy = true;
  std::optional<Result<WriteResult>> result;
  if (s.stream_error) {
    // A part failed while streaming: report it now (tenet 2: close() says
    // so); the content stays and the next Commit() uploads it afresh.
    result = Result<WriteResult>(*s.stream_error);
    s.stream_error.reset();
    s.StopStreamingLocked();
  } else {
    result = s.FinishStreamLocked(lock, put);
  }
  if (!result) {
    s.StopStreamingLocked();  // a stream that could not be used
    const std::string key = s.key;
    const uint64_t size = s.size;
    lock.unlock();
    result = UploadFile(s.Context(), key, s.file.fd(), size, put);
    lock.lock();
  }
  // Abandoned uploads are aborted before returning, so a failed commit
  // leaves nothing behind in S3 (and tests see a quiet bucket).
  s.WaitForTasksLocked(lock);
  if (result->has_value()) {
    s.dirty = false;
    s.ResetCycleLocked();
  }
  s.busy = false;
  s.cv.notify_all();
  return std::move(*result);
}

void PendingObject::Abort() {
  State& s = *state_;
  std::lock_guard commit_lock(s.commit_mu);
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return !s.busy; });
  s.StopStreamingLocked();
  s.stream_error.reset();
  if (Status resized = s.file.Resize(0); !resized) {
    REPOFS_LOG(kWarning) << "dropping staged content of " << s.key << ": "
                         << resized.error().message;
  }
  s.size = 0;
  s.dirty = false;
  s.ResetCycleLocked();
  s.WaitForTasksLocked(lock);  // the abort has reached S3 on return
}

const std::string& PendingObject::key() const { return state_->key; }

void PendingObject::Rekey(std::string key) {
  State& s = *state_;
  std::lock_guard commit_lock(s.commit_mu);
  std::unique_lock lock(s.mu);
  s.key = std::move(key);
  s.StopStreamingLocked();
}

int PendingObject::fd() const { return state_->file.fd(); }

void PendingObject::SetStreamingPutOptions(const PutOptions& put) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  s.stream_put = put;
  s.stream_put.if_none_match = false;
  if (s.stream != nullptr && (s.stream->put.metadata != put.metadata ||
                              s.stream->put.content_type != put.content_type)) {
    s.StopStreamingLocked();
  }
}

bool PendingObject::Streaming() const {
  std::lock_guard lock(state_->mu);
  return state_->stream != nullptr;
}

}  // namespace repofs::upload
