// CachedChunkSource over FakeObjectClient: a second read makes zero GETs
// (also after reopening the cache), a changed ETag misses, a run of missing
// blocks is one GET, unaligned ranges still fill whole blocks, a bad block
// is refetched, and ObjectReader reads through it unchanged.
#include "prefetch/cached_chunk_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "cache/version_id.h"
#include "cache_test_util.h"
#include "prefetch/object_reader.h"
#include "prefetch/readahead_context.h"
#include "s3/fake_object_client.h"

namespace repofs::prefetch {
namespace {

using cache::testing::kKiB;
using cache::testing::kMiB;
using cache::testing::MustOpen;
using cache::testing::Pattern;
using cache::testing::SmallOptions;
using cache::testing::TempDir;

constexpr uint64_t kBlock = 64 * kKiB;

class CachedChunkSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_shared<FakeObjectClient>();
    Reopen();
  }

  void Reopen() {
    source_.reset();
    cache_.reset();
    cache_ = std::shared_ptr<cache::BlockCache>(
        MustOpen(SmallOptions(tmp_.cache_dir())).release());
    auto s3 = std::make_shared<S3ChunkSource>(fake_, nullptr);
    source_ = std::make_shared<CachedChunkSource>(cache_, s3);
  }

  ObjectVersion Put(const std::string& key, const std::string& body) {
    WriteResult written = fake_->PutForTest(key, body);
    return ObjectVersion{key, written.etag, body.size()};
  }

  uint64_t Gets() const {
    auto counts = fake_->RequestCounts();
    auto it = counts.find("GetObject");
    return it == counts.end() ? 0 : it->second;
  }

  // Fetches through the cached source; "<error>..." on failure.
  std::string Read(const ObjectVersion& v, uint64_t offset, uint64_t length) {
    std::string out;
    Status s = source_->Fetch(v, offset, length, [&](std::string_view bytes) {
      out.append(bytes);
      return true;
    });
    if (!s) return "<error>" + s.error().message;
    return out;
  }

  // All of `v` read through an ObjectReader over `source` in `chunk`-byte
  // calls, with a fresh context (as a new mount has); "<error>..." on failure.
  std::string ReadWithReader(const std::shared_ptr<ChunkSource>& source,
                             const std::shared_ptr<ReadaheadCounters>& counters,
                             const ReadaheadOptions& options,
                             const ObjectVersion& v, size_t chunk) {
    ReadaheadContext context(source, counters, options, 2);
    ObjectReader reader(context, v);
    std::string out(v.size, '\0');
    for (uint64_t done = 0; done < v.size;) {
      size_t len = std::min<uint64_t>(chunk, v.size - done);
      Result<size_t> got = reader.Read(done, len, out.data() + done);
      if (!got.has_value()) return "<error>" + got.error().message;
      if (*got == 0) return "<error>no progress at " + std::to_string(done);
      done += *got;
    }
    return out;
  }

  TempDir tmp_;
  std::shared_ptr<FakeObjectClient> fake_;
  std::shared_ptr<cache::BlockCache> cache_;
  std::shared_ptr<CachedChunkSource> source_;
};

TEST_F(CachedChunkSourceTest, SecondReadMakesNoRequest) {
  std::string body = Pattern(5 * kBlock + 123, 1);
  ObjectVersion v = Put("a/b", body);
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 1u);  // one GET for the whole miss run
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Read(v, kBlock + 5, 2 * kBlock),
            body.substr(kBlock + 5, 2 * kBlock));
  EXPECT_EQ(Gets(), 1u);
  EXPECT_EQ(source_->counters().upstream_fetches.load(), 1u);
  EXPECT_EQ(source_->counters().block_misses.load(), 6u);
  EXPECT_GE(source_->counters().block_hits.load(), 6u);
  // After a "remount" (the cache reopened), still no request.
  Reopen();
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 1u);
}

TEST_F(CachedChunkSourceTest, ChangedEtagMissesAndOldVersionStaysIntact) {
  std::string old_body = Pattern(3 * kBlock, 2);
  ObjectVersion old_v = Put("k", old_body);
  EXPECT_EQ(Read(old_v, 0, old_body.size()), old_body);
  std::string new_body = Pattern(3 * kBlock, 3);
  ObjectVersion new_v = Put("k", new_body);
  ASSERT_NE(old_v.etag, new_v.etag);
  EXPECT_EQ(Read(new_v, 0, new_body.size()), new_body);
  EXPECT_EQ(Gets(), 2u);
  // The pinned old version is still served from its own blocks.
  EXPECT_EQ(Read(old_v, 0, old_body.size()), old_body);
  EXPECT_EQ(Read(new_v, 0, new_body.size()), new_body);
  EXPECT_EQ(Gets(), 2u);
}

TEST_F(CachedChunkSourceTest, EachRunOfMissingBlocksIsOneGet) {
  std::string body = Pattern(8 * kBlock, 4);
  ObjectVersion v = Put("runs", body);
  // Cache blocks 0 and 5 only.
  EXPECT_EQ(Read(v, 0, kBlock), body.substr(0, kBlock));
  EXPECT_EQ(Read(v, 5 * kBlock, kBlock), body.substr(5 * kBlock, kBlock));
  ASSERT_EQ(Gets(), 2u);
  // Blocks 1-4 and 6-7 are missing: two GETs, not six.
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 4u);
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 4u);
}

TEST_F(CachedChunkSourceTest, LargeMissIsOneGet) {
  std::string body = Pattern(64 * kBlock, 5);  // 4 MiB, 64 blocks
  ObjectVersion v = Put("big", body);
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 1u);
  EXPECT_EQ(cache_->Stats().blocks, 64u);
}

TEST_F(CachedChunkSourceTest, UnalignedRangeFillsWholeBlocks) {
  std::string body = Pattern(4 * kBlock + 10, 6);
  ObjectVersion v = Put("u", body);
  EXPECT_EQ(Read(v, 100, 2 * kBlock), body.substr(100, 2 * kBlock));
  EXPECT_EQ(Gets(), 1u);
  // The GET was widened to blocks 0-2, all cached now.
  EXPECT_EQ(Read(v, 0, 3 * kBlock), body.substr(0, 3 * kBlock));
  EXPECT_EQ(Gets(), 1u);
  // The short last block is cached too.
  EXPECT_EQ(Read(v, 4 * kBlock + 3, 7), body.substr(4 * kBlock + 3, 7));
  EXPECT_EQ(Read(v, 3 * kBlock, kBlock + 10), body.substr(3 * kBlock));
  EXPECT_EQ(Gets(), 3u);
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 3u);
}

TEST_F(CachedChunkSourceTest, BadCachedBlockIsRefetched) {
  std::string body = Pattern(3 * kBlock, 7);
  ObjectVersion v = Put("bad", body);
  EXPECT_EQ(Read(v, 0, body.size()), body);
  source_.reset();
  cache_.reset();
  std::string hex = cache::VersionId::Of(v.key, v.etag).Hex();
  std::string path = tmp_.cache_dir() + "/data/" + hex.substr(0, 2) + "/" + hex;
  int fd = open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "XYZ", 3, kBlock + 9), 3);
  close(fd);
  Reopen();
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 2u);  // block 1 only
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), 2u);
}

TEST_F(CachedChunkSourceTest, GoneVersionFailsButKeepsNothingWrong) {
  std::string body = Pattern(3 * kBlock, 8);
  ObjectVersion v = Put("gone", body);
  ObjectVersion replaced = Put("gone", Pattern(3 * kBlock, 9));
  (void)replaced;
  std::string got = Read(v, 0, body.size());
  EXPECT_EQ(got.rfind("<error>", 0), 0u) << got.substr(0, 40);
  EXPECT_EQ(cache_->Stats().blocks, 0u);
}

TEST_F(CachedChunkSourceTest, LookupRangeForZeroCopy) {
  std::string body = Pattern(3 * kBlock, 10);
  ObjectVersion v = Put("z", body);
  EXPECT_FALSE(source_->LookupRange(v, 0, kBlock).has_value());
  EXPECT_EQ(Read(v, 0, body.size()), body);
  auto ref = source_->LookupRange(v, 10, 2 * kBlock);
  ASSERT_TRUE(ref.has_value());
  std::string copy(ref->length, '\0');
  ASSERT_EQ(pread(ref->raw_fd(), copy.data(), copy.size(),
                  static_cast<off_t>(ref->file_offset)),
            static_cast<ssize_t>(copy.size()));
  EXPECT_EQ(copy, body.substr(10, 2 * kBlock));
}

TEST_F(CachedChunkSourceTest, ObjectReaderThroughTheCacheRereadsWithoutGets) {
  std::string body = Pattern(3 * kMiB + 17, 11);
  ObjectVersion v = Put("reader", body);
  auto counters = std::make_shared<ReadaheadCounters>();
  auto s3 = std::make_shared<S3ChunkSource>(fake_, counters);
  auto cached = std::make_shared<CachedChunkSource>(cache_, s3);
  ReadaheadOptions options;
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(ReadWithReader(cached, counters, options, v, 128 * kKiB), body);
    if (pass == 0) {
      EXPECT_GT(Gets(), 0u);
    }
  }
  uint64_t after_first = counters->get_requests.load();
  EXPECT_EQ(Gets(), after_first);  // the second pass added none
}

// Keeping callers (ObjectReader with blocks the size of the cache's): the
// source passes the bytes on and stores the caller's blocks via Keep.
TEST_F(CachedChunkSourceTest, FetchForKeepLeavesTheInsertToKeep) {
  std::string body = Pattern(3 * kBlock + 5, 21);
  ObjectVersion v = Put("keep", body);
  const cache::VersionRef ref{v.key, v.etag, v.size};
  ASSERT_EQ(source_->KeptBlockSize(), kBlock);
  std::string out;
  ASSERT_TRUE(source_->FetchForKeep(v, 0, body.size(), [&](std::string_view b) {
    out.append(b);
    return true;
  }));
  EXPECT_EQ(out, body);
  EXPECT_FALSE(cache_->Contains(ref, 0));  // not assembled by the source
  for (uint64_t n = 0; n < 4; ++n) {
    std::string_view block = std::string_view(body).substr(n * kBlock, kBlock);
    source_->Keep(v, n * kBlock, block);
  }
  source_->Keep(v, 7, "x");  // unaligned: ignored
  for (uint64_t n = 0; n < 4; ++n) EXPECT_TRUE(cache_->Contains(ref, n));
  const uint64_t gets = Gets();
  EXPECT_EQ(Read(v, 0, body.size()), body);
  EXPECT_EQ(Gets(), gets);  // all kept
}

TEST_F(CachedChunkSourceTest, UnalignedFetchForKeepStillInserts) {
  std::string body = Pattern(2 * kBlock, 22);
  ObjectVersion v = Put("keep2", body);
  std::string out;
  ASSERT_TRUE(source_->FetchForKeep(v, 10, kBlock, [&](std::string_view b) {
    out.append(b);
    return true;
  }));
  EXPECT_EQ(out, body.substr(10, kBlock));
  const cache::VersionRef ref{v.key, v.etag, v.size};
  EXPECT_TRUE(cache_->Contains(ref, 0));
  EXPECT_TRUE(cache_->Contains(ref, 1));
}

TEST_F(CachedChunkSourceTest, ReaderWithCacheSizedBlocksKeepsThem) {
  std::string body = Pattern(20 * kBlock + 99, 23);
  ObjectVersion v = Put("kept-by-reader", body);
  auto counters = std::make_shared<ReadaheadCounters>();
  auto s3 = std::make_shared<S3ChunkSource>(fake_, counters);
  auto cached = std::make_shared<CachedChunkSource>(cache_, s3);
  ReadaheadOptions options;
  options.request_size = kBlock;  // reader blocks == cache blocks
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(ReadWithReader(cached, counters, options, v, 48 * kKiB), body);
  }
  EXPECT_EQ(cache_->Stats().blocks, 21u);
  // The second pass was served from the kept blocks.
  EXPECT_EQ(cached->counters().block_misses, 21u);
  EXPECT_EQ(Gets(), counters->get_requests.load());
}

}  // namespace
}  // namespace repofs::prefetch
