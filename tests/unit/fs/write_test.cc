// The write path over the fake store: create/write/flush (commit at close),
// O_EXCL, O_TRUNC with a concurrent reader, append, reads of pending
// content, setattr (truncate, chmod, utimens), copy_file_range, statfs and
// read-only refusals.
#include <fcntl.h>
#include <sys/stat.h>

#include "fs_test_support.h"
#include "s3/failure_object_client.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

std::string Pattern(size_t size, char base = 'a') {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>(base + (i * 7 + i / 4096) % 26);
  }
  return s;
}

class WriteTest : public FsTest {
 protected:
  const Caller kCaller{1234, 5678};

  std::string Meta(const std::string& key, const std::string& name) {
    std::optional<ObjectInfo> info = fake_->InfoForTest(key);
    if (!info) return "<missing>";
    auto it = info->metadata.find(name);
    return it == info->metadata.end() ? "<none>" : it->second;
  }
  Status WriteAll(uint64_t fh, uint64_t offset, const std::string& data) {
    Result<size_t> n = fs_->Write(fh, offset, data);
    if (!n.has_value()) return n.error();
    EXPECT_EQ(*n, data.size());
    return OkStatus();
  }
  // Creates `name` in the root, writes `body` and FLUSHes (the handle stays
  // open); then, with `chmod`, changes its mode (taken into the open file).
  // nullopt after a reported failure.
  struct Flushed {
    Ino ino;
    uint64_t fh;
  };
  std::optional<Flushed> CreateFlushed(const std::string& name,
                                       const std::string& body,
                                       std::optional<mode_t> chmod = {}) {
    Result<CreateReply> created = fs_->Create(
        kRootIno, name, 0644, O_CREAT | O_TRUNC | O_WRONLY, kCaller);
    if (!created.has_value()) {
      ADD_FAILURE() << created.error().message;
      return std::nullopt;
    }
    const Flushed out{created->entry.attr.ino, created->open.fh};
    EXPECT_TRUE(WriteAll(out.fh, 0, body).ok());
    EXPECT_TRUE(fs_->Flush(out.fh).has_value());
    if (chmod) {
      SetAttrRequest request;
      request.mode = *chmod;
      EXPECT_TRUE(fs_->SetAttr(out.ino, request, 0).has_value());
    }
    return out;
  }
  std::string ReadHandle(uint64_t fh, uint64_t offset, size_t size) {
    std::string out(size, '\0');
    Result<size_t> n = fs_->Read(fh, offset, size, out.data());
    EXPECT_TRUE(n.has_value()) << (n.has_value() ? "" : n.error().message);
    out.resize(n.has_value() ? *n : 0);
    return out;
  }
};

TEST_F(WriteTest, CreateWriteAndCloseCommitsWithS3fsMetadata) {
  Mount();
  Result<CreateReply> created = fs_->Create(
      kRootIno, "new.txt", 0640, O_CREAT | O_EXCL | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const Ino pending_ino = created->entry.attr.ino;
  EXPECT_EQ(created->entry.attr.mode, S_IFREG | 0640u);
  const uint64_t fh = created->open.fh;
  EXPECT_TRUE(created->open.needs_flush);
  ASSERT_TRUE(WriteAll(fh, 0, "hello ").ok());
  ASSERT_TRUE(WriteAll(fh, 6, "world").ok());
  EXPECT_EQ(Count("PutObject"), 0u) << "nothing in S3 before close()";
  EXPECT_EQ(fs_->GetAttr(pending_ino, fh)->attr.size, 11u);
  EXPECT_EQ(ReadHandle(fh, 0, 100), "hello world");

  Result<std::optional<EntryRef>> flushed = fs_->Flush(fh);
  ASSERT_TRUE(flushed.has_value()) << flushed.error().message;
  EXPECT_FALSE(flushed->has_value()) << "a new file keeps its inode";
  EXPECT_EQ(fake_->BodyForTest("new.txt").value_or(""), "hello world");
  EXPECT_EQ(Meta("new.txt", "mode"), std::to_string(S_IFREG | 0640));
  EXPECT_EQ(Meta("new.txt", "uid"), "1234");
  EXPECT_EQ(Meta("new.txt", "gid"), "5678");
  // No mtime header unless utimens set one: the version's mtime is its
  // LastModified, the same on every host (and the streamed upload's
  // metadata, fixed when the writer started, stays valid at close).
  EXPECT_EQ(Meta("new.txt", "mtime"), "<none>");
  EXPECT_EQ(fs_->GetAttr(pending_ino, fh)->attr.mtime.tv_sec,
            fake_->HeadObject("new.txt")->value().last_modified);
  // A second close() with nothing new uploads nothing.
  const uint64_t puts = Count("PutObject");
  ASSERT_TRUE(fs_->Flush(fh).has_value());
  EXPECT_EQ(Count("PutObject"), puts);
  fs_->Release(fh);
  EXPECT_EQ(fs_->OpenWriteFileCount(), 0u);

  // The first version keeps the inode; a lookup costs nothing.
  fake_->ResetRequestCounts();
  Result<Entry> entry = LookupPath("new.txt");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->attr.ino, pending_ino);
  EXPECT_EQ(entry->attr.size, 11u);
  EXPECT_EQ(entry->attr.uid, 1234u);
  EXPECT_EQ(TotalRequests(), 0u);
  EXPECT_EQ(ReadFile(entry->attr.ino).value(), "hello world");

  // Replacing that version: a new inode, and the kernel's entry is stale.
  Result<OpenReply> rewrite = fs_->Open(pending_ino, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(rewrite.has_value());
  ASSERT_TRUE(WriteAll(rewrite->fh, 0, "v2").ok());
  flushed = fs_->Flush(rewrite->fh);
  ASSERT_TRUE(flushed.has_value());
  ASSERT_TRUE(flushed->has_value()) << "the kernel entry must be invalidated";
  EXPECT_EQ((*flushed)->parent, kRootIno);
  EXPECT_EQ((*flushed)->name, "new.txt");
  fs_->Release(rewrite->fh);
  EXPECT_NE(InoOf("new.txt"), pending_ino);
  EXPECT_EQ(fs_->GetAttr(pending_ino)->attr.size, 11u) << "old inode, old size";
}

TEST_F(WriteTest, EmptyCreateStillMakesTheObject) {
  Mount();
  Result<CreateReply> created =
      fs_->Create(kRootIno, "empty", 0644, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(fs_->Flush(created->open.fh).has_value());
  fs_->Release(created->open.fh);
  EXPECT_EQ(fake_->BodyForTest("empty").value_or("x"), "");
}

TEST_F(WriteTest, ExclusiveCreateLosesToAnotherWriterWithEexist) {
  Mount();
  Result<CreateReply> created = fs_->Create(
      kRootIno, "lock", 0644, O_CREAT | O_EXCL | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  Put("lock", "other host");  // appeared meanwhile
  ASSERT_TRUE(WriteAll(created->open.fh, 0, "mine").ok());
  Result<std::optional<EntryRef>> flushed = fs_->Flush(created->open.fh);
  ASSERT_FALSE(flushed.has_value());
  EXPECT_EQ(flushed.error().errno_value, EEXIST);
  EXPECT_EQ(fake_->BodyForTest("lock").value_or(""), "other host");
  fs_->Release(created->open.fh);
}

TEST_F(WriteTest, FailedUploadIsReportedByFlush) {
  Mount();
  Result<CreateReply> created =
      fs_->Create(kRootIno, "f", 0644, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(WriteAll(created->open.fh, 0, "data").ok());
  fake_->SetMissingBucket(true);
  Result<std::optional<EntryRef>> flushed = fs_->Flush(created->open.fh);
  ASSERT_FALSE(flushed.has_value());
  EXPECT_NE(flushed.error().errno_value, 0);
  fake_->SetMissingBucket(false);
  // The content was kept: the next close() succeeds.
  ASSERT_TRUE(fs_->Flush(created->open.fh).has_value());
  EXPECT_EQ(fake_->BodyForTest("f").value_or(""), "data");
  fs_->Release(created->open.fh);
}

TEST_F(WriteTest, TruncatingRewriteKeepsAnOpenReaderOnTheOldVersion) {
  const std::string old_body = Pattern(300 * 1024, 'a');
  const std::string new_body = Pattern(100 * 1024, 'A');
  Put("dists/Packages", old_body);
  Mount();
  const Ino old_ino = InoOf("dists/Packages");
  Result<OpenReply> reader = fs_->Open(old_ino, O_RDONLY);
  ASSERT_TRUE(reader.has_value());
  EXPECT_FALSE(reader->direct_io);
  EXPECT_EQ(ReadHandle(reader->fh, 0, 1000), old_body.substr(0, 1000));

  Result<OpenReply> writer = fs_->Open(old_ino, O_WRONLY | O_TRUNC);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  EXPECT_TRUE(writer->direct_io) << "a reader has the inode open";
  EXPECT_EQ(fs_->GetAttr(old_ino, writer->fh)->attr.size, 0u);
  // The reader's GETATTR (with its fh) still reports its version.
  EXPECT_EQ(fs_->GetAttr(old_ino, reader->fh)->attr.size, old_body.size());
  ASSERT_TRUE(WriteAll(writer->fh, 0, new_body).ok());
  // Before the commit the reader reads the committed version from S3.
  EXPECT_EQ(ReadHandle(reader->fh, 1000, 1000), old_body.substr(1000, 1000));
  ASSERT_TRUE(fs_->Flush(writer->fh).has_value());
  EXPECT_EQ(fake_->BodyForTest("dists/Packages").value_or(""), new_body);
  EXPECT_EQ(fs_->PreservedCopyCount(), 1u);
  // After it, the old version is gone from S3 but the reader reads it whole.
  std::string rest = ReadHandle(reader->fh, 2000, old_body.size());
  EXPECT_TRUE(rest == old_body.substr(2000)) << "old content, complete";
  fs_->Release(writer->fh);

  Result<Entry> fresh = LookupPath("dists/Packages");
  ASSERT_TRUE(fresh.has_value());
  EXPECT_NE(fresh->attr.ino, old_ino);
  EXPECT_EQ(ReadFile(fresh->attr.ino).value(), new_body);
  fs_->Release(reader->fh);
  EXPECT_EQ(fs_->PreservedCopyCount(), 0u) << "dropped with the last reader";
}

TEST_F(WriteTest, AppendAndRandomWritesStartFromTheObject) {
  Put("log", "line1\n");
  Mount();
  const Ino ino = InoOf("log");
  Result<OpenReply> open = fs_->Open(ino, O_WRONLY | O_APPEND);
  ASSERT_TRUE(open.has_value());
  EXPECT_FALSE(open->direct_io);
  ASSERT_TRUE(WriteAll(open->fh, 6, "line2\n").ok());
  ASSERT_TRUE(WriteAll(open->fh, 0, "LINE").ok());
  ASSERT_TRUE(fs_->Flush(open->fh).has_value());
  fs_->Release(open->fh);
  EXPECT_EQ(fake_->BodyForTest("log").value_or(""), "LINE1\nline2\n");
}

TEST_F(WriteTest, ReadWriteHandleReadsPendingContentAndOpenWithoutWriteUploadsNothing) {
  Put("f", "0123456789");
  Mount();
  const Ino ino = InoOf("f");
  Result<OpenReply> rw = fs_->Open(ino, O_RDWR);
  ASSERT_TRUE(rw.has_value());
  EXPECT_EQ(ReadHandle(rw->fh, 2, 3), "234");
  ASSERT_TRUE(WriteAll(rw->fh, 3, "xx").ok());
  EXPECT_EQ(ReadHandle(rw->fh, 0, 100), "012xx56789");
  // A second, read-only open while it is written sees the committed
  // version, bypassing the page cache.
  Result<OpenReply> ro = fs_->Open(ino, O_RDONLY);
  ASSERT_TRUE(ro.has_value());
  EXPECT_TRUE(ro->direct_io);
  EXPECT_EQ(ReadHandle(ro->fh, 0, 100), "0123456789");
  fs_->Release(ro->fh);
  ASSERT_TRUE(fs_->Flush(rw->fh).has_value());
  fs_->Release(rw->fh);
  EXPECT_EQ(fake_->BodyForTest("f").value_or(""), "012xx56789");

  const Ino again = InoOf("f");
  fake_->ResetRequestCounts();
  Result<OpenReply> idle = fs_->Open(again, O_WRONLY);
  ASSERT_TRUE(idle.has_value());
  ASSERT_TRUE(fs_->Flush(idle->fh).has_value());
  fs_->Release(idle->fh);
  EXPECT_EQ(TotalRequests(), 0u) << "open for writing + close: no upload";
}

TEST_F(WriteTest, SetAttrOnOpenFileIsUploadedWithTheCommit) {
  Mount();
  Result<CreateReply> created =
      fs_->Create(kRootIno, "f", 0600, O_CREAT | O_WRONLY, kCaller);
  ASSERT_TRUE(created.has_value());
  const Ino ino = created->entry.attr.ino;
  const uint64_t fh = created->open.fh;
  ASSERT_TRUE(WriteAll(fh, 0, "abcdefgh").ok());
  SetAttrRequest shrink;
  shrink.size = 3;
  EXPECT_EQ(fs_->SetAttr(ino, shrink, fh)->attr.size, 3u);
  SetAttrRequest grow;
  grow.size = 5;
  EXPECT_EQ(fs_->SetAttr(ino, grow, fh)->attr.size, 5u);
  SetAttrRequest meta;
  meta.mode = 0755;
  meta.mtime = timespec{1'600'000'000, 500};
  Result<AttrReply> after = fs_->SetAttr(ino, meta, fh);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->attr.mode, S_IFREG | 0755u);
  EXPECT_EQ(after->attr.mtime.tv_sec, 1'600'000'000);
  EXPECT_EQ(Count("PutObject") + Count("CopyObject"), 0u);
  ASSERT_TRUE(fs_->Flush(fh).has_value());
  fs_->Release(fh);
  EXPECT_EQ(fake_->BodyForTest("f").value_or(""), std::string("abc\0\0", 5));
  EXPECT_EQ(Meta("f", "mode"), std::to_string(S_IFREG | 0755));
  EXPECT_EQ(Meta("f", "mtime"), "1600000000.000000500");
  EXPECT_EQ(Count("PutObject"), 1u);
  Result<Entry> entry = LookupPath("f");
  EXPECT_EQ(entry->attr.mtime.tv_sec, 1'600'000'000);
  EXPECT_EQ(entry->attr.mtime.tv_nsec, 500);
}

// close() commits at FLUSH; RELEASE comes later. A chmod between them goes
// into the open file and is committed at RELEASE as a self-copy, which has
// the same identity (ETag, second) as the version before it. The kernel's
// inode must carry the new mode, or a utime after it (the next self-copy,
// built from the inode's attributes) writes the old mode back to S3.
TEST_F(WriteTest, MetadataCommittedAtReleaseReachesTheInode) {
  Mount();
  std::optional<Flushed> w = CreateFlushed("w.txt", "new content\n", 0640);
  ASSERT_TRUE(w);
  const Ino ino = w->ino;
  const uint64_t fh = w->fh;
  fs_->Release(fh);
  EXPECT_EQ(Meta("w.txt", "mode"), std::to_string(S_IFREG | 0640));
  EXPECT_EQ(fs_->GetAttr(ino)->attr.mode, S_IFREG | 0640u);

  SetAttrRequest utime;
  utime.mtime = timespec{1'577'880'042, 0};
  Result<AttrReply> done = fs_->SetAttr(ino, utime, 0);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->attr.mode, S_IFREG | 0640u);
  EXPECT_EQ(Meta("w.txt", "mode"), std::to_string(S_IFREG | 0640));
  EXPECT_EQ(Meta("w.txt", "mtime"), "1577880042");
  EXPECT_EQ(InoOf("w.txt"), ino);
  EXPECT_EQ(LookupPath("w.txt")->attr.mode, S_IFREG | 0640u);
}

// While RELEASE uploads such a change, a GETATTR (rsync's lstat right
// after its rename) must get the new attributes, not the inode's older ones,
// which the kernel would then cache for the TTL.
TEST_F(WriteTest, GetAttrDuringTheReleaseCommitSeesTheChange) {
  auto slow = std::make_shared<FailureObjectClient>(fake_, RealClock());
  Mount(slow);
  std::optional<Flushed> w = CreateFlushed("w.txt", "content\n");
  ASSERT_TRUE(w);
  const Ino ino = w->ino;
  const uint64_t fh = w->fh;
  SetAttrRequest utime;
  utime.mtime = timespec{1'577'880'042, 0};
  utime.mode = 0600;
  ASSERT_TRUE(fs_->SetAttr(ino, utime, 0).has_value());
  slow->SetLatency("CopyObject", std::chrono::milliseconds(400));
  slow->SetLatency("PutObject", std::chrono::milliseconds(400));
  std::thread release([&] { fs_->Release(fh); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Result<AttrReply> during = fs_->GetAttr(ino);
  release.join();
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->attr.mtime.tv_sec, 1'577'880'042);
  EXPECT_EQ(during->attr.mode, S_IFREG | 0600u);
  Result<AttrReply> after = fs_->GetAttr(ino);
  EXPECT_EQ(after->attr.mtime.tv_sec, 1'577'880'042);
  EXPECT_EQ(Meta("w.txt", "mtime"), "1577880042");
}

// A utime that arrives while RELEASE commits an earlier chmod finds the
// file still open and waits for it. Whichever of the two gets the file's
// lock next, the utime must end up in S3: taken into the final commit, or
// applied to the released file's inode by a self-copy (`touch -d` right
// after `chmod`, as cp -p, rsync and Python's write-then-utime do).
TEST_F(WriteTest, SetAttrRacingTheLastReleaseIsNotLost) {
  auto slow = std::make_shared<FailureObjectClient>(fake_, RealClock());
  Mount(slow);
  for (int round = 0; round < 8; ++round) {
    std::string name = "r";  // (GCC 12 -O3 warns on "r" + to_string())
    name += std::to_string(round);
    name += ".txt";
    std::optional<Flushed> w = CreateFlushed(name, "content\n", 0640);
    ASSERT_TRUE(w);
    const Ino ino = w->ino;
    const uint64_t fh = w->fh;
    slow->SetLatency("CopyObject", std::chrono::milliseconds(60));
    std::thread release([&] { fs_->Release(fh); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    SetAttrRequest utime;
    utime.mtime = timespec{1'577'880'042 + round, 0};
    Result<AttrReply> set = fs_->SetAttr(ino, utime, 0);
    release.join();
    slow->SetLatency("CopyObject", std::chrono::milliseconds(0));
    ASSERT_TRUE(set.has_value()) << set.error().message;
    EXPECT_EQ(Meta(name, "mtime"), std::to_string(1'577'880'042 + round))
        << "round " << round;
    EXPECT_EQ(Meta(name, "mode"), std::to_string(S_IFREG | 0640));
    Result<AttrReply> after = fs_->GetAttr(ino);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->attr.mtime.tv_sec, 1'577'880'042 + round);
  }
}

TEST_F(WriteTest, SetAttrWithoutOpenFileMakesANewVersionInPlace) {
  Put("f", "content", {{"mode", "33188"}, {"mtime", "1500000000"}});
  Mount();
  const Ino ino = InoOf("f");
  fake_->ResetRequestCounts();
  SetAttrRequest chmod;
  chmod.mode = 0700;
  Result<AttrReply> done = fs_->SetAttr(ino, chmod, 0);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->attr.mode, S_IFREG | 0700u);
  EXPECT_EQ(done->attr.mtime.tv_sec, 1'500'000'000) << "chmod keeps mtime";
  EXPECT_EQ(Count("CopyObject"), 1u) << "a self-copy, no upload";
  EXPECT_EQ(Count("PutObject"), 0u);
  EXPECT_EQ(Meta("f", "mode"), std::to_string(S_IFREG | 0700));
  EXPECT_EQ(fake_->BodyForTest("f").value_or(""), "content");
  EXPECT_EQ(InoOf("f"), ino) << "the kernel's inode carries the change";

  SetAttrRequest atime_only;
  atime_only.atime = true;
  fake_->ResetRequestCounts();
  ASSERT_TRUE(fs_->SetAttr(ino, atime_only, 0).has_value());
  EXPECT_EQ(TotalRequests(), 0u);

  SetAttrRequest truncate;
  truncate.size = 4;
  done = fs_->SetAttr(ino, truncate, 0);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->attr.size, 4u);
  EXPECT_EQ(fake_->BodyForTest("f").value_or(""), "cont");
  EXPECT_EQ(Meta("f", "mode"), std::to_string(S_IFREG | 0700));

  // Directories: the inode takes the mode, the marker records it.
  Put("d/x");
  fake_->ResetRequestCounts();
  Result<AttrReply> dir = fs_->SetAttr(InoOf("d"), chmod, 0);
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(dir->attr.mode, S_IFDIR | 0700u);
  EXPECT_EQ(fs_->GetAttr(InoOf("d"))->attr.mode, S_IFDIR | 0700u);
  EXPECT_EQ(Count("PutObject"), 1u);
  EXPECT_EQ(Meta("d/", "mode"), std::to_string(S_IFDIR | 0700));
}

TEST_F(WriteTest, CopyFileRangeOfAWholeFileIsServerSide) {
  const std::string body = Pattern(200 * 1024);
  Put("stable/pkg.deb", body, {{"mode", "33188"}});
  Mount();
  Result<OpenReply> in = fs_->Open(InoOf("stable/pkg.deb"), O_RDONLY);
  ASSERT_TRUE(in.has_value());
  Result<CreateReply> out = fs_->Create(
      InoOf("stable"), "copy.deb", 0644, O_CREAT | O_EXCL | O_WRONLY, kCaller);
  ASSERT_TRUE(out.has_value());
  // Partial copies fall back to the kernel's copy.
  EXPECT_EQ(fs_->CopyFileRange(in->fh, 10, out->open.fh, 0, 100)
                .error()
                .errno_value,
            EOPNOTSUPP);
  EXPECT_EQ(fs_->CopyFileRange(in->fh, 0, out->open.fh, 0, 100)
                .error()
                .errno_value,
            EOPNOTSUPP);
  fake_->ResetRequestCounts();
  Result<size_t> copied =
      fs_->CopyFileRange(in->fh, 0, out->open.fh, 0, 1ull << 30);
  ASSERT_TRUE(copied.has_value()) << copied.error().message;
  EXPECT_EQ(*copied, body.size());
  EXPECT_EQ(Count("CopyObject"), 1u);
  EXPECT_EQ(Count("GetObject") + Count("PutObject"), 0u);
  EXPECT_EQ(fs_->GetAttr(out->entry.attr.ino, out->open.fh)->attr.size,
            body.size());
  Result<std::optional<EntryRef>> flushed = fs_->Flush(out->open.fh);
  ASSERT_TRUE(flushed.has_value());
  EXPECT_TRUE(flushed->has_value());
  EXPECT_EQ(Count("PutObject"), 0u) << "nothing left to upload";
  fs_->Release(out->open.fh);
  fs_->Release(in->fh);
  EXPECT_TRUE(fake_->BodyForTest("stable/copy.deb").value_or("") == body);
  EXPECT_EQ(Meta("stable/copy.deb", "uid"), "1234");
}

TEST_F(WriteTest, ReadOnlyMountRefusesEveryModification) {
  Put("f", "x");
  Put("d/y", "y");
  options_.read_only = true;
  Mount();
  const Ino f = InoOf("f");
  EXPECT_EQ(fs_->Create(kRootIno, "n", 0644, O_CREAT, kCaller)
                .error()
                .errno_value,
            EROFS);
  EXPECT_EQ(fs_->Open(f, O_WRONLY).error().errno_value, EROFS);
  SetAttrRequest chmod;
  chmod.mode = 0600;
  EXPECT_EQ(fs_->SetAttr(f, chmod, 0).error().errno_value, EROFS);
  EXPECT_EQ(fs_->Unlink(kRootIno, "f").error().errno_value, EROFS);
  EXPECT_EQ(fs_->MkDir(kRootIno, "e", 0755, kCaller).error().errno_value,
            EROFS);
  EXPECT_EQ(fs_->RmDir(kRootIno, "d").error().errno_value, EROFS);
  EXPECT_EQ(fs_->SymLink("f", kRootIno, "l", kCaller).error().errno_value,
            EROFS);
  EXPECT_EQ(fs_->Rename(kRootIno, "f", kRootIno, "g", 0).error().errno_value,
            EROFS);
  EXPECT_EQ(fake_->ObjectCount(), 2u);
}

TEST_F(WriteTest, StatFsReportsLargeNumbers) {
  Mount();
  StatFsInfo info = fs_->StatFs();
  EXPECT_GE(info.blocks_available * info.block_size, 1ull << 50);
  EXPECT_GT(info.files_free, 1u << 30);
}

}  // namespace
}  // namespace repofs::fs::test
