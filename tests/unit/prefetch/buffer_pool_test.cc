// BufferPool: freed buffers are handed out again (warmest first), at most
// max_free are kept, and idle ones are freed after the idle time.
#include "prefetch/buffer_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace repofs::prefetch {
namespace {

TEST(BufferPoolTest, FreedBufferIsReusedWarmestFirst) {
  BufferPool pool(4096, 4);
  BufferPool::Buffer a = pool.Take();
  BufferPool::Buffer b = pool.Take();
  char* a_data = a.get();
  char* b_data = b.get();
  a.reset();
  b.reset();  // b was freed last: it comes back first
  EXPECT_EQ(pool.free_buffers(), 2u);
  BufferPool::Buffer c = pool.Take();
  BufferPool::Buffer d = pool.Take();
  EXPECT_EQ(c.get(), b_data);
  EXPECT_EQ(d.get(), a_data);
  EXPECT_EQ(pool.allocated(), 2u);
  EXPECT_EQ(pool.reused(), 2u);
  c[4095] = 'x';  // the whole size is usable
  EXPECT_EQ(c[4095], 'x');
}

TEST(BufferPoolTest, KeepsAtMostMaxFree) {
  BufferPool pool(1024, 2);
  std::vector<BufferPool::Buffer> held;
  for (int i = 0; i < 5; ++i) held.push_back(pool.Take());
  held.clear();
  EXPECT_EQ(pool.free_buffers(), 2u);
  for (int i = 0; i < 3; ++i) held.push_back(pool.Take());
  EXPECT_EQ(pool.reused(), 2u);
  EXPECT_EQ(pool.allocated(), 6u);
}

TEST(BufferPoolTest, IdleBuffersAreFreed) {
  BufferPool pool(1024, 8, std::chrono::milliseconds(20));
  { BufferPool::Buffer a = pool.Take(); }
  EXPECT_EQ(pool.free_buffers(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  BufferPool::Buffer b = pool.Take();  // expires the idle one first
  EXPECT_EQ(pool.reused(), 0u);
  EXPECT_EQ(pool.allocated(), 2u);
  EXPECT_EQ(pool.free_buffers(), 0u);
}

TEST(BufferPoolTest, BuffersArePageAligned) {
  // The block cache writes kept blocks with O_DIRECT only from page-aligned
  // memory (cache/data_files.h).
  BufferPool pool(1 << 20, 2);
  BufferPool::Buffer a = pool.Take();
  BufferPool::Buffer b = pool.Take();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.get()) % BufferPool::kAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.get()) % BufferPool::kAlignment, 0u);
  a.reset();
  BufferPool::Buffer again = pool.Take();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(again.get()) % BufferPool::kAlignment,
            0u);
}

TEST(BufferPoolTest, BufferWithoutPoolIsDeleted) {
  BufferPool::Buffer loose(new char[16], BufferPool::Return{nullptr});
  loose.reset();  // no crash, no leak (ASan checks)
  SUCCEED();
}

}  // namespace
}  // namespace repofs::prefetch
