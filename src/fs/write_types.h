// Value types of the write path's Filesystem calls (fs/ never includes
// <fuse_lowlevel.h>): who is asking, what SETATTR changes, and which kernel
// dentry must be invalidated after a commit.
//
// Thread-safety: plain value types.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "fs/types.h"

namespace repofs::fs {

// The process on whose behalf a file, directory or symlink is created: its
// ids become the object's x-amz-meta-uid/-gid (as s3fs does).
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
};

// SETATTR: each optional is set when that attribute changes.
struct SetAttrRequest {
  std::optional<mode_t> mode;  // permission bits (type bits ignored)
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<uint64_t> size;
  std::optional<timespec> mtime;  // already resolved for UTIME_NOW
  bool atime = false;             // atime only: accepted, not stored
};

struct CreateReply {
  Entry entry;  // counts one lookup
  OpenReply open;
};

// A kernel dentry (parent, name) whose inode changed behind the kernel's
// back (a commit made a new version): fuse/ invalidates it so the next
// path lookup finds the new inode.
struct EntryRef {
  Ino parent = 0;
  std::string name;
};

}  // namespace repofs::fs
