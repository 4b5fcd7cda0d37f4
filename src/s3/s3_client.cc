#include "s3/s3_client.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "s3/s3_xml.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/string_util.h"
#include "util/time_format.h"

namespace repofs::s3 {
namespace {

// S3 caps DeleteObjects at 1000 keys per request.
constexpr size_t kDeleteBatch = 1000;

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
             std::string_view::npos;
}

}  // namespace

void AddCopySourceIfMatch(std::vector<HttpHeader>* headers,
                          const std::string& etag) {
  if (etag.empty()) return;
  const std::string quoted = "\"" + etag + "\"";
  headers->push_back({"x-amz-copy-source-if-match", quoted});
  // Ceph RGW (through at least 16.x) reads the condition from the
  // non-standard "x-amz-copy-if-match" and ignores the AWS name; S3 and
  // others ignore the unknown header.
  headers->push_back({"x-amz-copy-if-match", quoted});
}

S3Error InContext(S3Error error, std::string_view context, int http_status) {
  error.message = OneLine(context) + ": " + error.message;
  if (error.http_status == 0) error.http_status = http_status;
  return error;
}

S3Client::S3Client(S3Options options, std::shared_ptr<HttpTransport> transport,
                   std::shared_ptr<CredentialsProvider> credentials,
                   const Clock& clock)
    : options_(std::move(options)),
      builder_(options_),
      transport_(std::move(transport)),
      credentials_(std::move(credentials)),
      clock_(clock) {}

const char* S3Client::OpName(Op op) {
  switch (op) {
    case Op::kHeadBucket:
      return "HeadBucket";
    case Op::kHeadObject:
      return "HeadObject";
    case Op::kGetObject:
      return "GetObject";
    case Op::kPutObject:
      return "PutObject";
    case Op::kDeleteObject:
      return "DeleteObject";
    case Op::kDeleteObjects:
      return "DeleteObjects";
    case Op::kCopyObject:
      return "CopyObject";
    case Op::kListObjects:
      return "ListObjects";
    case Op::kCreateMultipartUpload:
      return "CreateMultipartUpload";
    case Op::kUploadPart:
      return "UploadPart";
    case Op::kUploadPartCopy:
      return "UploadPartCopy";
    case Op::kCompleteMultipartUpload:
      return "CompleteMultipartUpload";
    case Op::kAbortMultipartUpload:
      return "AbortMultipartUpload";
    case Op::kListMultipartUploads:
      return "ListMultipartUploads";
    case Op::kCreateBucket:
      return "CreateBucket";
    case Op::kCount:
      break;
  }
  return "Unknown";
}

std::map<std::string, uint64_t> S3Client::RequestCounts() const {
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    uint64_t n = counts_[i].load(std::memory_order_relaxed);
    if (n != 0) out[OpName(static_cast<Op>(i))] = n;
  }
  return out;
}

std::string S3Client::Context(Op op,
                              const std::optional<std::string>& key) const {
  std::string out = std::string(OpName(op)) + " s3://" + options_.bucket;
  if (key) out += "/" + *key;
  return out;
}

S3Result<HttpResponse> S3Client::Send(Op op, const S3Request& request,
                                      const BodySink* sink,
                                      std::string_view context) {
  Result<Credentials> credentials = credentials_->GetCredentials();
  if (!credentials) {
    return MakeError(S3ErrorCode::kCredentials, context,
                     credentials.error().message);
  }
  S3Result<HttpRequest> http =
      builder_.Sign(request, *credentials, clock_.Now());
  if (!http) return InContext(http.error(), context, 0);
  counts_[static_cast<size_t>(op)].fetch_add(1, std::memory_order_relaxed);
  auto response = transport_->Perform(*http, sink);
  if (!response) {
    REPOFS_LOG(kDebug) << "s3 " << OneLine(context) << ": "
                       << response.error().message;
    return ErrorFromTransport(context, response.error());
  }
  REPOFS_LOG(kDebug) << "s3 " << OneLine(context) << " -> HTTP "
                     << response->status << " (" << response->body_bytes
                     << " body bytes)";
  return std::move(response).value();
}

void S3Client::AddStorageHeaders(std::vector<HttpHeader>* headers) const {
  if (!options_.storage_class.empty()) {
    headers->push_back({"x-amz-storage-class", options_.storage_class});
  }
  if (!options_.sse.empty()) {
    headers->push_back({"x-amz-server-side-encryption", options_.sse});
    if (options_.sse == "aws:kms" && !options_.sse_kms_key_id.empty()) {
      headers->push_back({"x-amz-server-side-encryption-aws-kms-key-id",
                          options_.sse_kms_key_id});
    }
  }
}

S3Status S3Client::AddWriteHeaders(std::vector<HttpHeader>* headers,
                                   const Metadata& metadata,
                                   const std::string& content_type,
                                   std::string_view context) const {
  if (!content_type.empty()) headers->push_back({"content-type", content_type});
  AddStorageHeaders(headers);
  for (const auto& [name, value] : metadata) {
    bool name_ok =
        !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return IsTokenChar(static_cast<unsigned char>(c));
        });
    bool value_ok =
        value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
    if (!name_ok || !value_ok) {
      return MakeError(
          S3ErrorCode::kInvalidRequest, context,
          "metadata entry '" + name + "' cannot be sent as an HTTP header");
    }
    headers->push_back({"x-amz-meta-" + ToLower(name), value});
  }
  return {};
}

S3Status S3Client::CreateBucket() {
  const std::string context = Context(Op::kCreateBucket, std::nullopt);
  S3Request request{"PUT", std::nullopt, {}, {}, nullptr};
  std::string body;
  Payload payload;
  if (!options_.region.empty() && options_.region != "us-east-1") {
    body = BuildCreateBucketXml(options_.region);
    payload = Payload::FromBuffer(body);
    request.body = &payload;
    request.headers.push_back({"content-type", "application/xml"});
  }
  auto response = Send(Op::kCreateBucket, request, nullptr, context);
  if (!response) return response.error();
  if (IsSuccess(*response)) return {};
  S3Error error = ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
  if (error.s3_code == "BucketAlreadyOwnedByYou") return {};
  return error;
}

S3Status S3Client::HeadBucket() {
  const std::string context = Context(Op::kHeadBucket, std::nullopt);
  S3Request request{"HEAD", std::nullopt, {}, {}, nullptr};
  auto response = Send(Op::kHeadBucket, request, nullptr, context);
  if (!response) return response.error();
  if (IsSuccess(*response)) return {};
  return ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
}

S3Result<std::optional<ObjectInfo>> S3Client::Head(
    const std::string& key, const std::string& if_match) {
  const std::string context = Context(Op::kHeadObject, key);
  S3Request request{"HEAD", key, {}, {}, nullptr};
  if (!if_match.empty())
    request.headers.push_back({"if-match", "\"" + if_match + "\""});
  auto response = Send(Op::kHeadObject, request, nullptr, context);
  if (!response) return response.error();
  if (response->status == 404) return std::optional<ObjectInfo>();
  if (!IsSuccess(*response)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kKey);
  }
  std::optional<ObjectInfo> info = InfoFromHeaders(key, *response);
  if (!info) {
    return MakeError(S3ErrorCode::kMalformedResponse, context,
                     "HEAD response without a valid Content-Length",
                     response->status);
  }
  return info;
}

S3Result<std::optional<ObjectInfo>> S3Client::HeadObject(
    const std::string& key) {
  return Head(key, "");
}

S3Result<ObjectInfo> S3Client::GetObject(const GetRequest& request,
                                         const DataSink& sink) {
  const std::string context = Context(Op::kGetObject, request.key);
  S3Request get{"GET", request.key, {}, {}, nullptr};
  if (request.offset > 0 || request.length) {
    std::string range = "bytes=" + std::to_string(request.offset) + "-";
    // A zero-length read still needs a valid range; its byte is dropped.
    if (request.length) {
      range += std::to_string(request.offset +
                              std::max<uint64_t>(*request.length, 1) - 1);
    }
    get.headers.push_back({"range", range});
  }
  if (!request.if_match.empty()) {
    get.headers.push_back({"if-match", "\"" + request.if_match + "\""});
  }
  // Deliver at most `limit` bytes; CheckGetResponse compares `delivered`
  // with what the response promised.
  const uint64_t limit =
      request.length.value_or(std::numeric_limits<uint64_t>::max());
  uint64_t delivered = 0;
  BodySink body_sink = [&](std::string_view chunk) {
    if (delivered >= limit) return true;
    chunk = chunk.substr(0, static_cast<size_t>(std::min<uint64_t>(
                                chunk.size(), limit - delivered)));
    delivered += chunk.size();
    return !sink || sink(chunk);
  };
  auto response = Send(Op::kGetObject, get, &body_sink, context);
  if (!response) return response.error();
  // Range start 0 is unsatisfiable only for an empty object (AWS answers a
  // ranged GET of a 0-byte object with 416 InvalidRange).
  if (response->status == 416 && request.offset == 0) {
    return EmptyObjectAfter416(request, context);
  }
  if (response->status != 200 && response->status != 206) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kKey);
  }
  return CheckGetResponse(request, *response, delivered, context);
}

S3Result<ObjectInfo> S3Client::CheckGetResponse(
    const GetRequest& request, const HttpResponse& response, uint64_t delivered,
    std::string_view context) const {
  auto malformed = [&](const std::string& detail) {
    return MakeError(S3ErrorCode::kMalformedResponse, context, detail,
                     response.status);
  };
  std::optional<ObjectInfo> info = InfoFromHeaders(request.key, response);
  if (!info) return malformed("response without a valid Content-Length");
  const uint64_t body_length = info->size;
  if (response.body_bytes != body_length) {
    return MakeError(S3ErrorCode::kTruncatedBody, context,
                     "received " + std::to_string(response.body_bytes) +
                         " of " + std::to_string(body_length) + " bytes",
                     response.status);
  }
  uint64_t total = body_length;
  if (response.status == 206) {
    const std::string* header = response.Header("content-range");
    std::optional<ContentRange> range =
        header ? ParseContentRange(*header) : std::nullopt;
    if (!range || !range->first || !range->total) {
      return malformed("206 without a valid Content-Range");
    }
    if (*range->first != request.offset ||
        range->last - *range->first + 1 != body_length) {
      return malformed("Content-Range '" + *header +
                       "' does not match the request");
    }
    total = *range->total;
  } else if (request.offset > 0) {
    // The server ignored Range and sent the object from byte 0; those bytes
    // reached the sink, so fail the call (the caller discards them).
    return malformed("HTTP 200 to a ranged GET (Range ignored)");
  }
  const uint64_t wanted =
      request.offset >= total
          ? 0
          : std::min(request.length.value_or(total), total - request.offset);
  if (delivered != wanted) {
    return MakeError(delivered < wanted ? S3ErrorCode::kTruncatedBody
                                        : S3ErrorCode::kMalformedResponse,
                     context,
                     "delivered " + std::to_string(delivered) + " of " +
                         std::to_string(wanted) + " requested bytes",
                     response.status);
  }
  info->size = total;
  return *info;
}

S3Result<ObjectInfo> S3Client::EmptyObjectAfter416(const GetRequest& request,
                                                   std::string_view context) {
  auto head = Head(request.key, request.if_match);
  if (!head) return head.error();
  if (!*head) {
    return MakeError(S3ErrorCode::kNoSuchKey, context,
                     "object vanished after HTTP 416", 404);
  }
  if ((*head)->size != 0) {
    return MakeError(S3ErrorCode::kInvalidRange, context,
                     "HTTP 416 at offset 0 of a " +
                         std::to_string((*head)->size) + "-byte object",
                     416);
  }
  return **head;
}

S3Result<WriteResult> S3Client::PutObject(const std::string& key,
                                          const Payload& body,
                                          const PutOptions& options) {
  const std::string context = Context(Op::kPutObject, key);
  S3Request request{"PUT", key, {}, {}, &body};
  S3Status headers = AddWriteHeaders(&request.headers, options.metadata,
                                     options.content_type, context);
  if (!headers) return headers.error();
  if (options.if_none_match) request.headers.push_back({"if-none-match", "*"});
  auto response = Send(Op::kPutObject, request, nullptr, context);
  if (!response) return response.error();
  if (!IsSuccess(*response)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
  }
  WriteResult result;
  if (const std::string* etag = response->Header("etag"))
    result.etag = Unquote(*etag);
  if (const std::string* when = response->Header("last-modified")) {
    result.last_modified = ParseHttpDate(*when).value_or(0);
  }
  return result;
}

S3Status S3Client::DeleteObject(const std::string& key) {
  const std::string context = Context(Op::kDeleteObject, key);
  S3Request request{"DELETE", key, {}, {}, nullptr};
  auto response = Send(Op::kDeleteObject, request, nullptr, context);
  if (!response) return response.error();
  if (IsSuccess(*response)) return {};
  S3Error error = ErrorFromResponse(context, *response, NotFoundMeans::kKey);
  // S3 answers 204 for a missing key; some servers say 404 NoSuchKey.
  if (error.code == S3ErrorCode::kNoSuchKey) return {};
  return error;
}

S3Result<std::vector<std::string>> S3Client::DeleteBatch(
    const std::vector<std::string>& keys, size_t begin, size_t end) {
  const std::string context = Context(Op::kDeleteObjects, std::nullopt);
  const std::string xml = BuildDeleteObjectsXml(keys, begin, end);
  const Payload payload = Payload::FromBuffer(xml);
  S3Request request{"POST", std::nullopt, {{"delete", ""}}, {}, &payload};
  request.headers.push_back({"content-type", "application/xml"});
  // Content-MD5 is mandatory for multi-object delete.
  request.headers.push_back({"content-md5", Base64Encode(Md5(xml))});
  auto response = Send(Op::kDeleteObjects, request, nullptr, context);
  if (!response) return response.error();
  if (!IsSuccess(*response) || ParseErrorDocument(response->body)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
  }
  auto failed = ParseDeleteResult(response->body);
  if (!failed) return InContext(failed.error(), context, response->status);
  return failed;
}

S3Result<std::vector<std::string>> S3Client::DeleteObjects(
    const std::vector<std::string>& keys) {
  std::vector<std::string> safe;
  std::vector<std::string> failed;
  safe.reserve(keys.size());
  for (const std::string& key : keys) {
    if (IsXmlSafe(key)) {
      safe.push_back(key);
      continue;
    }
    // Control characters cannot travel in the XML body: delete alone.
    S3Status status = DeleteObject(key);
    if (!status) return status.error();
  }
  for (size_t begin = 0; begin < safe.size(); begin += kDeleteBatch) {
    auto batch =
        DeleteBatch(safe, begin, std::min(safe.size(), begin + kDeleteBatch));
    if (!batch) return batch.error();
    failed.insert(failed.end(), batch->begin(), batch->end());
  }
  return failed;
}

S3Result<WriteResult> S3Client::CopyObject(const std::string& source_key,
                                           const std::string& dest_key,
                                           const CopyOptions& options) {
  const std::string context =
      Context(Op::kCopyObject, dest_key) + " from " + source_key;
  S3Request request{"PUT", dest_key, {}, {}, nullptr};
  request.headers.push_back(
      {"x-amz-copy-source", builder_.CopySource(source_key)});
  if (options.directive == MetadataDirective::kReplace) {
    request.headers.push_back({"x-amz-metadata-directive", "REPLACE"});
    S3Status headers = AddWriteHeaders(&request.headers, options.metadata,
                                       options.content_type, context);
    if (!headers) return headers.error();
  } else {
    request.headers.push_back({"x-amz-metadata-directive", "COPY"});
    AddStorageHeaders(&request.headers);
  }
  AddCopySourceIfMatch(&request.headers, options.source_if_match);
  auto response = Send(Op::kCopyObject, request, nullptr, context);
  if (!response) return response.error();
  // A copy can fail after S3 has sent "200 OK": the <Error> is in the body.
  if (!IsSuccess(*response) || ParseErrorDocument(response->body)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kKey);
  }
  auto result = ParseCopyResult(response->body);
  if (!result) return InContext(result.error(), context, response->status);
  return result;
}

S3Result<ListPage> S3Client::ListObjects(const ListRequest& request) {
  const std::string context = Context(Op::kListObjects, std::nullopt) +
                              " prefix '" + request.prefix + "'";
  S3Request list{"GET", std::nullopt, {}, {}, nullptr};
  list.query = {
      {"list-type", "2"},
      {"encoding-type", "url"},
      {"max-keys",
       std::to_string(request.max_keys >= 0 ? request.max_keys : 1000)}};
  if (!request.prefix.empty())
    list.query.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty())
    list.query.emplace_back("delimiter", request.delimiter);
  if (!request.continuation_token.empty()) {
    list.query.emplace_back("continuation-token", request.continuation_token);
  }
  if (!request.start_after.empty()) {
    list.query.emplace_back("start-after", request.start_after);
  }
  auto response = Send(Op::kListObjects, list, nullptr, context);
  if (!response) return response.error();
  if (!IsSuccess(*response)) {
    return ErrorFromResponse(context, *response, NotFoundMeans::kBucket);
  }
  auto page = ParseListObjectsV2(response->body);
  if (!page) return InContext(page.error(), context, response->status);
  return page;
}

}  // namespace repofs::s3
