// Open / read / release, TTL expiry, replaced objects (new inode, ESTALE),
// forgetting inodes and refused writes.
#include <fcntl.h>
#include <sys/stat.h>

#include "fs_test_support.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

TEST_F(FsTest, ReadsWholeFilesAndStopsAtEof) {
  const std::string big = Pattern(3 * 1024 * 1024 + 17);
  Put("big.bin", big);
  Put("empty", "");
  Put("small", "hello");
  Mount();
  EXPECT_EQ(ReadFile(InoOf("big.bin")).value(), big);
  EXPECT_EQ(ReadFile(InoOf("big.bin"), 4096).value(), big);
  EXPECT_EQ(ReadFile(InoOf("empty")).value(), "");
  Result<OpenReply> open = fs_->Open(InoOf("small"), O_RDONLY);
  ASSERT_TRUE(open.has_value());
  EXPECT_TRUE(open->keep_cache);
  char buf[64];
  EXPECT_EQ(fs_->Read(open->fh, 0, sizeof(buf), buf).value(), 5u);
  EXPECT_EQ(fs_->Read(open->fh, 3, sizeof(buf), buf).value(), 2u);
  EXPECT_EQ(std::string(buf, 2), "lo");
  EXPECT_EQ(fs_->Read(open->fh, 5, sizeof(buf), buf).value(), 0u);
  EXPECT_EQ(fs_->Read(open->fh, 500, sizeof(buf), buf).value(), 0u);
  fs_->Release(open->fh);
  EXPECT_EQ(fs_->Read(open->fh, 0, 1, buf).error().errno_value, EBADF);
}

TEST_F(FsTest, OpenWithinTtlCostsNoRequest) {
  Put("f", "data");
  Mount();
  Ino f = InoOf("f");
  fake_->ResetRequestCounts();
  for (int i = 0; i < 10; ++i) {
    Result<OpenReply> open = fs_->Open(f, O_RDONLY | O_NONBLOCK);
    ASSERT_TRUE(open.has_value());
    fs_->Release(open->fh);
  }
  EXPECT_EQ(TotalRequests(), 0u);
  EXPECT_EQ(fs_->OpenFileCount(), 0u);
}

TEST_F(FsTest, OpenAfterTtlRevalidatesWithOneHead) {
  Put("f", "data");
  Mount();
  Ino f = InoOf("f");
  clock_.Advance(seconds(31));
  fake_->ResetRequestCounts();
  Result<OpenReply> open = fs_->Open(f, O_RDONLY);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(Count("HeadObject"), 1u);
  EXPECT_EQ(TotalRequests(), 1u);
  fs_->Release(open->fh);
  // Revalidated: trusted again for the TTL.
  open = fs_->Open(f, O_RDONLY);
  ASSERT_TRUE(open.has_value());
  fs_->Release(open->fh);
  EXPECT_EQ(TotalRequests(), 1u);
  // And an unchanged object keeps its inode on the next lookup.
  EXPECT_EQ(InoOf("f"), f);
}

TEST_F(FsTest, ReplacedObjectGetsNewInodeAndOldInodeIsStale) {
  Put("dists/InRelease", "old contents");
  Mount();
  Result<Entry> old_entry = LookupPath("dists/InRelease");
  ASSERT_TRUE(old_entry.has_value());
  const Ino old_ino = old_entry->attr.ino;
  // An open handle on the old version keeps reading the old version.
  Result<OpenReply> old_open = fs_->Open(old_ino, O_RDONLY);
  ASSERT_TRUE(old_open.has_value());

  clock_.Advance(seconds(2));
  Put("dists/InRelease", "new contents, longer");
  // Within the TTL the cached entry is still answered.
  EXPECT_EQ(InoOf("dists/InRelease"), old_ino);

  clock_.Advance(seconds(31));
  // Opening the old inode after the TTL: revalidation sees another version.
  EXPECT_EQ(fs_->Open(old_ino, O_RDONLY).error().errno_value, ESTALE);
  // The kernel then looks the name up again and gets a new inode.
  Result<Entry> new_entry = LookupPath("dists/InRelease");
  ASSERT_TRUE(new_entry.has_value());
  EXPECT_NE(new_entry->attr.ino, old_ino);
  EXPECT_GT(new_entry->attr.ino, old_ino) << "numbers are never reused";
  EXPECT_EQ(new_entry->attr.size, 20u);
  EXPECT_EQ(ReadFile(new_entry->attr.ino).value(), "new contents, longer");
  // The stale inode still answers GETATTR with its own (old) attributes.
  EXPECT_EQ(fs_->GetAttr(old_ino)->attr.size, 12u);
  EXPECT_EQ(fs_->Open(old_ino, O_RDONLY).error().errno_value, ESTALE);
  fs_->Release(old_open->fh);
}

TEST_F(FsTest, ReplacedObjectSeenByLookupAfterTtl) {
  Put("f", "v1");
  Mount();
  const Ino v1 = InoOf("f");
  clock_.Advance(seconds(31));
  EXPECT_EQ(InoOf("f"), v1) << "same version, same inode after the TTL";
  clock_.Advance(seconds(31));
  Put("f", "v2");  // same size, new ETag
  const Ino v2 = InoOf("f");
  EXPECT_NE(v2, v1);
  EXPECT_EQ(fs_->Open(v1, O_RDONLY).error().errno_value, ESTALE)
      << "unbound inode";
  EXPECT_EQ(ReadFile(v2).value(), "v2");
  // Deleted: the name disappears after the TTL.
  ASSERT_TRUE(fake_->DeleteObject("f").ok());
  clock_.Advance(seconds(31));
  EXPECT_EQ(LookupPath("f").error().errno_value, ENOENT);
  EXPECT_EQ(fs_->Open(v2, O_RDONLY).error().errno_value, ESTALE);
}

TEST_F(FsTest, SelfCopyChmodIsANewVersion) {
  Put("f", "same body", {{"mode", "33188"}});
  Mount();
  const Ino before = InoOf("f");
  clock_.Advance(seconds(40));
  // Same body (same ETag), new LastModified and metadata.
  Put("f", "same body", {{"mode", "33261"}});
  Result<Entry> after = LookupPath("f");
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->attr.ino, before);
  EXPECT_EQ(after->attr.mode, S_IFREG | 0755u);
}

TEST_F(FsTest, DirectoriesKeepTheirInode) {
  Put("d/a");
  Mount();
  const Ino d = InoOf("d");
  clock_.Advance(seconds(31));
  Put("d/");  // a marker appears
  Put("d/b");
  EXPECT_EQ(InoOf("d"), d);
  clock_.Advance(seconds(31));
  EXPECT_EQ(InoOf("d"), d);
  EXPECT_EQ(fs_->GetAttr(d)->attr.mtime.tv_sec, 1'700'000'031);
}

TEST_F(FsTest, ForgetFreesInodes) {
  Put("d/a", "1");
  Put("d/b", "2");
  Mount();
  EXPECT_EQ(fs_->InodeCount(), 1u);
  const Ino d = InoOf("d");
  const Ino a = InoOf("d/a");
  const Ino b = InoOf("d/b");
  EXPECT_EQ(fs_->InodeCount(), 4u);
  EXPECT_EQ(fs_->LookupCount(d), 3u);
  Result<OpenReply> open = fs_->Open(a, O_RDONLY);
  ASSERT_TRUE(open.has_value());
  fs_->Forget(a, 1);
  EXPECT_EQ(fs_->InodeCount(), 4u) << "open handle keeps it";
  fs_->Forget(b, 1);
  EXPECT_EQ(fs_->InodeCount(), 3u);
  fs_->Forget(d, 3);
  EXPECT_EQ(fs_->InodeCount(), 3u) << "a child keeps its parent's record";
  EXPECT_EQ(fs_->Read(open->fh, 0, 1, std::array<char, 1>().data()).value(),
            1u);
  fs_->Release(open->fh);
  EXPECT_EQ(fs_->InodeCount(), 1u);
  EXPECT_EQ(fs_->GetAttr(a).error().errno_value, ENOENT);
  fs_->Forget(kRootIno, 1);
  EXPECT_TRUE(fs_->GetAttr(kRootIno).has_value());
  // A new lookup gets a new number.
  EXPECT_GT(InoOf("d/a"), b);
}

TEST_F(FsTest, WritesAreRefusedOnReadOnlyMounts) {
  Put("f", "x");
  options_.read_only = true;
  Mount();
  const Ino f = InoOf("f");
  EXPECT_EQ(fs_->Open(f, O_WRONLY).error().errno_value, EROFS);
  EXPECT_EQ(fs_->Open(f, O_RDWR).error().errno_value, EROFS);
  EXPECT_EQ(fs_->Open(f, O_RDONLY | O_TRUNC).error().errno_value, EROFS);
  EXPECT_EQ(fs_->RefuseWrite("mkdir").error().errno_value, EROFS);
  EXPECT_EQ(fs_->Open(kRootIno, O_RDONLY).error().errno_value, EISDIR);
  EXPECT_EQ(fs_->OpenDir(f).error().errno_value, ENOTDIR);
  EXPECT_EQ(fs_->Lookup(f, "x").error().errno_value, ENOTDIR);
  EXPECT_EQ(fs_->OpenFileCount(), 0u);
}

TEST_F(FsTest, StatFs) {
  Mount();
  StatFsInfo info = fs_->StatFs();
  EXPECT_EQ(info.block_size, 4096u);
  EXPECT_EQ(info.name_max, 255u);
  EXPECT_GE(info.blocks_available * info.block_size, 1ull << 50);
  EXPECT_GT(info.files_free, 1'000'000u);
}

TEST_F(FsTest, ReadFailsWithEioWhenPinnedVersionDisappears) {
  Put("f", Pattern(4 * 1024 * 1024));
  Mount();
  Result<OpenReply> open = fs_->Open(InoOf("f"), O_RDONLY);
  ASSERT_TRUE(open.has_value());
  Put("f", "replaced");
  std::vector<char> buf(128 * 1024);
  Result<size_t> n = fs_->Read(open->fh, 0, buf.size(), buf.data());
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().errno_value, EIO);
  fs_->Release(open->fh);
}

}  // namespace
}  // namespace repofs::fs::test
