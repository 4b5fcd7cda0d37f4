#include "fuse/fuse_server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "fuse/entry_notifier.h"
#include "fuse/fuse_ops.h"
#include "util/log.h"

namespace repofs::fuse {
namespace {

// Mount option values are comma-separated; libfuse unescapes "\,".
std::string EscapeOptionValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string MountOptionString(const FuseMountOptions& options) {
  std::string opts = "subtype=repofs";
  if (!options.fsname.empty()) {
    opts += ",fsname=" + EscapeOptionValue(options.fsname);
  }
  if (options.allow_other) opts += ",allow_other";
  if (options.default_permissions) opts += ",default_permissions";
  if (options.read_only) opts += ",ro";
  return opts;
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountinfo(const std::string& field) {
  auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) &&
        is_octal(field[i + 2]) && is_octal(field[i + 3])) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 +
                                      (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

// The sysfs read-ahead knob of the FUSE mount at `mountpoint` (its bdi is
// named after the device "major:minor"), found without touching the mount
// itself (that would wait for INIT, which the loop has not answered yet).
std::string BdiReadAheadPath(const std::string& mountpoint) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line, device;
  for (int guard = 0; guard < 100000 && std::getline(mountinfo, line);
       ++guard) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    std::string::size_type dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (UnescapeMountinfo(point) == mountpoint &&
        fstype.rfind("fuse", 0) == 0) {
      device = dev;  // the last match is the newest mount
    }
  }
  if (device.empty()) return "";
  return "/sys/class/bdi/" + device + "/read_ahead_kb";
}

}  // namespace

FuseServer::FuseServer(const FuseMountOptions& options,
                       std::unique_ptr<OpsContext> context)
    : options_(options), context_(std::move(context)) {}

Result<std::unique_ptr<FuseServer>> FuseServer::Mount(
    const FuseMountOptions& options) {
  struct stat st {};
  if (stat(options.mountpoint.c_str(), &st) != 0) {
    int err = errno;
    return Error{
        err, "mountpoint " + options.mountpoint + ": " + std::strerror(err)};
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error{ENOTDIR, "mountpoint " + options.mountpoint + ": " +
                              std::strerror(ENOTDIR)};
  }
  std::unique_ptr<FuseServer> server(
      new FuseServer(options, std::make_unique<OpsContext>()));

  std::vector<std::string> args = {"repofs", "-o", MountOptionString(options)};
  if (options.debug) args.push_back("-d");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  server->session_ = fuse_session_new(
      &fargs, &RepofsOps(), sizeof(fuse_lowlevel_ops), server->context_.get());
  fuse_opt_free_args(&fargs);
  if (server->session_ == nullptr) {
    return Error{EINVAL, "mount " + options.mountpoint +
                             ": invalid FUSE options '" + args[2] + "'"};
  }
  if (fuse_session_mount(server->session_, options.mountpoint.c_str()) != 0) {
    // libfuse printed the reason (e.g. fusermount3's) on stderr.
    return Error{EPERM, "mount " + options.mountpoint +
                            ": FUSE mount failed (is /dev/fuse available, "
                            "and allow_other permitted in /etc/fuse.conf?)"};
  }
  server->mounted_ = true;
  if (options.passthrough && !options.read_only) {
    auto passthrough = std::make_unique<KernelPassthrough>();
    if (Status s = passthrough->Install(server->session_); !s) {
      REPOFS_LOG(kWarning) << s.error().message;
    } else {
      server->context_->passthrough = std::move(passthrough);
    }
  }
  server->context_->bdi_read_ahead_path = BdiReadAheadPath(options.mountpoint);
  server->context_->read_only_mount = options.read_only;
  server->context_->session.store(server->session_, std::memory_order_release);
  return server;
}

FuseServer::~FuseServer() {
  if (session_ != nullptr) {
    if (signal_handlers_) fuse_remove_signal_handlers(session_);
    Unmount();
    fuse_session_destroy(session_);
  }
}

void FuseServer::Unmount() {
  if (mounted_ && session_ != nullptr) {
    fuse_session_unmount(session_);
    mounted_ = false;
  }
}

std::map<std::string, uint64_t> FuseServer::RequestCounts() const {
  return context_->Counts();
}

Status FuseServer::InstallSignalHandlers() {
  if (signal_handlers_) return OkStatus();
  if (fuse_set_signal_handlers(session_) != 0) {
    return Error{EIO, "cannot install signal handlers"};
  }
  signal_handlers_ = true;
  return OkStatus();
}

int FuseServer::Run(fs::Filesystem& fs) {
  context_->fs.store(&fs, std::memory_order_release);
  fs.SetPassthroughBackings(context_->passthrough.get());
  // Coherent expiry's dentries reach the kernel from the notifier's thread.
  EntryNotifier notifier(session_);
  fs.SetEntryInvalidator([&notifier](std::vector<fs::EntryRef> e) {
    notifier.Post(std::move(e));
  });
  fuse_loop_config* config = fuse_loop_cfg_create();
  const unsigned threads = static_cast<unsigned>(
      options_.max_threads > 0 ? options_.max_threads : 1);
  fuse_loop_cfg_set_max_threads(config, threads);
  // Keep the workers: thread churn under nginx load costs more than idle
  // threads.
  fuse_loop_cfg_set_idle_threads(config, threads);
  fuse_loop_cfg_set_clone_fd(config, 1);
  int rc = fuse_session_loop_mt(session_, config);
  fuse_loop_cfg_destroy(config);
  fs.SetEntryInvalidator(nullptr);
  notifier.Stop();
  // No request runs any more; unmount before `fs` may go away.
  Unmount();
  fs.SetPassthroughBackings(nullptr);
  context_->fs.store(nullptr, std::memory_order_release);
  if (rc < 0) {
    REPOFS_LOG(kError) << "FUSE loop failed: " << std::strerror(-rc);
    return 1;
  }
  return 0;
}

}  // namespace repofs::fuse
