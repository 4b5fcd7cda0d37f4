// BlockCache under concurrency and crashes: threads inserting, looking up
// and evicting at once; a child process killed with SIGKILL in the middle of
// a stream of inserts, then reopened. Every outcome must be the right bytes
// or a miss.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/block_cache.h"
#include "cache_test_util.h"

namespace repofs::cache {
namespace {

using testing::kKiB;
using testing::kMiB;
using testing::MakeObject;
using testing::MustOpen;
using testing::SmallOptions;
using testing::TempDir;
using testing::TestObject;

constexpr uint64_t kBlock = 16 * kKiB;

std::vector<TestObject> Objects(int count, uint64_t blocks_each) {
  std::vector<TestObject> objects;
  for (int i = 0; i < count; ++i) {
    // The last block of each object is short.
    objects.push_back(MakeObject("obj/" + std::to_string(i),
                                 blocks_each * kBlock - 100 - i, 1000 + i));
  }
  return objects;
}

CacheOptions StressOptions(const std::string& dir, uint64_t max_bytes) {
  CacheOptions options = SmallOptions(dir);
  options.block_size = kBlock;
  options.max_bytes = max_bytes;
  return options;
}

TEST(BlockCacheStressTest, ConcurrentReadersAndWritersSeeRightBytesOrMiss) {
  TempDir tmp;
  // Small bound: eviction runs all the time under the readers.
  auto cache = MustOpen(StressOptions(tmp.cache_dir(), 1 * kMiB));
  const auto objects = Objects(8, 16);
  std::atomic<uint64_t> hits{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 1500; ++i) {
        const TestObject& obj = objects[rng() % objects.size()];
        uint64_t n = rng() % 16;
        std::string expected = obj.Block(n, kBlock);
        if (t % 2 == 0) {
          cache->Insert(obj.ref(), n, expected);
        } else if (rng() % 2 == 0) {
          std::string copy;
          if (cache->ReadBlock(obj.ref(), n, &copy)) {
            ++hits;
            if (copy != expected) ++wrong;
          }
        } else if (auto ref = cache->Lookup(obj.ref(), n); ref) {
          ++hits;
          std::string copy(ref->length, '\0');
          if (pread(ref->raw_fd(), copy.data(), copy.size(),
                    static_cast<off_t>(ref->file_offset)) !=
                  static_cast<ssize_t>(copy.size()) ||
              copy != expected) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(hits.load(), 100u);
  CacheStats stats = cache->Stats();
  EXPECT_LE(stats.bytes, 1 * kMiB);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_EQ(stats.dropped_bad, 0u);
  // The index agrees with itself after all that: a reopen keeps every
  // block readable or drops it, and the totals are recomputed.
  cache.reset();
  cache = MustOpen(StressOptions(tmp.cache_dir(), 1 * kMiB));
  EXPECT_EQ(cache->Stats().bytes, stats.bytes);
  for (const TestObject& obj : objects) {
    for (uint64_t n = 0; n < 16; ++n) {
      std::string copy;
      if (cache->ReadBlock(obj.ref(), n, &copy)) {
        EXPECT_EQ(copy, obj.Block(n, kBlock));
      }
    }
  }
  EXPECT_EQ(cache->Stats().dropped_bad, 0u);
}

// The child inserts blocks in a known order, counting them in shared memory;
// the parent kills it with SIGKILL after `kill_after` inserts (or after a
// delay), then reopens and checks every block.
void KillDuringInserts(const std::string& dir, uint64_t kill_after,
                       std::chrono::microseconds extra_delay) {
  const auto objects = Objects(6, 24);
  auto* progress = static_cast<std::atomic<uint64_t>*>(
      mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(progress, MAP_FAILED);
  new (progress) std::atomic<uint64_t>(0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto opened = BlockCache::Open(StressOptions(dir, 1 * kMiB));
    if (!opened) _exit(3);
    auto& cache = **opened;
    for (int round = 0; round < 1000; ++round) {
      for (const TestObject& obj : objects) {
        for (uint64_t n = 0; n < 24; ++n) {
          cache.Insert(obj.ref(), n, obj.Block(n, kBlock));
          if (n % 3 == 0) cache.Lookup(obj.ref(), n / 2);
          progress->fetch_add(1);
        }
      }
    }
    _exit(0);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (progress->load() < kill_after &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(extra_delay);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early: " << status;
  EXPECT_GE(progress->load(), kill_after);
  munmap(progress, sizeof(std::atomic<uint64_t>));

  auto cache = MustOpen(StressOptions(dir, 1 * kMiB));
  ASSERT_TRUE(cache);
  uint64_t hits = 0;
  for (const TestObject& obj : objects) {
    for (uint64_t n = 0; n < 24; ++n) {
      std::string copy;
      if (cache->ReadBlock(obj.ref(), n, &copy)) {
        ++hits;
        ASSERT_EQ(copy, obj.Block(n, kBlock)) << obj.key << " block " << n;
      }
    }
  }
  EXPECT_GT(hits, 0u);
  EXPECT_EQ(cache->Stats().dropped_bad, 0u);
  EXPECT_LE(cache->Stats().bytes, 1 * kMiB);
  // Still usable: inserts and lookups work after the repair.
  cache->Insert(objects[0].ref(), 0, objects[0].Block(0, kBlock));
  EXPECT_TRUE(cache->Contains(objects[0].ref(), 0));
  EXPECT_TRUE(cache->Lookup(objects[0].ref(), 0).has_value())
      << cache->Stats().insert_errors << " " << cache->Stats().dropped_bad;
}

TEST(BlockCacheStressTest, SigkillDuringInsertsThenReopenIsConsistent) {
  TempDir tmp;
  // Several kill points: early, mid-eviction (> 1 MiB written), late, and
  // timer-based ones that land anywhere inside a commit. The same dir is
  // reused, so each round also starts from a previously killed state.
  const uint64_t points[] = {1, 7, 64, 100, 300, 700, 1500};
  for (uint64_t point : points) {
    SCOPED_TRACE(point);
    KillDuringInserts(tmp.cache_dir(), point, std::chrono::microseconds(0));
    KillDuringInserts(tmp.cache_dir(), point,
                      std::chrono::microseconds(100 + point * 3));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace repofs::cache
