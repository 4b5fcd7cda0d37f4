// Command-line parsing of a mount and the --help text.
#include "daemon/config.h"

#include <unistd.h>

namespace repofs::daemon {

Result<Config> ParseMountArgs(const std::vector<std::string>& args,
                              bool mount_helper) {
  Config config;
  config.fs.uid = getuid();
  config.fs.gid = getgid();
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-o" || (arg.size() > 2 && arg.compare(0, 2, "-o") == 0)) {
      std::string list = arg.size() > 2 ? arg.substr(2) : "";
      if (arg == "-o") {
        if (i + 1 >= args.size()) return Error{EINVAL, "-o needs an option list"};
        list = args[++i];
      }
      Status status = ApplyOptions(list, &config);
      if (!status.ok()) return status.error();
    } else if (arg == "-f") {
      if (mount_helper) config.fake_mount = true;
      else config.foreground = true;
    } else if (arg == "-d" || arg == "--debug") {
      config.debug = true;
      config.foreground = true;
      config.log_level = LogLevel::kDebug;
    } else if (mount_helper && (arg == "-s" || arg == "-n" || arg == "-v")) {
      continue;  // sloppy / no mtab / verbose: meaningful to mount(8) only
    } else if (arg == "--foreground") {
      config.foreground = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return Error{EINVAL, "unknown flag '" + arg + "' (see repofs --help)"};
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) {
    return Error{EINVAL, "usage: repofs BUCKET[:/PREFIX] MOUNTPOINT [-o opt[,opt...]] [-f] [-d]"};
  }
  Status status = ParseBucketSpec(positional[0], &config);
  if (!status.ok()) return status.error();
  config.mountpoint = positional[1];
  if (config.fsname.empty()) config.fsname = "repofs:" + positional[0];
  return config;
}

const char* OptionsHelp() {
  return R"(S3 connection:
  -o endpoint=URL            S3 endpoint, e.g. http://127.0.0.1:7480
                             (default https://s3.REGION.amazonaws.com)
  -o region=NAME             signing region (default us-east-1)
  -o path_style              path-style URLs (host/bucket/key); needed for
                             most non-AWS endpoints
  -o virtual_hosted          virtual-hosted URLs (bucket.host/key; default)
  -o profile=NAME            profile in the credentials file
                             (default $AWS_PROFILE, else "default")
  -o credentials_file=PATH   shared-credentials file to read first
  -o ca_file=PATH            CA bundle for TLS (default $AWS_CA_BUNDLE,
                             else the system store)
  -o no_verify_tls           do not verify TLS certificates (unsafe)
  -o storage_class=CLASS     x-amz-storage-class for new objects
  -o sse=AES256|aws:kms      server-side encryption for new objects
  -o sse_kms_key_id=ID       KMS key for sse=aws:kms
  -o sign_payload            sign body SHA-256 instead of UNSIGNED-PAYLOAD
  -o connect_timeout=DUR     TCP/TLS connect timeout (default 5s)
  -o low_speed_time=DUR      fail a transfer slower than low_speed_limit
  -o low_speed_limit=BYTES   ... bytes/s for this long (default 1024, 30s)
  -o request_timeout=DUR     cap on one whole request (default: none)
  -o max_retries=N           retries of a failed request (default 6)
  -o max_connections=N       keep-alive connection pool size (default 64)

Files and directories:
  -o uid=N, -o gid=N         owner of entries without x-amz-meta-uid/gid
                             (default: the mounting user)
  -o umask=OCTAL             removed from every mode (default 022)
  -o file_mode=OCTAL         mode of files without x-amz-meta-mode (0644)
  -o dir_mode=OCTAL          mode of directories (0755)
  -o allow_other             let other users (e.g. nginx) access the mount
  -o default_permissions     let the kernel check permissions by mode
  -o ro, -o rw               read-only / read-write mount (default rw)
  -o attr_source=head|list   where mode/uid/gid/mtime come from: head =
                             s3fs-compatible x-amz-meta-* headers (one HEAD
                             per new object version, in parallel); list =
                             LIST fields only (mtime = LastModified), never
                             a HEAD for attributes (default head)
  -o head_parallelism=N      parallel HEADs after a listing (default 32)

Caching and consistency:
  -o metadata_ttl=DUR        trust entries and attributes this long, also
                             as kernel entry/attr timeouts (default 30s)
  -o negative_ttl=DUR        trust "no such file" this long (default 5s)

Block cache (persistent, per mount; DIR is locked while mounted):
  -o cache_dir=DIR           where blocks and metadata are kept (default
                             /var/cache/repofs/BUCKET-HASH as root, else
                             ~/.cache/repofs/BUCKET-HASH)
  -o cache_size=SIZE         bound on cached bytes, LRU eviction (10G)
  -o cache_min_free=SIZE     keep this much free on the cache filesystem (1G)
  -o block_size=SIZE         cache block size, power of two 4k..64M (1M;
                             fixed when the cache dir is created)
  -o no_cache                no block cache: every miss is read from S3
  -o stale_if_error          when S3 fails (unreachable, 5xx), serve what is
                             cached beyond its TTL (default on)
  -o no_stale_if_error       return the S3 error instead
  -o passthrough             rw mounts: the kernel reads files of 4 MiB or
                             more that the cache holds whole straight from
                             the cache (FUSE passthrough, Linux 6.9+, as
                             root; default on)
  -o no_passthrough          read every file through the daemon

Read-ahead:
  -o readahead_initial=SIZE  first window of a sequential reader (1M)
  -o readahead_max=SIZE      largest window (64M)
  -o readahead_request_size=SIZE  size of one ranged GET (8M)
  -o readahead_parallelism=N ranged GETs in flight per file (8)
  -o readahead_memory=SIZE   read-ahead memory for all files (512M)

Writing:
  -o upload_part_size=SIZE   multipart part size, 5M..5G (8M); files
                             written sequentially stream in parts this big
  -o upload_parallelism=N    parts uploaded in parallel per file (4)

Process:
  -o fuse_threads=N          FUSE worker threads (default 16)
  -o transfer_threads=N      S3 transfer threads (default 32)
  -o fsname=NAME             source shown in /proc/mounts
  -o log_level=LEVEL         debug, info, warning or error (default info)
  -f                         stay in the foreground, log to stderr
  -d                         debug: foreground and request-level logging

Ignored (meaningful to mount(8)/systemd): _netdev, nofail, noauto, auto,
defaults, user, users, nosuid, nodev, noexec, noatime, x-systemd.*, ...

DUR is a number of seconds or has a unit: 500ms, 30s, 5m, 1h.
SIZE is bytes or has a suffix: 512k, 8M, 1G.
)";
}

}  // namespace repofs::daemon
