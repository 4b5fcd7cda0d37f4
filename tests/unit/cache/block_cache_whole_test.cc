// BlockCache::OpenWhole (whole versions for FUSE passthrough) and the
// verification stamps that carry "checked" across a clean reopen.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "cache/block_cache.h"
#include "cache_test_util.h"

namespace repofs::cache {
namespace {

using testing::DataPath;
using testing::FlipByte;
using testing::InsertAll;
using testing::kKiB;
using testing::MakeObject;
using testing::MustOpen;
using testing::SmallOptions;
using testing::TempDir;
using testing::TestObject;

// Reads every block once (each is checked on its first use).
void ReadAll(BlockCache& cache, const TestObject& obj) {
  std::string out(obj.body.size(), '\0');
  ASSERT_TRUE(cache.ReadRange(obj.ref(), 0, obj.body.size(), out.data()));
  ASSERT_EQ(out, obj.body);
}

std::string ReadFile(int fd, size_t size) {
  std::string out(size, '\0');
  EXPECT_EQ(pread(fd, out.data(), size, 0), static_cast<ssize_t>(size));
  return out;
}

TEST(BlockCacheWholeTest, OnlyAWholeCheckedVersionIsHandedOut) {
  TempDir tmp;
  TestObject obj = MakeObject("w", 3 * 64 * kKiB + 100, 1);
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  const uint64_t b = cache->block_size();
  for (uint64_t n = 0; n < 3; ++n) cache->Insert(obj.ref(), n, obj.Block(n, b));
  EXPECT_FALSE(cache->OpenWhole(obj.ref()).has_value());  // last block missing
  cache->Insert(obj.ref(), 3, obj.Block(3, b));
  // Whole, but inserted blocks are not checked yet in this process.
  EXPECT_FALSE(cache->OpenWhole(obj.ref()).has_value());
  ReadAll(*cache, obj);
  std::optional<WholeFile> whole = cache->OpenWhole(obj.ref());
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(ReadFile(whole->raw_fd(), obj.body.size()), obj.body);
  struct stat st {};
  ASSERT_EQ(fstat(whole->raw_fd(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), obj.body.size());
  // Another etag is another version.
  TestObject other = obj;
  other.etag = "etag-other";
  EXPECT_FALSE(cache->OpenWhole(other.ref()).has_value());
  TestObject empty = MakeObject("empty", 0, 2);
  EXPECT_FALSE(cache->OpenWhole(empty.ref()).has_value());
}

TEST(BlockCacheWholeTest, AWholeFileIsPinnedAgainstEviction) {
  TempDir tmp;
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.max_bytes = 8 * 64 * kKiB;
  auto cache = MustOpen(options);
  TestObject obj = MakeObject("pinned", 4 * 64 * kKiB, 3);
  InsertAll(*cache, obj);
  ReadAll(*cache, obj);
  std::optional<WholeFile> whole = cache->OpenWhole(obj.ref());
  ASSERT_TRUE(whole.has_value());
  // Fill the cache three times over: the pinned version must stay intact.
  for (int i = 0; i < 6; ++i) {
    InsertAll(*cache, MakeObject("filler" + std::to_string(i), 4 * 64 * kKiB,
                                 10 + i));
  }
  EXPECT_EQ(ReadFile(whole->raw_fd(), obj.body.size()), obj.body);
  for (uint64_t n = 0; n < 4; ++n) EXPECT_TRUE(cache->Contains(obj.ref(), n));
  EXPECT_LE(cache->Stats().bytes, options.max_bytes + obj.body.size());
  whole.reset();
  InsertAll(*cache, MakeObject("after", 8 * 64 * kKiB, 30));
  EXPECT_FALSE(cache->Contains(obj.ref(), 0));  // unpinned: evicted (LRU)
}

TEST(BlockCacheWholeTest, StampOfACleanCloseVouchesAfterReopen) {
  TempDir tmp;
  TestObject obj = MakeObject("s", 5 * 64 * kKiB + 7, 4);
  TestObject unread = MakeObject("u", 2 * 64 * kKiB, 5);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
    InsertAll(*cache, unread);
    ReadAll(*cache, obj);
  }
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    // No block was read in this process: the stamp vouches for `obj`.
    ASSERT_TRUE(cache->OpenWhole(obj.ref()).has_value());
    // `unread` was never checked: no stamp, no whole file.
    EXPECT_FALSE(cache->OpenWhole(unread.ref()).has_value());
  }
  // Stamps are rewritten at each clean close: a third open trusts it too.
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_TRUE(cache->OpenWhole(obj.ref()).has_value());
}

TEST(BlockCacheWholeTest, AChangedDataFileVoidsTheStamp) {
  TempDir tmp;
  TestObject obj = MakeObject("c", 3 * 64 * kKiB, 6);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
    ReadAll(*cache, obj);
  }
  FlipByte(DataPath(tmp.cache_dir(), obj), 64 * kKiB + 3);  // new ctime
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_FALSE(cache->OpenWhole(obj.ref()).has_value());
  // Checked as always: the bad block is a miss and is dropped.
  EXPECT_FALSE(cache->Lookup(obj.ref(), 1).has_value());
  EXPECT_FALSE(cache->Contains(obj.ref(), 1));
  EXPECT_TRUE(cache->Lookup(obj.ref(), 0).has_value());
}

TEST(BlockCacheWholeTest, AStampOfAnotherBootIsIgnored) {
  TempDir tmp;
  TestObject obj = MakeObject("b", 2 * 64 * kKiB, 7);
  CacheOptions options = SmallOptions(tmp.cache_dir());
  options.boot_id = "boot-a";
  {
    auto cache = MustOpen(options);
    InsertAll(*cache, obj);
    ReadAll(*cache, obj);
  }
  options.boot_id = "boot-b";
  auto cache = MustOpen(options);
  EXPECT_FALSE(cache->OpenWhole(obj.ref()).has_value());
  ReadAll(*cache, obj);  // checks every block again
  EXPECT_TRUE(cache->OpenWhole(obj.ref()).has_value());
}

TEST(BlockCacheWholeTest, AnUnusedStampIsCarriedToTheNextOpen) {
  TempDir tmp;
  TestObject obj = MakeObject("o", 2 * 64 * kKiB, 8);
  TestObject changed = MakeObject("x", 2 * 64 * kKiB, 9);
  {
    auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
    InsertAll(*cache, obj);
    InsertAll(*cache, changed);
    ReadAll(*cache, obj);
    ReadAll(*cache, changed);
  }
  // An open that reads nothing keeps the stamps whose files are unchanged.
  MustOpen(SmallOptions(tmp.cache_dir())).reset();
  FlipByte(DataPath(tmp.cache_dir(), changed), 5);
  MustOpen(SmallOptions(tmp.cache_dir())).reset();
  auto cache = MustOpen(SmallOptions(tmp.cache_dir()));
  EXPECT_TRUE(cache->OpenWhole(obj.ref()).has_value());
  EXPECT_FALSE(cache->OpenWhole(changed.ref()).has_value());
}

}  // namespace
}  // namespace repofs::cache
