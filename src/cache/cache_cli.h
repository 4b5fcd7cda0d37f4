// `repofs cache stats|verify|prune|clear -o cache_dir=DIR[,cache_size=N]
// [,cache_min_free=N]`: argument parsing and the command bodies, writing to
// the given streams so that tests can run them (daemon/cache_command.cc is
// the thin wrapper over std::cout / std::cerr).
//
// Exit codes: 0 success; 1 the operation failed (cache in use: EBUSY, no
// cache, I/O); 2 bad usage (one line on `err`).
// Thread-safety: no shared state.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "repofs/result.h"

namespace repofs::cache {

struct CacheCommand {
  enum class Action { kStats, kVerify, kPrune, kClear };
  Action action = Action::kStats;
  std::string dir;
  uint64_t max_bytes = 0;       // cache_size; 0 = not given
  uint64_t min_free_bytes = 0;  // cache_min_free; 0 = not given
};

// `args` are the words after "cache", e.g. {"stats", "-o", "cache_dir=/x"}.
// -o may repeat; "-oOPTS" works too. Unknown options, a missing cache_dir or
// a malformed size are EINVAL with a one-line message.
Result<CacheCommand> ParseCacheCommand(const std::vector<std::string>& args);

// Runs `command`; `progress_bar`: draw verify progress on `err` (a tty).
int RunCacheCommandWith(const CacheCommand& command, std::ostream& out,
                        std::ostream& err, bool progress_bar);

// Parse + run; a parse error prints "repofs cache: <message>" and returns 2.
int RunCacheCommandArgs(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err, bool progress_bar);

}  // namespace repofs::cache
