// FakeObjectClient: objects (HEAD/GET/PUT/DELETE/COPY), bucket switches,
// request counts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "s3/fake_object_client.h"
#include "test_support.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs {
namespace {

using testing::Collector;
using testing::ManualClock;

class FakeObjectsTest : public ::testing::Test {
 protected:
  S3Result<WriteResult> Put(const std::string& key, const std::string& body,
                            PutOptions options = {}) {
    return fake_.PutObject(key, Payload::FromBuffer(body), options);
  }
  S3Result<ObjectInfo> Get(GetRequest request, Collector* out) {
    return fake_.GetObject(request, out->Sink());
  }
  GetRequest Range(const std::string& key, uint64_t offset,
                   std::optional<uint64_t> length = std::nullopt) {
    GetRequest r;
    r.key = key;
    r.offset = offset;
    r.length = length;
    return r;
  }

  ManualClock clock_;
  FakeObjectClient fake_{clock_};
};

TEST_F(FakeObjectsTest, PutThenHeadAndGet) {
  PutOptions options;
  options.metadata = {{"Mode", "33188"}, {"mtime", "1700000000"}};
  options.content_type = "text/plain";
  auto put = Put("a/b.txt", "hello world", options);
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->etag, HexEncode(Md5("hello world")));
  EXPECT_EQ(put->etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(put->last_modified, 1'700'000'000);

  auto head = fake_.HeadObject("a/b.txt");
  ASSERT_TRUE(head.has_value());
  ASSERT_TRUE(head->has_value());
  const ObjectInfo& info = **head;
  EXPECT_EQ(info.key, "a/b.txt");
  EXPECT_EQ(info.size, 11u);
  EXPECT_EQ(info.etag, put->etag);
  EXPECT_EQ(info.last_modified, 1'700'000'000);
  EXPECT_TRUE(info.has_metadata);
  // Names are lower-cased like S3 returns them.
  EXPECT_EQ(info.metadata,
            (Metadata{{"mode", "33188"}, {"mtime", "1700000000"}}));
  EXPECT_EQ(info.content_type, "text/plain");
  EXPECT_EQ(info.storage_class, "");  // like S3's HEAD for STANDARD

  Collector out;
  auto get = Get(Range("a/b.txt", 0), &out);
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(out.bytes, "hello world");
  EXPECT_EQ(get->size, 11u);
  EXPECT_EQ(get->etag, put->etag);
  EXPECT_TRUE(get->has_metadata);
  EXPECT_EQ(get->metadata.at("mode"), "33188");
  EXPECT_EQ(get->content_type, "text/plain");
}

TEST_F(FakeObjectsTest, DefaultsAndClock) {
  ASSERT_TRUE(Put("k", "v").has_value());
  EXPECT_EQ(fake_.InfoForTest("k")->content_type, "binary/octet-stream");
  EXPECT_TRUE(fake_.InfoForTest("k")->metadata.empty());
  clock_.Advance(std::chrono::milliseconds(2500));
  auto put = Put("k", "v2");
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->last_modified, 1'700'000'002);  // whole seconds
  EXPECT_EQ(fake_.InfoForTest("k")->last_modified, 1'700'000'002);
}

TEST_F(FakeObjectsTest, HeadOfMissingKeyIsNulloptAndGetIsNoSuchKey) {
  auto head = fake_.HeadObject("missing");
  ASSERT_TRUE(head.has_value());
  EXPECT_FALSE(head->has_value());
  Collector out;
  auto get = Get(Range("missing", 0), &out);
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code, S3ErrorCode::kNoSuchKey);
  EXPECT_EQ(get.error().http_status, 404);
  EXPECT_EQ(out.calls, 0);
}

TEST_F(FakeObjectsTest, RangesAreClampedAndBeyondEndIsInvalidRange) {
  fake_.PutForTest("r", "0123456789");
  Collector mid;
  auto get = Get(Range("r", 3, 4), &mid);
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(mid.bytes, "3456");
  EXPECT_EQ(get->size, 10u);  // whole object, not the range

  Collector tail;
  ASSERT_TRUE(Get(Range("r", 7, 100), &tail).has_value());
  EXPECT_EQ(tail.bytes, "789");
  Collector open;
  ASSERT_TRUE(Get(Range("r", 9), &open).has_value());
  EXPECT_EQ(open.bytes, "9");
  Collector none;
  ASSERT_TRUE(Get(Range("r", 2, 0), &none).has_value());
  EXPECT_EQ(none.bytes, "");

  for (uint64_t offset : {10u, 11u, 1000u}) {
    Collector out;
    auto bad = Get(Range("r", offset, 1), &out);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, S3ErrorCode::kInvalidRange);
    EXPECT_EQ(bad.error().http_status, 416);
    EXPECT_EQ(out.calls, 0);
  }
}

TEST_F(FakeObjectsTest, EmptyObject) {
  ASSERT_TRUE(Put("empty", "").has_value());
  EXPECT_EQ(fake_.InfoForTest("empty")->etag,
            "d41d8cd98f00b204e9800998ecf8427e");
  Collector out;
  auto get = Get(Range("empty", 0), &out);
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->size, 0u);
  EXPECT_EQ(out.calls, 0);
  Collector ranged;
  EXPECT_TRUE(Get(Range("empty", 0, 100), &ranged).has_value());
  auto beyond = Get(Range("empty", 1), &out);
  ASSERT_FALSE(beyond.has_value());
  EXPECT_EQ(beyond.error().code, S3ErrorCode::kInvalidRange);
}

TEST_F(FakeObjectsTest, LargeBodiesArriveInSeveralChunks) {
  std::string body = testing::RandomBytes(1 << 20, 1);
  fake_.PutForTest("big", body);
  Collector out;
  ASSERT_TRUE(Get(Range("big", 0), &out).has_value());
  EXPECT_EQ(out.bytes, body);
  EXPECT_GT(out.calls, 1);
}

TEST_F(FakeObjectsTest, IfMatchOnGet) {
  std::string etag = fake_.PutForTest("v", "version one").etag;
  GetRequest request = Range("v", 0);
  request.if_match = etag;
  Collector ok;
  ASSERT_TRUE(Get(request, &ok).has_value());
  EXPECT_EQ(ok.bytes, "version one");

  fake_.PutForTest("v", "version two");
  Collector stale;
  auto get = Get(request, &stale);
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code, S3ErrorCode::kPreconditionFailed);
  EXPECT_EQ(get.error().http_status, 412);
  EXPECT_EQ(stale.calls, 0);
  // Preconditions come before the range check.
  request.offset = 1000;
  EXPECT_EQ(Get(request, &stale).error().code,
            S3ErrorCode::kPreconditionFailed);
}

TEST_F(FakeObjectsTest, SinkStoppingAbortsTheGet) {
  fake_.PutForTest("big", testing::RandomBytes(300000, 2));
  int calls = 0;
  auto get = fake_.GetObject(Range("big", 0), [&](std::string_view) {
    ++calls;
    return false;
  });
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code, S3ErrorCode::kAborted);
  EXPECT_EQ(calls, 1);
}

TEST_F(FakeObjectsTest, SinkMayCallBackIntoTheFake) {
  // The lock is not held while the sink runs.
  fake_.PutForTest("a", testing::RandomBytes(200000, 3));
  int calls = 0;
  auto get = fake_.GetObject(Range("a", 0), [&](std::string_view) {
    ++calls;
    fake_.PutForTest("b" + std::to_string(calls), "x");
    return fake_.HeadObject("a").has_value();
  });
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(fake_.ObjectCount(), 1u + calls);
}

TEST_F(FakeObjectsTest, IfNoneMatchCreatesOnlyOnce) {
  PutOptions create_only;
  create_only.if_none_match = true;
  ASSERT_TRUE(Put("once", "first", create_only).has_value());
  auto second = Put("once", "second", create_only);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, S3ErrorCode::kPreconditionFailed);
  EXPECT_EQ(fake_.BodyForTest("once"), "first");
  ASSERT_TRUE(Put("once", "third").has_value());  // unconditional replaces
  EXPECT_EQ(fake_.BodyForTest("once"), "third");

  fake_.SetConditionalWritesSupported(false);
  auto unsupported = Put("new", "x", create_only);
  ASSERT_FALSE(unsupported.has_value());
  EXPECT_EQ(unsupported.error().code, S3ErrorCode::kNotImplemented);
  EXPECT_FALSE(fake_.BodyForTest("new").has_value());
}

TEST_F(FakeObjectsTest, FilePayload) {
  char path[] = "/tmp/fake_payload_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::string data = "prefix-" + testing::RandomBytes(100000, 4);
  ASSERT_EQ(write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  auto put = fake_.PutObject("file", Payload::FromFile(fd, 7, 100000), {});
  close(fd);
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(fake_.BodyForTest("file"), data.substr(7));
  EXPECT_EQ(put->etag, HexEncode(Md5(data.substr(7))));

  auto bad = fake_.PutObject("bad", Payload::FromFile(fd, 0, 10), {});
  ASSERT_FALSE(bad.has_value());  // fd is closed now
  EXPECT_EQ(bad.error().code, S3ErrorCode::kLocalIo);
}

TEST_F(FakeObjectsTest, KeyAndMetadataLimits) {
  EXPECT_EQ(Put("", "x").error().code, S3ErrorCode::kInvalidRequest);
  EXPECT_TRUE(Put(std::string(1024, 'k'), "x").has_value());
  EXPECT_EQ(Put(std::string(1025, 'k'), "x").error().code,
            S3ErrorCode::kInvalidRequest);
  PutOptions big;
  big.metadata["m"] = std::string(2048, 'v');
  EXPECT_EQ(Put("meta", "x", big).error().code, S3ErrorCode::kInvalidRequest);
}

TEST_F(FakeObjectsTest, OddKeysRoundTrip) {
  const std::vector<std::string> keys = {
      "with space/file name.txt",
      "plus+sign",
      "percent%20literal",
      "unicode/\xC3\xA9t\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.deb",
      "emoji-\xF0\x9F\x93\xA6",
      "query?x=1&y=2",
      "tilde~hash#",
      "a//b"};
  for (const auto& key : keys) {
    ASSERT_TRUE(Put(key, "body:" + key).has_value()) << key;
  }
  for (const auto& key : keys) {
    Collector out;
    ASSERT_TRUE(Get(Range(key, 0), &out).has_value()) << key;
    EXPECT_EQ(out.bytes, "body:" + key);
    auto head = fake_.HeadObject(key);
    ASSERT_TRUE(head.has_value() && head->has_value()) << key;
    EXPECT_EQ((*head)->key, key);
  }
  EXPECT_FALSE(fake_.HeadObject("plus sign")->has_value());  // '+' is no space
  EXPECT_FALSE(fake_.HeadObject("percent literal")->has_value());
  EXPECT_EQ(fake_.ObjectCount(), keys.size());
}

TEST_F(FakeObjectsTest, DeleteObjectAndObjects) {
  fake_.PutForTest("d1", "x");
  ASSERT_TRUE(fake_.DeleteObject("d1").ok());
  EXPECT_FALSE(fake_.BodyForTest("d1").has_value());
  EXPECT_TRUE(fake_.DeleteObject("d1").ok());  // missing: still OK

  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    keys.push_back("many/" + std::to_string(i));
    fake_.PutForTest(keys.back(), "x");
  }
  fake_.PutForTest("keep", "x");
  keys.push_back("never-existed");
  fake_.ResetRequestCounts();
  auto failed = fake_.DeleteObjects(keys);
  ASSERT_TRUE(failed.has_value());
  EXPECT_TRUE(failed->empty());
  EXPECT_EQ(fake_.ObjectCount(), 1u);
  EXPECT_EQ(fake_.RequestCounts()["DeleteObjects"], 3u);  // batches of 1000
}

TEST_F(FakeObjectsTest, CopyWithCopyDirectiveKeepsMetadata) {
  PutOptions options;
  options.metadata = {{"mode", "420"}};
  options.content_type = "application/x-debian-package";
  auto src = Put("src", "payload", options);
  ASSERT_TRUE(src.has_value());
  clock_.Advance(std::chrono::seconds(5));
  auto copy = fake_.CopyObject("src", "dst", CopyOptions{});
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->etag, src->etag);
  EXPECT_EQ(copy->last_modified, 1'700'000'005);
  auto info = fake_.InfoForTest("dst");
  EXPECT_EQ(info->metadata, (Metadata{{"mode", "420"}}));
  EXPECT_EQ(info->content_type, "application/x-debian-package");
  EXPECT_EQ(fake_.BodyForTest("dst"), "payload");
}

TEST_F(FakeObjectsTest, CopyWithReplaceAndSelfCopy) {
  fake_.PutForTest("f", "data", {{"mode", "420"}});
  CopyOptions copy_only;
  auto refused = fake_.CopyObject("f", "f", copy_only);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, S3ErrorCode::kInvalidRequest);

  clock_.Advance(std::chrono::seconds(60));
  CopyOptions replace;
  replace.directive = MetadataDirective::kReplace;
  replace.metadata = {{"Mode", "493"}};
  replace.content_type = "text/x-sh";
  std::string etag = fake_.InfoForTest("f")->etag;
  auto chmod = fake_.CopyObject("f", "f", replace);
  ASSERT_TRUE(chmod.has_value());
  auto info = fake_.InfoForTest("f");
  EXPECT_EQ(info->etag, etag);                    // same bytes, same ETag...
  EXPECT_EQ(info->last_modified, 1'700'000'060);  // ...new LastModified
  EXPECT_EQ(info->metadata, (Metadata{{"mode", "493"}}));
  EXPECT_EQ(info->content_type, "text/x-sh");
}

TEST_F(FakeObjectsTest, CopyPreconditionsAndMissingSource) {
  std::string etag = fake_.PutForTest("s", "one").etag;
  CopyOptions options;
  options.source_if_match = etag;
  ASSERT_TRUE(fake_.CopyObject("s", "t", options).has_value());
  fake_.PutForTest("s", "two");
  auto stale = fake_.CopyObject("s", "t2", options);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, S3ErrorCode::kPreconditionFailed);
  EXPECT_FALSE(fake_.BodyForTest("t2").has_value());
  auto missing = fake_.CopyObject("nope", "t3", CopyOptions{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, S3ErrorCode::kNoSuchKey);
}

TEST_F(FakeObjectsTest, MissingBucketAndHeadBucketError) {
  EXPECT_TRUE(fake_.HeadBucket().ok());
  fake_.SetHeadBucketError(
      S3Error{S3ErrorCode::kAccessDenied, 403, "AccessDenied", "denied", ""});
  EXPECT_EQ(fake_.HeadBucket().error().code, S3ErrorCode::kAccessDenied);
  fake_.SetHeadBucketError(std::nullopt);
  EXPECT_TRUE(fake_.HeadBucket().ok());

  fake_.PutForTest("k", "v");
  fake_.SetMissingBucket(true);
  EXPECT_EQ(fake_.HeadBucket().error().code, S3ErrorCode::kNoSuchBucket);
  EXPECT_EQ(fake_.HeadObject("k").error().code, S3ErrorCode::kNoSuchBucket);
  Collector out;
  EXPECT_EQ(Get(Range("k", 0), &out).error().code, S3ErrorCode::kNoSuchBucket);
  EXPECT_EQ(Put("k2", "v").error().code, S3ErrorCode::kNoSuchBucket);
  EXPECT_EQ(fake_.ListObjects(ListRequest{}).error().code,
            S3ErrorCode::kNoSuchBucket);
  EXPECT_EQ(fake_.CreateMultipartUpload("m", {}).error().code,
            S3ErrorCode::kNoSuchBucket);
  fake_.SetMissingBucket(false);
  EXPECT_TRUE(fake_.HeadObject("k").has_value());
}

TEST_F(FakeObjectsTest, RequestCountsByOperationName) {
  fake_.PutForTest("k", "v");  // helpers do not count
  EXPECT_TRUE(fake_.RequestCounts().empty());
  (void)fake_.HeadBucket();
  (void)fake_.HeadObject("k");
  (void)fake_.HeadObject("missing");
  Collector out;
  (void)Get(Range("k", 0), &out);
  (void)Get(Range("missing", 0), &out);  // failures count too
  (void)Put("p", "v");
  (void)fake_.DeleteObject("p");
  (void)fake_.DeleteObjects({"a", "b"});
  (void)fake_.CopyObject("k", "c", {});
  (void)fake_.ListObjects({});
  auto id = fake_.CreateMultipartUpload("m", {});
  (void)fake_.UploadPart("m", *id, 1, Payload::FromBuffer("x"));
  (void)fake_.UploadPartCopy("m", *id, 2, "k", 0, 1, "");
  (void)fake_.ListMultipartUploads("");
  (void)fake_.CompleteMultipartUpload("m", *id, {});
  (void)fake_.AbortMultipartUpload("m", *id);
  const std::map<std::string, uint64_t> expected = {
      {"HeadBucket", 1},
      {"HeadObject", 2},
      {"GetObject", 2},
      {"PutObject", 1},
      {"DeleteObject", 1},
      {"DeleteObjects", 1},
      {"CopyObject", 1},
      {"ListObjects", 1},
      {"CreateMultipartUpload", 1},
      {"UploadPart", 1},
      {"UploadPartCopy", 1},
      {"ListMultipartUploads", 1},
      {"CompleteMultipartUpload", 1},
      {"AbortMultipartUpload", 1}};
  EXPECT_EQ(fake_.RequestCounts(), expected);
  fake_.ResetRequestCounts();
  EXPECT_TRUE(fake_.RequestCounts().empty());
}

}  // namespace
}  // namespace repofs
