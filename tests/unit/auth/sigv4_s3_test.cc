// The five S3 examples of the S3 API reference ("Examples: Signature
// Calculations", copied in tests/data/sigv4/s3-sigv4-examples.md), plus the
// canonicalization rules of the signer one by one.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "auth/sigv4.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs::auth {
namespace {

constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kHost = "examplebucket.s3.amazonaws.com";
constexpr const char* kAmzDate = "20130524T000000Z";

std::chrono::system_clock::time_point ExampleTime() {
  std::tm tm{};
  tm.tm_year = 2013 - 1900;
  tm.tm_mon = 4;
  tm.tm_mday = 24;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Credentials ExampleCredentials() {
  Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return c;
}

SigV4Result SignS3(const CanonicalInput& in) {
  return SignV4(in, ExampleCredentials(), "us-east-1", "s3", ExampleTime());
}

std::string Authorization(const std::string& signed_headers,
                          const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
         "s3/aws4_request, SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  CanonicalInput in;
  in.method = "GET";
  in.canonical_uri = "/test.txt";
  in.headers = {{"Host", kHost},
                {"Range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptyHash},
                {"x-amz-date", kAmzDate}};
  in.payload_hash = kEmptyHash;
  SigV4Result r = SignS3(in);
  EXPECT_EQ(r.canonical_request,
            std::string("GET\n/test.txt\n\nhost:") + kHost +
                "\nrange:bytes=0-9\nx-amz-content-sha256:" + kEmptyHash +
                "\nx-amz-date:" + kAmzDate +
                "\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                kEmptyHash);
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/"
            "aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(r.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(
      r.authorization,
      Authorization("host;range;x-amz-content-sha256;x-amz-date", r.signature));
}

TEST(SigV4S3Examples, PutObjectWithStorageClass) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string body_hash = HexEncode(Sha256(body));
  ASSERT_EQ(body_hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CanonicalInput in;
  in.method = "PUT";
  in.canonical_uri = UriEncode("/test$file.text", true);
  ASSERT_EQ(in.canonical_uri, "/test%24file.text");
  in.headers = {{"Host", kHost},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", kAmzDate},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", body_hash}};
  in.payload_hash = body_hash;
  SigV4Result r = SignS3(in);
  EXPECT_EQ(r.signed_headers,
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(r.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Examples, GetBucketLifecycle) {
  CanonicalInput in;
  in.method = "GET";
  in.canonical_uri = "/";
  in.query = {{"lifecycle", ""}};
  in.headers = {{"Host", kHost},
                {"x-amz-date", kAmzDate},
                {"x-amz-content-sha256", kEmptyHash}};
  in.payload_hash = kEmptyHash;
  SigV4Result r = SignS3(in);
  EXPECT_NE(r.canonical_request.find("\n/\nlifecycle=\nhost:"),
            std::string::npos)
      << r.canonical_request;
  EXPECT_EQ(r.signed_headers, "host;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(r.signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjects) {
  CanonicalInput in;
  in.method = "GET";
  in.canonical_uri = "/";
  in.query = {{"prefix", "J"}, {"max-keys", "2"}};  // signer sorts
  in.headers = {{"Host", kHost},
                {"x-amz-date", kAmzDate},
                {"x-amz-content-sha256", kEmptyHash}};
  in.payload_hash = kEmptyHash;
  SigV4Result r = SignS3(in);
  EXPECT_NE(r.canonical_request.find("\nmax-keys=2&prefix=J\n"),
            std::string::npos);
  EXPECT_EQ(r.signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Examples, PresignedUrl) {
  CanonicalInput in;
  in.method = "GET";
  in.canonical_uri = "/test.txt";
  in.headers = {{"Host", kHost}};
  in.payload_hash = std::string(kUnsignedPayload);
  std::string q = PresignQuery(in, ExampleCredentials(), "us-east-1", "s3",
                               ExampleTime(), std::chrono::seconds(86400));
  EXPECT_EQ(q,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
            "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  // An empty payload hash defaults to UNSIGNED-PAYLOAD.
  in.payload_hash.clear();
  EXPECT_EQ(PresignQuery(in, ExampleCredentials(), "us-east-1", "s3",
                         ExampleTime(), std::chrono::seconds(86400)),
            q);
}

// --- canonicalization rules -------------------------------------------------

CanonicalInput Minimal() {
  CanonicalInput in;
  in.method = "GET";
  in.canonical_uri = "/";
  in.headers = {{"host", "h"}};
  in.payload_hash = std::string(kUnsignedPayload);
  return in;
}

TEST(SigV4Canonical, HeadersLowercasedTrimmedCollapsedMergedSorted) {
  CanonicalInput in = Minimal();
  in.headers = {{"X-B", "  two   spaces\tand\t\ttabs  "},
                {"Host", "h"},
                {"x-a", "first"},
                {"X-A", " second "},
                {"x-c", ""}};
  SigV4Result r = SignV4(in, Credentials{"AK", "SK", "", {}}, "r", "s3",
                         std::chrono::system_clock::from_time_t(0));
  EXPECT_EQ(r.canonical_request,
            "GET\n/\n\nhost:h\nx-a:first,second\nx-b:two spaces and tabs\n"
            "x-c:\n\nhost;x-a;x-b;x-c\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(r.signed_headers, "host;x-a;x-b;x-c");
}

TEST(SigV4Canonical, QueryEncodedAndSortedByEncodedNameThenValue) {
  EXPECT_EQ(CanonicalQueryString({{"prefix", "a/b c+d=e~"},
                                  {"acl", ""},
                                  {"b", "2"},
                                  {"b", "1"},
                                  {"a b", "x"},
                                  {"a+b", "y"}}),
            "a%20b=x&a%2Bb=y&acl=&b=1&b=2&prefix=a%2Fb%20c%2Bd%3De~");
  EXPECT_EQ(CanonicalQueryString({}), "");
  // Non-ASCII bytes are encoded as UTF-8 percent escapes.
  EXPECT_EQ(CanonicalQueryString({{"k", "\xE1\x88\xB4"}}), "k=%E1%88%B4");
}

TEST(SigV4Canonical, UriTakenVerbatim) {
  CanonicalInput in = Minimal();
  in.canonical_uri = "/a%20b/./c//..%2Fd~";
  SigV4Result r = SignV4(in, Credentials{"AK", "SK", "", {}}, "r", "s3",
                         std::chrono::system_clock::from_time_t(0));
  EXPECT_TRUE(r.canonical_request.starts_with("GET\n/a%20b/./c//..%2Fd~\n\n"))
      << r.canonical_request;
  in.canonical_uri.clear();
  r = SignV4(in, Credentials{"AK", "SK", "", {}}, "r", "s3",
             std::chrono::system_clock::from_time_t(0));
  EXPECT_TRUE(r.canonical_request.starts_with("GET\n/\n\n"));
}

TEST(SigV4Canonical, SigningKeyMatchesAwsDocumentedExample) {
  // "Examples of how to derive a signing key for Signature Version 4".
  EXPECT_EQ(
      HexEncode(DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                 "20120215", "us-east-1", "iam")),
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Canonical, DateAndScopeComeFromTime) {
  CanonicalInput in = Minimal();
  SigV4Result r = SignV4(in, Credentials{"AK", "SK", "", {}}, "eu-west-3", "s3",
                         ExampleTime() + std::chrono::hours(25));
  EXPECT_TRUE(r.string_to_sign.starts_with(
      "AWS4-HMAC-SHA256\n20130525T010000Z\n20130525/eu-west-3/s3/"
      "aws4_request\n"))
      << r.string_to_sign;
  EXPECT_TRUE(r.authorization.starts_with(
      "AWS4-HMAC-SHA256 Credential=AK/20130525/eu-west-3/s3/aws4_request, "));
}

TEST(SigV4Canonical, ResultNeverContainsTheSecret) {
  CanonicalInput in = Minimal();
  Credentials c = ExampleCredentials();
  SigV4Result r = SignV4(in, c, "us-east-1", "s3", ExampleTime());
  for (const std::string* s :
       {&r.canonical_request, &r.string_to_sign, &r.signed_headers,
        &r.signature, &r.authorization}) {
    EXPECT_EQ(s->find(c.secret_access_key), std::string::npos);
  }
  std::string q = PresignQuery(in, c, "us-east-1", "s3", ExampleTime(),
                               std::chrono::seconds(60));
  EXPECT_EQ(q.find(c.secret_access_key), std::string::npos);
  EXPECT_EQ(q.find(UriEncode(c.secret_access_key, false)), std::string::npos);
}

TEST(SigV4Presign, SessionTokenAndExtraQueryAreSignedAndSignatureLast) {
  CanonicalInput in;
  in.method = "GET";
  in.canonical_uri = "/test.txt";
  in.query = {{"response-content-type", "text/plain"}};
  in.headers = {{"Host", kHost}};
  Credentials c = ExampleCredentials();
  std::string plain = PresignQuery(in, c, "us-east-1", "s3", ExampleTime(),
                                   std::chrono::seconds(3600));
  c.session_token = "tok/en+=";
  std::string with_token = PresignQuery(in, c, "us-east-1", "s3", ExampleTime(),
                                        std::chrono::seconds(3600));
  EXPECT_NE(with_token.find("&X-Amz-Security-Token=tok%2Fen%2B%3D&"),
            std::string::npos)
      << with_token;
  EXPECT_NE(with_token.find("&response-content-type=text%2Fplain&"),
            std::string::npos);
  EXPECT_EQ(plain.find("X-Amz-Security-Token"), std::string::npos);
  EXPECT_NE(plain.find("X-Amz-Expires=3600&"), std::string::npos);
  // The signature is the last parameter and covers the token.
  size_t sig = with_token.rfind("&X-Amz-Signature=");
  ASSERT_NE(sig, std::string::npos);
  EXPECT_EQ(with_token.size() - sig,
            std::string("&X-Amz-Signature=").size() + 64);
  EXPECT_NE(plain.substr(plain.rfind('=')), with_token.substr(sig + 16));
}

}  // namespace
}  // namespace repofs::auth
