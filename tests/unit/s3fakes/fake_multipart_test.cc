// FakeObjectClient: multipart uploads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "s3/fake_object_client.h"
#include "test_support.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

class FakeMultipartTest : public ::testing::Test {
 protected:
  std::string Create(const std::string& key, PutOptions options = {}) {
    auto id = fake_.CreateMultipartUpload(key, options);
    EXPECT_TRUE(id.has_value());
    return id.has_value() ? *id : "";
  }
  CompletedPart Upload(const std::string& key, const std::string& id, int n,
                       const std::string& body) {
    auto etag = fake_.UploadPart(key, id, n, Payload::FromBuffer(body));
    EXPECT_TRUE(etag.has_value()) << etag.error().message;
    return CompletedPart{n, etag.has_value() ? *etag : ""};
  }

  testing::ManualClock clock_;
  FakeObjectClient fake_{clock_};
};

TEST_F(FakeMultipartTest, CompleteBuildsObjectWithS3StyleETag) {
  const std::string p1 = testing::RandomBytes(5 * kMiB, 1);
  const std::string p2 = testing::RandomBytes(5 * kMiB + 3, 2);
  const std::string p3 = "tail";
  PutOptions options;
  options.metadata = {{"Mode", "420"}};
  options.content_type = "application/java-archive";
  std::string id = Create("big.jar", options);
  EXPECT_EQ(fake_.PendingUploadCount(), 1u);
  std::vector<CompletedPart> parts = {Upload("big.jar", id, 1, p1),
                                      Upload("big.jar", id, 2, p2),
                                      Upload("big.jar", id, 3, p3)};
  EXPECT_EQ(parts[0].etag, HexEncode(Md5(p1)));
  EXPECT_FALSE(fake_.BodyForTest("big.jar").has_value());  // not visible yet

  clock_.Advance(std::chrono::seconds(9));
  auto done = fake_.CompleteMultipartUpload("big.jar", id, parts);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  const std::string expected_etag =
      HexEncode(Md5(Md5(p1) + Md5(p2) + Md5(p3))) + "-3";
  EXPECT_EQ(done->etag, expected_etag);
  EXPECT_EQ(done->last_modified, 1'700'000'009);
  EXPECT_EQ(fake_.BodyForTest("big.jar"), p1 + p2 + p3);
  auto info = fake_.InfoForTest("big.jar");
  EXPECT_EQ(info->etag, expected_etag);
  EXPECT_EQ(info->metadata, (Metadata{{"mode", "420"}}));
  EXPECT_EQ(info->content_type, "application/java-archive");
  EXPECT_EQ(fake_.PendingUploadCount(), 0u);
  // The upload id is gone once completed.
  auto again = fake_.CompleteMultipartUpload("big.jar", id, parts);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, S3ErrorCode::kNoSuchUpload);
}

TEST_F(FakeMultipartTest, SmallNonLastPartIsEntityTooSmall) {
  std::string id = Create("k");
  std::vector<CompletedPart> parts = {
      Upload("k", id, 1, std::string(kMiB, 'a')), Upload("k", id, 2, "b")};
  auto done = fake_.CompleteMultipartUpload("k", id, parts);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, S3ErrorCode::kEntityTooSmall);
  EXPECT_FALSE(fake_.BodyForTest("k").has_value());
  // A single small part is fine (it is the last one).
  auto single = fake_.CompleteMultipartUpload("k", id, {parts[1]});
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(fake_.BodyForTest("k"), "b");
  EXPECT_EQ(single->etag, HexEncode(Md5(Md5("b"))) + "-1");
}

TEST_F(FakeMultipartTest, PartOrderAndETagsAreChecked) {
  std::string id = Create("k");
  CompletedPart a = Upload("k", id, 1, std::string(5 * kMiB, 'a'));
  CompletedPart b = Upload("k", id, 2, "b");
  EXPECT_EQ(fake_.CompleteMultipartUpload("k", id, {b, a}).error().code,
            S3ErrorCode::kInvalidRequest);
  CompletedPart wrong = b;
  wrong.etag = HexEncode(Md5("other"));
  EXPECT_EQ(fake_.CompleteMultipartUpload("k", id, {a, wrong}).error().code,
            S3ErrorCode::kInvalidRequest);
  CompletedPart missing{7, b.etag};
  EXPECT_EQ(fake_.CompleteMultipartUpload("k", id, {a, missing}).error().code,
            S3ErrorCode::kInvalidRequest);
  EXPECT_EQ(fake_.CompleteMultipartUpload("k", id, {}).error().code,
            S3ErrorCode::kInvalidRequest);
  // Re-uploading a part number replaces it.
  CompletedPart b2 = Upload("k", id, 2, "b2");
  EXPECT_EQ(fake_.CompleteMultipartUpload("k", id, {a, b}).error().code,
            S3ErrorCode::kInvalidRequest);
  ASSERT_TRUE(fake_.CompleteMultipartUpload("k", id, {a, b2}).has_value());
  EXPECT_EQ(fake_.BodyForTest("k"), std::string(5 * kMiB, 'a') + "b2");
}

TEST_F(FakeMultipartTest, UnknownUploadAndBadPartNumbers) {
  auto part = fake_.UploadPart("k", "no-such-id", 1, Payload::FromBuffer("x"));
  ASSERT_FALSE(part.has_value());
  EXPECT_EQ(part.error().code, S3ErrorCode::kNoSuchUpload);
  EXPECT_EQ(fake_.AbortMultipartUpload("k", "no-such-id").error().code,
            S3ErrorCode::kNoSuchUpload);
  std::string id = Create("k");
  // The id belongs to "k", not to another key.
  EXPECT_EQ(
      fake_.UploadPart("other", id, 1, Payload::FromBuffer("x")).error().code,
      S3ErrorCode::kNoSuchUpload);
  EXPECT_EQ(fake_.UploadPart("k", id, 0, Payload::FromBuffer("x")).error().code,
            S3ErrorCode::kInvalidRequest);
  EXPECT_EQ(
      fake_.UploadPart("k", id, 10001, Payload::FromBuffer("x")).error().code,
      S3ErrorCode::kInvalidRequest);
  EXPECT_TRUE(
      fake_.UploadPart("k", id, 10000, Payload::FromBuffer("x")).has_value());
}

TEST_F(FakeMultipartTest, AbortDropsTheUpload) {
  std::string id = Create("k");
  CompletedPart p = Upload("k", id, 1, "x");
  ASSERT_TRUE(fake_.AbortMultipartUpload("k", id).ok());
  EXPECT_EQ(fake_.PendingUploadCount(), 0u);
  EXPECT_EQ(fake_.CompleteMultipartUpload("k", id, {p}).error().code,
            S3ErrorCode::kNoSuchUpload);
  EXPECT_EQ(fake_.UploadPart("k", id, 2, Payload::FromBuffer("y")).error().code,
            S3ErrorCode::kNoSuchUpload);
  EXPECT_FALSE(fake_.BodyForTest("k").has_value());
}

TEST_F(FakeMultipartTest, UploadPartCopyCopiesARange) {
  const std::string source = testing::RandomBytes(6 * kMiB, 3);
  std::string source_etag = fake_.PutForTest("src", source).etag;
  std::string id = Create("dst");
  auto e1 = fake_.UploadPartCopy("dst", id, 1, "src", 0, 5 * kMiB, source_etag);
  ASSERT_TRUE(e1.has_value()) << e1.error().message;
  EXPECT_EQ(*e1, HexEncode(Md5(source.substr(0, 5 * kMiB))));
  auto e2 = fake_.UploadPartCopy("dst", id, 2, "src", 5 * kMiB, kMiB, "");
  ASSERT_TRUE(e2.has_value());
  ASSERT_TRUE(fake_.CompleteMultipartUpload("dst", id, {{1, *e1}, {2, *e2}})
                  .has_value());
  EXPECT_EQ(fake_.BodyForTest("dst"), source);

  std::string id2 = Create("dst2");
  EXPECT_EQ(
      fake_.UploadPartCopy("dst2", id2, 1, "src", 0, 10, "0123").error().code,
      S3ErrorCode::kPreconditionFailed);
  EXPECT_EQ(
      fake_.UploadPartCopy("dst2", id2, 1, "nope", 0, 10, "").error().code,
      S3ErrorCode::kNoSuchKey);
  EXPECT_EQ(fake_.UploadPartCopy("dst2", id2, 1, "src", 6 * kMiB - 1, 2, "")
                .error()
                .code,
            S3ErrorCode::kInvalidRange);
  EXPECT_EQ(fake_.UploadPartCopy("dst2", id2, 1, "src", 0, 0, "").error().code,
            S3ErrorCode::kInvalidRequest);
}

TEST_F(FakeMultipartTest, ListMultipartUploadsByPrefix) {
  std::string a = Create("repo/a");
  clock_.Advance(std::chrono::seconds(1));
  std::string b = Create("repo/b");
  std::string other = Create("else/c");
  std::string a2 = Create("repo/a");
  auto list = fake_.ListMultipartUploads("repo/");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].key, "repo/a");
  EXPECT_EQ((*list)[0].upload_id, a);
  EXPECT_EQ((*list)[0].initiated, 1'700'000'000);
  EXPECT_EQ((*list)[1].key, "repo/a");
  EXPECT_EQ((*list)[1].upload_id, a2);
  EXPECT_EQ((*list)[2].upload_id, b);
  EXPECT_EQ(fake_.ListMultipartUploads("")->size(), 4u);
  ASSERT_TRUE(fake_.AbortMultipartUpload("repo/b", b).ok());
  EXPECT_EQ(fake_.ListMultipartUploads("repo/")->size(), 2u);
  (void)other;
}

TEST_F(FakeMultipartTest, IfNoneMatchIsCheckedAtComplete) {
  PutOptions create_only;
  create_only.if_none_match = true;
  std::string id = Create("once", create_only);
  CompletedPart p = Upload("once", id, 1, "x");
  fake_.PutForTest("once", "someone else was first");
  auto done = fake_.CompleteMultipartUpload("once", id, {p});
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, S3ErrorCode::kPreconditionFailed);
  EXPECT_EQ(fake_.BodyForTest("once"), "someone else was first");
}

}  // namespace
}  // namespace repofs
