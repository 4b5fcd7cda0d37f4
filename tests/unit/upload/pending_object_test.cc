// PendingObject: staging, streaming multipart, upload-at-commit fallbacks.
#include "upload/pending_object.h"

#include <dirent.h>

#include <thread>
#include <vector>

#include "upload_test_support.h"

namespace repofs::upload::test {
namespace {

using PendingObjectTest = UploadTest;

Result<WriteResult> CommitPlain(PendingObject& object) {
  return object.Commit(PutOptions{});
}

TEST_F(PendingObjectTest, StagingFileLeavesNoNameBehind) {
  auto object = NewObject("k");
  ASSERT_NE(object, nullptr);
  ASSERT_TRUE(object->Write(0, "abc").ok());
  EXPECT_GE(object->fd(), 0);
  size_t names = 0;
  DIR* dir = opendir(options_.staging_dir.c_str());
  ASSERT_NE(dir, nullptr);
  while (dirent* entry = readdir(dir)) {
    if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..")
      ++names;
  }
  closedir(dir);
  EXPECT_EQ(names, 0u);
}

TEST_F(PendingObjectTest, RejectsTooSmallParts) {
  options_.part_size = 1 * kMiB;
  auto object =
      PendingObject::Create(failing_, pool_, journal_.get(), options_, "k");
  ASSERT_FALSE(object.has_value());
  EXPECT_EQ(object.error().errno_value, EINVAL);
}

TEST_F(PendingObjectTest, SmallFileIsOnePut) {
  auto object = NewObject("dir/small");
  ASSERT_NE(object, nullptr);
  EXPECT_FALSE(object->Dirty());
  ASSERT_TRUE(object->Write(0, "hello ").ok());
  ASSERT_TRUE(object->Write(6, "world").ok());
  EXPECT_TRUE(object->Dirty());
  char buf[32] = {};
  auto read = object->Read(3, sizeof(buf), buf);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(std::string(buf, *read), "lo world");
  auto result = CommitPlain(*object);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(fake_->BodyForTest("dir/small"), "hello world");
  EXPECT_EQ(Count("PutObject"), 1u);
  EXPECT_EQ(Count("CreateMultipartUpload"), 0u);
  EXPECT_EQ(result->etag, fake_->InfoForTest("dir/small")->etag);
  EXPECT_NE(result->last_modified, 0);
  EXPECT_FALSE(object->Dirty());
}

TEST_F(PendingObjectTest, EmptyFileIsOneEmptyPut) {
  auto object = NewObject("empty");
  ASSERT_NE(object, nullptr);
  auto result = CommitPlain(*object);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(fake_->BodyForTest("empty"), "");
}

TEST_F(PendingObjectTest, SequentialWriteStreamsPartsBeforeCommit) {
  options_.multipart_threshold = 16 * kMiB;
  auto object = NewObject("big");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(40 * kMiB + 123, 1);
  WriteAll(*object, data, 128 * 1024);
  EXPECT_TRUE(object->Streaming());
  // Every complete part was submitted by the time the last write returned.
  EXPECT_TRUE(WaitFor([&] { return Count("UploadPart") == 8; }));
  EXPECT_EQ(journal_->Pending().size(), 1u);
  auto result = CommitPlain(*object);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(Count("UploadPart"), 9u);  // 8 streamed + the 123-byte tail
  EXPECT_EQ(Count("CompleteMultipartUpload"), 1u);
  EXPECT_EQ(Count("PutObject"), 0u);
  EXPECT_EQ(fake_->BodyForTest("big"), data);
  EXPECT_EQ(result->etag, fake_->InfoForTest("big")->etag);
  EXPECT_TRUE(journal_->Pending().empty());
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, BackpressureKeepsWriterNearTheUpload) {
  failing_->SetLatency("UploadPart", std::chrono::milliseconds(100));
  auto object = NewObject("slow");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(40 * kMiB, 2);
  WriteAll(*object, data);
  // All 8 parts are submitted with at most `parallelism` in flight, so at
  // least 6 have finished when the last write returns: close() then waits
  // only for the last parts.
  EXPECT_GE(fake_->RequestCounts()["UploadPart"], 6u);
  auto result = CommitPlain(*object);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(Count("UploadPart"), 8u);
  EXPECT_EQ(fake_->BodyForTest("slow"), data);
}

TEST_F(PendingObjectTest, SlightlyReorderedWritesStillStream) {
  auto object = NewObject("reordered");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(20 * kMiB, 3);
  const size_t chunk = 128 * 1024;
  for (size_t pos = 0; pos < data.size(); pos += 2 * chunk) {  // pairs swapped
    ASSERT_TRUE(object
                    ->Write(pos + chunk,
                            std::string_view(data).substr(pos + chunk, chunk))
                    .ok());
    ASSERT_TRUE(
        object->Write(pos, std::string_view(data).substr(pos, chunk)).ok());
  }
  EXPECT_TRUE(object->Streaming());
  EXPECT_TRUE(WaitFor([&] { return Count("UploadPart") == 4; }));
  ASSERT_TRUE(CommitPlain(*object).has_value());
  EXPECT_EQ(Count("UploadPart"), 4u);
  EXPECT_EQ(fake_->BodyForTest("reordered"), data);
}

TEST_F(PendingObjectTest, RandomWriteAfterStreamingFallsBackToCommitUpload) {
  auto object = NewObject("random");
  ASSERT_NE(object, nullptr);
  std::string data = RandomBytes(22 * kMiB, 4);
  WriteAll(*object, data);
  ASSERT_TRUE(object->Streaming());
  const std::string patch = RandomBytes(1000, 5);
  ASSERT_TRUE(object->Write(kMiB + 7, patch).ok());
  data.replace(kMiB + 7, patch.size(), patch);
  EXPECT_FALSE(object->Streaming());
  auto result = CommitPlain(*object);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(fake_->BodyForTest("random"), data);
  EXPECT_GE(Count("AbortMultipartUpload"), 1u);
  EXPECT_EQ(Count("CompleteMultipartUpload"), 1u);
  EXPECT_EQ(LeftoverUploads(), 0u);
  EXPECT_TRUE(journal_->Pending().empty());
}

TEST_F(PendingObjectTest, TruncateDownAndUp) {
  auto object = NewObject("trunc");
  ASSERT_NE(object, nullptr);
  std::string data = RandomBytes(12 * kMiB, 6);
  WriteAll(*object, data);
  ASSERT_TRUE(object->Truncate(3 * kMiB).ok());
  ASSERT_TRUE(object->Truncate(7 * kMiB).ok());
  ASSERT_TRUE(object->Write(6 * kMiB, "tail").ok());
  data.resize(3 * kMiB);
  data.resize(7 * kMiB, '\0');
  data.replace(6 * kMiB, 4, "tail");
  EXPECT_EQ(object->Size(), 7 * kMiB);
  std::string zeros(10, 'x');
  auto read = object->Read(5 * kMiB, zeros.size(), zeros.data());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(zeros, std::string(10, '\0'));
  ASSERT_TRUE(CommitPlain(*object).has_value());
  EXPECT_EQ(fake_->BodyForTest("trunc"), data);
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, TruncateBelowStreamedDataIsOnePut) {
  auto object = NewObject("shrunk");
  ASSERT_NE(object, nullptr);
  std::string data = RandomBytes(21 * kMiB, 7);
  WriteAll(*object, data);
  ASSERT_TRUE(object->Streaming());
  ASSERT_TRUE(object->Truncate(2 * kMiB).ok());
  EXPECT_FALSE(object->Streaming());
  ASSERT_TRUE(CommitPlain(*object).has_value());
  EXPECT_EQ(fake_->BodyForTest("shrunk"), data.substr(0, 2 * kMiB));
  EXPECT_EQ(Count("PutObject"), 1u);
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, LoadFromThenAppend) {
  const std::string old = RandomBytes(12 * kMiB + 5, 8);
  WriteResult v1 = fake_->PutForTest("existing", old);
  auto object = NewObject("existing");
  ASSERT_NE(object, nullptr);
  Status loaded = object->LoadFrom(v1.etag, old.size());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(Count("GetObject"), 3u);  // parallel 5 MiB ranges
  EXPECT_FALSE(object->Dirty());
  EXPECT_EQ(object->Size(), old.size());
  ASSERT_TRUE(object->Write(old.size(), "appended").ok());
  auto result = CommitPlain(*object);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(fake_->BodyForTest("existing"), old + "appended");
  EXPECT_NE(result->etag, v1.etag);
}

TEST_F(PendingObjectTest, LoadFromChangedVersionIsEio) {
  WriteResult v1 = fake_->PutForTest("changing", "first");
  fake_->PutForTest("changing", "second!");
  auto object = NewObject("changing");
  ASSERT_NE(object, nullptr);
  Status loaded = object->LoadFrom(v1.etag, 5);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().errno_value, EIO);
  EXPECT_EQ(object->Size(), 0u);
}

TEST_F(PendingObjectTest, RekeyCommitsUnderTheNewKey) {
  auto object = NewObject("old-name");
  ASSERT_NE(object, nullptr);
  std::string data = RandomBytes(12 * kMiB, 9);
  WriteAll(*object, data);
  ASSERT_TRUE(object->Streaming());
  object->Rekey("new-name");
  EXPECT_EQ(object->key(), "new-name");
  EXPECT_FALSE(object->Streaming());
  const std::string more = RandomBytes(3 * kMiB, 10);
  WriteAll(*object, more, kMiB, data.size());
  ASSERT_TRUE(CommitPlain(*object).has_value());
  EXPECT_EQ(fake_->BodyForTest("new-name"), data + more);
  EXPECT_FALSE(fake_->BodyForTest("old-name").has_value());
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, ConcurrentWritersAtDisjointOffsets) {
  auto object = NewObject("concurrent");
  ASSERT_NE(object, nullptr);
  const std::string data = RandomBytes(24 * kMiB, 11);
  const size_t chunk = 64 * 1024;
  auto writer = [&](size_t first) {
    for (size_t pos = first * chunk; pos < data.size(); pos += 2 * chunk) {
      EXPECT_TRUE(
          object->Write(pos, std::string_view(data).substr(pos, chunk)).ok());
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  ASSERT_TRUE(CommitPlain(*object).has_value());
  EXPECT_EQ(fake_->BodyForTest("concurrent"), data);
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, SecondCycleUploadsWholeContent) {
  auto object = NewObject("cycles");
  ASSERT_NE(object, nullptr);
  const std::string first = RandomBytes(11 * kMiB, 12);
  WriteAll(*object, first);
  ASSERT_TRUE(CommitPlain(*object).has_value());
  ASSERT_TRUE(object->Write(first.size(), "more").ok());
  EXPECT_TRUE(object->Dirty());
  ASSERT_TRUE(CommitPlain(*object).has_value());
  EXPECT_EQ(fake_->BodyForTest("cycles"), first + "more");
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, MetadataGivenUpFrontKeepsTheStreamedParts) {
  PutOptions put;
  put.metadata = {{"mode", "33188"}, {"uid", "1000"}};
  put.content_type = "application/octet-stream";
  auto object = NewObject("meta");
  ASSERT_NE(object, nullptr);
  object->SetStreamingPutOptions(put);
  const std::string data = RandomBytes(15 * kMiB, 13);
  WriteAll(*object, data);
  ASSERT_TRUE(object->Commit(put).has_value());
  EXPECT_EQ(Count("UploadPart"), 3u);
  auto info = fake_->InfoForTest("meta");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata, put.metadata);
  EXPECT_EQ(info->content_type, put.content_type);
}

TEST_F(PendingObjectTest, ChangedMetadataReuploadsWithTheFinalMetadata) {
  PutOptions early;
  early.metadata = {{"mode", "33188"}};
  auto object = NewObject("meta2");
  ASSERT_NE(object, nullptr);
  object->SetStreamingPutOptions(early);
  const std::string data = RandomBytes(15 * kMiB, 14);
  WriteAll(*object, data);
  PutOptions final_put;
  final_put.metadata = {{"mode", "33188"}, {"mtime", "1700000000"}};
  ASSERT_TRUE(object->Commit(final_put).has_value());
  EXPECT_EQ(fake_->BodyForTest("meta2"), data);
  EXPECT_EQ(fake_->InfoForTest("meta2")->metadata, final_put.metadata);
  EXPECT_EQ(LeftoverUploads(), 0u);
}

TEST_F(PendingObjectTest, AbortDropsEverything) {
  auto object = NewObject("aborted");
  ASSERT_NE(object, nullptr);
  WriteAll(*object, RandomBytes(12 * kMiB, 15));
  object->Abort();
  EXPECT_EQ(object->Size(), 0u);
  EXPECT_FALSE(object->Dirty());
  EXPECT_EQ(LeftoverUploads(), 0u);
  EXPECT_FALSE(fake_->BodyForTest("aborted").has_value());
  EXPECT_TRUE(journal_->Pending().empty());
}

TEST_F(PendingObjectTest, DestructorAbortsTheStream) {
  {
    auto object = NewObject("dropped");
    ASSERT_NE(object, nullptr);
    WriteAll(*object, RandomBytes(12 * kMiB, 16));
    EXPECT_TRUE(object->Streaming());
  }
  EXPECT_EQ(LeftoverUploads(), 0u);
  EXPECT_EQ(fake_->ObjectCount(), 0u);
  EXPECT_TRUE(journal_->Pending().empty());
}

TEST_F(PendingObjectTest, IfNoneMatchOnExistingKeyIsEexist) {
  fake_->PutForTest("taken", "someone else's");
  PutOptions put;
  put.if_none_match = true;
  auto small = NewObject("taken");
  ASSERT_NE(small, nullptr);
  ASSERT_TRUE(small->Write(0, "mine").ok());
  auto result = small->Commit(put);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EEXIST);

  auto big = NewObject("taken");
  ASSERT_NE(big, nullptr);
  WriteAll(*big, RandomBytes(12 * kMiB, 17));
  result = big->Commit(put);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EEXIST);
  EXPECT_EQ(fake_->BodyForTest("taken"), "someone else's");
  EXPECT_EQ(LeftoverUploads(), 0u);

  // A new key is created.
  big->Rekey("free");
  ASSERT_TRUE(big->Commit(put).has_value());
  EXPECT_EQ(fake_->InfoForTest("free")->size, 12 * kMiB);
}

TEST_F(PendingObjectTest, IfNoneMatchWithoutConditionalWrites) {
  fake_->SetConditionalWritesSupported(false);
  fake_->PutForTest("taken", "x");
  PutOptions put;
  put.if_none_match = true;
  auto object = NewObject("taken");
  ASSERT_NE(object, nullptr);
  ASSERT_TRUE(object->Write(0, "mine").ok());
  auto result = object->Commit(put);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().errno_value, EEXIST);
  object->Rekey("free");
  ASSERT_TRUE(object->Commit(put).has_value());
  EXPECT_EQ(fake_->BodyForTest("free"), "mine");
}

}  // namespace
}  // namespace repofs::upload::test
