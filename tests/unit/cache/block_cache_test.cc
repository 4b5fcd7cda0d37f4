// BlockCache: round trip, persistence, the dir lock, eviction (bytes, LRU
// order, free-space floor, pins), map-full, bad data (corrupt, truncated,
// missing), metadata blobs, Verify/Clear, block_size changes.
#include "cache/block_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cache/version_id.h"
#include "cache_test_util.h"

namespace repofs::cache {
namespace {

using testing::kKiB;
using testing::kMiB;
using testing::MakeObject;
using testing::MustOpen;
using testing::SmallOptions;
using testing::TempDir;
using testing::DataPath;
using testing::FlipByte;
using testing::InsertAll;
using testing::ReadRef;
using testing::TestObject;

uint64_t DiskUsage(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    struct stat st {};
    if (stat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}


TEST(BlockCacheTest, RoundTripIncludingShortLastBlock) {
  TempDir tmp;
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  ASSERT_TRUE(cache);
  const uint64_t b = cache->block_size();
  TestObject obj = MakeObject("dir/a.bin", 2 * b + 1000, 1);
  EXPECT_FALSE(cache->Lookup(obj.ref(), 0).has_value());
  InsertAll(*cache, obj);
  for (uint64_t n = 0; n < 3; ++n) {
    auto ref = cache->Lookup(obj.ref(), n);
    ASSERT_TRUE(ref.has_value()) << n;
    EXPECT_EQ(ref->file_offset, n * b);
    EXPECT_EQ(ReadRef(*ref), obj.Block(n, b)) << n;
    std::string copy;
    ASSERT_TRUE(cache->ReadBlock(obj.ref(), n, &copy));
    EXPECT_EQ(copy, obj.Block(n, b));
  }
  EXPECT_EQ(cache->Lookup(obj.ref(), 2)->length, 1000u);
  EXPECT_FALSE(cache->Lookup(obj.ref(), 3).has_value());  // past the end
  // A block of another version of the same key is a different block.
  TestObject other = obj;
  other.etag = "changed";
  EXPECT_FALSE(cache->Lookup(other.ref(), 0).has_value());
  CacheStats stats = cache->Stats();
  EXPECT_EQ(stats.blocks, 3u);
  EXPECT_EQ(stats.objects, 1u);
  EXPECT_EQ(stats.bytes, obj.body.size());
  EXPECT_EQ(stats.hits, 7u);
  EXPECT_EQ(stats.misses, 2u);
}

TEST(BlockCacheTest, InsertOfWrongLengthIsRefused) {
  TempDir tmp;
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  TestObject obj = MakeObject("k", 3 * cache->block_size(), 2);
  cache->Insert(obj.ref(), 0, "short");
  cache->Insert(obj.ref(), 5, obj.Block(0, cache->block_size()));
  EXPECT_FALSE(cache->Contains(obj.ref(), 0));
  EXPECT_EQ(cache->Stats().insert_errors, 2u);
  EXPECT_EQ(cache->Stats().blocks, 0u);
}

TEST(BlockCacheTest, PersistsAcrossReopen) {
  TempDir tmp;
  TestObject obj = MakeObject("p/q", 5 * 64 * kKiB + 7, 3);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
    cache->PutMeta("meta-1", "blob");
    EXPECT_TRUE(cache->Lookup(obj.ref(), 0).has_value());  // a hit to persist
  }
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  ASSERT_TRUE(cache);
  CacheStats stats = cache->Stats();
  EXPECT_EQ(stats.blocks, 6u);
  EXPECT_EQ(stats.bytes, obj.body.size() + 4);
  EXPECT_EQ(stats.persisted_hits, 1u);
  for (uint64_t n = 0; n < 6; ++n) {
    std::string copy;
    ASSERT_TRUE(cache->ReadBlock(obj.ref(), n, &copy)) << n;
    EXPECT_EQ(copy, obj.Block(n, cache->block_size()));
  }
  EXPECT_EQ(cache->GetMeta("meta-1"), std::optional<std::string>("blob"));
}

TEST(BlockCacheTest, SecondOpenOfTheSameDirIsBusy) {
  TempDir tmp;
  auto first = MustOpen(SmallOptions(tmp.cache_dir()));
  ASSERT_TRUE(first);
  auto second = BlockCache::Open(SmallOptions(tmp.cache_dir()));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().errno_value, EBUSY);
  EXPECT_EQ(second.error().message, "cache dir " + tmp.cache_dir() +
                                        " is in use by another repofs (pid " +
                                        std::to_string(getpid()) + ")");
  first.reset();
  EXPECT_TRUE(BlockCache::Open(SmallOptions(tmp.cache_dir())).has_value());
}

TEST(BlockCacheTest, BadOptionsAreRefused) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.block_size = 100000;
  auto cache = BlockCache::Open(options);
  ASSERT_FALSE(cache.has_value());
  EXPECT_EQ(cache.error().errno_value, EINVAL);
}

TEST(BlockCacheTest, StaysWithinMaxBytesAndEvictsLeastRecentlyUsed) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.max_bytes = 1 * kMiB;
  auto cache = MustOpen(options);
  const uint64_t b = cache->block_size();
  TestObject hot = MakeObject("hot", 2 * b, 10);
  InsertAll(*cache, hot);
  // 3x max_bytes through the cache, touching hot block 0 all along.
  std::vector<TestObject> cold;
  for (int i = 0; i < 6; ++i) {
    cold.push_back(MakeObject("cold" + std::to_string(i), 8 * b, 20 + i));
    for (uint64_t n = 0; n < 8; ++n) {
      cache->Insert(cold.back().ref(), n, cold.back().Block(n, b));
      ASSERT_LE(cache->Stats().bytes, options.max_bytes);
      ASSERT_TRUE(cache->Lookup(hot.ref(), 0).has_value());
    }
  }
  CacheStats stats = cache->Stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_GE(stats.bytes, options.max_bytes / 2);
  EXPECT_FALSE(cache->Contains(hot.ref(), 1));      // never touched again
  EXPECT_FALSE(cache->Contains(cold[0].ref(), 0));  // oldest
  EXPECT_TRUE(cache->Contains(cold[5].ref(), 7));   // newest
  // Disk usage follows (holes punched, empty files deleted).
  EXPECT_LE(DiskUsage(tmp.cache_dir() + "/data"), options.max_bytes + b);
  EXPECT_FALSE(std::filesystem::exists(DataPath(tmp.cache_dir(), cold[0])));
}

TEST(BlockCacheTest, KeepsTheFreeSpaceFloor) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  const uint64_t capacity = 4 * kMiB;  // a small fake disk
  options.min_free_bytes = 2 * kMiB;
  std::string data_dir = tmp.cache_dir() + "/data";
  options.free_space = [&](const std::string&) -> std::optional<uint64_t> {
    uint64_t used = DiskUsage(data_dir);
    return used >= capacity ? 0 : capacity - used;
  };
  auto cache = MustOpen(options);
  const uint64_t b = cache->block_size();
  TestObject big = MakeObject("big", 96 * b, 5);  // 6 MiB
  for (uint64_t n = 0; n < 96; ++n) {
    cache->Insert(big.ref(), n, big.Block(n, b));
    ASSERT_GE(*options.free_space(""), options.min_free_bytes) << n;
  }
  EXPECT_TRUE(cache->Contains(big.ref(), 95));
  EXPECT_FALSE(cache->Contains(big.ref(), 0));
  EXPECT_GT(cache->Stats().evictions, 0u);
}

TEST(BlockCacheTest, PinnedBlocksSurviveEviction) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.max_bytes = 512 * kKiB;
  auto cache = MustOpen(options);
  const uint64_t b = cache->block_size();
  TestObject first = MakeObject("first", 2 * b, 1);
  InsertAll(*cache, first);
  auto ref = cache->LookupRange(first.ref(), 100, 2 * b - 200);
  ASSERT_TRUE(ref.has_value());
  for (int i = 0; i < 4; ++i)
    InsertAll(*cache, MakeObject("o" + std::to_string(i), 8 * b, 50 + i));
  // The held range is still intact even though it was the LRU victim.
  EXPECT_EQ(ReadRef(*ref), first.body.substr(100, 2 * b - 200));
  ref.reset();
  InsertAll(*cache, MakeObject("more", 8 * b, 99));
  EXPECT_FALSE(cache->Contains(first.ref(), 0));
}

TEST(BlockCacheTest, LookupRangeIsOneSliceOrNothing) {
  TempDir tmp;
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  const uint64_t b = cache->block_size();
  TestObject obj = MakeObject("r", 4 * b - 10, 8);
  for (uint64_t n : {0, 1, 2}) cache->Insert(obj.ref(), n, obj.Block(n, b));
  auto ref = cache->LookupRange(obj.ref(), b / 2, 2 * b);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->file_offset, b / 2);
  EXPECT_EQ(ReadRef(*ref), obj.body.substr(b / 2, 2 * b));
  EXPECT_FALSE(cache->LookupRange(obj.ref(), 3 * b - 5, 10).has_value());
  cache->Insert(obj.ref(), 3, obj.Block(3, b));
  auto tail = cache->LookupRange(obj.ref(), 2 * b, 2 * b - 10);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(ReadRef(*tail), obj.body.substr(2 * b));
}

TEST(BlockCacheTest, MapFullGrowsTheMapAndInsertsKeepWorking) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.block_size = 4 * kKiB;
  options.max_bytes = 1ull << 30;
  options.initial_map_bytes = 256 * kKiB;
  options.max_map_bytes = 64 * kMiB;
  auto cache = MustOpen(options);
  TestObject obj = MakeObject("many", 4000 * 4 * kKiB, 4);
  for (uint64_t n = 0; n < 4000; ++n) {
    cache->Insert(obj.ref(), n, obj.Block(n, 4 * kKiB));
    ASSERT_TRUE(cache->Contains(obj.ref(), n)) << n;
  }
  EXPECT_EQ(cache->Stats().blocks, 4000u);
  EXPECT_EQ(cache->Stats().insert_errors, 0u);
}

TEST(BlockCacheTest, MapFullAtTheMaximumEvicts) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.block_size = 4 * kKiB;
  options.max_bytes = 1ull << 30;
  options.initial_map_bytes = 512 * kKiB;
  options.max_map_bytes = 1 * kMiB;
  auto cache = MustOpen(options);
  TestObject obj = MakeObject("many", 20000 * 4 * kKiB, 4);
  for (uint64_t n = 0; n < 20000; ++n) {
    cache->Insert(obj.ref(), n, obj.Block(n, 4 * kKiB));
    ASSERT_TRUE(cache->Contains(obj.ref(), n)) << n;
  }
  CacheStats stats = cache->Stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LT(stats.blocks, 20000u);
  EXPECT_EQ(stats.insert_errors, 0u);
  std::string copy;
  ASSERT_TRUE(cache->ReadBlock(obj.ref(), 19999, &copy));
  EXPECT_EQ(copy, obj.Block(19999, 4 * kKiB));
}

TEST(BlockCacheTest, AnEntryLargerThanTheMapFailsAloneAndTheCacheGoesOn) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.initial_map_bytes = 256 * kKiB;
  options.max_map_bytes = 256 * kKiB;
  auto cache = MustOpen(options);
  TestObject obj = MakeObject("small", 4 * 64 * kKiB, 17);
  InsertAll(*cache, obj);
  cache->PutMeta("huge", std::string(512 * kKiB, 'h'));  // cannot ever fit
  EXPECT_FALSE(cache->GetMeta("huge").has_value());
  EXPECT_EQ(cache->Stats().insert_errors, 1u);
  cache->PutMeta("too-big", std::string(2 * kMiB, 'h'));  // refused up front
  EXPECT_EQ(cache->Stats().insert_errors, 2u);
  // Whatever the recovery did (evict, or start over), writes work again.
  cache->PutMeta("small", "blob");
  EXPECT_EQ(cache->GetMeta("small"), std::optional<std::string>("blob"));
  InsertAll(*cache, obj);
  std::string copy;
  ASSERT_TRUE(cache->ReadBlock(obj.ref(), 3, &copy));
  EXPECT_EQ(copy, obj.Block(3, 64 * kKiB));
}

TEST(BlockCacheTest, ReadRangeCopiesCheckedBytesOrMisses) {
  TempDir tmp;
  TestObject obj = MakeObject("rr", 3 * 64 * kKiB + 1000, 8);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    const uint64_t b = cache->block_size();
    ASSERT_EQ(b, 64 * kKiB);
    for (uint64_t n = 0; n < 3; ++n) cache->Insert(obj.ref(), n, obj.Block(n, b));
    // Not all cached: block 3 (the short last one) is missing.
    std::string out(obj.body.size(), '\0');
    EXPECT_FALSE(cache->ReadRange(obj.ref(), 0, obj.body.size(), out.data()));
    cache->Insert(obj.ref(), 3, obj.Block(3, b));
  }
  // After a reopen nothing is verified yet: first reads check whole blocks.
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  const uint64_t b = cache->block_size();
  const std::pair<uint64_t, uint64_t> ranges[] = {
      {b + 100, 50}, {0, b}, {b - 10, 2 * b + 5}, {3 * b + 1, 999},
      {0, obj.body.size()}, {b + 100, 50}};
  for (auto [offset, length] : ranges) {
    std::string out(length, 'x');
    ASSERT_TRUE(cache->ReadRange(obj.ref(), offset, length, out.data()))
        << offset << "+" << length;
    EXPECT_EQ(out, obj.body.substr(offset, length)) << offset << "+" << length;
  }
  // A corrupted, not yet verified block fails the range and is dropped.
  cache.reset();
  FlipByte(DataPath(tmp.cache_dir(), obj), static_cast<off_t>(2 * b + 5));
  cache = MustOpen(SmallOptions(tmp.cache_dir()));
  std::string out(b, '\0');
  EXPECT_FALSE(cache->ReadRange(obj.ref(), 2 * b, b, out.data()));
  EXPECT_FALSE(cache->Contains(obj.ref(), 2));
  ASSERT_TRUE(cache->ReadRange(obj.ref(), b, b, out.data()));
  EXPECT_EQ(out, obj.body.substr(b, b));
}

TEST(BlockCacheTest, CorruptBlockIsAMissThenReinsertWorks) {
  TempDir tmp;
  TestObject obj = MakeObject("c", 3 * 64 * kKiB, 6);
  for (bool reopen : {false, true}) {
    SCOPED_TRACE(reopen);
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    const uint64_t b = cache->block_size();
    InsertAll(*cache, obj);
    if (reopen) {
      cache.reset();
      FlipByte(DataPath(tmp.cache_dir(), obj), static_cast<off_t>(b + 17));
      cache = MustOpen(SmallOptions(tmp.cache_dir()));
    } else {
      FlipByte(DataPath(tmp.cache_dir(), obj), static_cast<off_t>(b + 17));
    }
    EXPECT_FALSE(cache->Lookup(obj.ref(), 1).has_value());
    EXPECT_FALSE(cache->Contains(obj.ref(), 1));  // dropped
    EXPECT_EQ(cache->Stats().dropped_bad, 1u);
    EXPECT_TRUE(cache->Lookup(obj.ref(), 0).has_value());
    EXPECT_TRUE(cache->Lookup(obj.ref(), 2).has_value());
    cache->Insert(obj.ref(), 1, obj.Block(1, b));
    std::string copy;
    ASSERT_TRUE(cache->ReadBlock(obj.ref(), 1, &copy));
    EXPECT_EQ(copy, obj.Block(1, b));
    ASSERT_TRUE(cache->Clear());
  }
}

TEST(BlockCacheTest, TruncatedDataFileIsAMiss) {
  TempDir tmp;
  TestObject obj = MakeObject("t", 3 * 64 * kKiB, 7);
  for (bool reopen : {false, true}) {
    SCOPED_TRACE(reopen);
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    const uint64_t b = cache->block_size();
    InsertAll(*cache, obj);
    if (reopen) cache.reset();
    ASSERT_EQ(truncate(DataPath(tmp.cache_dir(), obj).c_str(),
                       static_cast<off_t>(b + b / 2)),
              0);
    if (reopen) cache = MustOpen(SmallOptions(tmp.cache_dir()));
    EXPECT_TRUE(cache->Lookup(obj.ref(), 0).has_value());
    EXPECT_FALSE(cache->Lookup(obj.ref(), 1).has_value());
    EXPECT_FALSE(cache->Lookup(obj.ref(), 2).has_value());
    EXPECT_EQ(cache->Stats().blocks, 1u);
    ASSERT_TRUE(cache->Clear());
  }
}

TEST(BlockCacheTest, MissingDataFileIsAMiss) {
  TempDir tmp;
  TestObject obj = MakeObject("m", 2 * 64 * kKiB, 8);
  TestObject other = MakeObject("other", 64 * kKiB, 9);
  for (bool reopen : {false, true}) {
    SCOPED_TRACE(reopen);
    CacheOptions options = SmallOptions(tmp.cache_dir());
    options.max_open_files = 1;  // `other` pushes obj's fd out of the LRU
    auto cache = MustOpen(options);
    InsertAll(*cache, obj);
    InsertAll(*cache, other);
    if (reopen) cache.reset();
    ASSERT_EQ(unlink(DataPath(tmp.cache_dir(), obj).c_str()), 0);
    if (reopen) cache = MustOpen(options);
    EXPECT_FALSE(cache->Lookup(obj.ref(), 0).has_value());
    EXPECT_FALSE(cache->Lookup(obj.ref(), 1).has_value());
    EXPECT_EQ(cache->Stats().blocks, 1u);
    EXPECT_EQ(cache->Stats().objects, 1u);
    EXPECT_TRUE(cache->Lookup(other.ref(), 0).has_value());
    ASSERT_TRUE(cache->Clear());
  }
}

void WriteState(const std::string& dir, const std::string& text) {
  FILE* f = fopen((dir + "/state").c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs(text.c_str(), f);
  fclose(f);
}

std::string BootId() {
  FILE* f = fopen("/proc/sys/kernel/random/boot_id", "r");
  char buf[64] = {};
  if (f != nullptr) {
    if (fgets(buf, sizeof buf, f) == nullptr) buf[0] = 0;
    fclose(f);
  }
  std::string id = buf;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

TEST(BlockCacheTest, UncleanStopInThisBootKeepsTheIndex) {
  TempDir tmp;
  TestObject obj = MakeObject("s", 2 * 64 * kKiB, 15);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
  }
  // What a kill -9 leaves: the state of a running cache, same boot.
  WriteState(tmp.cache_dir(), "open " + BootId() + "\n");
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_EQ(cache->Stats().blocks, 2u);
  EXPECT_TRUE(cache->Lookup(obj.ref(), 1).has_value());
}

TEST(BlockCacheTest, UncleanStopBeforeASystemCrashDiscardsTheIndex) {
  TempDir tmp;
  TestObject obj = MakeObject("s", 2 * 64 * kKiB, 16);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
  }
  // Open when another boot ended: the NOSYNC index may be torn.
  WriteState(tmp.cache_dir(), "open 00000000-0000-0000-0000-000000000000\n");
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_EQ(cache->Stats().blocks, 0u);
  EXPECT_FALSE(cache->Lookup(obj.ref(), 0).has_value());
  EXPECT_FALSE(std::filesystem::exists(DataPath(tmp.cache_dir(), obj)));
  InsertAll(*cache, obj);
  EXPECT_TRUE(cache->Lookup(obj.ref(), 1).has_value());
}

TEST(BlockCacheTest, OrphanDataFilesAreRemovedAtOpen) {
  TempDir tmp;
  { auto cache = MustOpen(SmallOptions(tmp.cache_dir())); }
  TestObject obj = MakeObject("orphan", 100, 9);
  std::string path = DataPath(tmp.cache_dir(), obj);
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("x", f);
    fclose(f);
  }
  std::string junk = tmp.cache_dir() + "/data/zz-not-ours";
  {
    FILE* f = fopen(junk.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(junk));
}

TEST(BlockCacheTest, MetaBlobsRoundTripReplaceAndCount) {
  TempDir tmp;
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_FALSE(cache->GetMeta("id").has_value());
  cache->PutMeta("id", "first");
  cache->PutMeta("id", "second!");
  cache->PutMeta(std::string(1, '\0') + "bin", "");
  EXPECT_EQ(cache->GetMeta("id"), std::optional<std::string>("second!"));
  EXPECT_EQ(cache->GetMeta(std::string(1, '\0') + "bin"),
            std::optional<std::string>(""));
  EXPECT_EQ(cache->Stats().meta_entries, 2u);
  EXPECT_EQ(cache->Stats().bytes, 7u);
}

TEST(BlockCacheTest, MetaBlobsAreEvictedToo) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.max_bytes = 256 * kKiB;
  auto cache = MustOpen(options);
  std::string blob(1000, 'x');
  for (int i = 0; i < 1000; ++i) cache->PutMeta("m" + std::to_string(i), blob);
  EXPECT_LE(cache->Stats().bytes, options.max_bytes);
  EXPECT_FALSE(cache->GetMeta("m0").has_value());
  EXPECT_TRUE(cache->GetMeta("m999").has_value());
}

TEST(BlockCacheTest, VerifyDropsBadBlocksAndReportsProgress) {
  TempDir tmp;
  TestObject obj = MakeObject("v", 100 * 64 * kKiB, 11);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
  }
  FlipByte(DataPath(tmp.cache_dir(), obj), 5 * 64 * kKiB + 3);
  FlipByte(DataPath(tmp.cache_dir(), obj), 70 * 64 * kKiB);
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  uint64_t last_done = 0, calls = 0;
  VerifyResult result = cache->Verify([&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    EXPECT_EQ(total, 100u);
    last_done = done;
    ++calls;
  });
  EXPECT_EQ(result.checked, 100u);
  EXPECT_EQ(result.bad, 2u);
  EXPECT_EQ(last_done, 100u);
  EXPECT_GE(calls, 2u);
  EXPECT_EQ(cache->Stats().blocks, 98u);
  EXPECT_FALSE(cache->Contains(obj.ref(), 5));
  EXPECT_FALSE(cache->Contains(obj.ref(), 70));
}

TEST(BlockCacheTest, ClearDropsEverything) {
  TempDir tmp;
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  TestObject obj = MakeObject("x", 3 * 64 * kKiB, 12);
  InsertAll(*cache, obj);
  cache->PutMeta("m", "b");
  ASSERT_TRUE(cache->Clear());
  EXPECT_FALSE(cache->Lookup(obj.ref(), 0).has_value());
  EXPECT_FALSE(cache->GetMeta("m").has_value());
  EXPECT_EQ(cache->Stats().bytes, 0u);
  EXPECT_FALSE(std::filesystem::exists(DataPath(tmp.cache_dir(), obj)));
  InsertAll(*cache, obj);
  EXPECT_TRUE(cache->Lookup(obj.ref(), 2).has_value());
}

TEST(BlockCacheTest, AnotherBlockSizeClearsTheCache) {
  TempDir tmp;
  TestObject obj = MakeObject("bs", 256 * kKiB, 13);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
  }
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.block_size = 128 * kKiB;
  auto cache = MustOpen(options);
  EXPECT_EQ(cache->Stats().blocks, 0u);
  EXPECT_FALSE(cache->Lookup(obj.ref(), 0).has_value());
  EXPECT_FALSE(std::filesystem::exists(DataPath(tmp.cache_dir(), obj)));
}

TEST(BlockCacheTest, SmallerMaxBytesAtOpenEvicts) {
  TempDir tmp;
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, MakeObject("a", 32 * 64 * kKiB, 14));
  }
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.max_bytes = 1 * kMiB;
  auto cache = MustOpen(options);
  EXPECT_LE(cache->Stats().bytes, options.max_bytes);
}

}  // namespace
}  // namespace repofs::cache
