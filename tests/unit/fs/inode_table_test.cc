// InodeTable (binding, versions, lifetime), compact strings, attribute
// mapping, and the memory cost of 100,000 inodes.
#include "fs/inode_table.h"

#include <malloc.h>
#include <sys/stat.h>

#include <iostream>

#include "fs/attr_mapping.h"
#include "fs/compact_strings.h"
#include "fs_test_support.h"

namespace repofs::fs::test {
namespace {

using std::chrono::seconds;

Observation FileObs(std::string etag, uint64_t size, std::time_t lm,
                    SteadyTime at) {
  Observation obs;
  obs.type = FileType::kRegular;
  obs.attr.size = size;
  obs.attr.mode = S_IFREG | 0644;
  obs.etag = std::move(etag);
  obs.last_modified = lm;
  obs.observed_at = at;
  return obs;
}

Observation DirObs(SteadyTime at) {
  Observation obs;
  obs.type = FileType::kDirectory;
  obs.attr.mode = S_IFDIR | 0755;
  obs.observed_at = at;
  return obs;
}

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));
const std::string kEtagA = "0123456789abcdef0123456789abcdef";
const std::string kEtagB = "fedcba9876543210fedcba9876543210";

// Coherent expiry makes a record not fresh, but an observation older than
// its last validation (a listing snapshot from before a chmod's self-copy)
// still cannot replace it; a newer one revalidates it.
TEST(InodeTableTest, ExpiredRecordKeepsItsOrderAgainstOlderObservations) {
  InodeTable table(Attr{});
  Observation v2 = FileObs(kEtagA, 1, 200, kT0 + seconds(10));
  v2.attr.mode = S_IFREG | 0755;
  InodeInfo a = table.Bind(kRootIno, "f", v2, 1).value();
  std::vector<EntryRef> known =
      table.ExpireFilesValidatedBefore(kT0 + seconds(20));
  ASSERT_EQ(known.size(), 1u);
  EXPECT_EQ(known[0].name, "f");
  EXPECT_TRUE(table.ExpireFilesValidatedBefore(kT0 + seconds(21)).empty());
  EXPECT_FALSE(
      table.LookupFresh(kRootIno, "f", kT0 + seconds(21), seconds(30)));
  // The older snapshot (the version before, seen at t=5) is ignored.
  InodeInfo old =
      table.Bind(kRootIno, "f", FileObs(kEtagA, 1, 199, kT0 + seconds(5)), 0)
          .value();
  EXPECT_EQ(old.ino, a.ino);
  EXPECT_EQ(old.attr.mode, S_IFREG | 0755u);
  EXPECT_FALSE(
      table.LookupFresh(kRootIno, "f", kT0 + seconds(22), seconds(30)));
  // A newer observation of the same version revalidates it.
  table.Bind(kRootIno, "f", FileObs(kEtagA, 1, 200, kT0 + seconds(25)), 0)
      .value();
  EXPECT_TRUE(table.LookupFresh(kRootIno, "f", kT0 + seconds(26), seconds(30)));
}

TEST(InodeTableTest, BindReusesSameVersionAndReplacesOthers) {
  InodeTable table(Attr{});
  InodeInfo a =
      table.Bind(kRootIno, "f", FileObs(kEtagA, 1, 100, kT0), 1).value();
  EXPECT_EQ(a.ino, 2u);
  InodeInfo again =
      table.Bind(kRootIno, "f", FileObs(kEtagA, 1, 100, kT0 + seconds(1)), 1)
          .value();
  EXPECT_EQ(again.ino, a.ino);
  EXPECT_EQ(again.validated_at, kT0 + seconds(1));
  EXPECT_EQ(table.nlookup(a.ino), 2u);
  // Same ETag, new LastModified: another version.
  InodeInfo b =
      table.Bind(kRootIno, "f", FileObs(kEtagA, 1, 101, kT0 + seconds(2)), 1)
          .value();
  EXPECT_NE(b.ino, a.ino);
  EXPECT_TRUE(table.Get(a.ino)->stale);
  EXPECT_FALSE(table.Get(b.ino)->stale);
  // An older observation does not undo a newer binding.
  InodeInfo old =
      table.Bind(kRootIno, "f", FileObs(kEtagB, 1, 99, kT0 + seconds(1)), 1)
          .value();
  EXPECT_EQ(old.ino, b.ino);
  // Type change: new inode.
  InodeInfo dir =
      table.Bind(kRootIno, "f", DirObs(kT0 + seconds(3)), 1).value();
  EXPECT_NE(dir.ino, b.ino);
  EXPECT_EQ(table.Bind(b.ino, "x", DirObs(kT0), 1).error().errno_value,
            ENOTDIR);
  EXPECT_EQ(table.Bind(999, "x", DirObs(kT0), 1).error().errno_value, ENOENT);
}

TEST(InodeTableTest, LookupFreshHonoursTtl) {
  InodeTable table(Attr{});
  Ino f = table.Bind(kRootIno, "f", FileObs(kEtagA, 1, 100, kT0), 1)->ino;
  auto hit = table.LookupFresh(kRootIno, "f", kT0 + seconds(10), seconds(30));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->first.ino, f);
  EXPECT_EQ(hit->second, std::chrono::milliseconds(20000));
  EXPECT_EQ(table.nlookup(f), 2u);
  EXPECT_FALSE(
      table.LookupFresh(kRootIno, "f", kT0 + seconds(30), seconds(30)));
  EXPECT_FALSE(table.LookupFresh(kRootIno, "g", kT0, seconds(30)));
}

TEST(InodeTableTest, PathsAndLifetime) {
  InodeTable table(Attr{});
  Ino a = table.Bind(kRootIno, "a", DirObs(kT0), 1)->ino;
  Ino b = table.Bind(a, "b c", DirObs(kT0), 1)->ino;
  Ino f = table.Bind(b, "f.txt", FileObs(kEtagA, 1, 1, kT0), 1)->ino;
  EXPECT_EQ(table.PathOf(f).value(), "a/b c/f.txt");
  EXPECT_EQ(table.PathOf(kRootIno).value(), "");
  table.Forget(a, 1);
  table.Forget(b, 1);
  EXPECT_EQ(table.size(), 4u);
  std::string path;
  ASSERT_TRUE(table.Pin(f, &path));
  EXPECT_EQ(path, "a/b c/f.txt");
  table.Forget(f, 1);
  EXPECT_EQ(table.size(), 4u);
  table.Unpin(f);
  EXPECT_EQ(table.size(), 1u) << "the whole chain is freed";
  EXPECT_FALSE(table.PathOf(f));
}

TEST(CompactStringsTest, EtagForms) {
  for (const std::string& etag :
       {kEtagA, kEtagA + "-2", kEtagA + "-10000", std::string("not-md5"),
        std::string("0123456789ABCDEF0123456789ABCDEF"), kEtagA + "-0",
        kEtagA + "-", kEtagA + "x", std::string("")}) {
    CompactEtag compact(etag);
    EXPECT_EQ(compact.str(), etag);
    EXPECT_TRUE(compact.Equals(etag));
  }
  EXPECT_FALSE(CompactEtag(kEtagA).Equals(kEtagB));
  EXPECT_FALSE(CompactEtag(kEtagA).Equals(kEtagA + "-1"));
  EXPECT_EQ(PackedString("hello").view(), "hello");
  EXPECT_TRUE(PackedString("").empty());
  PackedString copy = PackedString(std::string(300, 'z'));
  PackedString copy2 = copy;
  EXPECT_EQ(copy2.view(), std::string(300, 'z'));
}

TEST(AttrMappingTest, MtimeParsing) {
  EXPECT_EQ(ParseMtime("1600000000")->tv_sec, 1'600'000'000);
  EXPECT_EQ(ParseMtime("1600000000.5")->tv_nsec, 500'000'000);
  EXPECT_EQ(ParseMtime("1600000000.123456789123")->tv_nsec, 123'456'789);
  EXPECT_EQ(ParseMtime(" 12 ")->tv_sec, 12);
  EXPECT_FALSE(ParseMtime(""));
  EXPECT_FALSE(ParseMtime("-5"));
  EXPECT_FALSE(ParseMtime("1e9"));
  EXPECT_FALSE(ParseMtime("12."));
}

TEST(AttrMappingTest, NameValidity) {
  EXPECT_TRUE(IsValidName("a b+c%d"));
  EXPECT_TRUE(IsValidName(std::string(255, 'x')));
  EXPECT_FALSE(IsValidName(std::string(256, 'x')));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("."));
  EXPECT_FALSE(IsValidName(".."));
  EXPECT_TRUE(IsValidName("..."));
  EXPECT_FALSE(IsValidName("a/b"));
  EXPECT_FALSE(IsValidName(std::string("a\0b", 3)));
}

TEST(AttrMappingTest, TypesAndDefaults) {
  FsOptions options;
  options.uid = 5;
  AttrMapper mapper(options, 77);
  PosixMeta link;
  link.present = PosixMeta::kMode;
  link.mode = S_IFLNK | 0777;
  EXPECT_EQ(mapper.TypeOf(&link), FileType::kSymlink);
  EXPECT_EQ(mapper.ObjectAttr(3, 9, &link).mode, S_IFLNK | 0777u);
  PosixMeta no_type;
  no_type.present = PosixMeta::kMode;
  no_type.mode = 0600;
  EXPECT_EQ(mapper.ObjectAttr(3, 9, &no_type).mode, S_IFREG | 0600u);
  Attr dir = mapper.DirAttr(std::nullopt);
  EXPECT_EQ(dir.mtime.tv_sec, 77);
  EXPECT_EQ(dir.uid, 5u);
  EXPECT_EQ(mapper.DirAttr(1234).mtime.tv_sec, 1234);
  options.attr_source = AttrSource::kList;
  AttrMapper list_mapper(options, 77);
  EXPECT_EQ(list_mapper.TypeOf(&link), FileType::kRegular);
  EXPECT_EQ(list_mapper.ObjectAttr(3, 9, &link).mode, S_IFREG | 0644u);
}

size_t HeapInUse() { return mallinfo2().uordblks; }

// The daemon must stay under 100 MB RSS with 100,000 inodes known.
TEST(InodeTableTest, MemoryPer100kInodes) {
  constexpr int kInodes = 100'000;
  const size_t before = HeapInUse();
  {
    InodeTable table(Attr{});
    // A Debian pool: 1,000 directories of 100 packages.
    Ino dir = kRootIno;
    for (int i = 0; i < kInodes; ++i) {
      if (i % 100 == 0) {
        dir = table
                  .Bind(kRootIno, "libpkg" + std::to_string(i / 100),
                        DirObs(kT0), 1)
                  ->ino;
        continue;
      }
      std::string name = "libexample-package" + std::to_string(i) +
                         "_1.2.3-1_amd64.deb";  // ~38 bytes, like real ones
      std::string etag = kEtagA;
      std::snprintf(etag.data(), 9, "%08x", i);
      etag[8] = 'a';
      ASSERT_TRUE(table.Bind(dir, name, FileObs(etag, 12345, 1, kT0), 1));
    }
    ASSERT_EQ(table.size(), static_cast<size_t>(kInodes) + 1);
    const size_t used = HeapInUse() - before;
    const double per_inode = static_cast<double>(used) / kInodes;
    std::cout << "inode table: " << used / 1024 << " KiB for " << kInodes
              << " inodes = " << per_inode << " bytes per inode\n";
    EXPECT_LT(per_inode, 320.0);
    EXPECT_LT(used, 30u << 20);
  }
  EXPECT_LT(HeapInUse(), before + (1u << 20)) << "all freed";
}

// The same through the whole filesystem: 100,000 objects in one directory
// listed with READDIRPLUS (every entry becomes an inode), attr_source=list.
TEST_F(FsTest, MemoryOf100kInodesThroughReadDirPlus) {
  constexpr int kObjects = 100'000;
  options_.attr_source = AttrSource::kList;
  for (int i = 0; i < kObjects; ++i) {
    Put("pool/libexample-package" + std::to_string(i) + "_1.2.3-1_amd64.deb",
        "");
  }
  Mount();
  const Ino pool = InoOf("pool");
  const size_t before = HeapInUse();
  std::vector<DirEntry> all = ReadAll(pool, true);
  ASSERT_EQ(all.size(), kObjects + 2u);
  all.clear();
  all.shrink_to_fit();
  const size_t with_listing = HeapInUse() - before;
  // Let the cached listing expire (it is dropped when another is cached).
  clock_.Advance(seconds(31));
  ReadAll(kRootIno, false);
  const size_t inodes_only = HeapInUse() - before;
  EXPECT_EQ(fs_->InodeCount(), kObjects + 2u);
  std::cout << "filesystem: " << with_listing / 1024 << " KiB with the cached"
            << " listing, " << inodes_only / 1024 << " KiB after it expired = "
            << static_cast<double>(inodes_only) / kObjects
            << " bytes per inode\n";
  EXPECT_LT(inodes_only / kObjects, 400u);
  EXPECT_LT(with_listing, 60u << 20);
}

}  // namespace
}  // namespace repofs::fs::test
