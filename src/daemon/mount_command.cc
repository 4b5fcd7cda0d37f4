#include "daemon/mount_command.h"

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cache/block_cache.h"
#include "daemon/client_factory.h"
#include "daemon/daemonize.h"
#include "fs/filesystem.h"
#include "fs/lmdb_metadata_store.h"
#include "fuse/fuse_server.h"
#include "prefetch/cached_chunk_source.h"
#include "upload/upload_journal.h"
#include "util/log.h"

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

// mkdir -p of the cache dir's parents (the cache creates the last level).
Status MakeParents(const std::string& dir) {
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    const std::string parent = dir.substr(0, slash);
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error{errno, parent + ": " + std::strerror(errno)};
    }
  }
  return OkStatus();
}

// What the block cache adds to the filesystem (all null with no_cache).
struct CacheParts {
  std::shared_ptr<cache::BlockCache> cache;
  std::shared_ptr<prefetch::CachedChunkSource> source;
  std::shared_ptr<prefetch::ReadaheadCounters> counters;
  std::shared_ptr<fs::MetadataStore> store;
};

Result<CacheParts> OpenCache(const Config& config,
                             std::shared_ptr<ObjectClient> client) {
  CacheParts parts;
  if (!config.cache.enabled) return parts;
  cache::CacheOptions options;
  options.dir = config.cache.dir.empty() ? DefaultCacheDir(config) : config.cache.dir;
  options.max_bytes = config.cache.max_bytes;
  options.min_free_bytes = config.cache.min_free_bytes;
  options.block_size = config.cache.block_size;
  if (Status st = MakeParents(options.dir); !st.ok()) {
    return Error{st.error().errno_value, "cache_dir: " + st.error().message};
  }
  auto opened = cache::BlockCache::Open(options);
  if (!opened) {
    return Error{opened.error().errno_value,
                 "cache_dir " + options.dir + ": " + opened.error().message};
  }
  parts.cache = std::move(*opened);
  parts.counters = std::make_shared<prefetch::ReadaheadCounters>();
  parts.source = std::make_shared<prefetch::CachedChunkSource>(
      parts.cache,
      std::make_shared<prefetch::S3ChunkSource>(std::move(client), parts.counters));
  parts.store = std::make_shared<fs::LmdbMetadataStore>(parts.cache);
  REPOFS_LOG(kInfo) << "block cache " << options.dir << " ("
                    << (parts.cache->Stats().bytes >> 20) << " MiB of "
                    << (options.max_bytes >> 20) << " MiB used)";
  return parts;
}

// One line with the S3 requests this mount made (tests and operators read
// it from the log at unmount).
void LogRequestCounts(const ObjectClient& client) {
  std::string line = "S3 requests:";
  for (const auto& [operation, count] : client.RequestCounts()) {
    line += " " + operation + "=" + std::to_string(count);
  }
  REPOFS_LOG(kInfo) << line;
}

// The same for the kernel's requests (by kind: open, read, ...).
void LogFuseCounts(const fuse::FuseServer& server) {
  std::string line = "FUSE requests:";
  for (const auto& [operation, count] : server.RequestCounts()) {
    if (count > 0) line += " " + operation + "=" + std::to_string(count);
  }
  REPOFS_LOG(kInfo) << line;
}

}  // namespace

int RunMount(Config config) {
  SetLogLevel(config.log_level);
  if (Status st = CheckMountpoint(&config); !st.ok()) return Fail(st.error().message);
  auto stack = CreateClientStack(config.s3, config.credentials);
  if (!stack) return Fail(stack.error().message);
  // Taken before the LIST: the root listing is never trusted longer than
  // metadata_ttl after S3 was asked.
  const auto root_listed_at = RealClock().SteadyNow();
  Result<ListPage> root = CheckBucket(*stack, config.s3, config.prefix);
  if (!root) return Fail(root.error().message);
  if (config.fake_mount) return 0;  // mount -f: everything checked, nothing mounted

  fuse::FuseMountOptions mount_options;
  mount_options.mountpoint = config.mountpoint;
  mount_options.fsname = config.fsname;
  mount_options.allow_other = config.allow_other;
  mount_options.default_permissions = config.default_permissions;
  mount_options.read_only = config.fs.read_only;
  mount_options.debug = config.debug;
  mount_options.passthrough = config.passthrough && config.cache.enabled;
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
  // Fixed thresholds instead of glibc's dynamic ones: freeing one large
  // block (a 100,000-entry listing is ~10 MB) would raise the mmap threshold
  // to its size and the trim threshold to twice that, after which the free
  // tops of the thread arenas (tens of MB after a big `ls -l`) stay
  // resident, and malloc_trim does not touch arena tops.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  // Staging files of the write path: a per-mount directory unless set (the
  // files in it are unlinked right after creation; the directory goes at
  // exit).
  // The cache is opened in the daemon process (LMDB environments must not
  // cross a fork); a failure still reaches the waiting parent's exit status.
  Result<CacheParts> cache = OpenCache(config, stack->client);
  if (!cache) return Fail(cache.error().message);
  // With a cache dir (locked by this mount), staging files and the upload
  // journal live in it: the journal then survives a crash, and the next
  // mount of the dir aborts the multipart uploads a killed daemon left.
  std::string staging_created;
  std::shared_ptr<upload::UploadJournal> journal;
  if (!config.fs.read_only && config.fs.write.staging_dir.empty()) {
    staging_created = cache->cache ? cache->cache->options().dir + "/staging"
                                   : "/var/tmp/repofs-staging-" + std::to_string(getpid());
    if (mkdir(staging_created.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail("cannot create " + staging_created + ": " + std::strerror(errno));
    }
    config.fs.write.staging_dir = staging_created;
  }
  if (!config.fs.read_only && cache->cache) {
    auto opened = upload::UploadJournal::Open(cache->cache->options().dir + "/uploads.journal");
    if (!opened) return Fail("upload journal: " + opened.error().message);
    journal = std::move(*opened);
    Result<size_t> aborted = upload::AbortJournaledUploads(*stack->client, *journal);
    if (!aborted) {
      REPOFS_LOG(kWarning) << "cannot abort uploads left by a previous mount: "
                           << aborted.error().message << " (retried at the next mount)";
    } else if (*aborted > 0) {
      REPOFS_LOG(kInfo) << "aborted " << *aborted
                        << " multipart upload(s) left unfinished by a previous mount";
    }
  }
  fs::Filesystem filesystem(stack->client, config.fs, RealClock(), cache->store,
                            config.transfer_threads, cache->source,
                            cache->counters);
  filesystem.SetUploadJournal(journal);
  filesystem.SeedRootListing(*root, root_listed_at);
  REPOFS_LOG(kInfo) << "mounted " << config.fsname << " on " << config.mountpoint
                    << " (credentials: " << stack->credentials->Describe() << ")";
  if (background) background->Ready();
  int status = (*server)->Run(filesystem);
  LogRequestCounts(*stack->client);
  LogFuseCounts(**server);
  if (cache->cache) cache->cache->Flush();
  if (!staging_created.empty() && !cache->cache) rmdir(staging_created.c_str());
  REPOFS_LOG(kInfo) << "unmounted " << config.mountpoint;
  return status;
}

}  // namespace repofs::daemon
