#include "daemon/cache_command.h"

#include <unistd.h>

#include <iostream>

#include "cache/cache_cli.h"

namespace repofs {

int RunCacheCommand(const std::vector<std::string>& args) {
  // A progress bar only for a human watching (stderr is a terminal).
  return cache::RunCacheCommandArgs(args, std::cout, std::cerr,
                                    ::isatty(STDERR_FILENO) == 1);
}

}  // namespace repofs
