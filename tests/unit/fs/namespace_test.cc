// unlink (also of open files), mkdir, rmdir (exact ENOTEMPTY), symlink and
// rename (files, over targets, flags, pending files, directories) over the
// fake store.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs_test_support.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace repofs::fs::test {
namespace {

class NamespaceTest : public FsTest {
 protected:
  const Caller kCaller{1000, 1000};
  std::string Meta(const std::string& key, const std::string& name) {
    std::optional<ObjectInfo> info = fake_->InfoForTest(key);
    if (!info) return "<missing>";
    auto it = info->metadata.find(name);
    return it == info->metadata.end() ? "<none>" : it->second;
  }
  std::string ReadHandle(uint64_t fh, uint64_t offset, size_t size) {
    std::string out(size, '\0');
    Result<size_t> n = fs_->Read(fh, offset, size, out.data());
    EXPECT_TRUE(n.has_value()) << (n.has_value() ? "" : n.error().message);
    out.resize(n.has_value() ? *n : 0);
    return out;
  }
  int Errno(const Status& st) { return st.ok() ? 0 : st.error().errno_value; }
};

TEST_F(NamespaceTest, UnlinkedOpenFileStaysReadable) {
  std::string body(512 * 1024, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
  Put("pool/a.deb", body);
  Put("pool/b.deb", "b");
  Mount();
  const Ino a = InoOf("pool/a.deb");
  const Ino pool = InoOf("pool");
  Result<OpenReply> open = fs_->Open(a, O_RDONLY);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(ReadHandle(open->fh, 0, 10), body.substr(0, 10));
  ASSERT_TRUE(fs_->Unlink(pool, "a.deb").ok());
  EXPECT_FALSE(fake_->BodyForTest("pool/a.deb").has_value());
  EXPECT_EQ(LookupPath("pool/a.deb").error().errno_value, ENOENT);
  EXPECT_TRUE(ReadHandle(open->fh, 0, body.size()) == body);
  fs_->Release(open->fh);
  EXPECT_EQ(fs_->PreservedCopyCount(), 0u);

  // Nothing open: no local copy, one DELETE.
  InoOf("pool/b.deb");
  fake_->ResetRequestCounts();
  ASSERT_TRUE(fs_->Unlink(pool, "b.deb").ok());
  EXPECT_EQ(Count("DeleteObject"), 1u);
  EXPECT_EQ(Count("GetObject"), 0u);

  EXPECT_EQ(Errno(fs_->Unlink(pool, "missing")), ENOENT);
  Put("dir/x");
  EXPECT_EQ(Errno(fs_->Unlink(kRootIno, "dir")), EISDIR);
}

TEST_F(NamespaceTest, UnlinkWhileWritingDropsTheCommit) {
  Mount();
  Result<CreateReply> created =
      fs_->Create(kRootIno, "tmp", 0644, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(fs_->Write(created->open.fh, 0, "data").has_value());
  ASSERT_TRUE(fs_->Unlink(kRootIno, "tmp").ok());
  ASSERT_TRUE(fs_->Flush(created->open.fh).has_value());
  fs_->Release(created->open.fh);
  EXPECT_FALSE(fake_->BodyForTest("tmp").has_value());
}

TEST_F(NamespaceTest, MkDirRmDirWithExactErrnos) {
  Put("pool/main/h/hello/hello_1.deb", "deb");
  Put("file", "f");
  Mount();
  ASSERT_TRUE(fs_->MkDir(kRootIno, "new", 0750, kCaller).has_value());
  EXPECT_EQ(fake_->BodyForTest("new/").value_or("x"), "");
  EXPECT_EQ(Meta("new/", "mode"), std::to_string(S_IFDIR | 0750));
  EXPECT_EQ(fs_->MkDir(kRootIno, "new", 0755, kCaller).error().errno_value,
            EEXIST);
  EXPECT_EQ(fs_->MkDir(kRootIno, "file", 0755, kCaller).error().errno_value,
            EEXIST);
  Result<Entry> entry = LookupPath("new");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->attr.mode, S_IFDIR | 0750u);
  EXPECT_EQ(entry->attr.uid, 1000u);
  EXPECT_TRUE(ReadAll(entry->attr.ino, false).size() == 2u) << ". and ..";

  // reprepro prunes pool dirs by rmdir-until-ENOTEMPTY.
  const Ino h = InoOf("pool/main/h");
  EXPECT_EQ(Errno(fs_->RmDir(h, "hello")), ENOTEMPTY);
  EXPECT_EQ(Errno(fs_->RmDir(InoOf("pool/main"), "h")), ENOTEMPTY);
  ASSERT_TRUE(fs_->Unlink(InoOf("pool/main/h/hello"), "hello_1.deb").ok());
  EXPECT_EQ(Errno(fs_->RmDir(h, "hello")), 0);
  EXPECT_EQ(Errno(fs_->RmDir(kRootIno, "new")), 0);
  EXPECT_FALSE(fake_->BodyForTest("new/").has_value());
  EXPECT_EQ(Errno(fs_->RmDir(kRootIno, "file")), ENOTDIR);
  EXPECT_EQ(Errno(fs_->RmDir(kRootIno, "missing")), ENOENT);

  // A marker alone is empty; a file being written below is not.
  ASSERT_TRUE(fs_->MkDir(kRootIno, "w", 0755, kCaller).has_value());
  Result<CreateReply> created =
      fs_->Create(InoOf("w"), "pending", 0644, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(Errno(fs_->RmDir(kRootIno, "w")), ENOTEMPTY);
  ASSERT_TRUE(fs_->Flush(created->open.fh).has_value());
  fs_->Release(created->open.fh);
  EXPECT_EQ(Errno(fs_->RmDir(kRootIno, "w")), ENOTEMPTY);
}

// A directory this mount just created is known to be empty: looking up
// the names about to be created in it costs no request, and the first
// create makes its listing come from S3 again.
TEST_F(NamespaceTest, NewDirectoryAnswersLookupsWithoutRequests) {
  Mount();
  Result<Entry> dir = fs_->MkDir(kRootIno, "pkg", 0755, kCaller);
  ASSERT_TRUE(dir.has_value());
  fake_->ResetRequestCounts();
  EXPECT_EQ(fs_->Lookup(dir->attr.ino, "pkg_1.0_all.deb").error().errno_value,
            ENOENT);
  EXPECT_EQ(ReadAll(dir->attr.ino, false).size(), 2u);  // "." and ".."
  EXPECT_EQ(TotalRequests(), 0u);
  Result<CreateReply> created = fs_->Create(dir->attr.ino, "pkg_1.0_all.deb",
                                            0644, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(fs_->Flush(created->open.fh).has_value());
  fs_->Release(created->open.fh);
  // Another host adds a file: this mount's listing after the create asks S3.
  Put("pkg/other.deb", "x");
  std::vector<std::string> names = Names(ReadAll(dir->attr.ino, false));
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "other.deb",
                                             "pkg_1.0_all.deb"}));
}

TEST_F(NamespaceTest, DirectoryModeAndOwnerLiveOnTheMarker) {
  Put("s3fs-dir/", "",
      {{"mode", std::to_string(S_IFDIR | 0750)},
       {"uid", "1234"},
       {"gid", "5678"},
       {"mtime", "1500000000"}});
  Put("s3fs-dir/x", "x");
  Mount();
  Result<Entry> dir = LookupPath("s3fs-dir");
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(dir->attr.mode, S_IFDIR | 0750u);
  EXPECT_EQ(dir->attr.uid, 1234u);
  EXPECT_EQ(dir->attr.gid, 5678u);
  EXPECT_EQ(dir->attr.mtime.tv_sec, 1'500'000'000);
  // What this mount's mkdir stores, a fresh mount shows.
  ASSERT_TRUE(fs_->MkDir(kRootIno, "made", 0700, kCaller).has_value());
  Mount();
  Result<Entry> made = LookupPath("made");
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->attr.mode, S_IFDIR | 0700u);
  EXPECT_EQ(made->attr.uid, 1000u);
}

TEST_F(NamespaceTest, SymlinkIsAnS3fsCompatibleObject) {
  Mount();
  Result<Entry> link = fs_->SymLink("../pool/x", kRootIno, "latest", kCaller);
  ASSERT_TRUE(link.has_value()) << link.error().message;
  EXPECT_TRUE(S_ISLNK(link->attr.mode));
  EXPECT_EQ(link->attr.size, 9u);
  EXPECT_EQ(fake_->BodyForTest("latest").value_or(""), "../pool/x");
  EXPECT_EQ(Meta("latest", "mode"), std::to_string(S_IFLNK | 0777));
  fake_->ResetRequestCounts();
  EXPECT_EQ(fs_->ReadLink(link->attr.ino).value(), "../pool/x");
  EXPECT_EQ(TotalRequests(), 0u) << "target known from the write";
  EXPECT_EQ(fs_->SymLink("y", kRootIno, "latest", kCaller).error().errno_value,
            EEXIST);
}

TEST_F(NamespaceTest, RenameFileCarriesMetadataAndReplacesAtomically) {
  Put("dists/.Release.tmp", "new release",
      {{"mode", "33188"}, {"mtime", "1234567890"}});
  Put("dists/Release", "old release");
  Mount();
  const Ino dists = InoOf("dists");
  const Ino tmp = InoOf("dists/.Release.tmp");
  const Ino old_target = InoOf("dists/Release");
  Result<OpenReply> reader = fs_->Open(old_target, O_RDONLY);
  ASSERT_TRUE(reader.has_value());

  EXPECT_EQ(Errno(fs_->Rename(dists, ".Release.tmp", dists, "Release",
                              RENAME_NOREPLACE)),
            EEXIST);
  EXPECT_EQ(Errno(fs_->Rename(dists, ".Release.tmp", dists, "Release",
                              RENAME_EXCHANGE)),
            EINVAL);
  fake_->ResetRequestCounts();
  ASSERT_TRUE(fs_->Rename(dists, ".Release.tmp", dists, "Release", 0).ok());
  EXPECT_EQ(Count("CopyObject"), 1u);
  EXPECT_EQ(Count("DeleteObject"), 1u);
  EXPECT_FALSE(fake_->BodyForTest("dists/.Release.tmp").has_value());
  EXPECT_EQ(fake_->BodyForTest("dists/Release").value_or(""), "new release");
  EXPECT_EQ(Meta("dists/Release", "mtime"), "1234567890");
  Result<Entry> entry = LookupPath("dists/Release");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->attr.ino, tmp) << "rename keeps the inode number";
  EXPECT_NE(entry->attr.ino, old_target);
  EXPECT_EQ(entry->attr.mtime.tv_sec, 1'234'567'890);
  EXPECT_EQ(LookupPath("dists/.Release.tmp").error().errno_value, ENOENT);
  EXPECT_EQ(ReadFile(entry->attr.ino).value(), "new release");
  // The reader of the replaced version reads it whole.
  EXPECT_EQ(ReadHandle(reader->fh, 0, 100), "old release");
  fs_->Release(reader->fh);

  // Type mismatches and missing sources.
  Put("dir/x");
  EXPECT_EQ(Errno(fs_->Rename(dists, "Release", kRootIno, "dir", 0)), EISDIR);
  EXPECT_EQ(Errno(fs_->Rename(kRootIno, "dir", dists, "Release", 0)), ENOTDIR);
  EXPECT_EQ(Errno(fs_->Rename(dists, "nope", dists, "x", 0)), ENOENT);
}

TEST_F(NamespaceTest, RenameOfAFileStillBeingWrittenRekeysIt) {
  Mount();
  Result<CreateReply> created =
      fs_->Create(kRootIno, "part", 0644, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(fs_->Write(created->open.fh, 0, "body").has_value());
  fake_->ResetRequestCounts();
  ASSERT_TRUE(fs_->Rename(kRootIno, "part", kRootIno, "final", 0).ok());
  EXPECT_EQ(Count("CopyObject") + Count("PutObject"), 0u);
  ASSERT_TRUE(fs_->Flush(created->open.fh).has_value());
  fs_->Release(created->open.fh);
  EXPECT_EQ(fake_->BodyForTest("final").value_or(""), "body");
  EXPECT_FALSE(fake_->BodyForTest("part").has_value());
}

TEST_F(NamespaceTest, RenameDirectoryMovesEveryKey) {
  Put("a/", "");
  Put("a/x", "1");
  Put("a/sub/y", "2");
  Put("b/", "");
  Mount();
  const Ino a = InoOf("a");
  InoOf("a/sub/y");
  EXPECT_EQ(Errno(fs_->Rename(kRootIno, "a", kRootIno, "b", RENAME_NOREPLACE)),
            EEXIST);
  ASSERT_TRUE(fs_->Rename(kRootIno, "a", kRootIno, "b", 0).ok());
  EXPECT_EQ(fake_->BodyForTest("b/x").value_or(""), "1");
  EXPECT_EQ(fake_->BodyForTest("b/sub/y").value_or(""), "2");
  EXPECT_TRUE(fake_->BodyForTest("b/").has_value());
  EXPECT_FALSE(fake_->BodyForTest("a/x").has_value());
  EXPECT_FALSE(fake_->BodyForTest("a/").has_value());
  EXPECT_EQ(InoOf("b"), a);
  EXPECT_EQ(ReadFile(InoOf("b/sub/y")).value(), "2");
  EXPECT_EQ(LookupPath("a").error().errno_value, ENOENT);
  // Not over a non-empty directory.
  Put("c/z", "3");
  EXPECT_EQ(Errno(fs_->Rename(kRootIno, "b", kRootIno, "c", 0)), ENOTEMPTY);
}

}  // namespace
}  // namespace repofs::fs::test
