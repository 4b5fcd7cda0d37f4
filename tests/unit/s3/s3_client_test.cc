// S3Client against an in-process scripted transport: the exact requests each
// operation sends, and how it reads each kind of answer.
#include "s3/s3_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "s3_client_fixture.h"

namespace repofs::s3 {
namespace {

TEST_F(S3ClientTest, AwsDocumentedGetObjectSignature) {
  // sig-v4-header-based-auth.html, "Example: GET Object".
  options_.endpoint = "https://s3.amazonaws.com";
  options_.bucket = "examplebucket";
  options_.path_style = false;
  options_.sign_payload = true;
  FixedClock aws_clock(std::chrono::system_clock::from_time_t(1369353600));
  S3Client aws(
      options_, transport_,
      std::make_shared<StaticCredentials>(Credentials{
          "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "", std::nullopt}),
      aws_clock);
  transport_->Push(
      Status(206, "0123456789", {{"content-range", "bytes 0-9/100"}}));
  std::string got;
  auto r =
      aws.GetObject(GetRequest{"test.txt", 0, 10, ""}, [&](std::string_view c) {
        got.append(c);
        return true;
      });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.url, "https://examplebucket.s3.amazonaws.com/test.txt");
  EXPECT_EQ(H(sent, "range"), "bytes=0-9");
  EXPECT_EQ(H(sent, "host"), "examplebucket.s3.amazonaws.com");
  EXPECT_NE(H(sent, "authorization")
                .find("Signature="
                      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6"
                      "036bdb41"),
            std::string::npos)
      << H(sent, "authorization");
  EXPECT_EQ(got, "0123456789");
  EXPECT_EQ(r->size, 100u);
}

TEST_F(S3ClientTest, HeadObject) {
  transport_->Push(
      HeadReply(1234, {{"etag", "\"e1\""},
                       {"last-modified", "Sun, 30 Aug 2015 12:36:00 GMT"},
                       {"content-type", "application/x-deb"},
                       {"x-amz-meta-mtime", "1440938160"}}));
  const std::string key = "pool/main/a b+c%.deb";
  auto info = client().HeadObject(key);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ((*info)->key, key);
  EXPECT_EQ((*info)->size, 1234u);
  EXPECT_EQ((*info)->etag, "e1");
  EXPECT_EQ((*info)->last_modified, 1440938160);
  EXPECT_EQ((*info)->content_type, "application/x-deb");
  EXPECT_EQ((*info)->metadata.at("mtime"), "1440938160");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "HEAD");
  EXPECT_EQ(sent.url, "http://127.0.0.1:7480/bkt/pool/main/a%20b%2Bc%25.deb");
  EXPECT_EQ(H(sent, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_FALSE(sent.had_body);
  ExpectSigned(sent);

  transport_->Push(Status(404));
  auto missing = client().HeadObject("nope");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());

  transport_->Push(Status(403));
  auto denied = client().HeadObject("secret");
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, S3ErrorCode::kAccessDenied);
  EXPECT_NE(denied.error().message.find("HeadObject s3://bkt/secret"),
            std::string::npos);
  EXPECT_EQ(denied.error().message.find("SECRETKEY"), std::string::npos);
  EXPECT_EQ(client().RequestCounts(),
            (std::map<std::string, uint64_t>{{"HeadObject", 3}}));
}

TEST_F(S3ClientTest, SessionTokenIsSentAndSigned) {
  session_token_ = "FwoGZXIvYXdzEJr//////////wEaDH";
  transport_->Push(HeadReply(1, {}));
  ASSERT_TRUE(client().HeadObject("k").has_value());
  SentRequest sent = transport_->Last();
  EXPECT_EQ(H(sent, "x-amz-security-token"), session_token_);
  EXPECT_NE(H(sent, "authorization").find("x-amz-security-token"),
            std::string::npos);
}

TEST_F(S3ClientTest, VirtualHostedAddressing) {
  options_.endpoint = "http://localhost:7480";
  options_.path_style = false;
  transport_->Push(HeadReply(1, {}));
  ASSERT_TRUE(client().HeadObject("a/b").has_value());
  EXPECT_EQ(transport_->Last().url, "http://bkt.localhost:7480/a/b");
  EXPECT_EQ(H(transport_->Last(), "host"), "bkt.localhost:7480");
}

TEST_F(S3ClientTest, GetObjectRangeAndIfMatch) {
  transport_->Push(Status(206, "cdef",
                          {{"content-range", "bytes 2-5/10"},
                           {"etag", "\"v1\""},
                           {"x-amz-meta-a", "b"}}));
  std::string got;
  auto r =
      client().GetObject(GetRequest{"k", 2, 4, "v1"}, [&](std::string_view c) {
        got.append(c);
        return true;
      });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(got, "cdef");
  EXPECT_EQ(r->size, 10u);
  EXPECT_EQ(r->etag, "v1");
  EXPECT_TRUE(r->has_metadata);
  EXPECT_EQ(r->metadata.at("a"), "b");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.url, "http://127.0.0.1:7480/bkt/k");
  EXPECT_EQ(H(sent, "range"), "bytes=2-5");
  EXPECT_EQ(H(sent, "if-match"), "\"v1\"");
  ExpectSigned(sent);

  // To the end: open range; clamped at the end of the object.
  transport_->Push(Status(206, "ij", {{"content-range", "bytes 8-9/10"}}));
  got.clear();
  r = client().GetObject(GetRequest{"k", 8, std::nullopt, ""},
                         [&](std::string_view c) {
                           got.append(c);
                           return true;
                         });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(got, "ij");
  EXPECT_EQ(H(transport_->Last(), "range"), "bytes=8-");
  EXPECT_EQ(H(transport_->Last(), "if-match"), "<missing>");

  transport_->Push(Status(206, "ij", {{"content-range", "bytes 8-9/10"}}));
  r = client().GetObject(GetRequest{"k", 8, 100, ""},
                         [](std::string_view) { return true; });
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST_F(S3ClientTest, GetWholeObjectAndEmptyObject) {
  transport_->Push(Ok("hello"));
  std::string got;
  auto r = client().GetObject(GetRequest{"k", 0, std::nullopt, ""},
                              [&](std::string_view c) {
                                got.append(c);
                                return true;
                              });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(r->size, 5u);
  EXPECT_EQ(H(transport_->Last(), "range"), "<missing>");

  // A plain GET of an empty object.
  transport_->Push(Ok("", {{"etag", "\"d41d8cd98f00b204e9800998ecf8427e\""}}));
  r = client().GetObject(GetRequest{"empty", 0, std::nullopt, ""},
                         [](std::string_view) { return true; });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->size, 0u);
  EXPECT_EQ(r->etag, "d41d8cd98f00b204e9800998ecf8427e");

  // A ranged read at offset 0 of an empty object: 416, confirmed by HEAD.
  transport_->Push(Status(416, "<Error><Code>InvalidRange</Code></Error>",
                          {{"content-range", "bytes */0"}}));
  transport_->Push(
      HeadReply(0, {{"etag", "\"d41d8cd98f00b204e9800998ecf8427e\""}}));
  bool called = false;
  r = client().GetObject(
      GetRequest{"empty", 0, 4096, "d41d8cd98f00b204e9800998ecf8427e"},
      [&](std::string_view) {
        called = true;
        return true;
      });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(called);
  EXPECT_EQ(r->size, 0u);
  EXPECT_EQ(r->etag, "d41d8cd98f00b204e9800998ecf8427e");
  SentRequest head = transport_->Last();
  EXPECT_EQ(head.method, "HEAD");
  EXPECT_EQ(H(head, "if-match"), "\"d41d8cd98f00b204e9800998ecf8427e\"");

  // 416 beyond the end of a non-empty object stays an error.
  transport_->Push(Status(416, "<Error><Code>InvalidRange</Code></Error>"));
  r = client().GetObject(GetRequest{"k", 10, 5, ""},
                         [](std::string_view) { return true; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kInvalidRange);
  EXPECT_EQ(transport_->Pending(), 0u);
}

TEST_F(S3ClientTest, GetObjectFailures) {
  auto get = [&](GetRequest req) {
    return client().GetObject(req, [](std::string_view) { return true; });
  };
  transport_->Push(Status(
      404, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"));
  auto r = get({"k", 0, std::nullopt, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kNoSuchKey);
  EXPECT_EQ(r.error().http_status, 404);
  EXPECT_EQ(r.error().s3_code, "NoSuchKey");

  transport_->Push(
      Status(412, "<Error><Code>PreconditionFailed</Code></Error>"));
  r = get({"k", 0, 10, "old"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kPreconditionFailed);

  // Fewer bytes than Content-Length promised.
  Reply short_body = Ok("abc");
  short_body.body_bytes = 2;
  short_body.body = "ab";
  transport_->Push(short_body);
  r = get({"k", 0, std::nullopt, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kTruncatedBody);

  // A 206 shorter than asked although the object is longer.
  transport_->Push(Status(206, "ab", {{"content-range", "bytes 0-1/10"}}));
  r = get({"k", 0, 5, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kTruncatedBody);

  // A server that ignores Range.
  transport_->Push(Ok("0123456789"));
  r = get({"k", 3, 2, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kMalformedResponse);

  // A Content-Range for other bytes than asked.
  transport_->Push(Status(206, "ab", {{"content-range", "bytes 4-5/10"}}));
  r = get({"k", 3, 2, ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kMalformedResponse);

  // The caller's sink stops the transfer.
  transport_->Push(Ok(std::string(100, 'x')));
  r = client().GetObject({"k", 0, std::nullopt, ""},
                         [](std::string_view) { return false; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kAborted);

  // Transport failures.
  const std::pair<TransportErrorKind, S3ErrorCode> kinds[] = {
      {TransportErrorKind::kConnect, S3ErrorCode::kNetwork},
      {TransportErrorKind::kReset, S3ErrorCode::kNetwork},
      {TransportErrorKind::kTls, S3ErrorCode::kNetwork},
      {TransportErrorKind::kTimeout, S3ErrorCode::kTimeout},
      {TransportErrorKind::kAborted, S3ErrorCode::kAborted}};
  for (const auto& [kind, code] : kinds) {
    transport_->Push(Fail(kind));
    r = get({"some/key", 0, std::nullopt, ""});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(r.error().http_status, 0);
    EXPECT_NE(r.error().message.find("GetObject s3://bkt/some/key"),
              std::string::npos);
  }
  EXPECT_EQ(client().RequestCounts().at("GetObject"), 12u);
}

TEST_F(S3ClientTest, PutObjectHeaders) {
  options_.storage_class = "STANDARD_IA";
  options_.sse = "aws:kms";
  options_.sse_kms_key_id = "key-1";
  transport_->Push(Ok("", {{"etag", "\"5d41402abc4b2a76b9719d911017c592\""}}));
  const std::string data = "hello";
  Payload body = Payload::FromBuffer(data);
  PutOptions put;
  put.metadata = {{"Mode", "0644"}, {"mtime", "1440938160"}};
  put.content_type = "text/plain";
  put.if_none_match = true;
  auto r = client().PutObject("dir/file name", body, put);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->etag, "5d41402abc4b2a76b9719d911017c592");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.url, "http://127.0.0.1:7480/bkt/dir/file%20name");
  EXPECT_EQ(sent.body, "hello");
  EXPECT_EQ(H(sent, "content-type"), "text/plain");
  EXPECT_EQ(H(sent, "x-amz-meta-mode"), "0644");
  EXPECT_EQ(H(sent, "x-amz-meta-mtime"), "1440938160");
  EXPECT_EQ(H(sent, "x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(H(sent, "x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(H(sent, "x-amz-server-side-encryption-aws-kms-key-id"), "key-1");
  EXPECT_EQ(H(sent, "if-none-match"), "*");
  EXPECT_EQ(H(sent, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_NE(H(sent, "authorization").find("x-amz-meta-mode"),
            std::string::npos);
  ExpectSigned(sent);

  transport_->Push(
      Status(412, "<Error><Code>PreconditionFailed</Code></Error>"));
  auto exists = client().PutObject("k", body, put);
  ASSERT_FALSE(exists.has_value());
  EXPECT_EQ(exists.error().code, S3ErrorCode::kPreconditionFailed);

  transport_->Push(Status(501, "<Error><Code>NotImplemented</Code></Error>"));
  auto unsupported = client().PutObject("k", body, put);
  ASSERT_FALSE(unsupported.has_value());
  EXPECT_EQ(unsupported.error().code, S3ErrorCode::kNotImplemented);

  PutOptions bad;
  bad.metadata = {{"x", "line\r\nInjected: 1"}};
  auto rejected = client().PutObject("k", body, bad);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().code, S3ErrorCode::kInvalidRequest);
  EXPECT_EQ(client().RequestCounts().at("PutObject"), 3u);  // not sent
}

TEST_F(S3ClientTest, SignedPayloadHashesBufferAndFile) {
  options_.sign_payload = true;
  transport_->Push(Ok());
  transport_->Push(Ok());
  const std::string data = "Welcome to Amazon S3.";
  Payload buffer = Payload::FromBuffer(data);
  ASSERT_TRUE(client().PutObject("a", buffer, {}).has_value());
  const std::string want =
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  EXPECT_EQ(H(transport_->Last(), "x-amz-content-sha256"), want);

  char path[] = "/tmp/repofs_s3_client_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::write(fd, data.data(), data.size()), ssize_t(data.size()));
  Payload file = Payload::FromFile(fd, 0, data.size());
  ASSERT_TRUE(client().PutObject("b", file, {}).has_value());
  EXPECT_EQ(H(transport_->Last(), "x-amz-content-sha256"), want);
  EXPECT_EQ(transport_->Last().body, data);
  ::close(fd);
}

TEST_F(S3ClientTest, CredentialsFailureSendsNothing) {
  credentials_fail_ = true;
  auto r = client().HeadObject("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, S3ErrorCode::kCredentials);
  EXPECT_NE(r.error().message.find("no credentials in environment"),
            std::string::npos);
  EXPECT_TRUE(transport_->Sent().empty());
  EXPECT_TRUE(client().RequestCounts().empty());
}

TEST_F(S3ClientTest, DeleteObject) {
  transport_->Push(Status(204));
  ASSERT_TRUE(client().DeleteObject("a b").ok());
  EXPECT_EQ(transport_->Last().method, "DELETE");
  EXPECT_EQ(transport_->Last().url, "http://127.0.0.1:7480/bkt/a%20b");
  transport_->Push(Status(404, "<Error><Code>NoSuchKey</Code></Error>"));
  EXPECT_TRUE(client().DeleteObject("gone").ok());
  transport_->Push(Status(404, "<Error><Code>NoSuchBucket</Code></Error>"));
  auto r = client().DeleteObject("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, S3ErrorCode::kNoSuchBucket);
}

TEST_F(S3ClientTest, CopyObject) {
  transport_->Push(
      Ok("<CopyObjectResult><LastModified>2009-10-28T22:32:00.000Z"
         "</LastModified><ETag>&quot;9b2c&quot;</ETag></CopyObjectResult>"));
  CopyOptions copy;
  copy.source_if_match = "abc";
  auto r = client().CopyObject("src dir/a+b", "dst/c", copy);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->etag, "9b2c");
  EXPECT_EQ(r->last_modified, 1256769120);
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.url, "http://127.0.0.1:7480/bkt/dst/c");
  EXPECT_EQ(H(sent, "x-amz-copy-source"), "/bkt/src%20dir/a%2Bb");
  EXPECT_EQ(H(sent, "x-amz-metadata-directive"), "COPY");
  EXPECT_EQ(H(sent, "x-amz-copy-source-if-match"), "\"abc\"");
  EXPECT_EQ(H(sent, "x-amz-copy-if-match"), "\"abc\"");  // RGW's name
  EXPECT_EQ(H(sent, "x-amz-meta-x"), "<missing>");
  ExpectSigned(sent);

  transport_->Push(
      Ok("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
  CopyOptions replace;
  replace.directive = MetadataDirective::kReplace;
  replace.metadata = {{"x", "1"}};
  replace.content_type = "text/html";
  ASSERT_TRUE(client().CopyObject("k", "k", replace).has_value());
  sent = transport_->Last();
  EXPECT_EQ(H(sent, "x-amz-metadata-directive"), "REPLACE");
  EXPECT_EQ(H(sent, "x-amz-meta-x"), "1");
  EXPECT_EQ(H(sent, "content-type"), "text/html");

  // HTTP 200 whose body is an <Error>: the copy failed.
  transport_->Push(
      Ok("\n\n<Error><Code>InternalError</Code><Message>We encountered an "
         "internal error.</Message></Error>"));
  auto failed = client().CopyObject("a", "b", {});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, S3ErrorCode::kServerError);
  EXPECT_EQ(failed.error().http_status, 200);
  EXPECT_EQ(failed.error().s3_code, "InternalError");

  transport_->Push(Ok("<CopyObjectResult>"));  // truncated
  auto truncated = client().CopyObject("a", "b", {});
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().code, S3ErrorCode::kMalformedResponse);
  EXPECT_NE(truncated.error().message.find("CopyObject s3://bkt/b"),
            std::string::npos);

  transport_->Push(Status(404, "<Error><Code>NoSuchKey</Code></Error>"));
  auto missing = client().CopyObject("a", "b", {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, S3ErrorCode::kNoSuchKey);
}

TEST_F(S3ClientTest, ListObjects) {
  transport_->Push(
      Ok("<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</"
         "IsTruncated>"
         "<NextContinuationToken>tok/2</NextContinuationToken>"
         "<Contents><Key>dir%2Fa%20b</"
         "Key><LastModified>2020-01-01T00:00:00.000Z</LastModified>"
         "<ETag>\"e\"</ETag><Size>3</Size></Contents>"
         "<CommonPrefixes><Prefix>dir%2Fsub%2F</Prefix></CommonPrefixes></"
         "ListBucketResult>"));
  ListRequest req;
  req.prefix = "dir/";
  req.delimiter = "/";
  req.continuation_token = "tok/1+=";
  req.start_after = "dir/0";
  req.max_keys = 500;
  auto page = client().ListObjects(req);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "dir/a b");
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"dir/sub/"});
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok/2");
  SentRequest sent = transport_->Last();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(
      sent.url,
      "http://127.0.0.1:7480/bkt?continuation-token=tok%2F1%2B%3D&delimiter=%2F"
      "&encoding-type=url&list-type=2&max-keys=500&prefix=dir%2F&start-after="
      "dir%2F0");
  ExpectSigned(sent);

  transport_->Push(Ok(
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"));
  ASSERT_TRUE(client().ListObjects(ListRequest{}).has_value());
  EXPECT_EQ(
      transport_->Last().url,
      "http://127.0.0.1:7480/bkt?encoding-type=url&list-type=2&max-keys=1000");

  transport_->Push(Ok(
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"));
  auto bad = client().ListObjects(ListRequest{});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, S3ErrorCode::kMalformedResponse);

  transport_->Push(Status(404, "<Error><Code>NoSuchBucket</Code></Error>"));
  auto nobucket = client().ListObjects(ListRequest{});
  ASSERT_FALSE(nobucket.has_value());
  EXPECT_EQ(nobucket.error().code, S3ErrorCode::kNoSuchBucket);
}

}  // namespace
}  // namespace repofs::s3
