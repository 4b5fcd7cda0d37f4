#include "s3/s3_request.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "s3/s3_response.h"

namespace repofs::s3 {
namespace {

S3Options PathStyle() {
  S3Options o;
  o.endpoint = "http://127.0.0.1:7480";
  o.bucket = "bucket";
  o.path_style = true;
  return o;
}

S3Options Virtual(std::string endpoint) {
  S3Options o;
  o.endpoint = std::move(endpoint);
  o.bucket = "bucket";
  o.path_style = false;
  return o;
}

const std::string kOddKey = "dir/a b+c%d~e//f/./g/../\xC3\xBC$&=?#";
const std::string kOddKeyEncoded =
    "dir/a%20b%2Bc%25d~e//f/./g/../%C3%BC%24%26%3D%3F%23";

TEST(RequestBuilder, PathStyleUrls) {
  RequestBuilder b(PathStyle());
  EXPECT_EQ(b.host(), "127.0.0.1:7480");
  EXPECT_EQ(b.CanonicalUri(std::nullopt), "/bucket");
  EXPECT_EQ(b.CanonicalUri(std::string("k")), "/bucket/k");
  EXPECT_EQ(b.CanonicalUri(kOddKey), "/bucket/" + kOddKeyEncoded);
  S3Request r{"GET", kOddKey, {}, {}, nullptr};
  EXPECT_EQ(b.Url(r), "http://127.0.0.1:7480/bucket/" + kOddKeyEncoded);
  EXPECT_EQ(b.CopySource(kOddKey), "/bucket/" + kOddKeyEncoded);
}

TEST(RequestBuilder, VirtualHostedUrls) {
  RequestBuilder b(Virtual("http://localhost:7480/"));
  EXPECT_EQ(b.host(), "bucket.localhost:7480");
  EXPECT_EQ(b.CanonicalUri(std::nullopt), "/");
  EXPECT_EQ(b.CanonicalUri(kOddKey), "/" + kOddKeyEncoded);
  S3Request r{"GET",
              std::nullopt,
              {{"list-type", "2"}, {"prefix", "a/b c"}},
              {},
              nullptr};
  EXPECT_EQ(b.Url(r),
            "http://bucket.localhost:7480/?list-type=2&prefix=a%2Fb%20c");
  // The copy source always names the bucket, whatever the addressing.
  EXPECT_EQ(b.CopySource("x y"), "/bucket/x%20y");
}

TEST(RequestBuilder, DefaultEndpointAndPorts) {
  S3Options o = Virtual("");
  o.region = "eu-west-1";
  RequestBuilder aws(o);
  EXPECT_EQ(aws.host(), "bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws.Url(S3Request{"GET", std::string("k"), {}, {}, nullptr}),
            "https://bucket.s3.eu-west-1.amazonaws.com/k");
  // Default ports are omitted, as HTTP clients omit them from Host.
  EXPECT_EQ(RequestBuilder(Virtual("https://minio.example:443")).host(),
            "bucket.minio.example");
  EXPECT_EQ(RequestBuilder(Virtual("http://Host.Example:80")).host(),
            "bucket.host.example");
  EXPECT_EQ(RequestBuilder(Virtual("host.example:9000"))
                .Url(S3Request{"GET", std::string("k"), {}, {}, nullptr}),
            "https://bucket.host.example:9000/k");
  S3Options v6 = PathStyle();
  v6.endpoint = "http://[::1]:7480";
  EXPECT_EQ(RequestBuilder(v6).host(), "[::1]:7480");
  S3Options prefixed = PathStyle();
  prefixed.endpoint = "https://gw.example/s3/";
  RequestBuilder p(prefixed);
  EXPECT_EQ(p.host(), "gw.example");
  EXPECT_EQ(p.CanonicalUri(std::string("k")), "/s3/bucket/k");
}

TEST(RequestBuilder, QueryEncoding) {
  EXPECT_EQ(EncodeQuery({{"uploads", ""}}), "uploads");
  EXPECT_EQ(EncodeQuery({{"uploadId", "a/b+c="}, {"partNumber", "3"}}),
            "partNumber=3&uploadId=a%2Fb%2Bc%3D");
  EXPECT_EQ(EncodeQuery({{"prefix", "~x y"}, {"delimiter", "/"}}),
            "delimiter=%2F&prefix=~x%20y");
  EXPECT_EQ(EncodeQuery({}), "");
}

// Known answers: the examples of the S3 SigV4 documentation
// (sig-v4-header-based-auth.html, "Examples of signature calculations").
class AwsExamples : public ::testing::Test {
 protected:
  Credentials creds{"AKIAIOSFODNN7EXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "",
                    std::nullopt};
  std::chrono::system_clock::time_point when =
      std::chrono::system_clock::from_time_t(1369353600);  // 20130524T000000Z
  RequestBuilder builder{[] {
    S3Options o = Virtual("https://s3.amazonaws.com");
    o.bucket = "examplebucket";
    o.sign_payload = true;
    return o;
  }()};

  static std::string Signature(const HttpRequest& r) {
    for (const auto& h : r.headers) {
      if (h.name == "authorization") {
        size_t at = h.value.find("Signature=");
        return at == std::string::npos ? "" : h.value.substr(at + 10);
      }
    }
    return "";
  }
};

TEST_F(AwsExamples, GetObject) {
  S3Request r{
      "GET", std::string("test.txt"), {}, {{"range", "bytes=0-9"}}, nullptr};
  auto http = builder.Sign(r, creds, when);
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http->url, "https://examplebucket.s3.amazonaws.com/test.txt");
  EXPECT_EQ(Signature(*http),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_F(AwsExamples, PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  Payload payload = Payload::FromBuffer(body);
  S3Request r{"PUT",
              std::string("test$file.text"),
              {},
              {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
              &payload};
  auto http = builder.Sign(r, creds, when);
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http->url,
            "https://examplebucket.s3.amazonaws.com/test%24file.text");
  EXPECT_EQ(Signature(*http),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(http->body, &payload);
}

TEST_F(AwsExamples, GetBucketLifecycle) {
  S3Request r{"GET", std::nullopt, {{"lifecycle", ""}}, {}, nullptr};
  auto http = builder.Sign(r, creds, when);
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http->url, "https://examplebucket.s3.amazonaws.com/?lifecycle");
  EXPECT_EQ(Signature(*http),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_F(AwsExamples, ListObjects) {
  S3Request r{
      "GET", std::nullopt, {{"prefix", "J"}, {"max-keys", "2"}}, {}, nullptr};
  auto http = builder.Sign(r, creds, when);
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http->url,
            "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J");
  EXPECT_EQ(Signature(*http),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(RequestBuilder, SignedHeadersAndSessionToken) {
  RequestBuilder b(PathStyle());
  Credentials creds{"AK", "SK", "TOKEN/+=", std::nullopt};
  S3Request r{"HEAD", std::string("k"), {}, {}, nullptr};
  auto http =
      b.Sign(r, creds, std::chrono::system_clock::from_time_t(1440938160));
  ASSERT_TRUE(http.has_value());
  auto find = [&](const std::string& n) -> std::string {
    for (const auto& h : http->headers) {
      if (h.name == n) return h.value;
    }
    return "<missing>";
  };
  EXPECT_EQ(find("host"), "127.0.0.1:7480");
  EXPECT_EQ(find("x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(find("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(find("x-amz-security-token"), "TOKEN/+=");
  std::string auth = find("authorization");
  EXPECT_EQ(
      auth.rfind(
          "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request",
          0),
      0u)
      << auth;
  EXPECT_NE(
      auth.find("host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
      std::string::npos)
      << auth;
  EXPECT_EQ(auth.find("SK"), std::string::npos);
}

TEST(RequestBuilder, PayloadHashOfFile) {
  S3Options o = PathStyle();
  o.sign_payload = true;
  RequestBuilder b(o);
  char path[] = "/tmp/repofs_s3_hash_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  const std::string data = "xxWelcome to Amazon S3.yy";
  ASSERT_EQ(::write(fd, data.data(), data.size()), ssize_t(data.size()));
  Payload file = Payload::FromFile(fd, 2, 21);
  auto hash = b.PayloadHash(&file);
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(*hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto empty = b.PayloadHash(nullptr);
  EXPECT_EQ(*empty,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Payload too_long = Payload::FromFile(fd, 0, 1000);
  auto bad = b.PayloadHash(&too_long);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, S3ErrorCode::kLocalIo);
  ::close(fd);
}

// ---- response interpretation ----

HttpResponse Response(int status, std::vector<HttpHeader> headers,
                      std::string body = "") {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(S3Response, HeadHeadersToObjectInfo) {
  HttpResponse r =
      Response(200, {{"content-length", "1234"},
                     {"etag", "\"d41d8cd98f00b204e9800998ecf8427e\""},
                     {"last-modified", "Sun, 30 Aug 2015 12:36:00 GMT"},
                     {"content-type", "text/plain"},
                     {"x-amz-storage-class", "STANDARD_IA"},
                     {"x-amz-meta-mode", "0644"},
                     {"x-amz-meta-uid", " 1000"},
                     {"x-amz-meta-", "ignored"},
                     {"x-amz-request-id", "r"}});
  auto info = InfoFromHeaders("dir/k", r);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->key, "dir/k");
  EXPECT_EQ(info->size, 1234u);
  EXPECT_EQ(info->etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(info->last_modified, 1440938160);
  EXPECT_EQ(info->content_type, "text/plain");
  EXPECT_EQ(info->storage_class, "STANDARD_IA");
  EXPECT_TRUE(info->has_metadata);
  EXPECT_EQ(info->metadata, (Metadata{{"mode", "0644"}, {"uid", " 1000"}}));
  EXPECT_FALSE(InfoFromHeaders("k", Response(200, {})).has_value());
  EXPECT_FALSE(InfoFromHeaders("k", Response(200, {{"content-length", "x"}}))
                   .has_value());
}

TEST(S3Response, ContentRange) {
  auto r = ParseContentRange("bytes 100-199/1000");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r->first, 100u);
  EXPECT_EQ(r->last, 199u);
  EXPECT_EQ(*r->total, 1000u);
  auto unsatisfied = ParseContentRange("bytes */0");
  ASSERT_TRUE(unsatisfied.has_value());
  EXPECT_FALSE(unsatisfied->first.has_value());
  EXPECT_EQ(*unsatisfied->total, 0u);
  EXPECT_FALSE(ParseContentRange("bytes 5-4/10").has_value());
  EXPECT_FALSE(ParseContentRange("bytes 0-10/10").has_value());
  EXPECT_FALSE(ParseContentRange("items 0-1/10").has_value());
  EXPECT_FALSE(ParseContentRange("bytes 0-1").has_value());
}

TEST(S3Response, ErrorCodesFromDocumentThenStatus) {
  struct Case {
    int status;
    std::string body;
    NotFoundMeans nf;
    S3ErrorCode want;
  };
  auto doc = [](const std::string& code) {
    return "<Error><Code>" + code +
           "</Code><Message>m</Message><RequestId>rid</RequestId></Error>";
  };
  const Case cases[] = {
      {404, doc("NoSuchKey"), NotFoundMeans::kBucket, S3ErrorCode::kNoSuchKey},
      {404, doc("NoSuchBucket"), NotFoundMeans::kKey,
       S3ErrorCode::kNoSuchBucket},
      {404, doc("NoSuchUpload"), NotFoundMeans::kKey,
       S3ErrorCode::kNoSuchUpload},
      {403, doc("SignatureDoesNotMatch"), NotFoundMeans::kKey,
       S3ErrorCode::kSignatureDoesNotMatch},
      {403, doc("InvalidAccessKeyId"), NotFoundMeans::kKey,
       S3ErrorCode::kInvalidAccessKeyId},
      {403, doc("AccessDenied"), NotFoundMeans::kKey,
       S3ErrorCode::kAccessDenied},
      {400, doc("ExpiredToken"), NotFoundMeans::kKey,
       S3ErrorCode::kExpiredToken},
      {400, doc("EntityTooSmall"), NotFoundMeans::kKey,
       S3ErrorCode::kEntityTooSmall},
      {400, doc("RequestTimeout"), NotFoundMeans::kKey,
       S3ErrorCode::kRequestTimeout},
      {400, doc("InvalidArgument"), NotFoundMeans::kKey,
       S3ErrorCode::kInvalidRequest},
      {400, doc("SomethingNew"), NotFoundMeans::kKey,
       S3ErrorCode::kInvalidRequest},
      {409, doc("OperationAborted"), NotFoundMeans::kKey,
       S3ErrorCode::kConflict},
      {412, doc("PreconditionFailed"), NotFoundMeans::kKey,
       S3ErrorCode::kPreconditionFailed},
      {416, doc("InvalidRange"), NotFoundMeans::kKey,
       S3ErrorCode::kInvalidRange},
      {503, doc("SlowDown"), NotFoundMeans::kKey, S3ErrorCode::kSlowDown},
      {500, doc("InternalError"), NotFoundMeans::kKey,
       S3ErrorCode::kServerError},
      {501, doc("NotImplemented"), NotFoundMeans::kKey,
       S3ErrorCode::kNotImplemented},
      // 200 with an <Error> body (CopyObject / CompleteMultipartUpload).
      {200, doc("InternalError"), NotFoundMeans::kKey,
       S3ErrorCode::kServerError},
      {200, doc("SlowDown"), NotFoundMeans::kKey, S3ErrorCode::kSlowDown},
      {200, doc("Mystery"), NotFoundMeans::kKey, S3ErrorCode::kServerError},
      // HEAD responses carry no body: the status decides.
      {403, "", NotFoundMeans::kKey, S3ErrorCode::kAccessDenied},
      {404, "", NotFoundMeans::kKey, S3ErrorCode::kNoSuchKey},
      {404, "", NotFoundMeans::kBucket, S3ErrorCode::kNoSuchBucket},
      {404, "", NotFoundMeans::kUpload, S3ErrorCode::kNoSuchUpload},
      {301, "", NotFoundMeans::kBucket, S3ErrorCode::kInvalidRequest},
      {400, "", NotFoundMeans::kBucket, S3ErrorCode::kInvalidRequest},
      {412, "", NotFoundMeans::kKey, S3ErrorCode::kPreconditionFailed},
      {429, "", NotFoundMeans::kKey, S3ErrorCode::kSlowDown},
      {503, "", NotFoundMeans::kKey, S3ErrorCode::kSlowDown},
      {502, "<html>bad gateway</html>", NotFoundMeans::kKey,
       S3ErrorCode::kServerError},
      {418, "", NotFoundMeans::kKey, S3ErrorCode::kUnknown},
  };
  for (const Case& c : cases) {
    S3Error e = ErrorFromResponse("GetObject s3://b/k",
                                  Response(c.status, {}, c.body), c.nf);
    EXPECT_EQ(e.code, c.want) << c.status << " " << c.body;
    EXPECT_EQ(e.http_status, c.status);
    EXPECT_EQ(e.message.rfind("GetObject s3://b/k: ", 0), 0u) << e.message;
    if (!c.body.empty() && c.body[0] == '<' && c.body[1] == 'E') {
      EXPECT_EQ(e.request_id, "rid");
      EXPECT_FALSE(e.s3_code.empty());
    }
  }
  S3Error region =
      ErrorFromResponse("HeadBucket s3://b",
                        Response(301, {{"x-amz-bucket-region", "eu-west-1"}}),
                        NotFoundMeans::kBucket);
  EXPECT_NE(region.message.find("eu-west-1"), std::string::npos);
  S3Error with_id = ErrorFromResponse(
      "x", Response(500, {{"x-amz-request-id", "hdr"}}, doc("InternalError")),
      NotFoundMeans::kKey);
  EXPECT_EQ(with_id.request_id, "hdr");
  S3Error multiline = ErrorFromResponse(
      "GetObject s3://b/line\nbreak",
      Response(500, {}, "<Error><Message>a\nb</Message></Error>"),
      NotFoundMeans::kKey);
  EXPECT_EQ(multiline.message.find('\n'), std::string::npos)
      << multiline.message;
}

TEST(S3Response, TransportErrors) {
  auto map = [](TransportErrorKind k) {
    return ErrorFromTransport("PutObject s3://b/k", TransportError{k, "boom"});
  };
  EXPECT_EQ(map(TransportErrorKind::kConnect).code, S3ErrorCode::kNetwork);
  EXPECT_EQ(map(TransportErrorKind::kReset).code, S3ErrorCode::kNetwork);
  EXPECT_EQ(map(TransportErrorKind::kTimeout).code, S3ErrorCode::kTimeout);
  EXPECT_EQ(map(TransportErrorKind::kAborted).code, S3ErrorCode::kAborted);
  EXPECT_EQ(map(TransportErrorKind::kLocalIo).code, S3ErrorCode::kLocalIo);
  S3Error tls = map(TransportErrorKind::kTls);
  EXPECT_EQ(tls.code, S3ErrorCode::kNetwork);
  EXPECT_NE(tls.message.find("TLS"), std::string::npos);
  EXPECT_EQ(tls.http_status, 0);
  EXPECT_EQ(map(TransportErrorKind::kConnect).message,
            "PutObject s3://b/k: boom");
}

TEST(S3Response, Unquote) {
  EXPECT_EQ(Unquote("\"abc\""), "abc");
  EXPECT_EQ(Unquote("abc"), "abc");
  EXPECT_EQ(Unquote("\"\""), "");
  EXPECT_EQ(Unquote("\""), "\"");
}

}  // namespace
}  // namespace repofs::s3
