// PendingObject under S3 failures: nothing visible after a failed Commit, no
// multipart upload left behind, a retried Commit succeeds; RGW's empty
// CompleteMultipartUpload ETag.
#include "upload/pending_object.h"
#include "upload_test_support.h"

namespace repofs::upload::test {
namespace {

using PendingObjectFailureTest = UploadTest;

TEST_F(PendingObjectFailureTest, StreamedPartFailureFailsCommitThenRetryWorks) {
  failing_->FailNext("UploadPart", 1, FailureObjectClient::ServerError());
  auto object = NewObject("failing");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(22 * kMiB, 21);
  WriteAll(*object, data);
  auto result = object->Commit(PutOptions{});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EIO);
  EXPECT_FALSE(fake_->BodyForTest("failing").has_value());
  EXPECT_EQ(LeftoverUploads(), 0u);
  EXPECT_TRUE(journal_->Pending().empty());
  EXPECT_TRUE(object->Dirty());

  result = object->Commit(PutOptions{});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(fake_->BodyForTest("failing"), data);
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectFailureTest, TailPartFailureAtCommit) {
  auto object = NewObject("tail");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(12 * kMiB, 22);
  WriteAll(*object, data);
  ASSERT_TRUE(WaitFor([&] { return Count("UploadPart") == 2; }));
  failing_->FailNext("UploadPart", 1, FailureObjectClient::ConnectionReset());
  auto result = object->Commit(PutOptions{});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EIO);
  EXPECT_EQ(fake_->ObjectCount(), 0u);
  EXPECT_EQ(LeftoverUploads(), 0u);
  ASSERT_TRUE(object->Commit(PutOptions{}).has_value());
  EXPECT_EQ(fake_->BodyForTest("tail"), data);
}

TEST_F(PendingObjectFailureTest, CompleteFailureLeavesNothing) {
  failing_->FailNext("CompleteMultipartUpload", 1,
                     FailureObjectClient::ServerError());
  auto object = NewObject("complete");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(11 * kMiB, 23);
  WriteAll(*object, data);
  auto result = object->Commit(PutOptions{});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EIO);
  EXPECT_EQ(fake_->ObjectCount(), 0u);
  EXPECT_EQ(LeftoverUploads(), 0u);
  EXPECT_TRUE(journal_->Pending().empty());
  ASSERT_TRUE(object->Commit(PutOptions{}).has_value());
  EXPECT_EQ(fake_->BodyForTest("complete"), data);
}

TEST_F(PendingObjectFailureTest, CreateFailureIsReportedAtCommit) {
  failing_->FailNext(
      "CreateMultipartUpload", 1,
      S3Error{S3ErrorCode::kAccessDenied, 403, "AccessDenied", "no", ""});
  auto object = NewObject("denied");
  ASSERT_NE(object, nullptr);
  WriteAll(*object, RandomBytes(11 * kMiB, 24));
  auto result = object->Commit(PutOptions{});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EACCES);
  EXPECT_EQ(fake_->ObjectCount(), 0u);
  ASSERT_TRUE(object->Commit(PutOptions{}).has_value());
  EXPECT_EQ(fake_->InfoForTest("denied")->size, 11 * kMiB);
}

TEST_F(PendingObjectFailureTest, PutFailureKeepsContentForRetry) {
  failing_->FailNext("PutObject", 1, FailureObjectClient::SlowDown());
  auto object = NewObject("put");
  ASSERT_NE(object, nullptr);
  ASSERT_TRUE(object->Write(0, "content").ok());
  auto result = object->Commit(PutOptions{});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EIO);
  EXPECT_FALSE(fake_->BodyForTest("put").has_value());
  ASSERT_TRUE(object->Commit(PutOptions{}).has_value());
  EXPECT_EQ(fake_->BodyForTest("put"), "content");
}

TEST_F(PendingObjectFailureTest, CommitUploadPartFailureAbortsTheUpload) {
  // Random order (odd 64 KiB chunks first: too many scattered ranges to
  // track), so nothing streams and the parts go up during Commit.
  auto object = NewObject("random");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(12 * kMiB, 25);
  const size_t chunk = 64 * 1024;
  for (size_t first : {chunk, size_t{0}}) {
    for (size_t pos = first; pos < data.size(); pos += 2 * chunk) {
      ASSERT_TRUE(
          object->Write(pos, std::string_view(data).substr(pos, chunk)).ok());
    }
  }
  EXPECT_FALSE(object->Streaming());
  EXPECT_EQ(Count("CreateMultipartUpload"), 0u);
  failing_->FailNext("UploadPart", 1, FailureObjectClient::ServerError());
  auto result = object->Commit(PutOptions{});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(fake_->ObjectCount(), 0u);
  EXPECT_EQ(LeftoverUploads(), 0u);
  EXPECT_TRUE(journal_->Pending().empty());
  ASSERT_TRUE(object->Commit(PutOptions{}).has_value());
  EXPECT_EQ(fake_->BodyForTest("random"), data);
}

// Forwards to a FakeObjectClient but answers CompleteMultipartUpload with
// an empty ETag and no date, like RGW.
class EmptyCompleteEtagClient final : public ObjectClient {
 public:
  explicit EmptyCompleteEtagClient(std::shared_ptr<FakeObjectClient> inner)
      : inner_(std::move(inner)) {}
  S3Status HeadBucket() override { return inner_->HeadBucket(); }
  S3Result<std::optional<ObjectInfo>> HeadObject(
      const std::string& key) override {
    return inner_->HeadObject(key);
  }
  S3Result<ObjectInfo> GetObject(const GetRequest& r,
                                 const DataSink& sink) override {
    return inner_->GetObject(r, sink);
  }
  S3Result<WriteResult> PutObject(const std::string& key, const Payload& body,
                                  const PutOptions& options) override {
    return inner_->PutObject(key, body, options);
  }
  S3Status DeleteObject(const std::string& key) override {
    return inner_->DeleteObject(key);
  }
  S3Result<std::vector<std::string>> DeleteObjects(
      const std::vector<std::string>& keys) override {
    return inner_->DeleteObjects(keys);
  }
  S3Result<WriteResult> CopyObject(const std::string& s, const std::string& d,
                                   const CopyOptions& o) override {
    return inner_->CopyObject(s, d, o);
  }
  S3Result<ListPage> ListObjects(const ListRequest& r) override {
    return inner_->ListObjects(r);
  }
  S3Result<std::string> CreateMultipartUpload(const std::string& key,
                                              const PutOptions& o) override {
    return inner_->CreateMultipartUpload(key, o);
  }
  S3Result<std::string> UploadPart(const std::string& key,
                                   const std::string& id, int n,
                                   const Payload& body) override {
    return inner_->UploadPart(key, id, n, body);
  }
  S3Result<std::string> UploadPartCopy(const std::string& key,
                                       const std::string& id, int n,
                                       const std::string& src, uint64_t off,
                                       uint64_t len,
                                       const std::string& if_match) override {
    return inner_->UploadPartCopy(key, id, n, src, off, len, if_match);
  }
  S3Result<WriteResult> CompleteMultipartUpload(
      const std::string& key, const std::string& id,
      const std::vector<CompletedPart>& parts) override {
    auto done = inner_->CompleteMultipartUpload(key, id, parts);
    if (!done) return done;
    return WriteResult{};
  }
  S3Status AbortMultipartUpload(const std::string& key,
                                const std::string& id) override {
    return inner_->AbortMultipartUpload(key, id);
  }
  S3Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string& prefix) override {
    return inner_->ListMultipartUploads(prefix);
  }
  std::map<std::string, uint64_t> RequestCounts() const override {
    return inner_->RequestCounts();
  }

 private:
  std::shared_ptr<FakeObjectClient> inner_;
};

TEST_F(PendingObjectFailureTest, EmptyCompleteEtagIsFilledByHead) {
  auto client = std::make_shared<EmptyCompleteEtagClient>(fake_);
  auto object =
      PendingObject::Create(client, pool_, journal_.get(), options_, "rgw");
  ASSERT_TRUE(object.has_value());
  WriteAll(**object, RandomBytes(11 * kMiB, 26));
  auto result = (*object)->Commit(PutOptions{});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  auto info = fake_->InfoForTest("rgw");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(result->etag, info->etag);
  EXPECT_EQ(result->last_modified, info->last_modified);
  EXPECT_NE(result->last_modified, 0);
  EXPECT_EQ(Count("HeadObject"), 1u);
}

}  // namespace
}  // namespace repofs::upload::test
