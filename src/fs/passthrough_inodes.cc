#include "fs/passthrough_inodes.h"

namespace repofs::fs {

std::optional<int32_t> PassthroughInodes::Acquire(
    Ino ino, std::string_view key, SteadyTime now,
    const std::function<uint32_t()>& open_count,
    const std::function<std::optional<cache::WholeFile>()>& whole) {
  if (!enabled()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = by_inode_.find(ino);
  if (it != by_inode_.end()) {
    // The kernel takes nothing but passthrough on this inode now.
    ++it->second.handles;
    return it->second.id;
  }
  if (open_count() != 1) return std::nullopt;  // page-cached handles open
  auto intent = write_intent_.find(std::string(key));
  if (intent != write_intent_.end()) {
    if (now - intent->second < kWriteIntent) return std::nullopt;
    write_intent_.erase(intent);
  }
  std::optional<cache::WholeFile> file = whole();
  if (!file) return std::nullopt;
  std::optional<int32_t> id = backings_->Open(file->raw_fd());
  if (!id) return std::nullopt;
  by_inode_.emplace(ino, Backing{*id, 1, std::move(*file)});
  return id;
}

void PassthroughInodes::Release(Ino ino) {
  std::lock_guard lock(mu_);
  auto it = by_inode_.find(ino);
  if (it == by_inode_.end()) return;
  if (--it->second.handles > 0) return;
  backings_->Close(it->second.id);
  by_inode_.erase(it);  // unpins the version's blocks
}

bool PassthroughInodes::DetachForWriter(Ino ino, std::string_view key,
                                        SteadyTime now) {
  std::lock_guard lock(mu_);
  if (by_inode_.count(ino) == 0) return false;
  for (auto it = write_intent_.begin(); it != write_intent_.end();) {
    it = now - it->second >= kWriteIntent ? write_intent_.erase(it)
                                          : std::next(it);
  }
  write_intent_[std::string(key)] = now;
  return true;
}

size_t PassthroughInodes::active() const {
  std::lock_guard lock(mu_);
  return by_inode_.size();
}

}  // namespace repofs::fs
