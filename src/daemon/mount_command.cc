#include "daemon/mount_command.h"

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "daemon/client_factory.h"
#include "daemon/daemonize.h"
#include "fs/filesystem.h"
#include "fuse/fuse_server.h"

namespace repofs::daemon {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "repofs: %s\n", message.c_str());
  return 1;
}

Status CheckMountpoint(Config* config) {
  char resolved[PATH_MAX];
  if (realpath(config->mountpoint.c_str(), resolved) == nullptr) {
    return Error{errno, "mountpoint " + config->mountpoint + ": " + std::strerror(errno)};
  }
  struct stat st{};
  if (stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{ENOTDIR, "mountpoint " + config->mountpoint + ": Not a directory"};
  }
  config->mountpoint = resolved;
  return OkStatus();
}

}  // namespace

int RunMount(Config config) {
  SetLogLevel(config.log_level);
  if (Status st = CheckMountpoint(&config); !st.ok()) return Fail(st.error().message);
  auto stack = CreateClientStack(config.s3, config.credentials);
  if (!stack) return Fail(stack.error().message);
  if (Status st = CheckBucket(*stack, config.s3); !st.ok()) return Fail(st.error().message);
  if (config.fake_mount) return 0;  // mount -f: everything checked, nothing mounted

  fuse::FuseMountOptions mount_options;
  mount_options.mountpoint = config.mountpoint;
  mount_options.fsname = config.fsname;
  mount_options.allow_other = config.allow_other;
  mount_options.default_permissions = config.default_permissions;
  mount_options.read_only = config.fs.read_only;
  mount_options.debug = config.debug;
  mount_options.max_threads = config.fuse_threads;
  auto server = fuse::FuseServer::Mount(mount_options);
  if (!server) return Fail(server.error().message);

  // Fork before any thread exists (the filesystem's pools start below).
  std::optional<Background> background;
  if (!config.foreground) background = Background::Start();
  if (Status st = (*server)->InstallSignalHandlers(); !st.ok()) {
    return Fail(st.error().message);
  }
  // glibc gives each busy thread its own malloc arena (up to 8 per core);
  // with ~50 FUSE and transfer threads that fragmentation, not live data,
  // dominated RSS with 100,000 inodes known. Four arenas keep contention low.
  mallopt(M_ARENA_MAX, 4);
  fs::Filesystem filesystem(stack->client, config.fs, config.transfer_threads);
  REPOFS_LOG(kInfo) << "mounted " << config.fsname << " on " << config.mountpoint
                    << " (credentials: " << stack->credentials->Describe() << ")";
  if (background) background->Ready();
  int status = (*server)->Run(filesystem);
  REPOFS_LOG(kInfo) << "unmounted " << config.mountpoint;
  return status;
}

}  // namespace repofs::daemon
