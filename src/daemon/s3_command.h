// `repofs s3 ...`: object operations for operators and scripts, with the same
// options and credentials as a mount.
#pragma once

#include <string>
#include <vector>

namespace repofs::daemon {

// Runs `repofs s3 [-o opts] COMMAND ARGS...` (args exclude "repofs s3").
// Returns the process exit status; errors are printed as one line.
int RunS3Command(const std::vector<std::string>& args);

// The usage text of the s3 command.
const char* S3CommandHelp();

}  // namespace repofs::daemon
