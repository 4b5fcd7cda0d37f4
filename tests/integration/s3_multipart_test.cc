// Integration: multipart uploads of the real S3 client against RGW: a
// 64 MiB upload with parallel 8 MiB parts read back whole and by parallel
// ranges, UploadPartCopy, Abort + ListMultipartUploads, error codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "s3_env.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/string_util.h"
#include "util/thread_pool.h"

namespace repofs::integration {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

using MultipartTest = S3IntegrationTest;

// Uploads `data` as parts of `part_size` on `threads` threads; returns the
// completed parts in order (fails the test on any error).
std::vector<CompletedPart> UploadParts(ObjectClient& client, const std::string& key,
                                       const std::string& upload_id,
                                       const std::string& data, uint64_t part_size,
                                       int threads) {
  const int count = static_cast<int>((data.size() + part_size - 1) / part_size);
  std::vector<CompletedPart> parts(count);
  std::mutex mu;
  std::vector<std::string> errors;
  ThreadPool pool(threads);
  std::vector<std::future<void>> done;
  for (int i = 0; i < count; ++i) {
    done.push_back(pool.Async([&, i] {
      uint64_t offset = i * part_size;
      uint64_t len = std::min<uint64_t>(part_size, data.size() - offset);
      Payload body = Payload::FromBuffer(std::string_view(data).substr(offset, len));
      auto etag = client.UploadPart(key, upload_id, i + 1, body);
      std::lock_guard<std::mutex> lock(mu);
      if (etag) {
        parts[i] = CompletedPart{i + 1, *etag};
      } else {
        errors.push_back("part " + std::to_string(i + 1) + ": " + Describe(etag.error()));
      }
    }));
  }
  for (auto& f : done) f.get();
  for (const auto& e : errors) ADD_FAILURE() << e;
  return parts;
}

TEST_F(MultipartTest, Parallel64MiBUploadRoundTripsByteExact) {
  const std::string key = Key("big/64mib.bin");
  const std::string data = RandomBytes(64 * kMiB, 64);
  const std::string want = Sha256Hex(data);

  PutOptions options;
  options.metadata = {{"mode", "33188"}};
  options.content_type = "application/octet-stream";
  auto upload_id = client_->CreateMultipartUpload(key, options);
  ASSERT_S3_OK(upload_id);
  ASSERT_FALSE(upload_id->empty());
  auto parts = UploadParts(*client_, key, *upload_id, data, 8 * kMiB, 8);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(parts.size(), 8u);
  for (const auto& p : parts) EXPECT_FALSE(p.etag.empty());
  auto completed = client_->CompleteMultipartUpload(key, *upload_id, parts);
  ASSERT_S3_OK(completed);  // RGW answers with an empty <ETag> (known quirk)

  auto head = client_->HeadObject(key);
  ASSERT_S3_OK(head);
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->size, data.size());
  EXPECT_TRUE(EndsWith((*head)->etag, "-8")) << (*head)->etag;
  EXPECT_EQ((*head)->metadata, options.metadata);

  // Full GET, hashed as it streams.
  Sha256Stream full_hash;
  GetRequest request;
  request.key = key;
  uint64_t received = 0;
  auto info = client_->GetObject(request, [&](std::string_view chunk) {
    full_hash.Update(chunk);
    received += chunk.size();
    return true;
  });
  ASSERT_S3_OK(info);
  EXPECT_EQ(received, data.size());
  EXPECT_EQ(HexEncode(full_hash.Final()), want) << "full GET differs";

  // Parallel ranged GETs of 5 MiB (not aligned with the 8 MiB parts), with
  // If-Match on the object's ETag as the read path does.
  const uint64_t range = 5 * kMiB;
  const int ranges = static_cast<int>((data.size() + range - 1) / range);
  std::vector<std::string> pieces(ranges);
  std::vector<std::string> errors(ranges);
  ParallelFor(ranges, 8, [&](int i) {
    GetRequest r;
    r.key = key;
    r.offset = i * range;
    r.length = range;
    r.if_match = (*head)->etag;
    auto got = GetString(*client_, r);
    if (got) {
      pieces[i] = std::move(*got);
    } else {
      errors[i] = Describe(got.error());
    }
  });
  std::string joined;
  for (int i = 0; i < ranges; ++i) {
    ASSERT_TRUE(errors[i].empty()) << "range " << i << ": " << errors[i];
    joined += pieces[i];
  }
  EXPECT_EQ(joined.size(), data.size());
  EXPECT_EQ(Sha256Hex(joined), want) << "ranged GETs differ";
}

TEST_F(MultipartTest, UploadPartCopyInTwoParts) {
  const std::string src = Key("copy/src.bin");
  const std::string dst = Key("copy/dst.bin");
  const std::string data = RandomBytes(12 * kMiB, 12);
  auto written = PutString(*client_, src, data);
  ASSERT_S3_OK(written);

  auto upload_id = client_->CreateMultipartUpload(dst, PutOptions{});
  ASSERT_S3_OK(upload_id);
  std::vector<CompletedPart> parts;
  for (int i = 0; i < 2; ++i) {
    auto etag = client_->UploadPartCopy(dst, *upload_id, i + 1, src, i * 6 * kMiB,
                                        6 * kMiB, written->etag);
    ASSERT_S3_OK(etag);
    EXPECT_FALSE(etag->empty());
    parts.push_back(CompletedPart{i + 1, *etag});
  }
  // A stale source ETag: AWS answers 412; Ceph RGW 16 ignores the standard
  // x-amz-copy-source-if-match header, so there it is recorded, not failed.
  // (A separate upload: RGW refuses to complete an upload that has a part
  // left out of the part list, with InvalidPart.)
  auto other_id = client_->CreateMultipartUpload(dst, PutOptions{});
  ASSERT_S3_OK(other_id);
  auto stale = client_->UploadPartCopy(dst, *other_id, 1, src, 0, 6 * kMiB,
                                       Md5Hex("not the source"));
  EXPECT_S3_OK(client_->AbortMultipartUpload(dst, *other_id));
  if (stale.has_value()) {
    RecordProperty("rgw_copy_source_if_match", "ignored");
    std::cout << "[ INFO     ] RGW ignored a stale x-amz-copy-source-if-match on "
                 "UploadPartCopy (known RGW 16 gap)\n";
  } else {
    EXPECT_EQ(stale.error().code, S3ErrorCode::kPreconditionFailed) << Describe(stale.error());
  }

  ASSERT_S3_OK(client_->CompleteMultipartUpload(dst, *upload_id, parts));
  auto copy = GetString(*client_, dst);
  ASSERT_S3_OK(copy);
  EXPECT_EQ(copy->size(), data.size());
  EXPECT_EQ(Sha256Hex(*copy), Sha256Hex(data));
  auto head = client_->HeadObject(dst);
  ASSERT_S3_OK(head);
  ASSERT_TRUE(head->has_value());
  EXPECT_TRUE(EndsWith((*head)->etag, "-2")) << (*head)->etag;
}

TEST_F(MultipartTest, AbortRemovesUploadFromListing) {
  const std::string key = Key("aborted/file");
  auto upload_id = client_->CreateMultipartUpload(key, PutOptions{});
  ASSERT_S3_OK(upload_id);
  const std::string part = RandomBytes(5 * kMiB, 5);
  auto etag = client_->UploadPart(key, *upload_id, 1, Payload::FromBuffer(part));
  ASSERT_S3_OK(etag);
  EXPECT_EQ(*etag, Md5Hex(part));

  auto listed = client_->ListMultipartUploads(Key("aborted/"));
  ASSERT_S3_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, key);
  EXPECT_EQ((*listed)[0].upload_id, *upload_id);
  EXPECT_GT((*listed)[0].initiated, 1600000000);

  ASSERT_S3_OK(client_->AbortMultipartUpload(key, *upload_id));
  listed = client_->ListMultipartUploads(Key("aborted/"));
  ASSERT_S3_OK(listed);
  EXPECT_TRUE(listed->empty()) << "aborted upload still listed";

  auto late = client_->UploadPart(key, *upload_id, 2, Payload::FromBuffer(part));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, S3ErrorCode::kNoSuchUpload) << Describe(late.error());
  // AWS: NoSuchUpload. Ceph RGW 16 answers 500 InternalError ("This multipart
  // completion is already in progress") for a completion after an abort.
  auto complete = client_->CompleteMultipartUpload(key, *upload_id, {{1, *etag}});
  ASSERT_FALSE(complete.has_value()) << "completed an aborted upload";
  EXPECT_TRUE(complete.error().code == S3ErrorCode::kNoSuchUpload ||
              complete.error().code == S3ErrorCode::kServerError)
      << Describe(complete.error());
  auto head = client_->HeadObject(key);
  ASSERT_S3_OK(head);
  EXPECT_FALSE(head->has_value());
}

TEST_F(MultipartTest, SmallNonLastPartIsEntityTooSmall) {
  const std::string key = Key("small/parts");
  auto upload_id = client_->CreateMultipartUpload(key, PutOptions{});
  ASSERT_S3_OK(upload_id);
  std::vector<CompletedPart> parts;
  for (int i = 1; i <= 2; ++i) {
    auto etag = client_->UploadPart(key, *upload_id, i, Payload::FromBuffer("tiny"));
    ASSERT_S3_OK(etag);
    parts.push_back({i, *etag});
  }
  auto complete = client_->CompleteMultipartUpload(key, *upload_id, parts);
  ASSERT_FALSE(complete.has_value());
  EXPECT_EQ(complete.error().code, S3ErrorCode::kEntityTooSmall) << Describe(complete.error());
  EXPECT_S3_OK(client_->AbortMultipartUpload(key, *upload_id));
}

}  // namespace
}  // namespace repofs::integration
