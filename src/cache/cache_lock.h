// The per-directory lock of a block cache: an exclusive flock on DIR/lock,
// whose content is the holder's pid (for the error message). The kernel
// drops the lock when the holder exits, including on SIGKILL, so a stale
// pid in the file never blocks a new mount.
//
// Thread-safety: functions are thread-safe; the returned fd is the lock.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "repofs/result.h"
#include "util/handles.h"

namespace repofs::cache {

// Takes the lock (non-blocking) and writes our pid. EBUSY with "cache dir
// DIR is in use by another repofs (pid N)" when held elsewhere.
Result<UniqueFd> LockCacheDir(const std::string& dir);

// The pid holding DIR's lock now, or nullopt when nobody does (or there is
// no lock file).
std::optional<pid_t> CacheDirHolder(const std::string& dir);

}  // namespace repofs::cache
