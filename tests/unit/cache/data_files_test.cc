// DataFiles::Write: page-aligned blocks go to the file with O_DIRECT (no
// page-cache copy of their own), everything else through the buffered fd,
// and the bytes in the file are the same either way.
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <new>

#include "cache/data_files.h"
#include "cache_test_util.h"

namespace repofs::cache {
namespace {

using testing::kKiB;
using testing::Pattern;
using testing::TempDir;

constexpr std::align_val_t kPage{DataFiles::kDirectAlign};

struct AlignedBuffer {
  explicit AlignedBuffer(const std::string& bytes)
      : size(bytes.size()),
        data(static_cast<char*>(::operator new[](bytes.size() + 1, kPage))) {
    bytes.copy(data, bytes.size());
  }
  ~AlignedBuffer() { ::operator delete[](data, kPage); }
  std::string_view view(size_t skip = 0) const {
    return std::string_view(data + skip, size - skip);
  }
  size_t size;
  char* data;
};

std::string FileBytes(const std::string& path) {
  std::string out;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_GE(fd.get(), 0);
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

// Pages of [offset, offset + length) of `path` in the page cache.
size_t ResidentPages(const std::string& path, uint64_t offset,
                     uint64_t length) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd.get(),
                     static_cast<off_t>(offset));
  EXPECT_NE(map, MAP_FAILED);
  std::vector<unsigned char> in_core(length / 4096);
  EXPECT_EQ(::mincore(map, length, in_core.data()), 0);
  ::munmap(map, length);
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

class DataFilesTest : public ::testing::Test {
 protected:
  DataFilesTest() : files_(dir_.path() + "/data", 8) {
    EXPECT_EQ(::mkdir((dir_.path() + "/data").c_str(), 0700), 0);
  }
  bool OnTmpfs() const {
    struct statfs st {};
    return ::statfs(dir_.path().c_str(), &st) == 0 &&
           st.f_type == TMPFS_MAGIC;
  }
  TempDir dir_;
  DataFiles files_;
  const VersionId id_ = VersionId::Of("k", "\"etag\"");
};

TEST_F(DataFilesTest, AlignedBlockIsWrittenDirectAndReadsBack) {
  const std::string block = Pattern(256 * kKiB, 1);
  AlignedBuffer buf(block);
  Result<SharedFd> fd = files_.Open(id_, true);
  ASSERT_TRUE(fd.has_value());
  const uint64_t at = 512 * kKiB;
  ASSERT_TRUE(files_.Write(id_, (*fd)->get(), buf.view(), at));
  EXPECT_TRUE(files_.direct_writes());
  const std::string path = files_.PathOf(id_);
  EXPECT_EQ(FileBytes(path).substr(at), block);
  EXPECT_EQ(FileBytes(path).substr(0, at), std::string(at, '\0'));
  if (OnTmpfs()) {
    GTEST_LOG_(INFO) << "tmpfs: O_DIRECT keeps the pages, residency not "
                        "checked";
    return;
  }
  // FileBytes read it back since: write again, then look before reading.
  const VersionId other = VersionId::Of("k2", "\"etag\"");
  Result<SharedFd> fd2 = files_.Open(other, true);
  ASSERT_TRUE(fd2.has_value());
  ASSERT_TRUE(files_.Write(other, (*fd2)->get(), buf.view(), 0));
  EXPECT_EQ(ResidentPages(files_.PathOf(other), 0, block.size()), 0u)
      << "a direct write leaves no page-cache copy";
}

TEST_F(DataFilesTest, UnalignedMemoryAndPartialTailAreExact) {
  Result<SharedFd> fd = files_.Open(id_, true);
  ASSERT_TRUE(fd.has_value());
  // The last block of an object: whole pages direct, the tail buffered.
  const std::string tail_block = Pattern(64 * kKiB + 123, 2);
  AlignedBuffer aligned(tail_block);
  ASSERT_TRUE(files_.Write(id_, (*fd)->get(), aligned.view(), 0));
  // Not page-aligned in memory: all buffered.
  const std::string shifted = "x" + Pattern(16 * kKiB, 3);
  AlignedBuffer unaligned(shifted);
  ASSERT_TRUE(
      files_.Write(id_, (*fd)->get(), unaligned.view(1), 128 * kKiB));
  const std::string bytes = FileBytes(files_.PathOf(id_));
  ASSERT_EQ(bytes.size(), 128 * kKiB + 16 * kKiB);
  EXPECT_EQ(bytes.substr(0, tail_block.size()), tail_block);
  EXPECT_EQ(bytes.substr(128 * kKiB), shifted.substr(1));
}

}  // namespace
}  // namespace repofs::cache
