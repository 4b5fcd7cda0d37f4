// S3Client multipart operations against a scripted transport.
#include <gtest/gtest.h>

#include <string>

#include "s3/s3_xml.h"
#include "s3_client_fixture.h"

namespace repofs::s3 {
namespace {

TEST_F(S3ClientTest, CreateMultipartUpload) {
  options_.storage_class = "GLACIER_IR";
  transport_->Push(
      Ok("<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key>"
         "<UploadId>2~abc/def</UploadId></InitiateMultipartUploadResult>"));
  PutOptions put;
  put.metadata = {{"mode", "0600"}};
  put.content_type = "application/octet-stream";
  auto id = client().CreateMultipartUpload("dir/big file", put);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(*id, "2~abc/def");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://127.0.0.1:7480/bkt/dir/big%20file?uploads");
  EXPECT_EQ(H(sent, "x-amz-meta-mode"), "0600");
  EXPECT_EQ(H(sent, "content-type"), "application/octet-stream");
  EXPECT_EQ(H(sent, "x-amz-storage-class"), "GLACIER_IR");
  ExpectSigned(sent);

  transport_->Push(Ok("<InitiateMultipartUploadResult/>"));
  auto bad = client().CreateMultipartUpload("k", {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, S3ErrorCode::kMalformedResponse);
}

TEST_F(S3ClientTest, UploadPart) {
  transport_->Push(Ok("", {{"etag", "\"part-etag\""}}));
  const std::string data(1000, 'p');
  Payload body = Payload::FromBuffer(data);
  auto etag = client().UploadPart("k", "2~abc/def", 7, body);
  ASSERT_TRUE(etag.has_value()) << etag.error().message;
  EXPECT_EQ(*etag, "part-etag");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "PUT");
  // uploadId values keep RGW's '/' and '~' safe: '/' is %2F in queries.
  EXPECT_EQ(sent.url,
            "http://127.0.0.1:7480/bkt/k?partNumber=7&uploadId=2~abc%2Fdef");
  EXPECT_EQ(sent.body, data);
  ExpectSigned(sent);

  transport_->Push(Status(404, "<Error><Code>NoSuchUpload</Code></Error>"));
  auto gone = client().UploadPart("k", "x", 1, body);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, S3ErrorCode::kNoSuchUpload);

  transport_->Push(Status(400, "<Error><Code>EntityTooSmall</Code></Error>"));
  EXPECT_EQ(client().UploadPart("k", "x", 1, body).error().code,
            S3ErrorCode::kEntityTooSmall);

  transport_->Push(Ok());  // no ETag header
  EXPECT_EQ(client().UploadPart("k", "x", 1, body).error().code,
            S3ErrorCode::kMalformedResponse);

  EXPECT_EQ(client().UploadPart("k", "x", 0, body).error().code,
            S3ErrorCode::kInvalidRequest);
  EXPECT_EQ(client().UploadPart("k", "x", 10001, body).error().code,
            S3ErrorCode::kInvalidRequest);
  EXPECT_EQ(client().RequestCounts().at("UploadPart"), 4u);
}

TEST_F(S3ClientTest, UploadPartCopy) {
  transport_->Push(
      Ok("<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified>"
         "<ETag>\"copied\"</ETag></CopyPartResult>"));
  auto etag = client().UploadPartCopy("dst", "up1", 2, "src/a b", 5242880,
                                      5242880, "src-etag");
  ASSERT_TRUE(etag.has_value()) << etag.error().message;
  EXPECT_EQ(*etag, "copied");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.url,
            "http://127.0.0.1:7480/bkt/dst?partNumber=2&uploadId=up1");
  EXPECT_EQ(H(sent, "x-amz-copy-source"), "/bkt/src/a%20b");
  EXPECT_EQ(H(sent, "x-amz-copy-source-range"), "bytes=5242880-10485759");
  EXPECT_EQ(H(sent, "x-amz-copy-source-if-match"), "\"src-etag\"");
  EXPECT_EQ(H(sent, "x-amz-copy-if-match"), "\"src-etag\"");  // RGW's name
  EXPECT_FALSE(sent.had_body);

  transport_->Push(
      Ok("<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>"));
  auto failed = client().UploadPartCopy("dst", "up1", 2, "src", 0, 10, "");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, S3ErrorCode::kSlowDown);
  EXPECT_EQ(H(transport_->Last(), "x-amz-copy-source-if-match"), "<missing>");

  transport_->Push(
      Status(412, "<Error><Code>PreconditionFailed</Code></Error>"));
  EXPECT_EQ(
      client().UploadPartCopy("dst", "up1", 2, "src", 0, 10, "x").error().code,
      S3ErrorCode::kPreconditionFailed);
  EXPECT_EQ(
      client().UploadPartCopy("dst", "up1", 2, "src", 0, 0, "").error().code,
      S3ErrorCode::kInvalidRequest);
}

TEST_F(S3ClientTest, CompleteMultipartUpload) {
  // RGW: an empty <ETag> is a success with an empty etag.
  transport_->Push(
      Ok("<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>"
         "<ETag></ETag></CompleteMultipartUploadResult>"));
  auto done = client().CompleteMultipartUpload(
      "k", "up/1", {{2, "e2"}, {1, "e1"}, {3, "e3"}});
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->etag, "");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://127.0.0.1:7480/bkt/k?uploadId=up%2F1");
  EXPECT_EQ(sent.body,
            BuildCompleteMultipartXml({{1, "e1"}, {2, "e2"}, {3, "e3"}}));
  size_t p1 = sent.body.find("<PartNumber>1</PartNumber>");
  size_t p3 = sent.body.find("<PartNumber>3</PartNumber>");
  EXPECT_LT(p1, p3);
  ExpectSigned(sent);

  transport_->Push(
      Ok("<CompleteMultipartUploadResult><ETag>\"abc-3\"</ETag>"
         "</CompleteMultipartUploadResult>"));
  done = client().CompleteMultipartUpload("k", "up/1", {{1, "e1"}});
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->etag, "abc-3");

  // "200 OK", whitespace to keep the connection alive, then an <Error>.
  transport_->Push(
      Ok("   \n   \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
         "<Code>InternalError</Code><Message>try again</Message></Error>"));
  auto failed = client().CompleteMultipartUpload("k", "up/1", {{1, "e1"}});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, S3ErrorCode::kServerError);
  EXPECT_EQ(failed.error().http_status, 200);

  transport_->Push(Ok("<Error><Code>InvalidPart</Code></Error>"));
  EXPECT_EQ(
      client().CompleteMultipartUpload("k", "up/1", {{1, "e1"}}).error().code,
      S3ErrorCode::kInvalidRequest);

  transport_->Push(Ok("<CompleteMultipartUploadResult>"));
  EXPECT_EQ(
      client().CompleteMultipartUpload("k", "up/1", {{1, "e1"}}).error().code,
      S3ErrorCode::kMalformedResponse);

  EXPECT_EQ(client().CompleteMultipartUpload("k", "up/1", {}).error().code,
            S3ErrorCode::kInvalidRequest);
  EXPECT_EQ(client().RequestCounts().at("CompleteMultipartUpload"), 5u);
}

TEST_F(S3ClientTest, AbortMultipartUpload) {
  transport_->Push(Status(204));
  ASSERT_TRUE(client().AbortMultipartUpload("k", "up1").ok());
  EXPECT_EQ(transport_->Last().method, "DELETE");
  EXPECT_EQ(transport_->Last().url, "http://127.0.0.1:7480/bkt/k?uploadId=up1");
  transport_->Push(Status(404, "<Error><Code>NoSuchUpload</Code></Error>"));
  EXPECT_EQ(client().AbortMultipartUpload("k", "up1").error().code,
            S3ErrorCode::kNoSuchUpload);
}

TEST_F(S3ClientTest, ListMultipartUploadsPages) {
  transport_->Push(
      Ok("<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
         "<NextKeyMarker>p/b</NextKeyMarker><NextUploadIdMarker>id/2</"
         "NextUploadIdMarker>"
         "<Upload><Key>p/a</Key><UploadId>id1</UploadId>"
         "<Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>"
         "<Upload><Key>p/b</Key><UploadId>id/2</UploadId></Upload>"
         "</ListMultipartUploadsResult>"));
  transport_->Push(
      Ok("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
         "<Upload><Key>p/c</Key><UploadId>id3</UploadId></Upload>"
         "</ListMultipartUploadsResult>"));
  auto uploads = client().ListMultipartUploads("p/");
  ASSERT_TRUE(uploads.has_value()) << uploads.error().message;
  ASSERT_EQ(uploads->size(), 3u);
  EXPECT_EQ((*uploads)[0].key, "p/a");
  EXPECT_EQ((*uploads)[0].initiated, 1289422113);
  EXPECT_EQ((*uploads)[1].upload_id, "id/2");
  EXPECT_EQ((*uploads)[2].key, "p/c");
  std::vector<SentRequest> sent = transport_->Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:7480/bkt?prefix=p%2F&uploads");
  EXPECT_EQ(sent[1].url,
            "http://127.0.0.1:7480/bkt?key-marker=p%2Fb&prefix=p%2F"
            "&upload-id-marker=id%2F2&uploads");
  EXPECT_EQ(client().RequestCounts().at("ListMultipartUploads"), 2u);

  // A server whose markers never advance cannot make us loop.
  const char* stuck =
      "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
      "<NextKeyMarker>m</NextKeyMarker></ListMultipartUploadsResult>";
  transport_->Push(Ok(stuck));
  transport_->Push(Ok(stuck));
  auto loop = client().ListMultipartUploads("");
  ASSERT_FALSE(loop.has_value());
  EXPECT_EQ(loop.error().code, S3ErrorCode::kMalformedResponse);
}

}  // namespace
}  // namespace repofs::s3
