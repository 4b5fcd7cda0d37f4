// Coherent expiry of fs::Filesystem: when a lookup sees that S3 changed a
// name this mount knew, every file entry validated before expires with it
// (here and, through the invalidator, in the kernel), so a web host never
// pairs a new InRelease with the Packages it validated before the publish.
#include <sys/stat.h>

#include <vector>

#include "fs_test_support.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

class CoherenceTest : public FsTest {
 protected:
  void SetUp() override {
    Put("dists/InRelease", "release 1");
    Put("dists/main/Packages", "packages 1");
    Put("pool/a.deb", "deb");
    Put("pool/b.deb", "deb");
    Mount();
    fs_->SetEntryInvalidator([this](std::vector<EntryRef> entries) {
      for (EntryRef& e : entries) invalidated_.push_back(std::move(e));
    });
  }
  std::string Contents(const std::string& path) {
    Result<std::string> got = ReadFile(InoOf(path));
    return got.has_value() ? *got : "error: " + got.error().message;
  }
  std::vector<std::string> InvalidatedNames() const {
    std::vector<std::string> names;
    for (const EntryRef& e : invalidated_) names.push_back(e.name);
    return names;
  }
  std::vector<EntryRef> invalidated_;
};

TEST_F(CoherenceTest, NewVersionExpiresWhatWasValidatedBefore) {
  EXPECT_EQ(Contents("dists/InRelease"), "release 1");  // validated at t=0
  clock_.Advance(seconds(15));
  EXPECT_EQ(Contents("dists/main/Packages"), "packages 1");  // at t=15
  EXPECT_EQ(Contents("pool/a.deb"), "deb");
  // The publisher replaces Packages, then InRelease.
  clock_.Advance(seconds(5));
  Put("dists/main/Packages", "packages 2");
  Put("dists/InRelease", "release 2");
  // InRelease has expired (t=31), Packages would be trusted until t=45.
  clock_.Advance(seconds(11));
  EXPECT_EQ(Contents("dists/InRelease"), "release 2");
  EXPECT_EQ(fs_->coherent_expiries(), 1u);
  EXPECT_EQ(Contents("dists/main/Packages"), "packages 2");
  // The kernel is told to forget the other files' dentries (not the one
  // just looked up, not directories).
  std::vector<std::string> names = InvalidatedNames();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"Packages", "a.deb"}));
  // Packages' change was part of the same publish: already covered.
  EXPECT_EQ(fs_->coherent_expiries(), 1u);
  // Unchanged files are revalidated (same inode), not replaced.
  fake_->ResetRequestCounts();
  EXPECT_EQ(Contents("pool/a.deb"), "deb");
  EXPECT_GE(Count("HeadObject"), 1u);
}

TEST_F(CoherenceTest, WithoutAChangeEntriesExpireOnTheirOwn) {
  EXPECT_EQ(Contents("dists/InRelease"), "release 1");
  clock_.Advance(seconds(15));
  EXPECT_EQ(Contents("dists/main/Packages"), "packages 1");
  clock_.Advance(seconds(16));
  fake_->ResetRequestCounts();
  EXPECT_EQ(Contents("dists/InRelease"), "release 1");  // revalidated
  EXPECT_GE(TotalRequests(), 1u);
  fake_->ResetRequestCounts();
  EXPECT_EQ(Contents("dists/main/Packages"), "packages 1");  // still fresh
  EXPECT_EQ(Count("HeadObject"), 0u);  // (its bytes: one GET)
  EXPECT_EQ(fs_->coherent_expiries(), 0u);
  EXPECT_TRUE(invalidated_.empty());
}

TEST_F(CoherenceTest, VanishedFileExpiresTheRest) {
  EXPECT_EQ(Contents("dists/main/Packages"), "packages 1");
  EXPECT_EQ(Contents("pool/a.deb"), "deb");
  clock_.Advance(seconds(20));
  EXPECT_EQ(Contents("dists/InRelease"), "release 1");
  ASSERT_TRUE(fake_->DeleteObject(options_.prefix + "pool/a.deb").has_value());
  Put("dists/InRelease", "release 2");
  clock_.Advance(seconds(11));  // a.deb expired; InRelease fresh until t=50
  EXPECT_EQ(LookupPath("pool/a.deb").error().errno_value, ENOENT);
  EXPECT_EQ(fs_->coherent_expiries(), 1u);
  EXPECT_EQ(Contents("dists/InRelease"), "release 2");
}

TEST_F(CoherenceTest, ForgottenNameReplacedMidPublishExpiresAndSettles) {
  EXPECT_EQ(Contents("dists/InRelease"), "release 1");  // validated at t=0
  Result<Entry> packages = LookupPath("dists/main/Packages");
  ASSERT_TRUE(packages.has_value());
  // The kernel forgets Packages (as it does after an expiry's invalidation):
  // no inode is left to show "another version".
  fs_->Forget(packages->attr.ino, 1000);
  clock_.Advance(seconds(15));
  Put("dists/main/Packages", "packages 2");  // made at t=15
  clock_.Advance(seconds(1));
  EXPECT_EQ(Contents("dists/main/Packages"), "packages 2");
  EXPECT_EQ(fs_->coherent_expiries(), 1u);
  // InRelease (fresh until t=30 on its own) is asked again, and while S3
  // settles entries are handed out for 250 ms only.
  fake_->ResetRequestCounts();
  Result<Entry> release = LookupPath("dists/InRelease");
  ASSERT_TRUE(release.has_value());
  EXPECT_GE(Count("HeadObject"), 1u);
  EXPECT_EQ(release->entry_timeout, std::chrono::milliseconds(250));
  // Settled (2 s later): what is left of the whole TTL again (validated
  // 3 s ago, at the lookup above).
  clock_.Advance(seconds(3));
  Result<Entry> later = LookupPath("dists/InRelease");
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->entry_timeout, std::chrono::milliseconds(27000));
}

}  // namespace
}  // namespace repofs::fs::test
