// `repofs cache ...`: inspect and maintain a block cache dir offline
// (stats works while mounted; verify/prune/clear refuse a mounted dir with
// EBUSY). The logic lives in cache/cache_cli.h; this is the entry point for
// main.cc.
//
// Thread-safety: call from the main thread (writes to stdout/stderr).
#pragma once

#include <string>
#include <vector>

namespace repofs {

// `args` are the words after "cache" on the command line, e.g.
// {"stats", "-o", "cache_dir=/var/cache/repofs"}. Returns the process exit
// code: 0 ok, 1 failed (message on stderr), 2 bad usage (one line).
int RunCacheCommand(const std::vector<std::string>& args);

}  // namespace repofs
