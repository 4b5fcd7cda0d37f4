// ReadInode: reads without a file handle (the kernel's no-open mode on
// read-only mounts) through one shared reader per inode: byte-exact,
// concurrent, bounded by an LRU, released by FORGET, pinned to the inode's
// version (EIO once it is gone, never bytes of two versions), and never
// revalidated per read.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "fs_test_support.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

std::string Pattern(size_t size, int seed = 0) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>('a' + (i * 7 + i / 4096 + seed) % 26);
  }
  return s;
}

class InodeReadTest : public FsTest {
 protected:
  // The whole file through ReadInode in `chunk`-sized reads.
  Result<std::string> ReadAllByInode(Ino ino, size_t chunk) {
    std::string out;
    std::vector<char> buf(chunk);
    for (int guard = 0; guard < 1'000'000; ++guard) {
      Result<size_t> n = fs_->ReadInode(ino, out.size(), chunk, buf.data());
      if (!n.has_value()) return n.error();
      if (*n == 0) break;
      out.append(buf.data(), *n);
    }
    return out;
  }
};

TEST_F(InodeReadTest, ByteExactUpToEofWithOneReaderAndNoHandle) {
  const std::string big = Pattern(3 * 1024 * 1024 + 17);
  Put("big.bin", big);
  Put("small", "hello");
  Put("empty", "");
  Mount();
  const Ino b = InoOf("big.bin");
  EXPECT_EQ(ReadAllByInode(b, 128 * 1024).value(), big);
  EXPECT_EQ(ReadAllByInode(b, 4096).value(), big);
  EXPECT_EQ(ReadAllByInode(b, 1000003).value(), big);
  EXPECT_EQ(ReadAllByInode(InoOf("empty"), 4096).value(), "");
  const Ino s = InoOf("small");
  char buf[64];
  EXPECT_EQ(fs_->ReadInode(s, 0, sizeof(buf), buf).value(), 5u);
  EXPECT_EQ(fs_->ReadInode(s, 3, sizeof(buf), buf).value(), 2u);
  EXPECT_EQ(std::string(buf, 2), "lo");
  EXPECT_EQ(fs_->ReadInode(s, 5, sizeof(buf), buf).value(), 0u);
  EXPECT_EQ(fs_->ReadInode(s, 500, sizeof(buf), buf).value(), 0u);
  EXPECT_EQ(fs_->ReadInode(s, 0, 0, buf).value(), 0u);
  EXPECT_EQ(fs_->OpenFileCount(), 0u) << "no handle involved";
  EXPECT_TRUE(fs_->HasInodeReader(b));
  EXPECT_TRUE(fs_->HasInodeReader(s));
}

TEST_F(InodeReadTest, ErrorsForDirectoriesAndUnknownInodes) {
  Put("d/f", "x");
  Mount();
  char buf[8];
  EXPECT_EQ(fs_->ReadInode(InoOf("d"), 0, 8, buf).error().errno_value, EISDIR);
  EXPECT_EQ(fs_->ReadInode(kRootIno, 0, 8, buf).error().errno_value, EISDIR);
  EXPECT_EQ(fs_->ReadInode(987654, 0, 8, buf).error().errno_value, ENOENT);
  EXPECT_EQ(fs_->InodeReaderCount(), 0u) << "failures leave no reader";
}

// The hot path: no HEAD (no revalidation), even long after the TTL; only
// the GETs of the bytes themselves.
TEST_F(InodeReadTest, NoRevalidationPerRead) {
  Put("f", Pattern(64 * 1024));
  Mount();
  const Ino f = InoOf("f");
  fake_->ResetRequestCounts();
  std::vector<char> buf(4096);
  ASSERT_EQ(fs_->ReadInode(f, 0, buf.size(), buf.data()).value(), 4096u);
  clock_.Advance(seconds(3600));
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(fs_->ReadInode(f, 4096 * i, buf.size(), buf.data()).value(),
              4096u);
  }
  EXPECT_EQ(Count("HeadObject"), 0u);
  EXPECT_EQ(Count("ListObjects"), 0u);
  EXPECT_EQ(TotalRequests(), Count("GetObject"));
}

TEST_F(InodeReadTest, ConcurrentReadersOfOneInodeShareOneReader) {
  const std::string big = Pattern(4 * 1024 * 1024 + 5, 3);
  Put("big.bin", big);
  Mount();
  const Ino b = InoOf("big.bin");
  constexpr int kThreads = 8;
  std::atomic<int> exact{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Different chunk sizes and start points: sequential streams at
      // different offsets, as several nginx workers would produce.
      const size_t chunk = 4096 * (1 + t * 13);
      const size_t start = (big.size() / kThreads) * t;
      std::string got(big.size(), '\0');
      bool ok = true;
      for (size_t pass = 0; pass < 2 && ok; ++pass) {
        size_t from = pass == 0 ? start : 0, to = pass == 0 ? big.size() : start;
        for (size_t off = from; off < to && ok;) {
          size_t n = std::min(chunk, to - off);
          Result<size_t> r = fs_->ReadInode(b, off, n, got.data() + off);
          ok = r.has_value() && *r == n;
          off += n;
        }
      }
      if (ok && got == big) exact.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(exact.load(), kThreads);
  EXPECT_EQ(fs_->InodeReaderCount(), 1u);
}

TEST_F(InodeReadTest, LruEvictsTheLeastRecentlyReadInode) {
  const size_t limit = Filesystem::kInodeReaderLimit;
  ASSERT_EQ(limit, 256u);
  for (size_t i = 0; i < limit + 2; ++i) {
    Put("f" + std::to_string(i), "body " + std::to_string(i));
  }
  Mount();
  std::vector<Ino> inos;
  for (size_t i = 0; i < limit + 2; ++i) {
    inos.push_back(InoOf("f" + std::to_string(i)));
  }
  char buf[32];
  auto read = [&](size_t i) {
    Result<size_t> n = fs_->ReadInode(inos[i], 0, sizeof(buf), buf);
    ASSERT_TRUE(n.has_value()) << n.error().message;
    EXPECT_EQ(std::string(buf, *n), "body " + std::to_string(i));
  };
  for (size_t i = 0; i < limit; ++i) read(i);
  EXPECT_EQ(fs_->InodeReaderCount(), limit);
  read(0);  // f0 is now the most recently used; f1 the least
  read(limit);
  EXPECT_EQ(fs_->InodeReaderCount(), limit);
  EXPECT_TRUE(fs_->HasInodeReader(inos[0]));
  EXPECT_FALSE(fs_->HasInodeReader(inos[1])) << "least recently read";
  EXPECT_TRUE(fs_->HasInodeReader(inos[limit]));
  read(limit + 1);
  EXPECT_FALSE(fs_->HasInodeReader(inos[2]));
  // An evicted inode reads again (a new reader) and evicts the next one.
  read(1);
  EXPECT_TRUE(fs_->HasInodeReader(inos[1]));
  EXPECT_FALSE(fs_->HasInodeReader(inos[3]));
  EXPECT_EQ(fs_->InodeReaderCount(), limit);
}

// Eviction while other threads read: every read still returns its bytes
// (a reader lives until its last Read returns).
TEST_F(InodeReadTest, EvictionDuringConcurrentReadsIsSafe) {
  const size_t files = Filesystem::kInodeReaderLimit + 64;
  for (size_t i = 0; i < files; ++i) {
    Put("f" + std::to_string(i), Pattern(8192, static_cast<int>(i)));
  }
  Mount();
  std::vector<Ino> inos;
  for (size_t i = 0; i < files; ++i) {
    inos.push_back(InoOf("f" + std::to_string(i)));
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<char> buf(8192);
      for (size_t k = 0; k < 2 * files; ++k) {
        size_t i = (k * 7 + t * 97) % files;
        Result<size_t> n = fs_->ReadInode(inos[i], 0, buf.size(), buf.data());
        if (!n.has_value() || *n != buf.size() ||
            std::string(buf.data(), *n) != Pattern(8192, static_cast<int>(i))) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LE(fs_->InodeReaderCount(), Filesystem::kInodeReaderLimit);
}

TEST_F(InodeReadTest, ForgetReleasesTheReader) {
  Put("f", "data");
  Mount();
  const Ino f = InoOf("f");
  ASSERT_EQ(InoOf("f"), f);  // two kernel references
  ASSERT_EQ(fs_->LookupCount(f), 2u);
  char buf[8];
  ASSERT_EQ(fs_->ReadInode(f, 0, sizeof(buf), buf).value(), 4u);
  EXPECT_TRUE(fs_->HasInodeReader(f));
  fs_->Forget(f, 1);
  EXPECT_TRUE(fs_->HasInodeReader(f)) << "the kernel still knows it";
  fs_->Forget(f, 1);
  EXPECT_FALSE(fs_->HasInodeReader(f));
  EXPECT_EQ(fs_->InodeReaderCount(), 0u);
  // A new lookup gives a fresh reference; reading works again.
  const Ino again = InoOf("f");
  EXPECT_EQ(fs_->ReadInode(again, 0, sizeof(buf), buf).value(), 4u);
  EXPECT_EQ(std::string(buf, 4), "data");
}

// The object was replaced after the lookup: the inode's version is gone.
TEST_F(InodeReadTest, StaleVersionFailsWithEioBeforeTheFirstRead) {
  const std::string v1 = Pattern(4 * 1024 * 1024, 1);
  Put("f", v1);
  Mount();
  const Ino f = InoOf("f");
  Put("f", Pattern(v1.size(), 2));  // same size, other bytes
  std::vector<char> buf(128 * 1024);
  Result<size_t> n = fs_->ReadInode(f, 0, buf.size(), buf.data());
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().errno_value, EIO);
  // After the TTL a lookup finds the new version under a new inode.
  clock_.Advance(seconds(31));
  const Ino g = InoOf("f");
  EXPECT_NE(g, f);
  EXPECT_EQ(ReadAllByInode(g, 1 << 20).value(), Pattern(v1.size(), 2));
  EXPECT_FALSE(fs_->ReadInode(f, 0, buf.size(), buf.data()).has_value());
}

// Replaced in the middle of reading: every later read returns the old
// version's bytes (if already buffered) or EIO; never the new bytes.
TEST_F(InodeReadTest, StaleVersionMidReadNeverMixesVersions) {
  const std::string v1 = Pattern(8 * 1024 * 1024, 1);
  const std::string v2 = Pattern(v1.size(), 2);
  Put("f", v1);
  // A short read-ahead window, so most of the file is fetched after the
  // replacement.
  options_.readahead.request_size = 64 * 1024;
  options_.readahead.initial = 128 * 1024;
  options_.readahead.max = 256 * 1024;
  Mount();
  const Ino f = InoOf("f");
  const size_t chunk = 128 * 1024;
  std::vector<char> buf(chunk);
  ASSERT_EQ(fs_->ReadInode(f, 0, chunk, buf.data()).value(), chunk);
  ASSERT_EQ(std::string(buf.data(), chunk), v1.substr(0, chunk));
  Put("f", v2);
  int failed = 0;
  for (size_t off = chunk; off < v1.size(); off += chunk) {
    Result<size_t> n = fs_->ReadInode(f, off, chunk, buf.data());
    if (!n.has_value()) {
      EXPECT_EQ(n.error().errno_value, EIO);
      ++failed;
      continue;
    }
    ASSERT_EQ(*n, chunk);
    ASSERT_EQ(std::string(buf.data(), chunk), v1.substr(off, chunk))
        << "bytes of another version at " << off;
  }
  EXPECT_GT(failed, 0) << "the tail was not buffered: it must fail";
}

}  // namespace
}  // namespace repofs::fs::test
