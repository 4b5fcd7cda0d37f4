#include "s3/s3_xml.h"

#include <gtest/gtest.h>

#include <string>

namespace repofs::s3 {
namespace {

constexpr char kListV2[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>dir%2F</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <Delimiter>%2F</Delimiter>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>dir%2Fa+b%2Bc%25d%7E.txt</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>dir%2F%C3%BC%0A</Key>
    <LastModified>2009-10-12T17:50:31Z</LastModified>
    <ETag>"abc-2"</ETag>
    <Size>0</Size>
  </Contents>
  <CommonPrefixes><Prefix>dir%2Fsub%20dir%2F</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>dir%2Fz%2F</Prefix></CommonPrefixes>
</ListBucketResult>)";

TEST(S3Xml, ListObjectsV2DecodesUrlEncodedKeys) {
  auto page = ParseListObjectsV2(kListV2);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dir/a b+c%d~.txt");
  EXPECT_EQ(page->objects[0].size, 434234u);
  EXPECT_EQ(page->objects[0].etag, "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(page->objects[0].last_modified, 1255369830);
  EXPECT_EQ(page->objects[0].storage_class, "STANDARD");
  EXPECT_FALSE(page->objects[0].has_metadata);
  EXPECT_EQ(page->objects[1].key, "dir/\xC3\xBC\n");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_EQ(page->objects[1].etag, "abc-2");
  EXPECT_EQ(page->objects[1].last_modified, 1255369831);
  ASSERT_EQ(page->common_prefixes.size(), 2u);
  EXPECT_EQ(page->common_prefixes[0], "dir/sub dir/");
  EXPECT_EQ(page->common_prefixes[1], "dir/z/");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token,
            "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, ListObjectsV2WithoutEncodingTypeKeepsKeysVerbatim) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a%20b+c</Key><LastModified>2020-01-01T00:00:00Z</"
      "LastModified>"
      "<Size>5</Size></Contents>"
      "<Contents><Key>   "
      "</Key><LastModified>2020-01-01T00:00:00Z</LastModified>"
      "<Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a%20b+c");
  EXPECT_EQ(page->objects[1].key, "   ");  // whitespace-only key survives
  EXPECT_FALSE(page->truncated);
  EXPECT_TRUE(page->next_continuation_token.empty());
}

TEST(S3Xml, EmptyListing) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></"
      "ListBucketResult>");
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->common_prefixes.empty());
}

void ExpectMalformed(const S3Result<ListPage>& r, const char* what) {
  ASSERT_FALSE(r.has_value()) << what;
  EXPECT_EQ(r.error().code, S3ErrorCode::kMalformedResponse) << what;
  EXPECT_FALSE(r.error().message.empty());
}

TEST(S3Xml, MalformedListingsAreErrorsNeverCrashes) {
  std::string full = kListV2;
  // Every truncation of a valid document is rejected.
  for (size_t n = 0; n + 1 < full.size(); n += 13) {
    ExpectMalformed(ParseListObjectsV2(full.substr(0, n)), "truncated");
  }
  ExpectMalformed(ParseListObjectsV2(""), "empty");
  ExpectMalformed(ParseListObjectsV2("not xml at all"), "garbage");
  ExpectMalformed(
      ParseListObjectsV2("<Other><IsTruncated>false</IsTruncated></Other>"),
      "wrong root");
  ExpectMalformed(ParseListObjectsV2("<ListBucketResult/>"), "no IsTruncated");
  ExpectMalformed(ParseListObjectsV2("<ListBucketResult><IsTruncated>maybe</"
                                     "IsTruncated></ListBucketResult>"),
                  "bad IsTruncated");
  ExpectMalformed(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</"
                                     "IsTruncated></ListBucketResult>"),
                  "truncated without token");
  ExpectMalformed(
      ParseListObjectsV2(
          "<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
          "<LastModified>2020-01-01T00:00:00Z</LastModified><Size>1</Size>"
          "</Contents></ListBucketResult>"),
      "no key");
  ExpectMalformed(
      ParseListObjectsV2(
          "<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
          "<Key>k</Key><LastModified>2020-01-01T00:00:00Z</LastModified>"
          "<Size>-1</Size></Contents></ListBucketResult>"),
      "negative size");
  ExpectMalformed(
      ParseListObjectsV2(
          "<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
          "<Key>k</Key><Size>1</Size></Contents></ListBucketResult>"),
      "no LastModified");
  ExpectMalformed(
      ParseListObjectsV2(
          "<ListBucketResult><EncodingType>url</EncodingType>"
          "<IsTruncated>false</IsTruncated><Contents><Key>bad%zz</Key>"
          "<LastModified>2020-01-01T00:00:00Z</LastModified><Size>1</Size>"
          "</Contents></ListBucketResult>"),
      "bad escape");
  ExpectMalformed(
      ParseListObjectsV2("<Error><Code>InternalError</Code></Error>"),
      "error document");
}

TEST(S3Xml, ListMultipartUploads) {
  auto page =
      ParseListMultipartUploads(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <StorageClass>REDUCED_REDUNDANCY</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiated>2010-11-10T20:48:34Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)");
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->uploads.size(), 2u);
  EXPECT_EQ(page->uploads[0].key, "my-divisor");
  EXPECT_EQ(page->uploads[0].upload_id,
            "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
  EXPECT_EQ(page->uploads[0].initiated, 1289422113);
  EXPECT_EQ(page->uploads[1].key, "my-movie.m2ts");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_key_marker, "my-movie.m2ts");
  EXPECT_EQ(page->next_upload_id_marker,
            "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");

  auto encoded = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><EncodingType>url</EncodingType>"
      "<IsTruncated>false</IsTruncated><Upload><Key>a%20b%2Fc</Key>"
      "<UploadId>id1</UploadId></Upload></ListMultipartUploadsResult>");
  ASSERT_TRUE(encoded.has_value()) << encoded.error().message;
  EXPECT_EQ(encoded->uploads.at(0).key, "a b/c");
  EXPECT_EQ(encoded->uploads.at(0).initiated, 0);

  for (const char* bad :
       {"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload>"
        "<Key>k</Key></Upload></ListMultipartUploadsResult>",
        "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
        "</ListMultipartUploadsResult>",
        "<ListMultipartUploadsResult>", "<ListBucketResult/>"}) {
    auto r = ParseListMultipartUploads(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, S3ErrorCode::kMalformedResponse);
  }
}

TEST(S3Xml, CopyResults) {
  auto copy = ParseCopyResult(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
      "\"><LastModified>2009-10-28T22:32:00.000Z"
      "</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>"
      "</CopyObjectResult>");
  ASSERT_TRUE(copy.has_value()) << copy.error().message;
  EXPECT_EQ(copy->etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(copy->last_modified, 1256769120);

  auto part = ParseCopyResult(
      "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified>"
      "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyPartResult>");
  ASSERT_TRUE(part.has_value()) << part.error().message;
  EXPECT_EQ(part->etag, "9b2cf535f27731c974343645a3985328");

  for (const char* bad :
       {"",
        "<CopyObjectResult><LastModified>x</LastModified>"
        "</CopyObjectResult>",
        "<CopyObjectResult><ETag>\"\"</ETag></CopyObjectResult>",
        "<CopyObjectResult><ETag>\"abc\"</ETag>",
        "<Error><Code>InternalError</Code></Error>"}) {
    auto r = ParseCopyResult(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, S3ErrorCode::kMalformedResponse) << bad;
  }
}

TEST(S3Xml, InitiateMultipartUpload) {
  auto id = ParseInitiateMultipartUpload(
      "<?xml version=\"1.0\" "
      "encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
      "\"><Bucket>example-bucket</Bucket>"
      "<Key>example-object</"
      "Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
      "</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(*id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  for (const char* bad :
       {"<InitiateMultipartUploadResult><UploadId></UploadId></"
        "InitiateMultipartUploadResult>",
        "<InitiateMultipartUploadResult/>",
        "<InitiateMultipartUploadResult><UploadId>x", "<Error/>"}) {
    auto r = ParseInitiateMultipartUpload(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, S3ErrorCode::kMalformedResponse);
  }
}

TEST(S3Xml, CompleteMultipartUploadAcceptsEmptyEtag) {
  auto aws = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><Location>http://x</Location><Bucket>b</"
      "Bucket>"
      "<Key>k</Key><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->etag, "3858f62230ac3c915f300c664312c11f-9");
  // RGW: an empty <ETag>.
  auto rgw = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag></"
      "ETag>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(rgw.has_value());
  EXPECT_EQ(rgw->etag, "");
  auto bad = ParseCompleteMultipartUpload("   \n  ");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, S3ErrorCode::kMalformedResponse);
}

TEST(S3Xml, DeleteResultWithErrors) {
  auto failed = ParseDeleteResult(R"(<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
  <Error><Key>a &amp; b</Key><Code>403</Code><Message>AccessDenied</Message></Error>
</DeleteResult>)");
  ASSERT_TRUE(failed.has_value()) << failed.error().message;
  ASSERT_EQ(failed->size(), 2u);
  EXPECT_EQ((*failed)[0], "sample2.txt");
  EXPECT_EQ((*failed)[1], "a & b");

  auto none = ParseDeleteResult("<DeleteResult/>");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto bad = ParseDeleteResult(
      "<DeleteResult><Error><Code>x</Code></Error></DeleteResult>");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, S3ErrorCode::kMalformedResponse);
}

TEST(S3Xml, ErrorDocument) {
  auto doc = ParseErrorDocument(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->code, "NoSuchKey");
  EXPECT_EQ(doc->message, "The resource you requested does not exist");
  EXPECT_EQ(doc->request_id, "4442587FB7D0A2F9");
  // 200-with-Error bodies (CopyObject, CompleteMultipartUpload) may be
  // preceded by keep-alive whitespace.
  auto padded =
      ParseErrorDocument("\n   \n<Error><Code>InternalError</Code></Error>");
  ASSERT_TRUE(padded.has_value());
  EXPECT_EQ(padded->code, "InternalError");

  EXPECT_FALSE(ParseErrorDocument("").has_value());
  EXPECT_FALSE(ParseErrorDocument("   ").has_value());
  EXPECT_FALSE(ParseErrorDocument("<Error><Code>x</Code>").has_value());
  EXPECT_FALSE(ParseErrorDocument("<CopyObjectResult/>").has_value());
  EXPECT_FALSE(ParseErrorDocument("<html>502 Bad Gateway</html>").has_value());
}

TEST(S3Xml, BuildDeleteObjectsEscapesKeys) {
  std::vector<std::string> keys = {"skip", "a&b<c>d", "cr\rlf\n", "\"q'"};
  std::string xml = BuildDeleteObjectsXml(keys, 1, 4);
  EXPECT_EQ(xml.find("skip"), std::string::npos);
  EXPECT_NE(xml.find("<Quiet>true</Quiet>"), std::string::npos);
  EXPECT_NE(xml.find("<Object><Key>a&amp;b&lt;c&gt;d</Key></Object>"),
            std::string::npos);
  EXPECT_NE(xml.find("<Key>cr&#13;lf\n</Key>"), std::string::npos);
  EXPECT_NE(xml.find("<Key>\"q'</Key>"), std::string::npos);
  EXPECT_TRUE(IsXmlSafe("cr\rlf\n\t"));
  EXPECT_FALSE(IsXmlSafe(std::string("nul\0", 4)));
  EXPECT_FALSE(IsXmlSafe("bell\x07"));
}

TEST(S3Xml, BuildCompleteMultipart) {
  std::string xml = BuildCompleteMultipartXml({{1, "aaa"}, {2, "bbb"}});
  EXPECT_NE(xml.find("<CompleteMultipartUpload"), std::string::npos);
  size_t p1 =
      xml.find("<Part><PartNumber>1</PartNumber><ETag>\"aaa\"</ETag></Part>");
  size_t p2 =
      xml.find("<Part><PartNumber>2</PartNumber><ETag>\"bbb\"</ETag></Part>");
  ASSERT_NE(p1, std::string::npos);
  ASSERT_NE(p2, std::string::npos);
  EXPECT_LT(p1, p2);
}

TEST(S3Xml, BuildCreateBucket) {
  EXPECT_NE(BuildCreateBucketXml("eu-west-1")
                .find("<LocationConstraint>eu-west-1</LocationConstraint>"),
            std::string::npos);
}

TEST(S3Xml, DecodeUrlEncodedValue) {
  EXPECT_EQ(DecodeUrlEncodedValue("a%2Fb+c%2B%25"), "a/b c+%");
  EXPECT_EQ(DecodeUrlEncodedValue("%C3%bc"), "\xC3\xBC");
  EXPECT_FALSE(DecodeUrlEncodedValue("%").has_value());
  EXPECT_FALSE(DecodeUrlEncodedValue("%2").has_value());
  EXPECT_FALSE(DecodeUrlEncodedValue("%g0").has_value());
}

}  // namespace
}  // namespace repofs::s3
