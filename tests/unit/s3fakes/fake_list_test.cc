// FakeObjectClient::ListObjects: ListObjectsV2 semantics.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "s3/fake_object_client.h"

namespace repofs {
namespace {

class FakeListTest : public ::testing::Test {
 protected:
  void Add(std::initializer_list<std::string> keys) {
    for (const auto& key : keys) fake_.PutForTest(key, "body of " + key);
  }
  ListPage List(ListRequest request) {
    auto page = fake_.ListObjects(request);
    EXPECT_TRUE(page.has_value()) << page.error().message;
    return page.has_value() ? *page : ListPage{};
  }
  static std::vector<std::string> Keys(const ListPage& page) {
    std::vector<std::string> keys;
    for (const auto& o : page.objects) keys.push_back(o.key);
    return keys;
  }
  using Strings = std::vector<std::string>;

  FakeObjectClient fake_;
};

TEST_F(FakeListTest, PrefixAndByteOrder) {
  // Byte order: upper case < lower case, '+' (0x2b) < '-' (0x2d) < '/' ,
  // multi-byte UTF-8 after ASCII.
  Add({"p/b", "p/a", "p/B", "p/\xC3\xA9", "p/a+b", "p/a-b", "p/a b", "q/x",
       "p"});
  ListRequest request;
  request.prefix = "p/";
  ListPage page = List(request);
  EXPECT_EQ(Keys(page), (Strings{"p/B", "p/a", "p/a b", "p/a+b", "p/a-b", "p/b",
                                 "p/\xC3\xA9"}));
  EXPECT_FALSE(page.truncated);
  EXPECT_TRUE(page.next_continuation_token.empty());
  EXPECT_TRUE(page.common_prefixes.empty());
  const ObjectInfo& info = page.objects[1];
  EXPECT_EQ(info.size, std::string("body of p/a").size());
  EXPECT_EQ(info.etag, fake_.InfoForTest("p/a")->etag);
  EXPECT_EQ(info.last_modified, fake_.InfoForTest("p/a")->last_modified);
  EXPECT_FALSE(info.has_metadata);
  EXPECT_EQ(info.storage_class, "STANDARD");
}

TEST_F(FakeListTest, DelimiterGivesCommonPrefixes) {
  Add({"r/dists/stable/Release", "r/dists/stable/main/Packages", "r/pool/a.deb",
       "r/pool/b.deb", "r/README", "r/", "r/z"});
  ListRequest request;
  request.prefix = "r/";
  request.delimiter = "/";
  ListPage page = List(request);
  // The marker "r/" itself is an object under the prefix.
  EXPECT_EQ(Keys(page), (Strings{"r/", "r/README", "r/z"}));
  EXPECT_EQ(page.common_prefixes, (Strings{"r/dists/", "r/pool/"}));

  request.prefix = "r/dists/";
  page = List(request);
  EXPECT_TRUE(page.objects.empty());
  EXPECT_EQ(page.common_prefixes, (Strings{"r/dists/stable/"}));

  request.prefix = "";
  page = List(request);
  EXPECT_TRUE(page.objects.empty());
  EXPECT_EQ(page.common_prefixes, (Strings{"r/"}));

  // A prefix that is not a "directory" groups after the prefix only.
  request.prefix = "r/po";
  page = List(request);
  EXPECT_EQ(page.common_prefixes, (Strings{"r/pool/"}));
}

TEST_F(FakeListTest, StartAfter) {
  Add({"s/1", "s/2", "s/3", "s/4"});
  ListRequest request;
  request.prefix = "s/";
  request.start_after = "s/2";
  EXPECT_EQ(Keys(List(request)), (Strings{"s/3", "s/4"}));
  request.start_after = "s/25";  // need not exist
  EXPECT_EQ(Keys(List(request)), (Strings{"s/3", "s/4"}));
  request.start_after = "a";  // before the prefix
  EXPECT_EQ(Keys(List(request)).size(), 4u);
  request.start_after = "t";  // after the prefix
  EXPECT_TRUE(Keys(List(request)).empty());
}

TEST_F(FakeListTest, MaxKeysAndContinuationCountPrefixesOnce) {
  Add({"m/a", "m/b/1", "m/b/2", "m/b/3", "m/c", "m/d/1", "m/e"});
  ListRequest request;
  request.prefix = "m/";
  request.delimiter = "/";
  request.max_keys = 2;
  std::vector<std::string> items;
  int pages = 0;
  for (; pages < 10; ++pages) {
    ListPage page = List(request);
    EXPECT_LE(page.objects.size() + page.common_prefixes.size(), 2u);
    for (const auto& o : page.objects) items.push_back(o.key);
    for (const auto& p : page.common_prefixes) items.push_back(p);
    if (!page.truncated) break;
    ASSERT_FALSE(page.next_continuation_token.empty());
    request.continuation_token = page.next_continuation_token;
  }
  EXPECT_EQ(pages + 1, 3);
  std::sort(items.begin(), items.end());
  EXPECT_EQ(items, (Strings{"m/a", "m/b/", "m/c", "m/d/", "m/e"}));
}

TEST_F(FakeListTest, ExactlyFullPageIsNotTruncated) {
  Add({"x/1", "x/2"});
  ListRequest request;
  request.prefix = "x/";
  request.max_keys = 2;
  ListPage page = List(request);
  EXPECT_EQ(page.objects.size(), 2u);
  EXPECT_FALSE(page.truncated);
  request.max_keys = 0;
  page = List(request);
  EXPECT_TRUE(page.objects.empty());
  EXPECT_FALSE(page.truncated);
}

TEST_F(FakeListTest, MaxKeysIsCappedAtThousand) {
  for (int i = 0; i < 1200; ++i) fake_.PutForTest("k/" + std::to_string(i), "");
  ListRequest request;
  request.max_keys = 5000;
  ListPage page = List(request);
  EXPECT_EQ(page.objects.size(), 1000u);
  EXPECT_TRUE(page.truncated);
}

TEST_F(FakeListTest, ContinuationTokenBeatsStartAfterAndBadTokenFails) {
  Add({"c/1", "c/2", "c/3"});
  ListRequest request;
  request.max_keys = 1;
  ListPage first = List(request);
  ASSERT_TRUE(first.truncated);
  request.continuation_token = first.next_continuation_token;
  request.start_after = "c/2";
  EXPECT_EQ(Keys(List(request)), (Strings{"c/2"}));

  request.continuation_token = "not-a-token!";
  auto bad = fake_.ListObjects(request);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, S3ErrorCode::kInvalidRequest);
  request.max_keys = -1;
  request.continuation_token.clear();
  EXPECT_FALSE(fake_.ListObjects(request).has_value());
}

TEST_F(FakeListTest, ListingSeesConcurrentChangesBetweenPages) {
  Add({"w/1", "w/3"});
  ListRequest request;
  request.max_keys = 1;
  ListPage first = List(request);
  EXPECT_EQ(Keys(first), (Strings{"w/1"}));
  fake_.PutForTest("w/2", "new");  // lands after the token: listed
  fake_.PutForTest("w/0", "new");  // before the token: not listed
  request.continuation_token = first.next_continuation_token;
  request.max_keys = 10;
  EXPECT_EQ(Keys(List(request)), (Strings{"w/2", "w/3"}));
}

TEST_F(FakeListTest, KeysWithHighBytesAndDelimiterAtEnd) {
  Add({"h/\xFF\xFF/x", "h/\xFF\xFF/y", "h/\xFF", "h/z/"});
  ListRequest request;
  request.prefix = "h/";
  request.delimiter = "/";
  request.max_keys = 1;
  std::vector<std::string> items;
  for (int i = 0; i < 10; ++i) {
    ListPage page = List(request);
    for (const auto& o : page.objects) items.push_back(o.key);
    for (const auto& p : page.common_prefixes) items.push_back(p);
    if (!page.truncated) break;
    request.continuation_token = page.next_continuation_token;
  }
  EXPECT_EQ(items, (Strings{"h/z/", "h/\xFF", "h/\xFF\xFF/"}));
}

}  // namespace
}  // namespace repofs
