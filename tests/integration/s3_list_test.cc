// Integration: listings and bulk operations of the real S3 client against
// RGW: 2,500 keys paged with and without a delimiter (CommonPrefixes,
// continuation tokens, max-keys, start-after), DeleteObjects of 1,500 keys,
// and keys with characters that need encoding.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "s3_env.h"

namespace repofs::integration {
namespace {

using ListTest = S3IntegrationTest;

// PUTs `keys` (body = key) on 16 threads; fails the test on any error.
void PutAll(ObjectClient& client, const std::vector<std::string>& keys) {
  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_error;
  ParallelFor(static_cast<int>(keys.size()), 16, [&](int i) {
    auto r = PutString(client, keys[i], keys[i]);
    if (!r) {
      std::lock_guard<std::mutex> lock(mu);
      if (failures++ == 0) first_error = keys[i] + ": " + Describe(r.error());
    }
  });
  ASSERT_EQ(failures.load(), 0) << "PUT failures; first: " << first_error;
}

std::string Name(const char* format, int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, i);
  return buf;
}

struct Listing {
  std::vector<std::string> objects;
  std::vector<std::string> prefixes;
  int pages = 0;
};

// Pages through ListObjects by hand, checking each page's invariants.
Listing ListByHand(ObjectClient& client, ListRequest request) {
  Listing out;
  for (int guard = 0; guard < 1000; ++guard) {
    auto page = client.ListObjects(request);
    if (!page) {
      ADD_FAILURE() << "page " << out.pages << ": " << Describe(page.error());
      return out;
    }
    ++out.pages;
    size_t entries = page->objects.size() + page->common_prefixes.size();
    EXPECT_LE(entries, static_cast<size_t>(request.max_keys)) << "page " << out.pages;
    for (const auto& o : page->objects) out.objects.push_back(o.key);
    for (const auto& p : page->common_prefixes) out.prefixes.push_back(p);
    if (!page->truncated) return out;
    EXPECT_GT(entries, 0u) << "a truncated page with no entries";
    EXPECT_FALSE(page->next_continuation_token.empty()) << "truncated without a token";
    request.continuation_token = page->next_continuation_token;
  }
  ADD_FAILURE() << "listing did not end";
  return out;
}

TEST_F(ListTest, Pages2500KeysWithDelimiter) {
  // 1,490 files at the top, 10 directories of 100 files, and 10 files two
  // levels down under "deep/" (a prefix holding only sub-prefixes).
  std::vector<std::string> top, keys;
  for (int i = 0; i < 1490; ++i) top.push_back(Key(Name("f%04d", i)));
  keys = top;
  std::set<std::string> dirs;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back(Key(Name("d%02d/", i % 10) + Name("g%03d", i / 10)));
    dirs.insert(Key(Name("d%02d/", i % 10)));
  }
  for (int i = 0; i < 10; ++i) keys.push_back(Key(Name("deep/x%d/file", i)));
  dirs.insert(Key("deep/"));
  ASSERT_EQ(keys.size(), 2500u);
  ASSERT_NO_FATAL_FAILURE(PutAll(*client_, keys));

  // Delimiter, default max-keys (1000): 1,490 objects + 11 prefixes.
  ListRequest request;
  request.prefix = prefix();
  request.delimiter = "/";
  Listing listing = ListByHand(*client_, request);
  EXPECT_GE(listing.pages, 2);
  EXPECT_EQ(listing.objects, top) << "objects missing, duplicated or out of order";
  EXPECT_EQ(std::set<std::string>(listing.prefixes.begin(), listing.prefixes.end()), dirs);
  EXPECT_EQ(listing.prefixes.size(), dirs.size()) << "a CommonPrefix repeated across pages";

  // Small pages: max-keys counts objects and prefixes together.
  request.max_keys = 100;
  Listing small = ListByHand(*client_, request);
  EXPECT_GE(small.pages, 15);
  EXPECT_EQ(small.objects, top);
  EXPECT_EQ(std::set<std::string>(small.prefixes.begin(), small.prefixes.end()), dirs);

  // No delimiter: every key, three pages of at most 1000.
  request.delimiter.clear();
  request.max_keys = 1000;
  Listing all = ListByHand(*client_, request);
  EXPECT_EQ(all.pages, 3);
  EXPECT_EQ(all.objects.size(), 2500u);
  EXPECT_TRUE(all.prefixes.empty());
  EXPECT_EQ(std::set<std::string>(all.objects.begin(), all.objects.end()),
            std::set<std::string>(keys.begin(), keys.end()));

  // ListAll agrees.
  auto listed = ListKeys(*client_, prefix());
  ASSERT_S3_OK(listed);
  EXPECT_EQ(listed->size(), 2500u);

  // A prefix holding only sub-prefixes lists them (no objects).
  request.prefix = Key("deep/");
  request.delimiter = "/";
  Listing deep = ListByHand(*client_, request);
  EXPECT_TRUE(deep.objects.empty());
  EXPECT_EQ(deep.prefixes.size(), 10u);
  if (!deep.prefixes.empty()) {
    EXPECT_EQ(deep.prefixes[0], Key("deep/x0/"));
  }

  // One directory: its 100 files.
  request.prefix = Key("d03/");
  Listing d03 = ListByHand(*client_, request);
  EXPECT_EQ(d03.objects.size(), 100u);
  EXPECT_TRUE(d03.prefixes.empty());

  // start-after skips everything up to and including the given key.
  request.prefix = prefix();
  request.start_after = Key("f0999");
  Listing after = ListByHand(*client_, request);
  EXPECT_EQ(after.objects.size(), 490u);
  if (!after.objects.empty()) {
    EXPECT_EQ(after.objects.front(), Key("f1000"));
  }
  EXPECT_TRUE(after.prefixes.empty()) << "d*/ and deep/ sort before f1000";

  // max-keys 1: one entry, truncated.
  ListRequest one;
  one.prefix = prefix();
  one.delimiter = "/";
  one.max_keys = 1;
  auto page = client_->ListObjects(one);
  ASSERT_S3_OK(page);
  EXPECT_EQ(page->objects.size() + page->common_prefixes.size(), 1u);
  EXPECT_TRUE(page->truncated);
}

TEST_F(ListTest, DeleteObjects1500Keys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) keys.push_back(Key(Name("k%04d", i)));
  ASSERT_NO_FATAL_FAILURE(PutAll(*client_, keys));
  auto listed = ListKeys(*client_, prefix());
  ASSERT_S3_OK(listed);
  ASSERT_EQ(listed->size(), 1500u);

  // A fresh client so its request counts are this call's alone.
  auto client = MakeS3Client(options_, env_.access_key, env_.secret_key);
  std::vector<std::string> doomed = keys;
  doomed.push_back(Key("never-existed"));  // deleting a missing key is fine
  auto failed = client->DeleteObjects(doomed);
  ASSERT_S3_OK(failed);
  EXPECT_TRUE(failed->empty()) << failed->size() << " keys not deleted, first: "
                               << (failed->empty() ? "" : failed->front());
  EXPECT_EQ(client->RequestCounts()["DeleteObjects"], 2u) << "batches of 1000";
  listed = ListKeys(*client_, prefix());
  ASSERT_S3_OK(listed);
  EXPECT_TRUE(listed->empty()) << listed->size() << " keys survived";
}

TEST_F(ListTest, KeysNeedingEncodingRoundTrip) {
  const std::vector<std::string> names = {
      "space in name.txt",
      "dir with space/file name",
      "unicode-\xC3\xA4\xC3\xB6\xC3\xBC-\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x99\x82.txt",
      "plus+sign+key",
      "percent%20not%2Fa-space%",
      "tilde~key~",
      "mix a+b%c~d&e=f;g,h:i@j$k!l'm(n)o*p",
      "query?x=1#frag",
      "xml<&>\"chars\"",
  };
  for (const auto& name : names) {
    SCOPED_TRACE("key name: " + name);
    const std::string key = Key(name);
    PutOptions put;
    put.metadata = {{"name", "x"}};
    auto written = PutString(*client_, key, name, put);
    ASSERT_S3_OK(written);
    auto head = client_->HeadObject(key);
    ASSERT_S3_OK(head);
    ASSERT_TRUE(head->has_value());
    EXPECT_EQ((*head)->size, name.size());
    EXPECT_EQ((*head)->key, key);
    auto body = GetString(*client_, key);
    ASSERT_S3_OK(body);
    EXPECT_EQ(*body, name);

    ListRequest list;
    list.prefix = key;
    auto page = client_->ListObjects(list);
    ASSERT_S3_OK(page);
    ASSERT_GE(page->objects.size(), 1u);
    EXPECT_EQ(page->objects[0].key, key);
    EXPECT_EQ(page->objects[0].size, name.size());

    const std::string copy = key + ".copy";
    ASSERT_S3_OK(client_->CopyObject(key, copy, CopyOptions{}));
    auto copied = GetString(*client_, copy);
    ASSERT_S3_OK(copied);
    EXPECT_EQ(*copied, name);
  }

  // The whole set, with a delimiter: names with '/' show as one prefix.
  ListRequest list;
  list.prefix = prefix();
  list.delimiter = "/";
  Listing listing = ListByHand(*client_, list);
  EXPECT_EQ(listing.prefixes, std::vector<std::string>{Key("dir with space/")});
  EXPECT_EQ(listing.objects.size(), 2 * (names.size() - 1));

  for (const auto& name : names) {
    SCOPED_TRACE("key name: " + name);
    ASSERT_S3_OK(client_->DeleteObject(Key(name)));
    auto head = client_->HeadObject(Key(name));
    ASSERT_S3_OK(head);
    EXPECT_FALSE(head->has_value()) << "still there after delete";
  }
  // The copies go through DeleteObjects (keys inside XML).
  std::vector<std::string> copies;
  for (const auto& name : names) copies.push_back(Key(name) + ".copy");
  auto failed = client_->DeleteObjects(copies);
  ASSERT_S3_OK(failed);
  EXPECT_TRUE(failed->empty());
  auto left = ListKeys(*client_, prefix());
  ASSERT_S3_OK(left);
  EXPECT_TRUE(left->empty()) << left->size() << " keys left, first: "
                             << (left->empty() ? "" : left->front());
}

}  // namespace
}  // namespace repofs::integration
