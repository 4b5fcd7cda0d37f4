// The XML documents of the S3 REST API: parsing responses (pugixml; only
// src/s3 parses XML) and generating request bodies.
//
// Every parser is a pure function of the body. A body that is not
// well-formed, has the wrong root element, or lacks a required field yields
// kMalformedResponse (message says what was wrong) -- never a crash, never a
// partial result. A parser whose response may be an <Error> document with
// HTTP 200 (CopyObject, UploadPartCopy, CompleteMultipartUpload, and
// defensively DeleteObjects) is called only after the caller has ruled that
// out with ParseErrorDocument().
//
// Keys and prefixes of ListObjectsV2 / ListMultipartUploads responses are
// URL-decoded when the response says <EncodingType>url</EncodingType>
// ('+' is a space, as AWS encodes it; RGW encodes '+' as %2B).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repofs/object_client.h"
#include "repofs/s3_error.h"

namespace repofs::s3 {

struct ErrorDocument {
  std::string code;        // <Code>; may be empty
  std::string message;     // <Message>
  std::string request_id;  // <RequestId>
};

// The <Error> document in `body`, or nullopt when the body is empty, not
// well-formed, or has another root element.
std::optional<ErrorDocument> ParseErrorDocument(std::string_view body);

// ListBucketResult (ListObjectsV2). Requires Key/Size/LastModified per
// <Contents>, IsTruncated, and a NextContinuationToken when truncated.
S3Result<ListPage> ParseListObjectsV2(std::string_view body);

struct MultipartUploadsPage {
  std::vector<MultipartUploadInfo> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
// ListMultipartUploadsResult. Requires Key/UploadId per <Upload>.
S3Result<MultipartUploadsPage> ParseListMultipartUploads(std::string_view body);

// CopyObjectResult (CopyObject) or CopyPartResult (UploadPartCopy): the
// ETag (required, unquoted) and LastModified (0 when absent).
S3Result<WriteResult> ParseCopyResult(std::string_view body);

// InitiateMultipartUploadResult: the UploadId (required, non-empty).
S3Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// CompleteMultipartUploadResult: the ETag, possibly empty (RGW sends an
// empty <ETag>; that is not an error).
S3Result<WriteResult> ParseCompleteMultipartUpload(std::string_view body);

// DeleteResult: the keys listed under <Error> (empty on full success).
S3Result<std::vector<std::string>> ParseDeleteResult(std::string_view body);

// True when `key` can be carried in an XML 1.0 text node (no control
// characters other than tab, LF, CR; valid UTF-8 is not checked).
bool IsXmlSafe(std::string_view key);

// <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>...</Delete>
// for keys[begin, end).
std::string BuildDeleteObjectsXml(const std::vector<std::string>& keys,
                                  size_t begin, size_t end);
// <CompleteMultipartUpload> with <Part><PartNumber/><ETag>"quoted"</ETag>,
// in the order given.
std::string BuildCompleteMultipartXml(const std::vector<CompletedPart>& parts);
// <CreateBucketConfiguration> with a LocationConstraint for `region`.
std::string BuildCreateBucketXml(std::string_view region);

// Decodes %XX escapes and '+' as space (encoding-type=url); nullopt on a bad
// escape.
std::optional<std::string> DecodeUrlEncodedValue(std::string_view text);

}  // namespace repofs::s3
