// Helpers for the block cache tests: a temporary cache dir and
// deterministic block contents.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "cache/block_cache.h"
#include "cache/version_id.h"

namespace repofs::cache::testing {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "repofs-cache-XXXXXX")
            .string();
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string cache_dir() const { return path_ + "/cache"; }

 private:
  std::string path_;
};

// `length` bytes that depend on (seed, position): a mixed-up block or
// version shows up as a content mismatch.
inline std::string Pattern(uint64_t length, uint64_t seed) {
  std::string out(length, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (uint64_t i = 0; i < length; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

inline CacheOptions SmallOptions(const std::string& dir) {
  CacheOptions options;
  options.dir = dir;
  options.block_size = 64 * kKiB;
  options.max_bytes = 64 * kMiB;
  options.min_free_bytes = 0;
  options.initial_map_bytes = 4 * kMiB;
  return options;
}

inline std::unique_ptr<BlockCache> MustOpen(const CacheOptions& options) {
  auto cache = BlockCache::Open(options);
  EXPECT_TRUE(cache.has_value())
      << (cache.has_value() ? "" : cache.error().message);
  return cache.has_value() ? std::move(*cache) : nullptr;
}

// Bytes of a block-aligned range of an object of `size` bytes whose
// content is Pattern(size, seed).
struct TestObject {
  std::string key;
  std::string etag;
  std::string body;
  VersionRef ref() const { return VersionRef{key, etag, body.size()}; }
  std::string Block(uint64_t block_no, uint64_t block_size) const {
    uint64_t start = block_no * block_size;
    return body.substr(start, std::min(block_size, body.size() - start));
  }
};

inline TestObject MakeObject(const std::string& key, uint64_t size,
                             uint64_t seed) {
  return TestObject{key, "etag-" + std::to_string(seed), Pattern(size, seed)};
}

inline std::string DataPath(const std::string& cache_dir, const TestObject& obj) {
  std::string hex = VersionId::Of(obj.key, obj.etag).Hex();
  return cache_dir + "/data/" + hex.substr(0, 2) + "/" + hex;
}

inline std::string ReadRef(const BlockRef& ref) {
  std::string out(ref.length, '\0');
  EXPECT_EQ(pread(ref.raw_fd(), out.data(), out.size(),
                  static_cast<off_t>(ref.file_offset)),
            static_cast<ssize_t>(ref.length));
  return out;
}

inline void InsertAll(BlockCache& cache, const TestObject& obj) {
  uint64_t b = cache.block_size();
  for (uint64_t n = 0; n * b < obj.body.size(); ++n)
    cache.Insert(obj.ref(), n, obj.Block(n, b));
}

inline void FlipByte(const std::string& path, off_t offset) {
  int fd = open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  char c = 0;
  ASSERT_EQ(pread(fd, &c, 1, offset), 1);
  c = static_cast<char>(c ^ 0x20);
  ASSERT_EQ(pwrite(fd, &c, 1, offset), 1);
  close(fd);
}

}  // namespace repofs::cache::testing
