#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "repofs/object_client.h"
#include "s3/fake_object_client.h"

namespace repofs {
namespace {

std::string Name(const char* format, int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, i);
  return buf;
}

class ListAllTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Under "repo/": 2,000 files and 500 directories of 3 files each, so a
    // delimited listing has 2,500 entries. Neighbours must not leak in.
    for (int i = 0; i < 2000; ++i) fake_.PutForTest(Name("repo/f%05d", i), "x");
    for (int d = 0; d < 500; ++d) {
      for (int j = 0; j < 3; ++j) {
        fake_.PutForTest(Name("repo/d%03d/", d) + std::to_string(j), "y");
      }
    }
    fake_.PutForTest("repo", "not under the prefix");
    fake_.PutForTest("repo0/x", "neighbour");
    fake_.PutForTest("other/x", "elsewhere");
    fake_.ResetRequestCounts();
  }
  FakeObjectClient fake_;
};

TEST_F(ListAllTest, PagesThroughEverythingWithDelimiter) {
  ListRequest request;
  request.prefix = "repo/";
  request.delimiter = "/";
  std::vector<std::string> keys, prefixes;
  int pages = 0;
  S3Status status = ListAll(fake_, request, [&](const ListPage& page) {
    ++pages;
    EXPECT_LE(page.objects.size() + page.common_prefixes.size(), 1000u);
    for (const auto& o : page.objects) keys.push_back(o.key);
    for (const auto& p : page.common_prefixes) prefixes.push_back(p);
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(fake_.RequestCounts()["ListObjects"], 3u);
  ASSERT_EQ(keys.size(), 2000u);
  ASSERT_EQ(prefixes.size(), 500u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(keys[i], Name("repo/f%05d", i));
  for (int d = 0; d < 500; ++d) EXPECT_EQ(prefixes[d], Name("repo/d%03d/", d));
}

TEST_F(ListAllTest, FlatListingWithSmallPages) {
  ListRequest request;
  request.prefix = "repo/";
  request.max_keys = 333;
  std::set<std::string> keys;
  int pages = 0;
  ASSERT_TRUE(ListAll(fake_, request, [&](const ListPage& page) {
                ++pages;
                for (const auto& o : page.objects) {
                  EXPECT_TRUE(keys.insert(o.key).second) << "twice: " << o.key;
                }
                EXPECT_TRUE(page.common_prefixes.empty());
                return true;
              }).ok());
  EXPECT_EQ(keys.size(), 3500u);
  EXPECT_EQ(pages, (3500 + 332) / 333);
}

TEST_F(ListAllTest, StopsWhenThePageCallbackSaysSo) {
  ListRequest request;
  request.prefix = "repo/";
  int pages = 0;
  ASSERT_TRUE(ListAll(fake_, request, [&](const ListPage&) {
                ++pages;
                return false;
              }).ok());
  EXPECT_EQ(pages, 1);
  EXPECT_EQ(fake_.RequestCounts()["ListObjects"], 1u);
}

TEST_F(ListAllTest, PropagatesErrors) {
  fake_.SetMissingBucket(true);
  int pages = 0;
  S3Status status = ListAll(fake_, ListRequest{}, [&](const ListPage&) {
    ++pages;
    return true;
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, S3ErrorCode::kNoSuchBucket);
  EXPECT_EQ(pages, 0);
}

// An ObjectClient that answers ListObjects from a script and nothing else.
class ScriptedListClient final : public ObjectClient {
 public:
  std::deque<ListPage> pages;
  std::vector<std::string> tokens_seen;

  S3Result<ListPage> ListObjects(const ListRequest& request) override {
    tokens_seen.push_back(request.continuation_token);
    if (pages.empty()) return Unimplemented();
    ListPage page = pages.front();
    pages.pop_front();
    return page;
  }
  S3Status HeadBucket() override { return Unimplemented(); }
  S3Result<std::optional<ObjectInfo>> HeadObject(const std::string&) override {
    return Unimplemented();
  }
  S3Result<ObjectInfo> GetObject(const GetRequest&, const DataSink&) override {
    return Unimplemented();
  }
  S3Result<WriteResult> PutObject(const std::string&, const Payload&,
                                  const PutOptions&) override {
    return Unimplemented();
  }
  S3Status DeleteObject(const std::string&) override { return Unimplemented(); }
  S3Result<std::vector<std::string>> DeleteObjects(
      const std::vector<std::string>&) override {
    return Unimplemented();
  }
  S3Result<WriteResult> CopyObject(const std::string&, const std::string&,
                                   const CopyOptions&) override {
    return Unimplemented();
  }
  S3Result<std::string> CreateMultipartUpload(const std::string&,
                                              const PutOptions&) override {
    return Unimplemented();
  }
  S3Result<std::string> UploadPart(const std::string&, const std::string&, int,
                                   const Payload&) override {
    return Unimplemented();
  }
  S3Result<std::string> UploadPartCopy(const std::string&, const std::string&,
                                       int, const std::string&, uint64_t,
                                       uint64_t, const std::string&) override {
    return Unimplemented();
  }
  S3Result<WriteResult> CompleteMultipartUpload(
      const std::string&, const std::string&,
      const std::vector<CompletedPart>&) override {
    return Unimplemented();
  }
  S3Status AbortMultipartUpload(const std::string&,
                                const std::string&) override {
    return Unimplemented();
  }
  S3Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string&) override {
    return Unimplemented();
  }
  std::map<std::string, uint64_t> RequestCounts() const override { return {}; }

 private:
  static S3Error Unimplemented() {
    return S3Error{S3ErrorCode::kNotImplemented, 0, "", "scripted", ""};
  }
};

ListPage Page(bool truncated, std::string token) {
  ListPage page;
  page.objects.push_back(ObjectInfo{});
  page.truncated = truncated;
  page.next_continuation_token = std::move(token);
  return page;
}

TEST(ListAllGuardTest, TruncatedWithoutTokenIsMalformed) {
  ScriptedListClient client;
  client.pages = {Page(true, "t1"), Page(true, "")};
  int pages = 0;
  S3Status status = ListAll(client, ListRequest{}, [&](const ListPage&) {
    ++pages;
    return true;
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, S3ErrorCode::kMalformedResponse);
  EXPECT_EQ(pages, 1);
  EXPECT_EQ(client.tokens_seen, (std::vector<std::string>{"", "t1"}));
}

TEST(ListAllGuardTest, RepeatedTokenIsMalformedNotALoop) {
  ScriptedListClient client;
  // A server stuck on one token would otherwise be asked forever.
  for (int i = 0; i < 50; ++i) client.pages.push_back(Page(true, "same"));
  int pages = 0;
  S3Status status = ListAll(client, ListRequest{}, [&](const ListPage&) {
    ++pages;
    return true;
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, S3ErrorCode::kMalformedResponse);
  EXPECT_EQ(pages, 1);
  EXPECT_EQ(client.tokens_seen.size(), 2u);
}

TEST(ListAllGuardTest, OlderTokenComingBackIsMalformed) {
  ScriptedListClient client;
  client.pages = {Page(true, "a"), Page(true, "b"), Page(true, "a")};
  S3Status status =
      ListAll(client, ListRequest{}, [](const ListPage&) { return true; });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, S3ErrorCode::kMalformedResponse);
}

TEST(ListAllGuardTest, EndsOnUntruncatedPageEvenWithToken) {
  ScriptedListClient client;
  client.pages = {Page(true, "a"), Page(false, "ignored")};
  int pages = 0;
  ASSERT_TRUE(ListAll(client, ListRequest{}, [&](const ListPage&) {
                ++pages;
                return true;
              }).ok());
  EXPECT_EQ(pages, 2);
}

}  // namespace
}  // namespace repofs
