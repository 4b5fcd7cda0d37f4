#include "cache/data_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/log.h"

namespace repofs::cache {
namespace {

std::string FanOut(const std::string& hex) { return hex.substr(0, 2); }

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, CDeleter<closedir>> dir(opendir(path.c_str()));
  if (!dir) return names;
  while (dirent* entry = readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  return names;
}

bool IsHexPair(const std::string& name) {
  return name.size() == 2 &&
         name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool PwriteAll(int fd, std::string_view bytes, uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(),
                         static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

bool DataFiles::Write(const VersionId& id, int fd, std::string_view bytes,
                      uint64_t offset) {
  const uint64_t whole = bytes.size() / kDirectAlign * kDirectAlign;
  const bool aligned =
      reinterpret_cast<uintptr_t>(bytes.data()) % kDirectAlign == 0 &&
      offset % kDirectAlign == 0;
  if (whole == 0 || !aligned || !direct_.load(std::memory_order_relaxed)) {
    return PwriteAll(fd, bytes, offset);
  }
  UniqueFd direct(::open(PathOf(id).c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
  if (direct.get() < 0 ||
      !PwriteAll(direct.get(), bytes.substr(0, whole), offset)) {
    if (errno == EINVAL &&
        direct_.exchange(false, std::memory_order_relaxed)) {
      // No O_DIRECT here (tmpfs before Linux 6.6, some FUSE filesystems),
      // or alignment rules stricter than a page: buffered from now on.
      REPOFS_LOG(kInfo) << "cache dir " << data_dir_
                        << ": no O_DIRECT writes, blocks go through the "
                           "page cache";
    }
    // Whatever failed, the buffered write decides (it rewrites the part a
    // failed direct write may have written).
    return PwriteAll(fd, bytes, offset);
  }
  return PwriteAll(fd, bytes.substr(whole), offset + whole);
}

DataFiles::DataFiles(std::string data_dir, size_t max_open_files)
    : data_dir_(std::move(data_dir)), max_open_(max_open_files) {}

std::string DataFiles::PathOf(const VersionId& id) const {
  std::string hex = id.Hex();
  return data_dir_ + "/" + FanOut(hex) + "/" + hex;
}

Result<SharedFd> DataFiles::Open(const VersionId& id, bool create) {
  std::lock_guard lock(mu_);
  auto it = open_.find(id);
  if (it != open_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
    return it->second.fd;
  }
  std::string path = PathOf(id);
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0 && create && errno == ENOENT) {
    std::string sub = data_dir_ + "/" + FanOut(id.Hex());
    if (::mkdir(sub.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error{errno, "mkdir " + sub + ": " + std::strerror(errno)};
    }
    fd = ::open(path.c_str(), flags, 0600);
  }
  if (fd < 0) return Error{errno, "open " + path + ": " + std::strerror(errno)};
  auto shared = std::make_shared<const UniqueFd>(fd);
  lru_.push_front(id);
  open_.emplace(id, Entry{shared, lru_.begin()});
  while (open_.size() > max_open_ && !lru_.empty()) {
    open_.erase(lru_.back());
    lru_.pop_back();
  }
  return shared;
}

void DataFiles::Forget(const VersionId& id) {
  std::lock_guard lock(mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return;
  lru_.erase(it->second.lru_pos);
  open_.erase(it);
}

void DataFiles::Remove(const VersionId& id) {
  Forget(id);
  std::string path = PathOf(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    REPOFS_LOG(kWarning) << "cache: unlink " << path << ": "
                         << std::strerror(errno);
  }
}

Status DataFiles::PunchHole(const VersionId& id, uint64_t offset,
                            uint64_t length) {
  Result<SharedFd> fd = Open(id, false);
  if (!fd) return fd.error();
  if (::fallocate((*fd)->get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
    return Error{errno,
                 "punch hole in " + PathOf(id) + ": " + std::strerror(errno)};
  }
  return OkStatus();
}

std::optional<uint64_t> DataFiles::FileSize(const VersionId& id) const {
  struct stat st {};
  if (::stat(PathOf(id).c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

void DataFiles::ForEach(const std::function<void(const VersionId&)>& fn) {
  for (const std::string& sub : ListDir(data_dir_)) {
    std::string sub_path = data_dir_ + "/" + sub;
    if (!IsHexPair(sub)) {
      ::unlink(sub_path.c_str());
      continue;
    }
    for (const std::string& name : ListDir(sub_path)) {
      VersionId id;
      if (!VersionId::FromHex(name, &id) || FanOut(name) != sub) {
        ::unlink((sub_path + "/" + name).c_str());
        continue;
      }
      fn(id);
    }
  }
}

void DataFiles::RemoveAll() {
  {
    std::lock_guard lock(mu_);
    open_.clear();
    lru_.clear();
  }
  for (const std::string& sub : ListDir(data_dir_)) {
    std::string sub_path = data_dir_ + "/" + sub;
    for (const std::string& name : ListDir(sub_path)) {
      ::unlink((sub_path + "/" + name).c_str());
    }
    ::rmdir(sub_path.c_str());
    ::unlink(sub_path.c_str());
  }
}

}  // namespace repofs::cache
