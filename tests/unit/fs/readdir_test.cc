// READDIR / READDIRPLUS of fs::Filesystem: snapshots, offsets, lookup
// counts, attribute agreement with LOOKUP/GETATTR and parallel HEADs.
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "fs_test_support.h"
#include "s3/failure_object_client.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

TEST_F(FsTest, ReadDirListsOnePassWithDotEntries) {
  for (int i = 0; i < 2500; ++i) Put("d/f" + std::to_string(10000 + i), "x");
  Put("d/sub/inner", "y");
  Put("d/sub2/");
  Mount();
  Ino d = InoOf("d");
  fake_->ResetRequestCounts();
  std::vector<DirEntry> all = ReadAll(d, false);
  ASSERT_EQ(all.size(), 2u + 2500u + 2u);
  EXPECT_EQ(Count("ListObjects"), 3u) << "2502 entries = 3 pages";
  EXPECT_EQ(Count("HeadObject"), 0u) << "plain READDIR needs no attributes";
  EXPECT_EQ(all[0].name, ".");
  EXPECT_EQ(all[0].ino, d);
  EXPECT_EQ(all[1].name, "..");
  EXPECT_EQ(all[1].ino, kRootIno);
  EXPECT_EQ(all[2].name, "f10000");
  EXPECT_EQ(all[2].type, static_cast<mode_t>(S_IFREG));
  EXPECT_EQ(all[2].ino, kUnknownIno) << "READDIR creates no inode";
  EXPECT_EQ(all[2502].name, "sub");
  EXPECT_EQ(all[2502].type, static_cast<mode_t>(S_IFDIR));
  EXPECT_EQ(all[2503].name, "sub2");
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].next_offset, i + 1);
  EXPECT_EQ(fs_->InodeCount(), 2u);  // root + d
}

TEST_F(FsTest, ReadDirBatchesResumeAtOffsets) {
  for (int i = 0; i < 50; ++i) Put("d/n" + std::to_string(100 + i));
  Mount();
  Ino d = InoOf("d");
  std::vector<std::string> whole = Names(ReadAll(d, true, 1000));
  std::vector<std::string> small = Names(ReadAll(d, true, 3));
  EXPECT_EQ(whole, small);
  EXPECT_EQ(whole.size(), 52u);
}

TEST_F(FsTest, SnapshotIsStableWhileTheHandleIsOpen) {
  Put("d/a");
  Put("d/b");
  Mount();
  Ino d = InoOf("d");
  Result<uint64_t> fh = fs_->OpenDir(d);
  ASSERT_TRUE(fh.has_value());
  auto first = fs_->ReadDir(
      *fh, 0, false, [n = 0](std::string_view) mutable { return n++ < 3; });
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 3u);
  fake_->PutForTest("d/aa", "");  // sorts between a and b
  auto rest = fs_->ReadDir(*fh, first->back().next_offset, false,
                           [](std::string_view) { return true; });
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().name, "b");
  fs_->ReleaseDir(*fh);
  EXPECT_EQ(fs_->ReadDir(*fh, 0, false, [](std::string_view) { return true; })
                .error()
                .errno_value,
            EBADF);
}

TEST_F(FsTest, ReadDirPlusCountsLookupsAndAgreesWithLookup) {
  clock_.Advance(seconds(3));
  Put("d/plain", "abcd");
  Put("d/meta", "x",
      {{"mode", std::to_string(S_IFREG | 0640)},
       {"mtime", "1234567890.5"},
       {"uid", "7"}});
  Put("d/link", "plain", {{"mode", std::to_string(S_IFLNK | 0777)}});
  Put("d/sub/x");
  Mount();
  Ino d = InoOf("d");
  std::vector<DirEntry> plus = ReadAll(d, true);
  ASSERT_EQ(Names(plus), (std::vector<std::string>{".", "..", "link", "meta",
                                                   "plain", "sub"}));
  EXPECT_FALSE(plus[0].has_entry);
  EXPECT_FALSE(plus[1].has_entry);
  EXPECT_EQ(fs_->LookupCount(d), 1u) << "'.' counts no lookup";
  for (size_t i = 2; i < plus.size(); ++i) {
    const DirEntry& e = plus[i];
    ASSERT_TRUE(e.has_entry) << e.name;
    EXPECT_EQ(e.ino, e.entry.attr.ino);
    EXPECT_EQ(fs_->LookupCount(e.ino), 1u) << e.name;
    Result<Entry> looked = fs_->Lookup(d, e.name);
    ASSERT_TRUE(looked.has_value());
    EXPECT_EQ(looked->attr.ino, e.ino) << e.name;
    EXPECT_EQ(looked->attr.size, e.entry.attr.size) << e.name;
    EXPECT_EQ(looked->attr.mode, e.entry.attr.mode) << e.name;
    EXPECT_EQ(looked->attr.mtime.tv_sec, e.entry.attr.mtime.tv_sec);
    EXPECT_EQ(looked->attr.mtime.tv_nsec, e.entry.attr.mtime.tv_nsec);
    EXPECT_EQ(fs_->LookupCount(e.ino), 2u) << e.name;
    Result<AttrReply> attr = fs_->GetAttr(e.ino);
    ASSERT_TRUE(attr.has_value());
    EXPECT_EQ(attr->attr.size, e.entry.attr.size);
    EXPECT_EQ(attr->attr.mtime.tv_sec, e.entry.attr.mtime.tv_sec);
    EXPECT_EQ(attr->attr.mode, e.entry.attr.mode);
  }
  EXPECT_EQ(plus[2].entry.attr.mode, S_IFLNK | 0777u);
  EXPECT_EQ(plus[3].entry.attr.mode, S_IFREG | 0640u);
  EXPECT_EQ(plus[3].entry.attr.uid, 7u);
  EXPECT_EQ(plus[3].entry.attr.mtime.tv_sec, 1'234'567'890);
  EXPECT_EQ(plus[3].entry.attr.mtime.tv_nsec, 500'000'000);
  EXPECT_EQ(plus[4].entry.attr.size, 4u);
  EXPECT_EQ(plus[4].entry.attr.mtime.tv_sec, 1'700'000'003);
  EXPECT_TRUE(S_ISDIR(plus[5].entry.attr.mode));
  EXPECT_EQ(plus[4].entry.entry_timeout, std::chrono::milliseconds(30000));
  // A second READDIRPLUS returns the same inodes and needs no HEAD.
  fake_->ResetRequestCounts();
  std::vector<DirEntry> again = ReadAll(d, true);
  for (size_t i = 2; i < again.size(); ++i) {
    EXPECT_EQ(again[i].ino, plus[i].ino);
    EXPECT_EQ(fs_->LookupCount(again[i].ino), 3u);
  }
  EXPECT_EQ(TotalRequests(), 0u) << "listing and metadata still fresh";
  // Plain READDIR now reports the known inode numbers.
  std::vector<DirEntry> plain = ReadAll(d, false);
  EXPECT_EQ(plain[3].ino, plus[3].ino);
  EXPECT_EQ(plain[2].type, static_cast<mode_t>(S_IFLNK));
}

TEST_F(FsTest, SameVersionSameAttributesWhicheverPathSawItFirst) {
  Put("d/f", "body", {{"mtime", "1111111111"}, {"mode", "33188"}});
  Mount();
  Ino d = InoOf("d");
  Entry via_lookup = fs_->Lookup(d, "f").value();
  fs_->Forget(via_lookup.attr.ino, 1);
  EXPECT_EQ(fs_->InodeCount(), 2u);
  // A new filesystem (empty caches) sees it first through READDIRPLUS.
  Mount();
  d = InoOf("d");
  std::vector<DirEntry> plus = ReadAll(d, true);
  ASSERT_EQ(plus.size(), 3u);
  const Attr& a = plus[2].entry.attr;
  EXPECT_EQ(a.size, via_lookup.attr.size);
  EXPECT_EQ(a.mode, via_lookup.attr.mode);
  EXPECT_EQ(a.mtime.tv_sec, via_lookup.attr.mtime.tv_sec);
  EXPECT_EQ(a.mtime.tv_sec, 1'111'111'111);
}

TEST_F(FsTest, ReadDirPlusSkipsObjectsDeletedAfterTheList) {
  Put("d/a");
  Put("d/b");
  Put("d/c");
  Mount();
  Ino d = InoOf("d");
  Result<uint64_t> fh = fs_->OpenDir(d);
  ASSERT_TRUE(fh.has_value());
  ASSERT_TRUE(fake_->DeleteObject("d/b").ok());
  auto got = fs_->ReadDir(*fh, 0, true, [](std::string_view) { return true; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Names(*got), (std::vector<std::string>{".", "..", "a", "c"}));
  fs_->ReleaseDir(*fh);
}

TEST_F(FsTest, ReadDirPlusWithoutMetadataSourceMakesNoHeads) {
  options_.attr_source = AttrSource::kList;
  for (int i = 0; i < 300; ++i) Put("d/f" + std::to_string(i), "x");
  Mount();
  std::vector<DirEntry> plus = ReadAll(InoOf("d"), true);
  EXPECT_EQ(plus.size(), 302u);
  EXPECT_EQ(Count("HeadObject"), 0u);
}

// The background HEADs of a big directory must not hold up those of a
// directory listed after it (an autoindex page while `ls -l` of a 100,000
// object pool runs): its entries wait for one turn of the runners, not for
// every HEAD of the big one.
TEST_F(FsTest, ReadDirPlusOfASmallDirIsNotQueuedBehindABigOne) {
  constexpr int kBig = 600;
  for (int i = 0; i < kBig; ++i) Put("big/f" + std::to_string(1000 + i));
  Put("small/only");
  options_.head_parallelism = 4;
  auto slow = std::make_shared<FailureObjectClient>(fake_, RealClock());
  Mount(slow);
  const Ino big = InoOf("big");
  const Ino small = InoOf("small");
  slow->SetLatency("HeadObject", std::chrono::milliseconds(10));
  auto first_batch = [&](Ino dir) -> Result<uint64_t> {
    Result<uint64_t> fh = fs_->OpenDir(dir);
    if (!fh.has_value()) return fh;
    size_t n = 0;
    auto got = fs_->ReadDir(*fh, 0, true,
                            [&](std::string_view) { return n++ < 3; });
    if (!got.has_value()) return got.error();
    return fh;
  };
  Result<uint64_t> big_fh = first_batch(big);  // queues 600 HEADs
  ASSERT_TRUE(big_fh.has_value());
  Result<uint64_t> small_fh = first_batch(small);
  ASSERT_TRUE(small_fh.has_value());
  // 600 HEADs on 4 threads; the small one ran after at most a turn of each.
  const uint64_t heads_when_small_done = slow->RequestCounts()["HeadObject"];
  EXPECT_LT(heads_when_small_done,
            static_cast<uint64_t>(kBig / 2))
      << "the small directory waited for the big one's HEADs";
  fs_->ReleaseDir(*small_fh);
  fs_->ReleaseDir(*big_fh);
}

// `ls -l` of 2,000 objects whose metadata is unknown: the HEADs run in
// parallel (head_parallelism), and the first batch does not wait for all.
TEST_F(FsTest, ReadDirPlusHeadsRunInParallel) {
  constexpr int kObjects = 2000;
  constexpr auto kLatency = std::chrono::milliseconds(20);
  for (int i = 0; i < kObjects; ++i) Put("d/f" + std::to_string(10000 + i));
  options_.head_parallelism = 32;
  auto slow = std::make_shared<FailureObjectClient>(fake_, RealClock());
  Mount(slow);
  Ino d = InoOf("d");
  fake_->ResetRequestCounts();
  slow->SetLatency("HeadObject", kLatency);

  const auto start = std::chrono::steady_clock::now();
  Result<uint64_t> fh = fs_->OpenDir(d);
  ASSERT_TRUE(fh.has_value());
  std::chrono::steady_clock::duration first_batch{};
  uint64_t offset = 0;
  size_t entries = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    size_t n = 0;
    auto got = fs_->ReadDir(*fh, offset, true,
                            [&](std::string_view) { return n++ < 40; });
    ASSERT_TRUE(got.has_value());
    if (got->empty()) break;
    if (offset == 0) first_batch = std::chrono::steady_clock::now() - start;
    entries += got->size();
    offset = got->back().next_offset;
  }
  const auto total = std::chrono::steady_clock::now() - start;
  fs_->ReleaseDir(*fh);
  EXPECT_EQ(entries, kObjects + 2u);
  EXPECT_EQ(Count("HeadObject"), static_cast<uint64_t>(kObjects));
  const auto serial = kLatency * kObjects;  // 40 s
  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::cout << "readdirplus of " << kObjects << " unknown objects, "
            << ms(kLatency) << " ms per HEAD: first batch " << ms(first_batch)
            << " ms, all " << ms(total) << " ms (serial would be " << ms(serial)
            << " ms)\n";
  EXPECT_LT(total, serial / 8);
  EXPECT_LT(first_batch, total / 4);
}

}  // namespace
}  // namespace repofs::fs::test

namespace repofs::fs::test {
namespace {

// Unmounting with a directory handle still open (queued HEADs) must not
// wait for the remaining HEADs: they are cancelled.
TEST_F(FsTest, ShutdownCancelsQueuedHeads) {
  for (int i = 0; i < 1000; ++i) Put("d/f" + std::to_string(i));
  options_.head_parallelism = 4;
  auto slow = std::make_shared<FailureObjectClient>(fake_, RealClock());
  Mount(slow);
  Ino d = InoOf("d");
  slow->SetLatency("HeadObject", std::chrono::milliseconds(20));
  Result<uint64_t> fh = fs_->OpenDir(d);
  ASSERT_TRUE(fh.has_value());
  size_t n = 0;
  auto got =
      fs_->ReadDir(*fh, 0, true, [&](std::string_view) { return n++ < 10; });
  ASSERT_TRUE(got.has_value());
  const auto start = std::chrono::steady_clock::now();
  fs_.reset();  // 1000 HEADs x 20 ms / 4 would take 5 s
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_LT(Count("HeadObject"), 200u);
}

// Many threads looking up, listing, opening, reading and forgetting while
// objects are replaced: every successful read returns one whole version.
TEST_F(FsTest, ConcurrentOperationsWhileObjectsChange) {
  for (int i = 0; i < 20; ++i) {
    Put("d/f" + std::to_string(i), std::string(1000 + i, 'a'));
  }
  options_.metadata_ttl = std::chrono::milliseconds(0);  // always revalidate
  Mount();
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200 && !failed; ++round) {
        const std::string name = "f" + std::to_string((t * 7 + round) % 20);
        if (t == 0 && round % 10 == 0) {
          fake_->PutForTest("d/" + name,
                            std::string(1000 + round, 'b' + round % 20));
          continue;
        }
        Result<Entry> d = fs_->Lookup(kRootIno, "d");
        if (!d.has_value()) continue;
        if (round % 5 == 0) {
          std::vector<DirEntry> all = ReadAll(d->attr.ino, round % 2 == 0);
          for (const DirEntry& e : all) {
            if (e.has_entry) fs_->Forget(e.ino, 1);
          }
        }
        Result<Entry> f = fs_->Lookup(d->attr.ino, name);
        if (f.has_value()) {
          Result<std::string> body = ReadFile(f->attr.ino, 300);
          if (body.has_value()) {
            const std::string& b = *body;
            bool uniform =
                !b.empty() && b.find_first_not_of(b[0]) == std::string::npos;
            if (!uniform || b.size() != f->attr.size) failed = true;
          } else if (body.error().errno_value != ESTALE &&
                     body.error().errno_value != EIO) {
            failed = true;
          }
          fs_->Forget(f->attr.ino, 1);
        }
        fs_->Forget(d->attr.ino, 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(fs_->OpenFileCount(), 0u);
  EXPECT_EQ(fs_->InodeCount(), 1u) << "everything forgotten";
}

}  // namespace
}  // namespace repofs::fs::test
