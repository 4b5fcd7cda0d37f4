// S3Client: the multipart-upload operations.
// Spec: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
#include <algorithm>
#include <utility>

#include "s3/s3_client.h"
#include "s3/s3_xml.h"

namespace repofs::s3 {
namespace {

constexpr int kMaxPartNumber = 10000;
// ListMultipartUploads returns up to 1000 uploads per page; this bounds the
// paging loop far above any real bucket.
constexpr int kMaxUploadPages = 100000;

bool ValidPartNumber(int part_number) {
  return part_number >= 1 && part_number <= kMaxPartNumber;
}

}  // namespace

S3Result<std::string> S3Client::CreateMultipartUpload(
    const std::string& key, const PutOptions& options) {
  const std::string context = Context(Op::kCreateMultipartUpload, key);
  S3Request request{"POST", key, {{"uploads", ""}}, {}, nullptr};
  S3Status headers = AddWriteHeaders(&request.headers, options.metadata,
                                     options.content_type, context);
  if (!headers) return headers.error();
  auto response = Send(Op::kCreateMultipartUpload, request, nullptr, context);
  if (!response) return response.error();
  if (!IsSuccess(*response) || ParseErrorDocument(response->body)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
  }
  auto upload_id = ParseInitiateMultipartUpload(response->body);
  if (!upload_id)
    return InContext(upload_id.error(), context, response->status);
  return upload_id;
}

S3Result<std::string> S3Client::UploadPart(const std::string& key,
                                           const std::string& upload_id,
                                           int part_number,
                                           const Payload& body) {
  const std::string context =
      Context(Op::kUploadPart, key) + " part " + std::to_string(part_number);
  if (!ValidPartNumber(part_number)) {
    return MakeError(S3ErrorCode::kInvalidRequest, context,
                     "part numbers are 1..10000");
  }
  S3Request request{
      "PUT",
      key,
      {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
      {},
      &body};
  auto response = Send(Op::kUploadPart, request, nullptr, context);
  if (!response) return response.error();
  if (!IsSuccess(*response)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kUpload);
  }
  const std::string* etag = response->Header("etag");
  if (etag == nullptr || Unquote(*etag).empty()) {
    return MakeError(S3ErrorCode::kMalformedResponse, context,
                     "UploadPart response without an ETag", response->status);
  }
  return Unquote(*etag);
}

S3Result<std::string> S3Client::UploadPartCopy(
    const std::string& key, const std::string& upload_id, int part_number,
    const std::string& source_key, uint64_t offset, uint64_t length,
    const std::string& source_if_match) {
  const std::string context = Context(Op::kUploadPartCopy, key) + " part " +
                              std::to_string(part_number) + " from " +
                              source_key;
  if (!ValidPartNumber(part_number) || length == 0) {
    return MakeError(S3ErrorCode::kInvalidRequest, context,
                     "part numbers are 1..10000 and a part is at least 1 byte");
  }
  S3Request request{
      "PUT",
      key,
      {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
      {},
      nullptr};
  request.headers.push_back(
      {"x-amz-copy-source", builder_.CopySource(source_key)});
  request.headers.push_back(
      {"x-amz-copy-source-range", "bytes=" + std::to_string(offset) + "-" +
                                      std::to_string(offset + length - 1)});
  AddCopySourceIfMatch(&request.headers, source_if_match);
  auto response = Send(Op::kUploadPartCopy, request, nullptr, context);
  if (!response) return response.error();
  // Like CopyObject, a part copy may fail after "200 OK" with an <Error> body.
  if (!IsSuccess(*response) || ParseErrorDocument(response->body)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kUpload);
  }
  auto result = ParseCopyResult(response->body);
  if (!result) return InContext(result.error(), context, response->status);
  return std::move(result->etag);
}

S3Result<WriteResult> S3Client::CompleteMultipartUpload(
    const std::string& key, const std::string& upload_id,
    const std::vector<CompletedPart>& parts) {
  const std::string context = Context(Op::kCompleteMultipartUpload, key);
  if (parts.empty()) {
    return MakeError(S3ErrorCode::kInvalidRequest, context,
                     "an upload needs at least one part");
  }
  // S3 requires ascending part numbers (InvalidPartOrder otherwise).
  std::vector<CompletedPart> sorted = parts;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const CompletedPart& a, const CompletedPart& b) {
                     return a.part_number < b.part_number;
                   });
  const std::string xml = BuildCompleteMultipartXml(sorted);
  const Payload payload = Payload::FromBuffer(xml);
  S3Request request{"POST", key, {{"uploadId", upload_id}}, {}, &payload};
  request.headers.push_back({"content-type", "application/xml"});
  auto response = Send(Op::kCompleteMultipartUpload, request, nullptr, context);
  if (!response) return response.error();
  // S3 may send "200 OK", keep the connection alive with whitespace while it
  // assembles the parts, and then report an <Error> in the body.
  if (!IsSuccess(*response) || ParseErrorDocument(response->body)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kUpload);
  }
  // RGW answers with an empty <ETag>; the ETag stays empty (HEAD has it).
  auto result = ParseCompleteMultipartUpload(response->body);
  if (!result) return InContext(result.error(), context, response->status);
  return result;
}

S3Status S3Client::AbortMultipartUpload(const std::string& key,
                                        const std::string& upload_id) {
  const std::string context = Context(Op::kAbortMultipartUpload, key);
  S3Request request{"DELETE", key, {{"uploadId", upload_id}}, {}, nullptr};
  auto response = Send(Op::kAbortMultipartUpload, request, nullptr, context);
  if (!response) return response.error();
  if (IsSuccess(*response)) return {};
  return ErrorFromResponse(context, *response, NotFoundMeans::kUpload);
}

S3Result<std::vector<MultipartUploadInfo>> S3Client::ListMultipartUploads(
    const std::string& prefix) {
  const std::string context = Context(Op::kListMultipartUploads, std::nullopt) +
                              " prefix '" + prefix + "'";
  std::vector<MultipartUploadInfo> uploads;
  std::string key_marker;
  std::string upload_id_marker;
  for (int page_count = 0; page_count < kMaxUploadPages; ++page_count) {
    // No encoding-type=url: RGW 16 then encodes <Key> but neither says so
    // (<EncodingType>) nor encodes <NextKeyMarker>; raw keys work everywhere.
    S3Request request{"GET", std::nullopt, {{"uploads", ""}}, {}, nullptr};
    if (!prefix.empty()) request.query.emplace_back("prefix", prefix);
    if (!key_marker.empty())
      request.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) {
      request.query.emplace_back("upload-id-marker", upload_id_marker);
    }
    auto response = Send(Op::kListMultipartUploads, request, nullptr, context);
    if (!response) return response.error();
    if (!IsSuccess(*response)) {
      return ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
    }
    auto page = ParseListMultipartUploads(response->body);
    if (!page) return InContext(page.error(), context, response->status);
    for (MultipartUploadInfo& upload : page->uploads) {
      uploads.push_back(std::move(upload));
    }
    if (!page->truncated) return uploads;
    if (page->next_key_marker == key_marker &&
        page->next_upload_id_marker == upload_id_marker) {
      return MakeError(S3ErrorCode::kMalformedResponse, context,
                       "truncated listing whose markers do not advance",
                       response->status);
    }
    key_marker = std::move(page->next_key_marker);
    upload_id_marker = std::move(page->next_upload_id_marker);
  }
  return MakeError(S3ErrorCode::kMalformedResponse, context,
                   "more than " + std::to_string(kMaxUploadPages) + " pages");
}

}  // namespace repofs::s3
