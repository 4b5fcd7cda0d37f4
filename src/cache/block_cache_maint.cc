// BlockCache maintenance: opening the env, the schema check, the repair
// pass at Open (index vs data files), Verify, Prune and Clear.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "cache/block_cache.h"
#include "cache/block_cache_internal.h"
#include "util/hash.h"
#include "util/log.h"

namespace repofs::cache {
namespace {

constexpr unsigned kEnvFlags =
    MDB_NOSUBDIR | MDB_NOTLS | MDB_NOSYNC | MDB_NORDAHEAD;
constexpr size_t kVerifyChunk = 256;

std::string U64Value(uint64_t v) {
  std::string out;
  PutLe(&out, v, 8);
  return out;
}

}  // namespace

std::string BootId() {
  std::string id;
  if (FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f) != nullptr) id = buf;
    std::fclose(f);
  }
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

namespace {

Status WriteStateFile(const std::string& path, const std::string& text) {
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid() ||
      ::write(fd.get(), text.data(), text.size()) !=
          static_cast<ssize_t>(text.size()) ||
      ::fsync(fd.get()) != 0) {
    return Error{errno, "cannot write " + path + ": " + std::strerror(errno)};
  }
  return OkStatus();
}

}  // namespace

std::optional<uint64_t> PeekStoredBlockSize(const std::string& dir) {
  std::string path = dir + "/index.mdb";
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  MDB_env* raw = nullptr;
  if (mdb_env_create(&raw) != MDB_SUCCESS) return std::nullopt;
  MdbEnv env(raw);
  mdb_env_set_maxdbs(raw, 8);
  if (mdb_env_open(raw, path.c_str(), MDB_RDONLY | MDB_NOSUBDIR | MDB_NOTLS,
                   0600) != MDB_SUCCESS) {
    return std::nullopt;
  }
  Result<Txn> txn = Txn::Begin(raw, true);
  MDB_dbi info;
  std::string_view value;
  if (!txn || mdb_dbi_open(txn->get(), "info", 0, &info) != MDB_SUCCESS ||
      txn->Get(info, "block_size", &value) != MDB_SUCCESS ||
      value.size() != 8) {
    return std::nullopt;
  }
  return GetLe(value, 0, 8);
}

Status BlockCache::CheckPreviousShutdown() {
  std::string path = options_.dir + "/state";
  std::string state;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[128] = {};
    if (std::fgets(buf, sizeof buf, f) != nullptr) state = buf;
    std::fclose(f);
  }
  while (!state.empty() && state.back() == '\n') state.pop_back();
  const std::string boot = BootId();
  if (state.rfind("open ", 0) == 0 && state.substr(5) != boot) {
    REPOFS_LOG(kWarning) << "cache: " << options_.dir
                         << " was in use when the system went down; its "
                            "index cannot be trusted and is discarded";
    for (const char* name : {"/index.mdb", "/index.mdb-lock"}) {
      std::string index = options_.dir + name;
      if (::unlink(index.c_str()) != 0 && errno != ENOENT) {
        return Error{errno,
                     "cannot remove " + index + ": " + std::strerror(errno)};
      }
    }
    files_.RemoveAll();
  }
  return WriteStateFile(path, "open " + boot + "\n");
}

void BlockCache::MarkCleanShutdown() {
  int rc = mdb_env_sync(env_.get(), 1);
  if (rc != MDB_SUCCESS) {
    LogError(MdbError(rc, "mdb_env_sync").message);
    return;
  }
  if (Status s = WriteStateFile(options_.dir + "/state", "clean\n"); !s)
    LogError(s.error().message);
}

Status BlockCache::OpenEnv() {
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != MDB_SUCCESS) return MdbError(rc, "mdb_env_create");
  env_.reset(raw);
  mdb_env_set_maxdbs(raw, 8);
  mdb_env_set_maxreaders(raw, 1024);
  map_bytes_ = std::max<uint64_t>(options_.initial_map_bytes, 256 << 10);
  mdb_env_set_mapsize(raw, map_bytes_);
  std::string path = options_.dir + "/index.mdb";
  rc = mdb_env_open(raw, path.c_str(), kEnvFlags, 0600);
  if (rc != MDB_SUCCESS) return MdbError(rc, "cannot open " + path);
  MDB_envinfo info{};
  if (mdb_env_info(raw, &info) == MDB_SUCCESS) {
    map_bytes_ = std::max<uint64_t>(map_bytes_, info.me_mapsize);
  }
  int dead = 0;
  mdb_reader_check(raw, &dead);  // slots of crashed processes
  Result<Txn> txn = Txn::Begin(raw, false);
  if (!txn) return txn.error();
  struct {
    const char* name;
    unsigned* dbi;
  } dbs[] = {{"info", &dbi_info_},
             {"objects", &dbi_objects_},
             {"blocks", &dbi_blocks_},
             {"meta", &dbi_meta_},
             {"lru", &dbi_lru_}};
  for (auto& db : dbs) {
    rc = mdb_dbi_open(txn->get(), db.name, MDB_CREATE, db.dbi);
    if (rc != MDB_SUCCESS) return MdbError(rc, "mdb_dbi_open");
  }
  rc = txn->Commit();
  if (rc != MDB_SUCCESS) return MdbError(rc, "cannot create the index");
  return OkStatus();
}

Status BlockCache::CheckSchemaLocked() {
  bool mismatch = false;
  std::string why;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta&) {
        std::string_view schema, block_size;
        int rc1 = txn.Get(dbi_info_, "schema", &schema);
        int rc2 = txn.Get(dbi_info_, "block_size", &block_size);
        if (rc1 == MDB_SUCCESS && schema.size() == 4 &&
            GetLe(schema, 0, 4) == kSchemaVersion && rc2 == MDB_SUCCESS &&
            block_size.size() == 8 &&
            GetLe(block_size, 0, 8) == options_.block_size) {
          return MDB_SUCCESS;
        }
        if (rc1 == MDB_SUCCESS || rc2 == MDB_SUCCESS) {
          mismatch = true;
          why = rc2 == MDB_SUCCESS && block_size.size() == 8
                    ? "block_size " + std::to_string(GetLe(block_size, 0, 8))
                    : "another schema";
        }
        for (unsigned dbi :
             {dbi_info_, dbi_objects_, dbi_blocks_, dbi_meta_, dbi_lru_}) {
          if (int rc = mdb_drop(txn.get(), dbi, 0); rc != 0) return rc;
        }
        std::string v;
        PutLe(&v, kSchemaVersion, 4);
        int rc = txn.Put(dbi_info_, "schema", v);
        return rc != 0 ? rc
                       : txn.Put(dbi_info_, "block_size",
                                 U64Value(options_.block_size));
      },
      "schema check");
  if (!s) return s.error();
  if (mismatch) {
    REPOFS_LOG(kWarning) << "cache: " << options_.dir << " was written with "
                         << why << "; cleared for block_size "
                         << options_.block_size;
  }
  return OkStatus();
}

// One pass over the blocks (sorted by version id): entries whose data file
// is missing or too short are dropped, object records are recounted; then
// objects without blocks and data files without an object are removed.
// Recounts the blocks of each version (the blocks DB is sorted by version
// id), dropping entries whose data file is missing or too short.
int BlockCache::RepairBlocksInTxn(Txn& txn, RepairCounts& counts) {
  Cursor cursor(txn, dbi_blocks_);
  VersionId group;
  ObjectRecord obj;
  bool group_valid = false, have_group = false;
  std::optional<uint64_t> file_size;
  auto close_group = [&]() -> int {
    if (!have_group || !group_valid) return MDB_SUCCESS;
    if (obj.blocks == 0) return txn.Del(dbi_objects_, group.raw());
    counts.live.insert(group);
    return txn.Put(dbi_objects_, group.raw(), obj.Encode());
  };
  for (bool ok = cursor.First(); ok; ok = cursor.Next()) {
    std::string key(cursor.key());
    VersionId id;
    BlockRecord rec;
    bool sane = key.size() == 24 &&
                VersionId::FromRaw(key.substr(0, 16), &id) &&
                BlockRecord::Decode(cursor.value(), &rec);
    if (sane && (!have_group || !(id == group))) {
      if (int rc = close_group(); rc != 0) return rc;
      have_group = true;
      group = id;
      std::string_view value;
      group_valid = txn.Get(dbi_objects_, id.raw(), &value) == 0 &&
                    ObjectRecord::Decode(value, &obj);
      obj.blocks = obj.bytes = 0;
      file_size = files_.FileSize(id);
    }
    uint64_t end =
        sane ? GetBe64(key, 16) * options_.block_size + rec.length : 0;
    if (!sane || !group_valid || !file_size || *file_size < end) {
      if (sane) txn.Del(dbi_lru_, SeqKey(rec.seq));
      if (int rc = cursor.Delete(); rc != 0) return rc;
      ++counts.dropped;
      continue;
    }
    obj.blocks += 1;
    obj.bytes += rec.length;
    counts.bytes += rec.length;
    counts.blocks += 1;
  }
  return close_group();
}

// Objects without a block go; metadata is counted; the next access seq
// follows the largest one in use.
int BlockCache::RepairRestInTxn(Txn& txn, RepairCounts& counts) {
  Cursor objects(txn, dbi_objects_);
  for (bool ok = objects.First(); ok; ok = objects.Next()) {
    VersionId id;
    if (!VersionId::FromRaw(objects.key(), &id) || counts.live.count(id) == 0) {
      if (int rc = objects.Delete(); rc != 0) return rc;
    }
  }
  Cursor metas(txn, dbi_meta_);
  for (bool ok = metas.First(); ok; ok = metas.Next()) {
    counts.meta += 1;
    counts.bytes += static_cast<int64_t>(metas.value().size()) - 8;
  }
  Cursor lru(txn, dbi_lru_);
  next_seq_ =
      lru.Last() && lru.key().size() == 8 ? GetBe64(lru.key(), 0) + 1 : 1;
  return MDB_SUCCESS;
}

Status BlockCache::Repair() {
  std::lock_guard writer(writer_mu_);
  RepairCounts counts;
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta&) {
        counts = RepairCounts{};
        int rc = RepairBlocksInTxn(txn, counts);
        return rc != MDB_SUCCESS ? rc : RepairRestInTxn(txn, counts);
      },
      "repair");
  if (!s) return s.error();
  uint64_t orphans = 0;
  files_.ForEach([&](const VersionId& id) {
    if (counts.live.count(id) == 0) {
      files_.Remove(id);
      ++orphans;
    }
  });
  if (counts.dropped != 0 || orphans != 0) {
    REPOFS_LOG(kInfo) << "cache: repaired " << options_.dir << ": dropped "
                      << counts.dropped << " index entries, removed " << orphans
                      << " orphan data files";
  }
  {
    Result<Txn> txn = Txn::Begin(env_.get(), true);
    std::string_view v;
    if (txn && txn->Get(dbi_info_, "hits", &v) == 0 && v.size() == 8)
      persisted_hits_ = GetLe(v, 0, 8);
    if (txn && txn->Get(dbi_info_, "misses", &v) == 0 && v.size() == 8)
      persisted_misses_ = GetLe(v, 0, 8);
  }
  total_bytes_ = counts.bytes;
  total_blocks_ = counts.blocks;
  total_objects_ = static_cast<int64_t>(counts.live.size());
  total_meta_ = counts.meta;
  PublishTotals();
  EvictIfNeededLocked();  // a smaller cache_size than last time
  return OkStatus();
}

void BlockCache::ResetIndexLocked() {
  REPOFS_LOG(kWarning) << "cache: the index of " << options_.dir
                       << " is full and cannot shrink; starting over empty";
  {
    std::unique_lock env_lock(env_mu_);  // no reader may be in a txn
    env_.reset();
    for (const char* name : {"/index.mdb", "/index.mdb-lock"})
      ::unlink((options_.dir + name).c_str());
  }
  files_.RemoveAll();  // pinned fds stay readable
  total_bytes_ = total_blocks_ = total_objects_ = total_meta_ = 0;
  PublishTotals();
  {
    std::lock_guard lock(mem_mu_);
    verified_.clear();
    stamps_.clear();
    touches_.clear();
  }
  Status s = OpenEnv();
  if (s) s = CheckSchemaLocked();
  if (!s) LogError("cannot recreate the index: " + s.error().message);
}

VerifyResult BlockCache::Verify(
    const std::function<void(uint64_t, uint64_t)>& progress) {
  VerifyResult result;
  const uint64_t total = stat_blocks_.load();
  std::string resume;
  for (;;) {
    struct Item {
      std::string key;
      BlockRecord rec;
    };
    std::vector<Item> items;
    {
      std::shared_lock env_lock(env_mu_);
      Result<Txn> txn = Txn::Begin(env_.get(), true);
      if (!txn) break;
      Cursor cursor(*txn, dbi_blocks_);
      for (bool ok = cursor.Seek(resume); ok && items.size() < kVerifyChunk;
           ok = cursor.Next()) {
        if (cursor.key() == resume) continue;
        Item item{std::string(cursor.key()), {}};
        BlockRecord::Decode(cursor.value(), &item.rec);
        items.push_back(std::move(item));
      }
    }
    if (items.empty()) break;
    resume = items.back().key;
    for (const Item& item : items) {
      VersionId id;
      if (item.key.size() != 24 ||
          !VersionId::FromRaw(item.key.substr(0, 16), &id)) {
        continue;
      }
      uint64_t block_no = GetBe64(item.key, 16);
      std::string buf(item.rec.length, '\0');
      Result<SharedFd> fd = files_.Open(id, false);
      ssize_t n =
          fd ? ::pread((*fd)->get(), buf.data(), buf.size(),
                       static_cast<off_t>(block_no * options_.block_size))
             : -1;
      ++result.checked;
      if (n != static_cast<ssize_t>(buf.size()) ||
          Crc32c(buf) != item.rec.crc) {
        if (DropBlock(id, block_no, item.rec.seq)) ++result.bad;
      }
      if (progress && result.checked % 64 == 0)
        progress(result.checked, std::max(total, result.checked));
    }
  }
  if (progress) progress(result.checked, std::max(total, result.checked));
  return result;
}

void BlockCache::Prune() {
  std::lock_guard writer(writer_mu_);
  CommitPendingLocked();
  FlushLocked();
  EvictIfNeededLocked();
}

Status BlockCache::Clear() {
  std::lock_guard writer(writer_mu_);
  Status s = RunWriteLocked(
      [&](Txn& txn, Delta& delta) {
        for (unsigned dbi : {dbi_objects_, dbi_blocks_, dbi_meta_, dbi_lru_}) {
          if (int rc = mdb_drop(txn.get(), dbi, 0); rc != 0) return rc;
        }
        delta.bytes = -total_bytes_;
        delta.blocks = -total_blocks_;
        delta.objects = -total_objects_;
        delta.meta = -total_meta_;
        return MDB_SUCCESS;
      },
      "clear");
  if (!s) return s;
  files_.RemoveAll();
  std::lock_guard lock(mem_mu_);
  verified_.clear();
  stamps_.clear();
  return OkStatus();
}

}  // namespace repofs::cache
