#include "fs/write_files.h"

namespace repofs::fs {

std::shared_ptr<OpenFile> WriteFiles::Find(Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(ino);
  return it == files_.end() ? nullptr : it->second.file;
}

std::shared_ptr<OpenFile> WriteFiles::Insert(std::shared_ptr<OpenFile> file) {
  std::lock_guard lock(mu_);
  Entry& entry = files_[file->ino];
  if (!entry.file) entry.file = std::move(file);
  return entry.file;
}

uint64_t WriteFiles::AddHandle(std::shared_ptr<OpenFile> file,
                               bool can_write) {
  std::lock_guard lock(mu_);
  auto it = files_.find(file->ino);
  if (it == files_.end() || it->second.file != file) return 0;
  uint64_t fh = kWriteHandleBit | next_++;
  ++it->second.handles;
  auto handle = std::make_shared<WriteHandle>();
  handle->file = std::move(file);
  handle->can_write = can_write;
  handles_.emplace(fh, std::move(handle));
  return fh;
}

std::shared_ptr<WriteHandle> WriteFiles::Get(uint64_t fh) const {
  std::lock_guard lock(mu_);
  auto it = handles_.find(fh);
  return it == handles_.end() ? nullptr : it->second;
}

std::shared_ptr<WriteHandle> WriteFiles::Remove(
    uint64_t fh, std::shared_ptr<OpenFile>* last) {
  last->reset();
  std::lock_guard lock(mu_);
  auto it = handles_.find(fh);
  if (it == handles_.end()) return nullptr;
  std::shared_ptr<WriteHandle> handle = std::move(it->second);
  handles_.erase(it);
  auto fit = files_.find(handle->file->ino);
  if (fit != files_.end() && fit->second.file == handle->file &&
      --fit->second.handles == 0) {
    *last = std::move(fit->second.file);
    files_.erase(fit);
  }
  return handle;
}

uint32_t WriteFiles::HandleCount(Ino ino) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(ino);
  return it == files_.end() ? 0 : it->second.handles;
}

std::vector<std::shared_ptr<OpenFile>> WriteFiles::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<OpenFile>> all;
  for (const auto& [ino, entry] : files_) all.push_back(entry.file);
  return all;
}

size_t WriteFiles::size() const {
  std::lock_guard lock(mu_);
  return files_.size();
}

void WriteFiles::Clear() {
  std::unordered_map<Ino, Entry> files;
  std::unordered_map<uint64_t, std::shared_ptr<WriteHandle>> handles;
  {
    std::lock_guard lock(mu_);
    files.swap(files_);
    handles.swap(handles_);
  }
}

bool PreservedCopies::Contains(Ino ino, const std::string& etag) const {
  return Find(ino, etag) != nullptr;
}

std::shared_ptr<upload::PendingObject> PreservedCopies::Find(
    Ino ino, const std::string& etag) const {
  if (count_.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard lock(mu_);
  auto it = copies_.find(ino);
  if (it == copies_.end() || it->second.etag != etag) return nullptr;
  return it->second.data;
}

void PreservedCopies::Put(Ino ino, std::string etag,
                          std::shared_ptr<upload::PendingObject> copy) {
  std::lock_guard lock(mu_);
  copies_[ino] = Copy{std::move(etag), std::move(copy)};
  count_.store(copies_.size(), std::memory_order_release);
}

void PreservedCopies::Erase(Ino ino) {
  std::shared_ptr<upload::PendingObject> dropped;
  std::lock_guard lock(mu_);
  auto it = copies_.find(ino);
  if (it == copies_.end()) return;
  dropped = std::move(it->second.data);
  copies_.erase(it);
  count_.store(copies_.size(), std::memory_order_release);
}

void PreservedCopies::Clear() {
  std::lock_guard lock(mu_);
  copies_.clear();
  count_.store(0, std::memory_order_release);
}

size_t PreservedCopies::size() const {
  std::lock_guard lock(mu_);
  return copies_.size();
}

}  // namespace repofs::fs
