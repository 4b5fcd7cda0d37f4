// Lookup, attributes and the namespace mapping of fs::Filesystem over the
// in-memory FakeObjectClient.
#include <sys/stat.h>

#include "fs_test_support.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

TEST_F(FsTest, RootIsADirectory) {
  Mount();
  Result<AttrReply> root = fs_->GetAttr(kRootIno);
  ASSERT_TRUE(root.has_value());
  EXPECT_TRUE(S_ISDIR(root->attr.mode));
  EXPECT_EQ(root->attr.mode & 07777, 0755u);
  EXPECT_EQ(root->attr.nlink, 2u);
  EXPECT_EQ(root->attr.ino, kRootIno);
  EXPECT_EQ(root->attr.mtime.tv_sec, 1'700'000'000);  // mount time
  EXPECT_EQ(TotalRequests(), 0u);
}

TEST_F(FsTest, FileAttributesFromListFields) {
  clock_.Advance(seconds(10));
  Put("dir/file.txt", "hello");
  Mount();
  Result<Entry> dir = LookupPath("dir");
  ASSERT_TRUE(dir.has_value());
  EXPECT_TRUE(S_ISDIR(dir->attr.mode));
  Result<Entry> file = LookupPath("dir/file.txt");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->attr.mode, S_IFREG | 0644u);
  EXPECT_EQ(file->attr.size, 5u);
  EXPECT_EQ(file->attr.blocks, 1u);
  EXPECT_EQ(file->attr.nlink, 1u);
  EXPECT_EQ(file->attr.uid, 1000u);
  EXPECT_EQ(file->attr.gid, 1000u);
  EXPECT_EQ(file->attr.mtime.tv_sec, 1'700'000'010);
  EXPECT_EQ(file->entry_timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(file->attr_timeout, std::chrono::milliseconds(30000));
  EXPECT_NE(file->attr.ino, dir->attr.ino);
  Result<AttrReply> attr = fs_->GetAttr(file->attr.ino);
  ASSERT_TRUE(attr.has_value());
  EXPECT_EQ(attr->attr.size, 5u);
  EXPECT_EQ(attr->attr.ino, file->attr.ino);
}

TEST_F(FsTest, MarkerlessNestedDirectories) {
  Put("a/b/c/d.txt", "x");
  Mount();
  for (const char* dir : {"a", "a/b", "a/b/c"}) {
    Result<Entry> e = LookupPath(dir);
    ASSERT_TRUE(e.has_value()) << dir;
    EXPECT_TRUE(S_ISDIR(e->attr.mode)) << dir;
    EXPECT_EQ(e->attr.mtime.tv_sec, 1'700'000'000) << "mount time";
  }
  Result<Entry> d = LookupPath("a/b/c/d.txt");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(S_ISREG(d->attr.mode));
  EXPECT_EQ(fs_->Lookup(InoOf("a/b"), "nope").error().errno_value, ENOENT);
  EXPECT_EQ(ReadAll(InoOf("a/b"), false).size(), 3u);  // ., .., c
}

TEST_F(FsTest, MarkerDirectoryHasMarkerMtime) {
  clock_.Advance(seconds(100));
  Put("m/");  // zero-byte marker, as mkdir creates
  clock_.Advance(seconds(100));
  Mount();
  Result<Entry> m = LookupPath("m");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(S_ISDIR(m->attr.mode));
  EXPECT_EQ(m->attr.mtime.tv_sec, 1'700'000'100);
  // The listed directory's own marker is not an entry.
  EXPECT_EQ(Names(ReadAll(m->attr.ino, true)),
            (std::vector<std::string>{".", ".."}));
}

TEST_F(FsTest, MountPrefix) {
  fake_->PutForTest("other/x", "no");
  fake_->PutForTest("prefix", "no");
  fake_->PutForTest("pre", "no");
  options_.prefix = "pre/";
  Put("x", "yes");
  Mount();
  EXPECT_EQ(Names(ReadAll(kRootIno, false)),
            (std::vector<std::string>{".", "..", "x"}));
  Result<std::string> body = ReadFile(InoOf("x"));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, "yes");
  EXPECT_FALSE(LookupPath("other").has_value());
}

TEST_F(FsTest, UnusualKeys) {
  const std::vector<std::string> names = {"with space.txt",
                                          "caf\xc3\xa9-\xe2\x82\xac.deb",
                                          "c++_1.0+dfsg.tar",
                                          "100%.txt",
                                          "a%2Fb",
                                          "semi;colon&amp=x",
                                          "~tilde",
                                          "#hash?q"};
  for (const auto& n : names) Put("u/" + n, n);
  Mount();
  std::vector<std::string> listed = Names(ReadAll(InoOf("u"), true));
  std::vector<std::string> expected = names;
  std::sort(expected.begin(), expected.end());
  expected.insert(expected.begin(), {".", ".."});
  EXPECT_EQ(listed, expected);
  for (const auto& n : names) {
    Result<std::string> body = ReadFile(InoOf("u/" + n));
    ASSERT_TRUE(body.has_value()) << n;
    EXPECT_EQ(*body, n);
  }
}

TEST_F(FsTest, ObjectAndPrefixConflictIsADirectory) {
  Put("a", "object a");
  Put("a/b", "child");
  Mount();
  Result<Entry> a = LookupPath("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(S_ISDIR(a->attr.mode));
  EXPECT_TRUE(LookupPath("a/b").has_value());
  std::vector<DirEntry> root = ReadAll(kRootIno, true);
  ASSERT_EQ(Names(root), (std::vector<std::string>{".", "..", "a"}));
  EXPECT_EQ(root[2].type, static_cast<mode_t>(S_IFDIR));
  EXPECT_EQ(root[2].ino, a->attr.ino);
}

TEST_F(FsTest, InvalidKeysAreHidden) {
  Put("x/ok", "1");
  Put("x//empty-segment", "2");
  Put("x/./dot", "3");
  Put("x/../dotdot", "4");
  Put("x/" + std::string(256, 'n'), "5");
  Put("x/" + std::string(255, 'm'), "6");
  Put("/leading-slash", "7");
  Put("x/sub//deeper", "8");
  Mount();
  std::vector<std::string> names = Names(ReadAll(InoOf("x"), true));
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", std::string(255, 'm'),
                                             "ok", "sub"}));
  EXPECT_EQ(Names(ReadAll(kRootIno, true)),
            (std::vector<std::string>{".", "..", "x"}));
  EXPECT_EQ(Names(ReadAll(InoOf("x/sub"), true)),
            (std::vector<std::string>{".", ".."}));
  Ino x = InoOf("x");
  EXPECT_EQ(fs_->Lookup(x, std::string(256, 'n')).error().errno_value,
            ENAMETOOLONG);
  EXPECT_EQ(fs_->Lookup(x, "").error().errno_value, ENOENT);
  EXPECT_EQ(fs_->Lookup(x, "a/b").error().errno_value, ENOENT);
  EXPECT_TRUE(fs_->Lookup(x, std::string(255, 'm')).has_value());
}

TEST_F(FsTest, S3fsMetadata) {
  Put("bin/tool", "#!/bin/sh\n",
      {{"mode", std::to_string(S_IFREG | 0775)},
       {"uid", "42"},
       {"gid", "43"},
       {"mtime", "1600000000.25"}});
  Put("bin/plain", "x", {{"mtime", "1500000000"}});
  Put("bin/bad", "x", {{"mode", "rw-r--r--"}, {"mtime", "soon"}});
  Mount();
  Result<Entry> tool = LookupPath("bin/tool");
  ASSERT_TRUE(tool.has_value());
  EXPECT_EQ(tool->attr.mode, S_IFREG | 0755u) << "umask 022 applies";
  EXPECT_EQ(tool->attr.uid, 42u);
  EXPECT_EQ(tool->attr.gid, 43u);
  EXPECT_EQ(tool->attr.mtime.tv_sec, 1'600'000'000);
  EXPECT_EQ(tool->attr.mtime.tv_nsec, 250'000'000);
  Result<Entry> plain = LookupPath("bin/plain");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->attr.mtime.tv_sec, 1'500'000'000);
  EXPECT_EQ(plain->attr.uid, 1000u);
  Result<Entry> bad = LookupPath("bin/bad");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->attr.mode, S_IFREG | 0644u);
  EXPECT_EQ(bad->attr.mtime.tv_sec, 1'700'000'000);
}

TEST_F(FsTest, UmaskOption) {
  options_.umask = 077;
  Put("f", "x", {{"mode", std::to_string(S_IFREG | 0666)}});
  Put("d/g", "x");
  Mount();
  EXPECT_EQ(LookupPath("f")->attr.mode, S_IFREG | 0600u);
  EXPECT_EQ(LookupPath("d")->attr.mode, S_IFDIR | 0700u);
  EXPECT_EQ(LookupPath("d/g")->attr.mode, S_IFREG | 0600u);
}

TEST_F(FsTest, Symlinks) {
  Put("dists/stable", "bookworm", {{"mode", std::to_string(S_IFLNK | 0777)}});
  Mount();
  Result<Entry> link = LookupPath("dists/stable");
  ASSERT_TRUE(link.has_value());
  EXPECT_TRUE(S_ISLNK(link->attr.mode));
  EXPECT_EQ(link->attr.size, 8u);
  Result<std::string> target = fs_->ReadLink(link->attr.ino);
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(*target, "bookworm");
  EXPECT_EQ(Count("GetObject"), 1u);
  EXPECT_EQ(fs_->ReadLink(link->attr.ino).value(), "bookworm");
  EXPECT_EQ(Count("GetObject"), 1u) << "target cached per version";
  EXPECT_EQ(fs_->ReadLink(InoOf("dists")).error().errno_value, EINVAL);
  std::vector<DirEntry> plus = ReadAll(InoOf("dists"), true);
  ASSERT_EQ(plus.size(), 3u);
  EXPECT_EQ(plus[2].type, static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(plus[2].ino, link->attr.ino);
}

TEST_F(FsTest, AttrSourceListIgnoresMetadataAndNeverHeads) {
  options_.attr_source = AttrSource::kList;
  clock_.Advance(seconds(5));
  Put("d/link", "target", {{"mode", std::to_string(S_IFLNK | 0777)}});
  Put("d/file", "abc",
      {{"mode", std::to_string(S_IFREG | 0600)}, {"mtime", "1000"}});
  Mount();
  Result<Entry> file = LookupPath("d/file");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->attr.mode, S_IFREG | 0644u);
  EXPECT_EQ(file->attr.mtime.tv_sec, 1'700'000'005) << "LastModified";
  Result<Entry> link = LookupPath("d/link");
  ASSERT_TRUE(link.has_value());
  EXPECT_TRUE(S_ISREG(link->attr.mode)) << "symlinks need attr_source=head";
  std::vector<DirEntry> plus = ReadAll(InoOf("d"), true);
  ASSERT_EQ(plus.size(), 4u);
  EXPECT_EQ(plus[2].entry.attr.mtime.tv_sec, file->attr.mtime.tv_sec);
  EXPECT_EQ(plus[2].ino, file->attr.ino);
  EXPECT_FALSE(LookupPath("d/missing").has_value());
  EXPECT_EQ(ReadFile(file->attr.ino).value(), "abc");
  EXPECT_EQ(Count("HeadObject"), 0u);
}

TEST_F(FsTest, NegativeCache) {
  Mount();
  EXPECT_EQ(LookupPath("late").error().errno_value, ENOENT);
  EXPECT_EQ(Count("HeadObject"), 1u);
  EXPECT_EQ(Count("ListObjects"), 1u);
  Put("late", "now here");
  clock_.Advance(seconds(4));
  EXPECT_EQ(LookupPath("late").error().errno_value, ENOENT)
      << "trusted for negative_ttl";
  EXPECT_EQ(TotalRequests(), 2u);
  clock_.Advance(seconds(2));
  EXPECT_TRUE(LookupPath("late").has_value());
  EXPECT_EQ(fs_->negative_timeout(), std::chrono::milliseconds(5000));
}

TEST_F(FsTest, FreshListingAnswersLookupsWithoutRequests) {
  Put("dir/a", "1");
  Put("dir/sub/b", "2");
  Mount();
  Ino dir = InoOf("dir");
  ReadAll(dir, true);  // LIST + background HEADs
  fake_->ResetRequestCounts();
  EXPECT_TRUE(fs_->Lookup(dir, "a").has_value());
  EXPECT_TRUE(fs_->Lookup(dir, "sub").has_value());
  EXPECT_EQ(fs_->Lookup(dir, "missing").error().errno_value, ENOENT);
  EXPECT_EQ(TotalRequests(), 0u);
  // After the TTL the listing is no longer trusted: the lookup probes
  // (HEAD + LIST) and the directory is re-listed in the background.
  clock_.Advance(seconds(31));
  EXPECT_EQ(fs_->Lookup(dir, "other").error().errno_value, ENOENT);
  ASSERT_TRUE(WaitUntil([&] { return fs_->listing_refreshes() == 1; }));
  EXPECT_EQ(TotalRequests(), 3u);
  // The lookups after it answer from the new listing.
  EXPECT_TRUE(fs_->Lookup(dir, "a").has_value());
  EXPECT_EQ(fs_->Lookup(dir, "other2").error().errno_value, ENOENT);
  EXPECT_EQ(TotalRequests(), 3u);
}

// ls -l of a big directory in head mode: the HEADs of READDIRPLUS can take
// longer than the TTL, so the kernel looks the names up again one by one.
// One background re-listing replaces a probe (HEAD + LIST) per name.
TEST_F(FsTest, ExpiredListingIsRefreshedOnceForTheLookupsAfterIt) {
  for (int i = 0; i < 2500; ++i) Put("big/f" + std::to_string(10000 + i), "x");
  Mount();
  Ino big = InoOf("big");
  ASSERT_EQ(ReadAll(big, true).size(), 2502u);
  clock_.Advance(seconds(31));
  fake_->ResetRequestCounts();
  // 3 pages: the re-listing starts once the probes have cost 3 requests.
  ASSERT_TRUE(fs_->Lookup(big, "f10000").has_value());  // probe
  EXPECT_EQ(fs_->listing_refreshes(), 0u);
  ASSERT_TRUE(fs_->Lookup(big, "f10001").has_value());  // probe + re-list
  ASSERT_TRUE(WaitUntil([&] { return fs_->listing_refreshes() == 1; }));
  for (int i = 2; i < 2500; ++i) {
    ASSERT_TRUE(fs_->Lookup(big, "f" + std::to_string(10000 + i)).has_value());
  }
  EXPECT_EQ(Count("HeadObject"), 2u);
  EXPECT_EQ(Count("ListObjects"), 2u + 3u);  // the probes', 3 pages
  // A new object appears in the next listing, not before the TTL.
  Put("big/new", "n");
  EXPECT_EQ(fs_->Lookup(big, "new").error().errno_value, ENOENT);
}

// One name of a big directory looked up after the TTL (nginx serving one
// file) costs its probe, not a re-listing of every page.
TEST_F(FsTest, OneLookupInABigExpiredDirectoryDoesNotRelistIt) {
  for (int i = 0; i < 5000; ++i) Put("huge/f" + std::to_string(10000 + i));
  Mount();
  Ino huge = InoOf("huge");
  ASSERT_EQ(ReadAll(huge, false).size(), 5002u);
  clock_.Advance(seconds(31));
  fake_->ResetRequestCounts();
  ASSERT_TRUE(fs_->Lookup(huge, "f12345").has_value());
  ASSERT_TRUE(fs_->Lookup(huge, "f12346").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(fs_->listing_refreshes(), 0u);
  EXPECT_EQ(TotalRequests(), 4u);  // two probes; 6 pages would cost more
  ASSERT_TRUE(fs_->Lookup(huge, "f12347").has_value());  // 6 requests: now
  ASSERT_TRUE(WaitUntil([&] { return fs_->listing_refreshes() == 1; }));
}

// A directory changed through this mount while its re-listing ran keeps
// no listing from before the change.
TEST(ListingCacheTest, BackgroundPutLosesToALocalChange) {
  ListingCache cache(std::chrono::milliseconds(30000));
  auto listing = std::make_shared<Listing>();
  listing->listed_at = SteadyTime(std::chrono::hours(1));
  uint64_t token = cache.ChangeToken();
  cache.Erase(7);  // a create in directory 7
  EXPECT_FALSE(cache.PutIfUnchanged(7, listing, token));
  EXPECT_EQ(cache.GetAny(7), nullptr);
  EXPECT_TRUE(cache.PutIfUnchanged(8, listing, token));  // other directory
  token = cache.ChangeToken();
  EXPECT_TRUE(cache.PutIfUnchanged(7, listing, token));
  cache.Clear();  // a directory rename
  EXPECT_FALSE(cache.PutIfUnchanged(9, listing, token));
}

// The first stat of a file costs the same requests among 100 objects as
// among 100,000, never a listing of the directory, and never an ordered
// LIST over the directory's children (prefix "pool/" without a delimiter),
// whose cost on RGW grows with them.
TEST_F(FsTest, LookupCostIndependentOfDirectorySize) {
  auto cost_with = [&](int objects, AttrSource source) {
    fake_ = std::make_shared<FakeObjectClient>(clock_);
    options_.attr_source = source;
    for (int i = 0; i < objects; ++i) {
      Put("pool/pkg-" + std::to_string(i) + ".deb", "");
    }
    Mount();
    fake_->ResetRequestCounts();
    Result<Entry> e =
        LookupPath("pool/pkg-" + std::to_string(objects / 2) + ".deb");
    EXPECT_TRUE(e.has_value());
    for (const ListRequest& list : fake_->ListRequestsForTest()) {
      EXPECT_LE(list.max_keys, 8);
      EXPECT_FALSE(list.prefix == options_.prefix + "pool/" &&
                   list.delimiter.empty())
          << "an ordered LIST over the directory's children";
    }
    return fake_->RequestCounts();
  };
  std::map<std::string, uint64_t> small = cost_with(100, AttrSource::kHead);
  std::map<std::string, uint64_t> large =
      cost_with(100'000, AttrSource::kHead);
  EXPECT_EQ(small, large);
  // "pool" (then its marker "pool/", as the LIST showed a directory) and
  // the file.
  EXPECT_EQ(large["HeadObject"], 3u);
  EXPECT_EQ(large["ListObjects"], 2u);  // one delimited LIST per name
  small = cost_with(100, AttrSource::kList);
  large = cost_with(100'000, AttrSource::kList);
  EXPECT_EQ(small, large);
  EXPECT_EQ(large["HeadObject"], 0u);
  EXPECT_EQ(large["ListObjects"], 2u);  // one delimited LIST per name
}

// attr_source=list: one LIST per lookup, for a file, a directory or a
// missing name, and no HEAD.
TEST_F(FsTest, AttrSourceListLookupIsOneList) {
  options_.attr_source = AttrSource::kList;
  Put("pool/main/a.deb", "a");
  Put("pool/main/a.deb.asc", "s");
  Mount();
  fake_->ResetRequestCounts();
  Result<Entry> file = LookupPath("pool/main/a.deb");
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(S_ISREG(file->attr.mode));
  EXPECT_EQ(file->attr.size, 1u);
  EXPECT_FALSE(LookupPath("pool/main/b.deb").has_value());
  EXPECT_EQ(Count("HeadObject"), 0u);
  EXPECT_EQ(Count("ListObjects"), 4u);  // pool, main, a.deb, b.deb
}

// attr_source=list: names between "key" and "key/" in S3's order ("a.deb",
// "a-1" before "a/") can fill the probe's page: then LIST prefix="key/" decides.
TEST_F(FsTest, ProbeCrowdedBySiblingsBeforeTheSlashStillFindsTheDirectory) {
  options_.attr_source = AttrSource::kList;
  for (int i = 0; i < 20; ++i) Put("repo/a-" + std::to_string(i), "x");
  Put("repo/a.txt", "t");
  Put("repo/a/inner", "i");
  Put("repo/b-" + std::string(1, '0'), "y");
  for (int i = 0; i < 20; ++i) Put("repo/b-" + std::to_string(i) + ".x", "");
  Put("repo/b", "file b");
  Mount();
  Result<Entry> dir = LookupPath("repo/a");
  ASSERT_TRUE(dir.has_value());
  EXPECT_TRUE(S_ISDIR(dir->attr.mode));
  Result<Entry> file = LookupPath("repo/b");
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(S_ISREG(file->attr.mode));
  EXPECT_EQ(file->attr.size, 6u);
  EXPECT_TRUE(LookupPath("repo/a/inner").has_value());
}

// A key seen as a directory is revalidated by the LIST and the HEAD of its
// marker (not of the object); when the LIST shows no children the object is
// asked for after all.
TEST_F(FsTest, KnownDirectoryRevalidatesWithoutHeadOfTheObject) {
  Put("dists/bookworm/InRelease", "r");
  Mount();
  ASSERT_TRUE(LookupPath("dists").has_value());
  // First sight: HEAD "dists" + LIST in parallel, then HEAD "dists/".
  EXPECT_EQ(Count("HeadObject"), 2u);
  EXPECT_EQ(Count("ListObjects"), 1u);
  clock_.Advance(seconds(31));
  fake_->ResetRequestCounts();
  Result<Entry> again = fs_->Lookup(kRootIno, "dists");
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(S_ISDIR(again->attr.mode));
  EXPECT_EQ(Count("HeadObject"), 1u);  // "dists/"
  EXPECT_EQ(Count("ListObjects"), 1u);
  // The directory became a file: the empty LIST is followed by the HEAD.
  ASSERT_TRUE(fake_->DeleteObject(options_.prefix + "dists/bookworm/InRelease")
                  .has_value());
  Put("dists", "now a file");
  clock_.Advance(seconds(31));
  fake_->ResetRequestCounts();
  Result<Entry> file = fs_->Lookup(kRootIno, "dists");
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE(S_ISREG(file->attr.mode));
  EXPECT_EQ(file->attr.size, 10u);
  EXPECT_EQ(Count("HeadObject"), 2u);  // the marker's, then the object's
  EXPECT_EQ(Count("ListObjects"), 1u);
}

// The mount's check of the bucket lists the root: that page, when complete,
// answers the root's lookups until the TTL (a name in it, or not in it).
TEST_F(FsTest, SeededRootListingAnswersTheFirstLookups) {
  options_.prefix = "p/";
  Put("dists/bookworm/InRelease", "r");
  Put("index.html", "<html>");
  Mount();
  ListRequest root;
  root.prefix = "p/";
  root.delimiter = "/";
  S3Result<ListPage> page = fake_->ListObjects(root);
  ASSERT_TRUE(page.has_value());
  fs_->SeedRootListing(*page, clock_.SteadyNow());
  fake_->ResetRequestCounts();
  Result<Entry> file = fs_->Lookup(kRootIno, "index.html");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->attr.size, 6u);
  EXPECT_EQ(fs_->Lookup(kRootIno, "missing").error().errno_value, ENOENT);
  EXPECT_EQ(Count("ListObjects"), 0u);
  // attr_source=head: a directory's marker (none here) and a file's
  // metadata are still asked for, with one HEAD each.
  ASSERT_TRUE(fs_->Lookup(kRootIno, "dists").has_value());
  EXPECT_EQ(Count("HeadObject"), 2u);
  EXPECT_EQ(Count("ListObjects"), 0u);
  // After the TTL the name is probed again.
  clock_.Advance(seconds(31));
  Put("late", "l");
  EXPECT_TRUE(fs_->Lookup(kRootIno, "late").has_value());
  EXPECT_GE(Count("ListObjects"), 1u);
}

// A truncated page (a root of more than max-keys entries) is no listing.
TEST_F(FsTest, TruncatedRootPageIsNotSeeded) {
  Put("a", "1");
  Put("b", "2");
  Mount();
  ListRequest root;
  root.delimiter = "/";
  root.max_keys = 1;
  S3Result<ListPage> page = fake_->ListObjects(root);
  ASSERT_TRUE(page.has_value());
  ASSERT_TRUE(page->truncated);
  fs_->SeedRootListing(*page, clock_.SteadyNow());
  fake_->ResetRequestCounts();
  ASSERT_TRUE(fs_->Lookup(kRootIno, "b").has_value());
  EXPECT_EQ(Count("ListObjects"), 1u);  // probed: "b" was not in the page
}

}  // namespace
}  // namespace repofs::fs::test
