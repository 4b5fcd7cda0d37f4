// SequentialDetector (window growth, stream matching, retention) and
// MemoryBudget (never exceeds its limit, reservations return bytes).
#include "prefetch/sequential_detector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "prefetch/memory_budget.h"

namespace repofs::prefetch {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

ReadaheadOptions Options() {
  ReadaheadOptions options;
  options.initial = 1 * kMiB;
  options.max = 8 * kMiB;
  return options;
}

TEST(SequentialDetectorTest, WindowStartsAtInitialAndDoublesToMax) {
  SequentialDetector detector(Options(), 1ull << 40, 1 * kMiB);
  std::vector<uint64_t> windows;
  for (uint64_t offset = 0; offset < 6 * 128 * kKiB; offset += 128 * kKiB) {
    EXPECT_TRUE(detector.OnRead(offset, 128 * kKiB));
    windows.push_back(detector.current_window());
  }
  EXPECT_EQ(windows, (std::vector<uint64_t>{1 * kMiB, 2 * kMiB, 4 * kMiB,
                                            8 * kMiB, 8 * kMiB, 8 * kMiB}));
  std::vector<ByteRange> ranges = detector.ReadaheadRanges();
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].begin, 6 * 128 * kKiB);
  EXPECT_EQ(ranges[0].end, 9 * kMiB);  // 768 KiB + 8 MiB, rounded to 1 MiB
}

TEST(SequentialDetectorTest, RandomReadHasNoWindowUntilItContinues) {
  SequentialDetector detector(Options(), 1ull << 40, 1 * kMiB);
  EXPECT_FALSE(detector.OnRead(100 * kMiB, 4096));
  EXPECT_EQ(detector.current_window(), 0u);
  EXPECT_TRUE(detector.ReadaheadRanges().empty());
  EXPECT_TRUE(detector.OnRead(100 * kMiB + 4096, 4096));
  EXPECT_EQ(detector.current_window(), 1 * kMiB);
}

TEST(SequentialDetectorTest, SmallGapAndReorderedReadsStaySequential) {
  SequentialDetector detector(Options(), 1ull << 40, 1 * kMiB);
  EXPECT_TRUE(detector.OnRead(0, 128 * kKiB));
  EXPECT_TRUE(detector.OnRead(256 * kKiB, 128 * kKiB));  // skipped 128 KiB
  EXPECT_EQ(detector.current_window(), 2 * kMiB);
  // Reordered: a read behind the position matches without growing.
  EXPECT_TRUE(detector.OnRead(128 * kKiB, 128 * kKiB));
  EXPECT_EQ(detector.current_window(), 2 * kMiB);
  // The same read again (a repeat) does not grow the window either.
  EXPECT_TRUE(detector.OnRead(128 * kKiB, 128 * kKiB));
  EXPECT_EQ(detector.current_window(), 2 * kMiB);
  // Too far ahead: random.
  EXPECT_FALSE(detector.OnRead(10 * kMiB, 128 * kKiB));
}

TEST(SequentialDetectorTest, RandomReadsDoNotEvictAnEstablishedStream) {
  SequentialDetector detector(Options(), 1ull << 40, 1 * kMiB);
  for (uint64_t offset = 0; offset < 1 * kMiB; offset += 128 * kKiB) {
    detector.OnRead(offset, 128 * kKiB);
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(detector.OnRead((100 + 10 * i) * kMiB, 4096));
  }
  EXPECT_TRUE(detector.OnRead(1 * kMiB, 128 * kKiB));
  EXPECT_EQ(detector.current_window(), 8 * kMiB);
}

TEST(SequentialDetectorTest, TwoInterleavedStreams) {
  SequentialDetector detector(Options(), 1ull << 40, 1 * kMiB);
  detector.OnRead(0, 128 * kKiB);
  EXPECT_FALSE(detector.OnRead(50 * kMiB, 128 * kKiB));
  for (int i = 1; i < 4; ++i) {
    EXPECT_TRUE(detector.OnRead(i * 128 * kKiB, 128 * kKiB));
    EXPECT_TRUE(detector.OnRead(50 * kMiB + i * 128 * kKiB, 128 * kKiB));
  }
  EXPECT_EQ(detector.ReadaheadRanges().size(), 2u);
}

TEST(SequentialDetectorTest, RetainsWindowAndCurrentBlockOnly) {
  SequentialDetector detector(Options(), 1ull << 40, 1 * kMiB);
  for (uint64_t offset = 0; offset < 10 * kMiB; offset += 128 * kKiB) {
    detector.OnRead(offset, 128 * kKiB);
  }
  // Position 10 MiB, window 8 MiB -> up to 18 MiB; 1 MiB behind kept.
  EXPECT_FALSE(detector.Retains(8 * kMiB, 9 * kMiB));
  EXPECT_TRUE(detector.Retains(9 * kMiB, 10 * kMiB));
  EXPECT_TRUE(detector.Retains(10 * kMiB, 11 * kMiB));
  EXPECT_TRUE(detector.Retains(17 * kMiB, 18 * kMiB));
  EXPECT_FALSE(detector.Retains(18 * kMiB, 19 * kMiB));
}

TEST(SequentialDetectorTest, TrailsCoversRecentBytesOfUnfinishedStreams) {
  SequentialDetector detector(Options(), 20 * kMiB, 1 * kMiB);
  for (uint64_t offset = 0; offset < 10 * kMiB; offset += 128 * kKiB) {
    detector.OnRead(offset, 128 * kKiB);
  }
  EXPECT_TRUE(detector.Trails(6 * kMiB, 7 * kMiB));
  EXPECT_FALSE(detector.Trails(5 * kMiB, 6 * kMiB));    // too far behind
  EXPECT_FALSE(detector.Trails(10 * kMiB, 11 * kMiB));  // ahead
  detector.OnRead(10 * kMiB, 10 * kMiB);                // reaches the end
  EXPECT_FALSE(detector.Trails(19 * kMiB, 20 * kMiB));
  EXPECT_FALSE(detector.Retains(19 * kMiB, 20 * kMiB));
}

TEST(SequentialDetectorTest, RangesAreClampedToTheObject) {
  SequentialDetector detector(Options(), 3 * kMiB + 5, 1 * kMiB);
  for (uint64_t offset = 0; offset < 2 * kMiB; offset += 128 * kKiB) {
    detector.OnRead(offset, 128 * kKiB);
  }
  std::vector<ByteRange> ranges = detector.ReadaheadRanges();
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].end, 3 * kMiB + 5);
  detector.OnRead(2 * kMiB, 2 * kMiB);  // to the end
  EXPECT_TRUE(detector.ReadaheadRanges().empty());
}

TEST(MemoryBudgetTest, NeverExceedsTheLimitUnderContention) {
  MemoryBudget budget(10 * kMiB);
  std::atomic<bool> over{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        MemoryReservation r = budget.TryReserve(3 * kMiB);
        if (budget.used() > budget.limit()) over = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(over.load());
  EXPECT_LE(budget.peak(), 10 * kMiB);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudgetTest, ReservationsReturnBytesWhenDestroyedOrMoved) {
  MemoryBudget budget(4 * kMiB);
  MemoryReservation a = budget.TryReserve(3 * kMiB);
  ASSERT_TRUE(a);
  EXPECT_FALSE(budget.TryReserve(2 * kMiB));
  MemoryReservation b = std::move(a);
  EXPECT_EQ(budget.used(), 3 * kMiB);
  b.Reset();
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(budget.TryReserve(4 * kMiB));
  EXPECT_EQ(budget.peak(), 4 * kMiB);
  EXPECT_FALSE(budget.TryReserve(5 * kMiB));
}

}  // namespace
}  // namespace repofs::prefetch
