// S3Client bucket-level operations (incl. multi-object delete) and request
// accounting, against a
// scripted transport.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "s3_client_fixture.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs::s3 {
namespace {

TEST_F(S3ClientTest, HeadBucketAndCreateBucket) {
  transport_->Push(Ok());
  EXPECT_TRUE(client().HeadBucket().ok());
  EXPECT_EQ(transport_->Last().method, "HEAD");
  EXPECT_EQ(transport_->Last().url, "http://127.0.0.1:7480/bkt");
  transport_->Push(Status(404));
  auto missing = client().HeadBucket();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, S3ErrorCode::kNoSuchBucket);
  transport_->Push(Status(403));
  EXPECT_EQ(client().HeadBucket().error().code, S3ErrorCode::kAccessDenied);

  transport_->Push(Ok());
  EXPECT_TRUE(client().CreateBucket().ok());
  EXPECT_EQ(transport_->Last().method, "PUT");
  EXPECT_FALSE(transport_->Last().had_body);  // us-east-1: no configuration
  transport_->Push(
      Status(409, "<Error><Code>BucketAlreadyOwnedByYou</Code></Error>"));
  EXPECT_TRUE(client().CreateBucket().ok());
  transport_->Push(
      Status(409, "<Error><Code>BucketAlreadyExists</Code></Error>"));
  EXPECT_EQ(client().CreateBucket().error().code, S3ErrorCode::kConflict);
  EXPECT_EQ(client().RequestCounts().at("HeadBucket"), 3u);
}

TEST_F(S3ClientTest, CreateBucketOutsideUsEast1SendsLocation) {
  options_.region = "eu-central-1";
  transport_->Push(Ok());
  ASSERT_TRUE(client().CreateBucket().ok());
  SentRequest sent = transport_->Last();
  EXPECT_NE(
      sent.body.find("<LocationConstraint>eu-central-1</LocationConstraint>"),
      std::string::npos);
  EXPECT_NE(H(sent, "authorization").find("/eu-central-1/s3/aws4_request"),
            std::string::npos);
}

TEST_F(S3ClientTest, RequestCountsCoverEveryOperation) {
  for (int i = 0; i < 14; ++i) transport_->Push(Status(500));
  const std::string data = "x";
  Payload body = Payload::FromBuffer(data);
  (void)client().HeadBucket();
  (void)client().HeadObject("k");
  (void)client().GetObject({"k", 0, std::nullopt, ""},
                           [](std::string_view) { return true; });
  (void)client().PutObject("k", body, {});
  (void)client().DeleteObject("k");
  (void)client().DeleteObjects({"k"});
  (void)client().CopyObject("a", "b", {});
  (void)client().ListObjects({});
  (void)client().CreateMultipartUpload("k", {});
  (void)client().UploadPart("k", "u", 1, body);
  (void)client().UploadPartCopy("k", "u", 1, "s", 0, 1, "");
  (void)client().CompleteMultipartUpload("k", "u", {{1, "e"}});
  (void)client().AbortMultipartUpload("k", "u");
  (void)client().ListMultipartUploads("");
  std::map<std::string, uint64_t> want;
  for (const char* name :
       {"HeadBucket", "HeadObject", "GetObject", "PutObject", "DeleteObject",
        "DeleteObjects", "CopyObject", "ListObjects", "CreateMultipartUpload",
        "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
        "AbortMultipartUpload", "ListMultipartUploads"}) {
    want[name] = 1;
  }
  EXPECT_EQ(client().RequestCounts(), want);
  EXPECT_EQ(transport_->Pending(), 0u);
}

TEST_F(S3ClientTest, DeleteObjectsBatchesAndReportsFailures) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) keys.push_back("k/" + std::to_string(i));
  keys.push_back(std::string("ctrl\x01key"));  // cannot travel in XML
  transport_->Push(Status(204));  // the lone DELETE of the control-char key
  transport_->Push(Ok("<DeleteResult/>"));
  transport_->Push(
      Ok("<DeleteResult><Error><Key>k/1500</Key><Code>AccessDenied</Code>"
         "</Error></DeleteResult>"));
  transport_->Push(Ok("<DeleteResult/>"));
  auto failed = client().DeleteObjects(keys);
  ASSERT_TRUE(failed.has_value()) << failed.error().message;
  EXPECT_EQ(*failed, std::vector<std::string>{"k/1500"});
  std::vector<SentRequest> sent = transport_->Sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].method, "DELETE");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:7480/bkt/ctrl%01key");
  size_t total = 0;
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(sent[i].method, "POST");
    EXPECT_EQ(sent[i].url, "http://127.0.0.1:7480/bkt?delete");
    EXPECT_EQ(H(sent[i], "content-md5"), Base64Encode(Md5(sent[i].body)));
    EXPECT_EQ(H(sent[i], "content-type"), "application/xml");
    size_t n = 0;
    for (size_t at = 0;
         (at = sent[i].body.find("<Key>", at)) != std::string::npos; ++at)
      ++n;
    EXPECT_LE(n, 1000u);
    total += n;
  }
  EXPECT_EQ(total, 2500u);
  EXPECT_NE(sent[1].body.find("<Key>k/0</Key>"), std::string::npos);
  EXPECT_NE(sent[3].body.find("<Key>k/2499</Key>"), std::string::npos);
  EXPECT_EQ(client().RequestCounts().at("DeleteObjects"), 3u);
  EXPECT_EQ(client().RequestCounts().at("DeleteObject"), 1u);

  transport_->Push(Ok("<Error><Code>InternalError</Code></Error>"));
  auto error = client().DeleteObjects({"x"});
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().code, S3ErrorCode::kServerError);
  EXPECT_TRUE(client().DeleteObjects({}).has_value());
}

}  // namespace
}  // namespace repofs::s3
