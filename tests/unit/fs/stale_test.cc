// Stale-if-error: with S3 failing (EIO/ETIMEDOUT after retries), lookups,
// listings and opens of what the mount knows are answered beyond their TTL;
// answers S3 did give (ENOENT, EACCES) are never overridden; the option
// turns it off.
#include <gtest/gtest.h>

#include "fs_test_support.h"
#include "s3/failure_object_client.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

class StaleTest : public FsTest {
 protected:
  void SetUp() override {
    Put("dir/a.txt", "alpha");
    Put("dir/b.txt", "bravo");
    faults_ = std::make_shared<FailureObjectClient>(fake_, clock_);
  }
  void Outage() {
    faults_->FailNext(FailureObjectClient::kAnyOperation, 1000,
                      FailureObjectClient::ConnectionReset());
  }
  std::shared_ptr<FailureObjectClient> faults_;
};

TEST_F(StaleTest, KnownEntriesListingsAndOpensOutliveTheTtl) {
  Mount(faults_);
  const Ino dir = InoOf("dir");
  const Ino a = InoOf("dir/a.txt");
  // READDIRPLUS: b.txt's metadata is HEADed and stored.
  ASSERT_EQ(ReadAll(dir, true).size(), 4u);  // ., .., a.txt, b.txt
  ASSERT_EQ(*ReadFile(a), "alpha");
  clock_.Advance(options_.metadata_ttl + seconds(1));
  Outage();

  Result<Entry> again = LookupPath("dir/a.txt");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->attr.ino, a);
  EXPECT_EQ(again->attr.size, 5u);
  // Never looked up, but in the last listing of dir: answered from it.
  Result<Entry> b = LookupPath("dir/b.txt");
  ASSERT_TRUE(b.has_value()) << b.error().message;
  // Not in the listing: the stale listing's "no such entry".
  Result<Entry> c = fs_->Lookup(dir, "c.txt");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().errno_value, ENOENT);
  // The listing is served again, and the known version opens.
  std::vector<DirEntry> entries = ReadAll(dir, false);
  EXPECT_EQ(Names(entries),
            (std::vector<std::string>{".", "..", "a.txt", "b.txt"}));
  Result<OpenReply> open = fs_->Open(a, O_RDONLY);
  ASSERT_TRUE(open.has_value()) << open.error().message;
  fs_->Release(open->fh);
}

TEST_F(StaleTest, ForgottenInodesAreRememberedByPath) {
  Mount(faults_);
  Result<Entry> dir = fs_->Lookup(kRootIno, "dir");
  ASSERT_TRUE(dir.has_value());
  Result<Entry> a = fs_->Lookup(dir->attr.ino, "a.txt");
  ASSERT_TRUE(a.has_value());
  // The kernel drops both (memory pressure): the records are freed.
  fs_->Forget(a->attr.ino, 1);
  fs_->Forget(dir->attr.ino, 1);
  clock_.Advance(options_.metadata_ttl + seconds(1));
  Outage();
  Result<Entry> again = LookupPath("dir/a.txt");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->attr.size, 5u);
}

TEST_F(StaleTest, UnknownNamesFailWithTheS3Error) {
  Mount(faults_);
  Outage();
  Result<Entry> e = LookupPath("dir/a.txt");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().errno_value, EIO);
}

TEST_F(StaleTest, AnswersFromS3AreNotOverridden) {
  Mount(faults_);
  const Ino a = InoOf("dir/a.txt");
  clock_.Advance(options_.metadata_ttl + seconds(1));
  ASSERT_TRUE(fake_->DeleteObject(options_.prefix + "dir/a.txt").ok());
  Result<OpenReply> open = fs_->Open(a, O_RDONLY);  // S3 says: gone
  ASSERT_FALSE(open.has_value());
  EXPECT_EQ(open.error().errno_value, ESTALE);
}

TEST_F(StaleTest, OptionOffReturnsTheError) {
  options_.stale_if_error = false;
  Mount(faults_);
  const Ino a = InoOf("dir/a.txt");
  (void)a;
  clock_.Advance(options_.metadata_ttl + seconds(1));
  Outage();
  Result<Entry> again = LookupPath("dir/a.txt");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().errno_value, EIO);
}

}  // namespace
}  // namespace repofs::fs::test
