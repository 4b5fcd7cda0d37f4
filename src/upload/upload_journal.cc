#include "upload/upload_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "upload/staging_file.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/string_util.h"

namespace repofs::upload {
namespace {

// Past this size a journal with nothing pending is emptied by Remove().
constexpr uint64_t kCompactBytes = 16 * 1024;

using PendingMap = std::map<std::string, std::pair<uint64_t, std::string>>;

std::string Encode(const std::string& text) { return UriEncode(text, true); }

Status ReadWholeFile(const std::string& path, std::string* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return OkStatus();
    return ErrnoError("open " + path);
  }
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + path);
    if (n == 0) return OkStatus();
    out->append(buf, static_cast<size_t>(n));
  }
}

// Applies the journal lines in `text` to `pending`; bad lines are skipped.
void Replay(std::string text, PendingMap* pending, uint64_t* sequence) {
  // A last line without its newline was torn by a crash mid-append.
  text.erase(text.find_last_of('\n') == std::string::npos
                 ? 0
                 : text.find_last_of('\n') + 1);
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    if (fields.size() == 3 && fields[0] == "started") {
      auto key = UriDecode(fields[1]);
      auto id = UriDecode(fields[2]);
      if (key && id && !id->empty()) {
        (*pending)[*id] = {(*sequence)++, *key};
        continue;
      }
    } else if (fields.size() == 2 && fields[0] == "done") {
      if (auto id = UriDecode(fields[1])) {
        pending->erase(*id);
        continue;
      }
    }
    if (!line.empty()) {
      REPOFS_LOG(kWarning) << "upload journal: skipping a bad line";
    }
  }
}

std::string StartedLine(const std::string& key, const std::string& id) {
  return "started " + Encode(key) + " " + Encode(id) + "\n";
}

std::vector<std::pair<uint64_t, std::pair<std::string, std::string>>> Ordered(
    const PendingMap& pending) {
  std::vector<std::pair<uint64_t, std::pair<std::string, std::string>>> out;
  for (const auto& [id, entry] : pending) {
    out.push_back({entry.first, {entry.second, id}});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Writes `text` to path.tmp, syncs it and renames it over `path`.
Status ReplaceFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("create " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write " + tmp);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return ErrnoError("rename " + tmp);
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  UniqueFd dir_fd(::open(dir.empty() ? "." : dir.c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.valid()) (void)::fsync(dir_fd.get());  // best effort
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<UploadJournal>> UploadJournal::Open(
    const std::string& path) {
  std::string text;
  if (Status read = ReadWholeFile(path, &text); !read) return read.error();
  PendingMap pending;
  uint64_t sequence = 0;
  Replay(text, &pending, &sequence);
  std::string compacted;
  for (const auto& [order, entry] : Ordered(pending)) {
    compacted += StartedLine(entry.first, entry.second);
  }
  if (compacted != text) {
    if (Status replaced = ReplaceFile(path, compacted); !replaced)
      return replaced.error();
  }
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("open " + path);
  std::unique_ptr<UploadJournal> journal(
      new UploadJournal(path, std::move(fd)));
  journal->pending_ = std::move(pending);
  journal->next_sequence_ = sequence;
  journal->file_bytes_ = compacted.size();
  return journal;
}

Status UploadJournal::AppendLocked(const std::string& line, bool sync) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write " + path_);
    done += static_cast<size_t>(n);
  }
  file_bytes_ += line.size();
  if (sync && ::fdatasync(fd_.get()) != 0)
    return ErrnoError("fdatasync " + path_);
  return OkStatus();
}

Status UploadJournal::Add(const std::string& key,
                          const std::string& upload_id) {
  std::lock_guard lock(mu_);
  pending_[upload_id] = {next_sequence_++, key};
  return AppendLocked(StartedLine(key, upload_id), /*sync=*/true);
}

Status UploadJournal::Remove(const std::string& upload_id) {
  std::lock_guard lock(mu_);
  if (pending_.erase(upload_id) == 0) return OkStatus();
  if (pending_.empty() && file_bytes_ >= kCompactBytes) {
    // Nothing pending: the whole history can go (O_APPEND writes continue
    // at the new end).
    if (::ftruncate(fd_.get(), 0) == 0) {
      file_bytes_ = 0;
      return OkStatus();
    }
  }
  return AppendLocked("done " + Encode(upload_id) + "\n", /*sync=*/false);
}

std::vector<MultipartUploadInfo> UploadJournal::Pending() const {
  std::lock_guard lock(mu_);
  std::vector<MultipartUploadInfo> out;
  for (const auto& [order, entry] : Ordered(pending_)) {
    out.push_back(MultipartUploadInfo{entry.first, entry.second, 0});
  }
  return out;
}

Result<size_t> AbortJournaledUploads(ObjectClient& client,
                                     UploadJournal& journal) {
  size_t removed = 0;
  std::optional<Error> first_failure;
  for (const MultipartUploadInfo& upload : journal.Pending()) {
    S3Status aborted =
        client.AbortMultipartUpload(upload.key, upload.upload_id);
    if (!aborted && aborted.error().code != S3ErrorCode::kNoSuchUpload) {
      REPOFS_LOG(kWarning) << "aborting journaled upload of " << upload.key
                           << ": " << ToError(aborted.error()).message;
      if (!first_failure) first_failure = ToError(aborted.error());
      continue;
    }
    if (Status status = journal.Remove(upload.upload_id); !status) {
      if (!first_failure) first_failure = status.error();
      continue;
    }
    ++removed;
  }
  if (first_failure) return *first_failure;
  return removed;
}

Result<std::vector<MultipartUploadInfo>> AbortStaleUploads(
    ObjectClient& client, const std::string& prefix, std::time_t older_than) {
  auto listed = client.ListMultipartUploads(prefix);
  if (!listed) return ToError(listed.error());
  std::vector<MultipartUploadInfo> aborted;
  std::optional<Error> first_failure;
  size_t failures = 0;
  for (const MultipartUploadInfo& upload : *listed) {
    if (upload.initiated >= older_than) continue;
    S3Status status = client.AbortMultipartUpload(upload.key, upload.upload_id);
    if (status || status.error().code == S3ErrorCode::kNoSuchUpload) {
      aborted.push_back(upload);
    } else {
      ++failures;
      if (!first_failure) first_failure = ToError(status.error());
    }
  }
  if (first_failure) {
    first_failure->message = "aborted " + std::to_string(aborted.size()) +
                             " uploads, " + std::to_string(failures) +
                             " failed; first: " + first_failure->message;
    return *first_failure;
  }
  return aborted;
}

}  // namespace repofs::upload
