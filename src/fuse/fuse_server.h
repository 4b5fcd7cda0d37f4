// FuseServer: one FUSE mount served by the libfuse3 low-level API.
//
// The daemon drives it in three steps: Mount() (creates the session and
// mounts, starts no thread, so the daemon may fork afterwards),
// InstallSignalHandlers(), then Run(fs), the multi-threaded loop that serves
// the kernel's requests with fs::Filesystem through the trampolines in
// fuse_ops.cc until the mount is unmounted (fusermount3 -u, umount) or a
// signal (SIGTERM/SIGINT/SIGHUP) ends the loop. The destructor unmounts if
// still mounted and destroys the session.
//
// This header does not include <fuse_lowlevel.h> (only src/fuse/*.cc do).
//
// Ownership: the server owns the session; `fs` passed to Run() must outlive
// Run(). Thread-safety: call the methods from one thread; Run() blocks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "fs/filesystem.h"
#include "repofs/result.h"

struct fuse_session;

namespace repofs::fuse {

struct FuseMountOptions {
  std::string mountpoint;
  std::string fsname;  // shown in /proc/mounts, e.g. "repofs:bucket/prefix"
  bool allow_other = false;
  bool default_permissions = false;
  bool read_only = false;
  bool debug = false;  // libfuse request tracing on stderr
  // FUSE passthrough for files the block cache holds whole (rw mounts; ro
  // mounts use no-open mode instead). Off: the `no_passthrough` option.
  bool passthrough = true;
  int max_threads = 16;
};

struct OpsContext;  // fuse_ops.h

class FuseServer {
 public:
  // Creates the session and mounts; starts NO threads. Errors: one line with
  // the errno, e.g. ENOENT "mountpoint /x: No such file or directory".
  static Result<std::unique_ptr<FuseServer>> Mount(
      const FuseMountOptions& options);

  ~FuseServer();
  FuseServer(const FuseServer&) = delete;
  FuseServer& operator=(const FuseServer&) = delete;

  // Installs SIGTERM/SIGINT/SIGHUP handlers that end the loop (and ignore
  // SIGPIPE), via fuse_set_signal_handlers. Removed by the destructor.
  Status InstallSignalHandlers();

  // Serves `fs` with the multi-threaded loop (max_threads workers, one
  // cloned /dev/fuse fd each) until unmounted or signalled, then unmounts.
  // Returns 0 on a clean exit, 1 if the loop failed.
  int Run(fs::Filesystem& fs);

  const std::string& mountpoint() const { return options_.mountpoint; }

  // Requests served so far by kind ("lookup", "open", "flush", ...).
  std::map<std::string, uint64_t> RequestCounts() const;

 private:
  FuseServer(const FuseMountOptions& options,
             std::unique_ptr<OpsContext> context);
  void Unmount();

  FuseMountOptions options_;
  std::unique_ptr<OpsContext> context_;  // libfuse userdata
  ::fuse_session* session_ = nullptr;
  bool mounted_ = false;
  bool signal_handlers_ = false;
};

}  // namespace repofs::fuse
