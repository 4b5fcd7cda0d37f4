// ObjectReader memory and lifetime: the global budget, freeing consumed
// blocks, wasted read-ahead accounting, destruction with fetches in flight,
// and reads that take over read-ahead stuck in a busy pool.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "prefetch/object_reader.h"
#include "prefetch_test_util.h"
#include "s3/failure_object_client.h"

namespace repofs::prefetch {
namespace {

using testing::Expected;
using testing::kKiB;
using testing::kMiB;
using testing::MakeBody;
using testing::ReadString;

class LifecycleTest : public ::testing::Test {
 protected:
  ObjectVersion Put(const std::string& key, uint64_t size, uint32_t seed) {
    bodies_[key] = MakeBody(size, seed);
    return testing::PutObject(*fake_, key, bodies_[key]);
  }

  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>();
  std::map<std::string, std::string> bodies_;
};

TEST_F(LifecycleTest, MemoryBudgetIsRespectedByConcurrentReaders) {
  ReadaheadOptions options;
  options.request_size = 1 * kMiB;
  options.max = 16 * kMiB;
  options.memory_limit = 6 * kMiB;
  ReadaheadContext context(fake_, options, 8);
  std::vector<ObjectVersion> versions;
  for (int i = 0; i < 4; ++i) {
    versions.push_back(Put("file" + std::to_string(i), 24 * kMiB + i, i));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      ObjectReader reader(context, versions[i]);
      const std::string& body = bodies_[versions[i].key];
      for (uint64_t offset = 0; offset < body.size(); offset += 128 * kKiB) {
        if (ReadString(reader, offset, 128 * kKiB) !=
            Expected(body, offset, 128 * kKiB)) {
          ++mismatches;
        }
      }
      // One read far larger than the whole budget.
      if (ReadString(reader, 1, 20 * kMiB) != Expected(body, 1, 20 * kMiB)) {
        ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ReadaheadStats stats = context.Stats();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_GT(stats.peak_buffered_bytes, 0u);
  EXPECT_LE(stats.peak_buffered_bytes,
            options.memory_limit + options.request_size);
  EXPECT_EQ(stats.buffered_bytes, 0u);
}

TEST_F(LifecycleTest, ConsumedBlocksAreFreedBehindTheReader) {
  ReadaheadOptions options;
  options.request_size = 1 * kMiB;
  options.max = 4 * kMiB;
  ReadaheadContext context(fake_, options, 4);
  ObjectVersion version = Put("big", 64 * kMiB, 3);
  ObjectReader reader(context, version);
  uint64_t most = 0;
  for (uint64_t offset = 0; offset < 64 * kMiB; offset += 128 * kKiB) {
    ASSERT_TRUE(ReadString(reader, offset, 128 * kKiB) ==
                Expected(bodies_["big"], offset, 128 * kKiB));
    most = std::max(most, context.Stats().buffered_bytes);
  }
  // Window (4 MiB) + the block being read + slack, far below 64 MiB.
  EXPECT_LE(most, 7 * kMiB);
}

TEST_F(LifecycleTest, FilesReadToTheEndHoldNoMemoryWhileOpen) {
  // The filesystem keeps readers open after their last read (an LRU of
  // per-inode readers, nginx open_file_cache).
  ReadaheadContext context(fake_, ReadaheadOptions{}, 4);
  std::vector<std::unique_ptr<ObjectReader>> open_readers;
  for (int i = 0; i < 12; ++i) {
    std::string key = "done" + std::to_string(i);
    ObjectVersion version = Put(key, 1 * kMiB + 512 * kKiB + i, 20 + i);
    open_readers.push_back(std::make_unique<ObjectReader>(context, version));
    for (uint64_t offset = 0; offset < version.size; offset += 128 * kKiB) {
      ASSERT_TRUE(ReadString(*open_readers.back(), offset, 128 * kKiB) ==
                  Expected(bodies_[key], offset, 128 * kKiB));
    }
  }
  EXPECT_TRUE(testing::WaitFor([&] {
    return context.Stats().buffered_bytes == 0;
  })) << context.Stats().buffered_bytes;
}

TEST_F(LifecycleTest, IdleReadersGiveTheirBuffersBackUnderPressure) {
  ReadaheadOptions options;
  options.request_size = 4 * kMiB;
  options.max = 8 * kMiB;
  options.memory_limit = 16 * kMiB;
  ReadaheadContext context(fake_, options, 4);
  std::vector<ObjectVersion> versions;  // stored first: MD5 is slow in TSan
  for (int i = 0; i < 4; ++i) {
    versions.push_back(Put("idle" + std::to_string(i), 24 * kMiB, 40 + i));
  }
  ObjectVersion version = Put("active", 32 * kMiB, 50);
  std::vector<std::unique_ptr<ObjectReader>> idle;
  for (int i = 0; i < 4; ++i) {
    const std::string& key = versions[i].key;
    idle.push_back(std::make_unique<ObjectReader>(context, versions[i]));
    for (uint64_t offset = 0; offset < 2 * kMiB; offset += 128 * kKiB) {
      ASSERT_TRUE(ReadString(*idle.back(), offset, 128 * kKiB) ==
                  Expected(bodies_[key], offset, 128 * kKiB));
    }
  }
  // Their windows fill the budget; then they go quiet.
  ASSERT_TRUE(testing::WaitFor([&] {
    return context.Stats().buffered_bytes > options.memory_limit - 4 * kMiB;
  })) << context.Stats().buffered_bytes;
  std::this_thread::sleep_for(ReadaheadContext::kIdleReclaimAfter +
                              std::chrono::milliseconds(200));
  fake_->ResetRequestCounts();
  {
    ObjectReader reader(context, version);
    for (uint64_t offset = 0; offset < 32 * kMiB; offset += 128 * kKiB) {
      ASSERT_TRUE(ReadString(reader, offset, 128 * kKiB) ==
                  Expected(bodies_["active"], offset, 128 * kKiB));
    }
  }
  // Without reclaiming, every 128 KiB read would be its own GET (256).
  EXPECT_LE(fake_->RequestCounts()["GetObject"], 20u);
  EXPECT_LE(context.Stats().peak_buffered_bytes, options.memory_limit);
  // The idle readers still read correctly (their data is fetched again).
  EXPECT_TRUE(ReadString(*idle[0], 2 * kMiB, 4096) ==
              Expected(bodies_["idle0"], 2 * kMiB, 4096));
}

TEST_F(LifecycleTest, UnreadReadaheadIsCountedAsWasted) {
  ReadaheadContext context(fake_, ReadaheadOptions{}, 4);
  ObjectVersion version = Put("partial", 32 * kMiB, 4);
  {
    ObjectReader reader(context, version);
    ASSERT_TRUE(ReadString(reader, 0, 128 * kKiB) ==
                Expected(bodies_["partial"], 0, 128 * kKiB));
    // Block 0 on demand, blocks 1..7 (the rest of the first 8 MiB chunk)
    // read ahead.
    ASSERT_TRUE(testing::WaitFor(
        [&] { return context.Stats().bytes_fetched == 8 * kMiB; }));
  }
  ReadaheadStats stats = context.Stats();
  EXPECT_EQ(stats.readahead_bytes_wasted, 7 * kMiB);
  EXPECT_EQ(stats.buffered_bytes, 0u);
}

TEST_F(LifecycleTest, DestroyingReadersWithFetchesInFlightIsClean) {
  auto failure = std::make_shared<FailureObjectClient>(fake_);
  failure->SetLatency("GetObject", std::chrono::milliseconds(20));
  ObjectVersion version = Put("inflight", 48 * kMiB, 5);
  for (int round = 0; round < 10; ++round) {
    auto context =
        std::make_unique<ReadaheadContext>(failure, ReadaheadOptions{}, 2);
    for (int i = 0; i < 3; ++i) {
      ObjectReader reader(*context, version);
      // Grow a window so read-ahead is queued and running.
      for (uint64_t offset = 0; offset < 1 * kMiB; offset += 128 * kKiB) {
        ASSERT_TRUE(ReadString(reader, offset, 128 * kKiB) ==
                    Expected(bodies_["inflight"], offset, 128 * kKiB));
      }
    }  // destroyed with GETs sleeping in the client and more queued
    EXPECT_EQ(context->Stats().buffered_bytes, 0u);
    if (round % 2 == 0) {
      // Context destroyed right after a reader, with its tasks queued.
      auto reader = std::make_unique<ObjectReader>(*context, version);
      ASSERT_EQ(ReadString(*reader, 0, 4096).size(), 4096u);
      reader.reset();
    }
    context.reset();  // joins the pool
  }
}

TEST_F(LifecycleTest, ReadTakesOverReadaheadQueuedInABusyPool) {
  ReadaheadContext context(fake_, ReadaheadOptions{}, 1);
  ObjectVersion version = Put("stuck", 32 * kMiB, 6);
  // Occupy the only worker until the end of the test.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  context.pool().Submit([released] { released.wait(); });
  {
    ObjectReader reader(context, version);
    const std::string& body = bodies_["stuck"];
    // Queues read-ahead for blocks 1..7 that no worker can run.
    ASSERT_TRUE(ReadString(reader, 0, 128 * kKiB) ==
                Expected(body, 0, 128 * kKiB));
    // These need queued blocks: the reading thread fetches them itself.
    auto done = std::async(std::launch::async, [&] {
      for (uint64_t offset = 128 * kKiB; offset < 12 * kMiB;
           offset += 128 * kKiB) {
        if (ReadString(reader, offset, 128 * kKiB) !=
            Expected(body, offset, 128 * kKiB)) {
          return false;
        }
      }
      return true;
    });
    ASSERT_EQ(done.wait_for(std::chrono::seconds(20)),
              std::future_status::ready);
    EXPECT_TRUE(done.get());
    EXPECT_EQ(context.Stats().bytes_fetched % (1 * kMiB), 0u);
  }
  release.set_value();
}

TEST_F(LifecycleTest, ReaderPinnedToTheNewVersionReadsIt) {
  ReadaheadContext context(fake_, ReadaheadOptions{}, 2);
  ObjectVersion old_version = Put("swap", 3 * kMiB, 7);
  std::string old_body = bodies_["swap"];
  ObjectReader old_reader(context, old_version);
  // A random read (beyond the sequential gap from offset 0): buffers
  // block 1 only, no read-ahead.
  const uint64_t at = 1 * kMiB + 512 * kKiB;
  ASSERT_TRUE(ReadString(old_reader, at, 4096) == Expected(old_body, at, 4096));
  ObjectVersion new_version = Put("swap", 2 * kMiB + 1, 8);
  ObjectReader new_reader(context, new_version);
  EXPECT_TRUE(ReadString(new_reader, 0, 3 * kMiB) == bodies_["swap"]);
  // The old handle keeps its buffered bytes and fails the rest.
  EXPECT_TRUE(ReadString(old_reader, at + 4096, 4096) ==
              Expected(old_body, at + 4096, 4096));
  EXPECT_EQ(ReadString(old_reader, 2 * kMiB + 5, 4096).rfind("<error>", 0), 0u);
}

// Kept blocks are stored off the fetch thread, up to kMaxKeepBacklog bytes
// queued; past that the fetch stores them itself (the cache still gets every
// block); destruction runs what is queued.
TEST_F(LifecycleTest, KeepLaterQueuesUpToTheBacklogThenRunsInline) {
  ReadaheadOptions options;
  auto context = std::make_unique<ReadaheadContext>(fake_, options, 1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> queued_ran{0};
  std::atomic<int> inline_ran{0};
  const uint64_t chunk = ReadaheadContext::kMaxKeepBacklog / 4;
  // The first blocks the keeper thread until released.
  context->KeepLater(chunk, [&] {
    released.wait();
    ++queued_ran;
  });
  for (int i = 0; i < 3; ++i) {
    context->KeepLater(chunk, [&] {
      EXPECT_NE(std::this_thread::get_id(), caller);
      ++queued_ran;
    });
  }
  EXPECT_EQ(queued_ran.load(), 0) << "queued, not run by the caller";
  // The backlog is full: this one runs on the calling thread, now.
  context->KeepLater(chunk, [&] {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    ++inline_ran;
  });
  EXPECT_EQ(inline_ran.load(), 1);
  release.set_value();
  context.reset();  // drains the queue
  EXPECT_EQ(queued_ran.load(), 4);
}

}  // namespace
}  // namespace repofs::prefetch
