// Config: everything the command line and -o options say, parsed once in
// daemon/ and passed down by const reference (no globals).
//
// ParseMountArgs() understands `repofs BUCKET[:/PREFIX] MOUNTPOINT [-o opt,...]
// [-f] [-d]` and the argument order mount(8) uses for mount.repofs
// (SPEC DIR [-sfnv] [-o opts]). Every option accepted here is documented in
// OptionsHelp(), README.md and docs/repofs.8; an unknown option is an error.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <string>
#include <vector>

#include "repofs/credentials.h"
#include "repofs/fs_options.h"
#include "repofs/result.h"
#include "repofs/s3_options.h"
#include "util/log.h"

namespace repofs::daemon {

// The persistent block cache (cache/block_cache.h). An empty `dir` means
// the default, DefaultCacheDir().
struct CacheConfig {
  bool enabled = true;                   // no_cache turns it off
  std::string dir;                       // cache_dir
  uint64_t max_bytes = 10ull << 30;      // cache_size
  uint64_t min_free_bytes = 1ull << 30;  // cache_min_free
  uint64_t block_size = 1ull << 20;      // block_size
};

struct Config {
  std::string bucket;
  std::string prefix;          // "" or ending in '/'
  std::string mountpoint;      // absolute after validation
  bool foreground = false;     // -f
  bool debug = false;          // -d: request-level logging, implies -f
  bool fake_mount = false;     // mount(8) -f: parse and check, do nothing
  LogLevel log_level = LogLevel::kInfo;

  S3Options s3;
  CredentialsOptions credentials;
  FsOptions fs;
  CacheConfig cache;

  bool allow_other = false;
  bool default_permissions = false;
  bool passthrough = true;     // FUSE passthrough of whole cached files
  int fuse_threads = 16;       // max FUSE worker threads
  int transfer_threads = 32;   // S3 transfer worker threads
  std::string fsname;          // shown in /proc/mounts
};

// Applies one "-o" list ("a=b,c,...") to `config`. Errors: EINVAL with a
// one-line message naming the option.
Status ApplyOptions(const std::string& option_list, Config* config);

// Parses the whole command line of a mount (argv[0] excluded). With
// `mount_helper` (invoked as mount.repofs by mount(8)), -s -n -v are
// accepted and ignored and -f means "fake" (check, do not mount).
// Errors: EINVAL "usage: ..." or the option error.
Result<Config> ParseMountArgs(const std::vector<std::string>& args,
                              bool mount_helper = false);

// Splits "BUCKET[:/PREFIX]" into config->bucket and config->prefix.
Status ParseBucketSpec(const std::string& spec, Config* config);

// The cache dir used when cache_dir is not given: /var/cache/repofs/NAME as
// root, else $XDG_CACHE_HOME (or ~/.cache)/repofs/NAME, where NAME is the
// bucket plus a short digest of endpoint, bucket and prefix (so mounts of
// different buckets or prefixes never share a dir).
std::string DefaultCacheDir(const Config& config);

// Names of every -o option repofs accepts (for docs consistency tests).
std::vector<std::string> OptionNames();

// Parses durations "30", "30s", "500ms", "2m" into milliseconds.
Result<long long> ParseDurationMs(const std::string& text);

// The options section of --help (also the source of the man page's list).
const char* OptionsHelp();

}  // namespace repofs::daemon
