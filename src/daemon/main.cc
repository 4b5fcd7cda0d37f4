// repofs: mount an S3 bucket as a filesystem (see README.md, repofs(8)).
// Dispatches to the mount, `repofs s3 ...`, or mount(8)'s helper protocol
// when invoked as mount.repofs.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "daemon/cache_command.h"
#include "daemon/config.h"
#include "daemon/mount_command.h"
#include "daemon/s3_command.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: repofs BUCKET[:/PREFIX] MOUNTPOINT [-o opt[,opt...]] [-f] [-d]\n"
               "       repofs s3 [-o opt[,...]] ls|stat|get|put|rm|cp|mb ...\n"
               "       repofs cache stats|verify|prune|clear -o cache_dir=DIR[,cache_size=SIZE]\n"
               "       repofs --help | --version\n"
               "Mount an S3 bucket (or a prefix of it) as a filesystem.\n"
               "Credentials: -o credentials_file/profile, AWS_* environment,\n"
               "~/.aws/credentials, ECS container credentials, EC2 IMDSv2.\n\n%s\n%s",
               repofs::daemon::OptionsHelp(), repofs::daemon::S3CommandHelp());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* base = std::strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  bool mount_helper = std::strcmp(base, "mount.repofs") == 0;
  if (!mount_helper && !args.empty()) {
    if (args[0] == "--help" || args[0] == "-h") {
      PrintUsage(stdout);
      return 0;
    }
    if (args[0] == "--version" || args[0] == "-V") {
      std::printf("repofs %s\n", REPOFS_VERSION);
      return 0;
    }
    if (args[0] == "cache") {
      return repofs::RunCacheCommand({args.begin() + 1, args.end()});
    }
    if (args[0] == "s3") {
      return repofs::daemon::RunS3Command({args.begin() + 1, args.end()});
    }
  }
  auto config = repofs::daemon::ParseMountArgs(args, mount_helper);
  if (!config) {
    std::fprintf(stderr, "repofs: %s\n", config.error().message.c_str());
    return 2;
  }
  return repofs::daemon::RunMount(std::move(*config));
}
