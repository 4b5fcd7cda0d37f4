// LmdbMetadataStore: round trip of every field combination, versions keyed
// by (key, etag, last_modified), symlink targets, survival across a reopen,
// and rejection of blobs that do not parse.
#include "fs/lmdb_metadata_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "cache_test_util.h"

namespace repofs::fs {
namespace {

using cache::testing::MustOpen;
using cache::testing::SmallOptions;
using cache::testing::TempDir;

std::shared_ptr<cache::BlockCache> OpenShared(const std::string& dir) {
  return std::shared_ptr<cache::BlockCache>(
      MustOpen(SmallOptions(dir)).release());
}

PosixMeta FullMeta() {
  PosixMeta meta;
  meta.present =
      PosixMeta::kMode | PosixMeta::kUid | PosixMeta::kGid | PosixMeta::kMtime;
  meta.mode = S_IFREG | 0640;
  meta.uid = 4294967295u;
  meta.gid = 33;
  meta.mtime_sec = -12345678901;
  meta.mtime_nsec = 999999999;
  return meta;
}

TEST(LmdbMetadataStoreTest, EncodingRoundTripsEveryFieldSubset) {
  for (uint8_t present = 0; present < 16; ++present) {
    PosixMeta meta = FullMeta();
    meta.present = present;
    if (!meta.Has(PosixMeta::kMode)) meta.mode = 0;
    if (!meta.Has(PosixMeta::kUid)) meta.uid = 0;
    if (!meta.Has(PosixMeta::kGid)) meta.gid = 0;
    if (!meta.Has(PosixMeta::kMtime)) meta.mtime_sec = 0, meta.mtime_nsec = 0;
    std::string blob = LmdbMetadataStore::EncodeMeta(meta);
    EXPECT_LE(blob.size(), 2u + 5 + 5 + 5 + 10 + 5);
    EXPECT_EQ(LmdbMetadataStore::DecodeMeta(blob), meta) << int(present);
  }
}

TEST(LmdbMetadataStoreTest, MalformedBlobsAreUnknown) {
  std::string good = LmdbMetadataStore::EncodeMeta(FullMeta());
  EXPECT_FALSE(LmdbMetadataStore::DecodeMeta("").has_value());
  EXPECT_FALSE(LmdbMetadataStore::DecodeMeta(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(LmdbMetadataStore::DecodeMeta(good + "x"));
  std::string other_format = good;
  other_format[0] = 2;
  EXPECT_FALSE(LmdbMetadataStore::DecodeMeta(other_format));
}

TEST(LmdbMetadataStoreTest, RoundTripByVersionAndSurvivesReopen) {
  TempDir tmp;
  VersionKey v{"dir/file", "etag1", 1700000000};
  VersionKey same_etag_new_time{"dir/file", "etag1", 1700000001};
  VersionKey link{"dir/link", "etag2", 1700000000};
  PosixMeta meta = FullMeta();
  {
    LmdbMetadataStore store(OpenShared(tmp.cache_dir()));
    EXPECT_FALSE(store.Get(v).has_value());
    store.Put(v, meta);
    store.PutSymlinkTarget(link, "../target/file");
    EXPECT_EQ(store.Get(v), meta);
    // A chmod by self-copy keeps the ETag but not LastModified.
    EXPECT_FALSE(store.Get(same_etag_new_time).has_value());
    EXPECT_FALSE(store.Get(link).has_value());  // a target is not metadata
    EXPECT_FALSE(store.GetSymlinkTarget(v).has_value());
  }
  LmdbMetadataStore store(OpenShared(tmp.cache_dir()));
  EXPECT_EQ(store.Get(v), meta);
  EXPECT_EQ(store.GetSymlinkTarget(link),
            std::optional<std::string>("../target/file"));
  store.Put(v, meta);  // idempotent
  EXPECT_EQ(store.Get(v), meta);
}

TEST(LmdbMetadataStoreTest, DirectoryHintsSurviveReopenAndAreNotMetadata) {
  TempDir tmp;
  {
    LmdbMetadataStore store(OpenShared(tmp.cache_dir()));
    EXPECT_FALSE(store.WasDirectory("pool/main"));
    store.NoteDirectory("pool/main");
    store.NoteDirectory("pool/main");  // idempotent
    EXPECT_TRUE(store.WasDirectory("pool/main"));
    EXPECT_FALSE(store.WasDirectory("pool/main/"));
    EXPECT_FALSE(store.WasDirectory("pool"));
    EXPECT_FALSE(store.Get(VersionKey{"pool/main", "", 0}).has_value());
  }
  LmdbMetadataStore store(OpenShared(tmp.cache_dir()));
  EXPECT_TRUE(store.WasDirectory("pool/main"));
  EXPECT_FALSE(store.WasDirectory("pool/other"));
}

}  // namespace
}  // namespace repofs::fs
