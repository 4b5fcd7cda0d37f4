#include "cache/cache_admin.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "cache/block_cache_internal.h"
#include "cache/cache_lock.h"
#include "cache/lmdb_util.h"

namespace repofs::cache {
namespace {

uint64_t InfoU64(const Txn& txn, MDB_dbi dbi, std::string_view key) {
  std::string_view v;
  if (txn.Get(dbi, key, &v) != MDB_SUCCESS || v.size() != 8) return 0;
  return GetLe(v, 0, 8);
}

uint64_t DiskUsage(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

Status ScanIndex(const Txn& txn, CacheDirStats* stats) {
  MDB_dbi info, objects, blocks, meta;
  struct {
    const char* name;
    MDB_dbi* dbi;
  } dbs[] = {{"info", &info},
             {"objects", &objects},
             {"blocks", &blocks},
             {"meta", &meta}};
  for (auto& db : dbs) {
    int rc = mdb_dbi_open(txn.get(), db.name, 0, db.dbi);
    if (rc != MDB_SUCCESS) return MdbError(rc, "open the index");
  }
  stats->block_size = InfoU64(txn, info, "block_size");
  stats->hits = InfoU64(txn, info, "hits");
  stats->misses = InfoU64(txn, info, "misses");
  MDB_stat st{};
  if (mdb_stat(txn.get(), objects, &st) == MDB_SUCCESS)
    stats->objects = st.ms_entries;
  Cursor block_cursor(txn, blocks);
  for (bool ok = block_cursor.First(); ok; ok = block_cursor.Next()) {
    BlockRecord rec;
    if (!BlockRecord::Decode(block_cursor.value(), &rec)) continue;
    stats->blocks += 1;
    stats->bytes += rec.length;
  }
  Cursor meta_cursor(txn, meta);
  for (bool ok = meta_cursor.First(); ok; ok = meta_cursor.Next()) {
    stats->meta_entries += 1;
    if (meta_cursor.value().size() >= 8)
      stats->bytes += meta_cursor.value().size() - 8;
  }
  return OkStatus();
}

}  // namespace

Result<CacheDirStats> ReadCacheStats(const std::string& dir) {
  std::string path = dir + "/index.mdb";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{ENOENT, "no repofs cache in " + dir};
  }
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != MDB_SUCCESS) return MdbError(rc, "mdb_env_create");
  MdbEnv env(raw);
  mdb_env_set_maxdbs(raw, 8);
  rc = mdb_env_open(raw, path.c_str(), MDB_RDONLY | MDB_NOSUBDIR | MDB_NOTLS,
                    0600);
  if (rc != MDB_SUCCESS) return MdbError(rc, "cannot open " + path);
  Result<Txn> txn = Txn::Begin(raw, true);
  if (!txn) return txn.error();
  CacheDirStats stats;
  if (Status s = ScanIndex(*txn, &stats); !s) return s.error();
  txn->Abort();
  stats.disk_bytes = DiskUsage(dir + "/data");
  stats.in_use_by = CacheDirHolder(dir);
  return stats;
}

CacheOptions AdminOptions(const std::string& dir, uint64_t max_bytes,
                          uint64_t min_free_bytes) {
  CacheOptions options;
  options.dir = dir;
  options.block_size = 0;  // whatever the dir has
  options.max_bytes =
      max_bytes == 0 ? std::numeric_limits<uint64_t>::max() : max_bytes;
  options.min_free_bytes = min_free_bytes;
  return options;
}

Result<VerifyResult> VerifyCacheDir(
    const CacheOptions& options,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  auto cache = BlockCache::Open(options);
  if (!cache) return cache.error();
  return (*cache)->Verify(progress);
}

Result<CacheStats> PruneCacheDir(const CacheOptions& options) {
  auto cache = BlockCache::Open(options);  // Open repairs
  if (!cache) return cache.error();
  (*cache)->Prune();
  return (*cache)->Stats();
}

Status ClearCacheDir(const CacheOptions& options) {
  auto cache = BlockCache::Open(options);
  if (!cache) return cache.error();
  return (*cache)->Clear();
}

std::string FormatBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B",
                  static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

}  // namespace repofs::cache
