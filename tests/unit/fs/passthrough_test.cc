// FUSE passthrough decisions in fs/ (PassthroughInodes through
// Filesystem::Open/Release), with a fake kernel side: which opens get a
// backing id, when backings are registered and closed, and writers of an
// inode the kernel reads through passthrough (ESTALE, then a new inode).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "cache/block_cache.h"
#include "fs/passthrough_inodes.h"
#include "fs_test_support.h"
#include "prefetch/cached_chunk_source.h"

namespace repofs::fs::test {
namespace {

class FakeBackings final : public PassthroughBackings {
 public:
  bool enabled() const override { return enabled_; }
  std::optional<int32_t> Open(int fd) override {
    if (fail_) return std::nullopt;
    EXPECT_GE(fcntl(fd, F_GETFD), 0) << "not an open fd";
    open_.insert(next_);
    ++opened_;
    return next_++;
  }
  void Close(int32_t id) override {
    EXPECT_EQ(open_.erase(id), 1u) << "closed twice or unknown: " << id;
  }
  bool enabled_ = true;
  bool fail_ = false;
  int32_t next_ = 1;
  int opened_ = 0;
  std::set<int32_t> open_;
};

class PassthroughTest : public FsTest {
 protected:
  PassthroughTest() {
    char tmpl[] = "/tmp/repofs-pt-XXXXXX";
    dir_ = mkdtemp(tmpl);
    cache::CacheOptions options;
    options.dir = dir_ + "/cache";
    options.block_size = 64 * 1024;
    options.min_free_bytes = 0;
    options.initial_map_bytes = 4 << 20;
    options_.passthrough_min_size = 0;  // small files keep the tests quick
    auto opened = cache::BlockCache::Open(options);
    EXPECT_TRUE(opened.has_value());
    cache_ = std::move(opened.value());
    source_ = std::make_shared<prefetch::CachedChunkSource>(
        cache_, std::make_shared<prefetch::S3ChunkSource>(fake_, nullptr));
    fs_ = std::make_unique<Filesystem>(fake_, options_, clock_, nullptr, 4,
                                       source_);
    fs_->SetPassthroughBackings(&backings_);
  }
  ~PassthroughTest() override {
    fs_.reset();
    source_.reset();
    cache_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::shared_ptr<cache::BlockCache> cache_;
  std::shared_ptr<prefetch::CachedChunkSource> source_;
  FakeBackings backings_;
};

TEST_F(PassthroughTest, AWholeCheckedVersionIsOpenedThroughItsBacking) {
  const std::string body(200 * 1024 + 9, 'p');
  Put("f.bin", body);
  const Ino ino = InoOf("f.bin");
  // Not cached yet: a plain open (the reads fill the cache).
  ASSERT_EQ(ReadFile(ino).value(), body);
  // Cached, but the inserted blocks are unchecked: still plain; these
  // reads check every block.
  ASSERT_EQ(ReadFile(ino).value(), body);
  EXPECT_EQ(backings_.opened_, 0);
  Result<OpenReply> a = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(a->backing_id.has_value());
  EXPECT_FALSE(a->keep_cache);
  // A second reader joins the same backing; no new registration.
  Result<OpenReply> b = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->backing_id, a->backing_id);
  EXPECT_EQ(backings_.opened_, 1);
  EXPECT_EQ(fs_->passthrough_inodes(), 1u);
  fs_->Release(a->fh);
  EXPECT_EQ(backings_.open_.size(), 1u);  // b still reads through it
  fs_->Release(b->fh);
  EXPECT_TRUE(backings_.open_.empty());
  EXPECT_EQ(fs_->passthrough_inodes(), 0u);
  const uint64_t gets = Count("GetObject");
  ASSERT_EQ(ReadFile(ino).value(), body);  // plain reads still hit the cache
  EXPECT_EQ(Count("GetObject"), gets);
}

TEST_F(PassthroughTest, NoBackingWhilePageCachedHandlesAreOpen) {
  const std::string body(70 * 1024, 'q');
  Put("g.bin", body);
  const Ino ino = InoOf("g.bin");
  ASSERT_EQ(ReadFile(ino).value(), body);
  ASSERT_EQ(ReadFile(ino).value(), body);
  backings_.enabled_ = false;
  Result<OpenReply> plain = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->backing_id.has_value());
  backings_.enabled_ = true;
  // The kernel would refuse passthrough next to a page-cached open.
  Result<OpenReply> second = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->backing_id.has_value());
  fs_->Release(plain->fh);
  fs_->Release(second->fh);
  Result<OpenReply> alone = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(alone.has_value());
  EXPECT_TRUE(alone->backing_id.has_value());
  fs_->Release(alone->fh);
}

// Small files are not worth it (passthrough_min_size): the page cache
// serves them, and a passthrough open would cost a GETATTR per request.
TEST_F(PassthroughTest, FilesBelowTheMinimumSizeArePlainOpens) {
  options_.passthrough_min_size = 256 * 1024;
  fs_ = std::make_unique<Filesystem>(fake_, options_, clock_, nullptr, 4,
                                     source_);
  fs_->SetPassthroughBackings(&backings_);
  Put("small.bin", std::string(256 * 1024 - 1, 's'));
  Put("big.bin", std::string(256 * 1024, 'b'));
  for (const char* name : {"small.bin", "big.bin"}) {
    const Ino ino = InoOf(name);
    ASSERT_TRUE(ReadFile(ino).has_value());  // fills the cache
    ASSERT_TRUE(ReadFile(ino).has_value());  // checks its blocks
    Result<OpenReply> open = fs_->Open(ino, O_RDONLY);
    ASSERT_TRUE(open.has_value());
    EXPECT_EQ(open->backing_id.has_value(), std::string(name) == "big.bin")
        << name;
    fs_->Release(open->fh);
  }
}

TEST_F(PassthroughTest, AFailingRegistrationIsAPlainOpen) {
  Put("h.bin", std::string(1000, 'h'));
  const Ino ino = InoOf("h.bin");
  ASSERT_TRUE(ReadFile(ino).has_value());
  ASSERT_TRUE(ReadFile(ino).has_value());
  backings_.fail_ = true;
  Result<OpenReply> open = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(open.has_value());
  EXPECT_FALSE(open->backing_id.has_value());
  EXPECT_TRUE(open->keep_cache);
  fs_->Release(open->fh);
}

TEST_F(PassthroughTest, AWriterOfAPassthroughInodeGetsANewInode) {
  const std::string body(100 * 1024, 'o');
  Put("w.bin", body);
  const Ino ino = InoOf("w.bin");
  ASSERT_EQ(ReadFile(ino).value(), body);
  ASSERT_EQ(ReadFile(ino).value(), body);
  Result<OpenReply> reader = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(reader.has_value() && reader->backing_id.has_value());
  // The kernel would refuse the writer's open of this inode (EIO): ESTALE
  // sends it back to lookup, which finds the same version on a new inode.
  Result<OpenReply> refused = fs_->Open(ino, O_WRONLY | O_TRUNC);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().errno_value, ESTALE);
  const Ino fresh = InoOf("w.bin");
  ASSERT_NE(fresh, ino);
  // A reader of the new inode before the writer's retry starts no backing
  // there (write intent): the retry must not meet one.
  Result<OpenReply> racing = fs_->Open(fresh, O_RDONLY);
  ASSERT_TRUE(racing.has_value());
  EXPECT_FALSE(racing->backing_id.has_value());
  Result<OpenReply> writer = fs_->Open(fresh, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  EXPECT_FALSE(writer->backing_id.has_value());
  const std::string next = "new content";
  ASSERT_EQ(fs_->Write(writer->fh, 0, next).value(), next.size());
  ASSERT_TRUE(fs_->Flush(writer->fh).has_value());
  fs_->Release(writer->fh);
  fs_->Release(racing->fh);
  EXPECT_EQ(ReadFile(InoOf("w.bin")).value(), next);
  // The passthrough reader kept its inode and backing throughout.
  EXPECT_EQ(backings_.open_.size(), 1u);
  fs_->Release(reader->fh);
  EXPECT_TRUE(backings_.open_.empty());
}

// A READ of a range the handle's reader is streaming goes to the reader
// (its bytes are in memory, and it must see the read to keep its window
// ahead), not to the block cache; a handle without a reader reads the cache.
TEST_F(PassthroughTest, CachedCopyDefersToAStreamingReader) {
  const std::string body(2 * 1024 * 1024, 'r');
  Put("s.bin", body);
  const Ino ino = InoOf("s.bin");
  ASSERT_EQ(ReadFile(ino).value(), body);  // fills the cache
  Result<OpenReply> streaming = fs_->Open(ino, O_RDONLY);
  Result<OpenReply> fresh = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(streaming.has_value() && fresh.has_value());
  std::vector<char> buf(64 * 1024);
  ASSERT_EQ(fs_->Read(streaming->fh, 0, buf.size(), buf.data()).value(),
            buf.size());
  EXPECT_FALSE(
      fs_->CachedCopy(streaming->fh, ino, buf.size(), buf.size(), buf.data()));
  std::optional<size_t> copied =
      fs_->CachedCopy(fresh->fh, ino, buf.size(), buf.size(), buf.data());
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(std::string(buf.data(), *copied), body.substr(0, *copied));
  fs_->Release(streaming->fh);
  fs_->Release(fresh->fh);
}

}  // namespace
}  // namespace repofs::fs::test
