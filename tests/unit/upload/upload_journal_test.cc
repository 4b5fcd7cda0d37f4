// UploadJournal and the two cleanup routines.
#include "upload/upload_journal.h"

#include <fstream>
#include <sstream>

#include "../auth/fake_clock.h"
#include "upload_test_support.h"

namespace repofs::upload::test {
namespace {

using UploadJournalTest = UploadTest;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Ids(const std::vector<MultipartUploadInfo>& uploads) {
  std::vector<std::string> ids;
  for (const auto& upload : uploads) ids.push_back(upload.upload_id);
  return ids;
}

TEST_F(UploadJournalTest, AddRemoveReopenCompacts) {
  const std::string path = dir_ + "/j";
  {
    auto journal = UploadJournal::Open(path);
    ASSERT_TRUE(journal.has_value()) << journal.error().message;
    ASSERT_TRUE((*journal)->Add("a/b c", "id1").ok());
    ASSERT_TRUE((*journal)->Add("line\nbreak%", "id2").ok());
    ASSERT_TRUE((*journal)->Add("x", "id3").ok());
    ASSERT_TRUE((*journal)->Remove("id1").ok());
    ASSERT_TRUE((*journal)->Remove("unknown").ok());
    EXPECT_EQ(Ids((*journal)->Pending()),
              (std::vector<std::string>{"id2", "id3"}));
  }
  EXPECT_NE(ReadFile(path).find("done"), std::string::npos);
  auto journal = UploadJournal::Open(path);
  ASSERT_TRUE(journal.has_value());
  auto pending = (*journal)->Pending();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].key, "line\nbreak%");
  EXPECT_EQ(pending[0].upload_id, "id2");
  EXPECT_EQ(pending[1].key, "x");
  // Compacted: only the pending entries remain, one line each.
  const std::string text = ReadFile(path);
  EXPECT_EQ(text.find("done"), std::string::npos);
  EXPECT_EQ(text.find("id1"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST_F(UploadJournalTest, TornLastLineIsSkipped) {
  const std::string path = dir_ + "/torn";
  {
    std::ofstream out(path);
    out << "started k1 id1\nstarted k2 id2\ndone id1\nstarted k3 i";
  }
  auto journal = UploadJournal::Open(path);
  ASSERT_TRUE(journal.has_value());
  // The line without its newline was torn mid-append: ignored (and dropped
  // by the compaction), the earlier lines intact.
  EXPECT_EQ(Ids((*journal)->Pending()), (std::vector<std::string>{"id2"}));
  EXPECT_EQ(ReadFile(path), "started k2 id2\n");
}

TEST_F(UploadJournalTest, EmptiedWhenNothingPendingAndLarge) {
  const std::string path = dir_ + "/big";
  auto journal = UploadJournal::Open(path);
  ASSERT_TRUE(journal.has_value());
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE((*journal)
                    ->Add("some/longish/key/name", "id" + std::to_string(i))
                    .ok());
    ASSERT_TRUE((*journal)->Remove("id" + std::to_string(i)).ok());
  }
  EXPECT_LT(ReadFile(path).size(), 16u * 1024);
  ASSERT_TRUE((*journal)->Add("k", "last").ok());
  auto reopened = UploadJournal::Open(path);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(Ids((*reopened)->Pending()), (std::vector<std::string>{"last"}));
}

TEST_F(UploadJournalTest, AbortJournaledUploadsAbortsExactlyThose) {
  auto a = fake_->CreateMultipartUpload("a", {});
  auto b = fake_->CreateMultipartUpload("b", {});
  auto other = fake_->CreateMultipartUpload("other-process", {});
  ASSERT_TRUE(a && b && other);
  ASSERT_TRUE(journal_->Add("a", *a).ok());
  ASSERT_TRUE(journal_->Add("b", *b).ok());
  ASSERT_TRUE(journal_->Add("gone", "no-such-upload").ok());
  auto removed = AbortJournaledUploads(*failing_, *journal_);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(*removed, 3u);
  EXPECT_TRUE(journal_->Pending().empty());
  auto left = fake_->ListMultipartUploads("");
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(Ids(*left), (std::vector<std::string>{*other}));
}

TEST_F(UploadJournalTest, FailedAbortStaysJournaled) {
  auto a = fake_->CreateMultipartUpload("a", {});
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(journal_->Add("a", *a).ok());
  failing_->FailNext("AbortMultipartUpload", 1,
                     FailureObjectClient::ServerError());
  auto removed = AbortJournaledUploads(*failing_, *journal_);
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().errno_value, EIO);
  EXPECT_EQ(Ids(journal_->Pending()), (std::vector<std::string>{*a}));
  ASSERT_TRUE(AbortJournaledUploads(*failing_, *journal_).has_value());
  EXPECT_TRUE(journal_->Pending().empty());
  EXPECT_EQ(fake_->PendingUploadCount(), 0u);
}

TEST_F(UploadJournalTest, AbortStaleUploadsRespectsAgeAndPrefix) {
  repofs::test::FakeClock clock;
  auto fake = std::make_shared<FakeObjectClient>(clock);
  auto old_in = fake->CreateMultipartUpload("p/old", {});
  auto old_out = fake->CreateMultipartUpload("q/old", {});
  clock.Advance(std::chrono::hours(2));
  auto young_in = fake->CreateMultipartUpload("p/young", {});
  ASSERT_TRUE(old_in && old_out && young_in);
  const std::time_t cutoff =
      std::chrono::system_clock::to_time_t(clock.Now() - std::chrono::hours(1));
  auto aborted = AbortStaleUploads(*fake, "p/", cutoff);
  ASSERT_TRUE(aborted.has_value()) << aborted.error().message;
  EXPECT_EQ(Ids(*aborted), (std::vector<std::string>{*old_in}));
  auto left = fake->ListMultipartUploads("");
  ASSERT_TRUE(left.has_value());
  std::vector<std::string> left_ids = Ids(*left);
  std::sort(left_ids.begin(), left_ids.end());
  std::vector<std::string> expected{*old_out, *young_in};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left_ids, expected);
}

TEST_F(UploadJournalTest, PendingObjectJournalsItsStream) {
  auto object = NewObject("journaled");
  ASSERT_NE(object, nullptr);
  WriteAll(*object, RandomBytes(11 * kMiB, 31));
  ASSERT_TRUE(WaitFor([&] { return journal_->Pending().size() == 1; }));
  EXPECT_EQ(journal_->Pending()[0].key, "journaled");
  // A daemon killed now would leave this upload; the next mount aborts it.
  auto copy = UploadJournal::Open(journal_->path());
  ASSERT_TRUE(copy.has_value());
  ASSERT_TRUE(AbortJournaledUploads(*fake_, **copy).has_value());
  EXPECT_EQ(fake_->PendingUploadCount(), 0u);
}

}  // namespace
}  // namespace repofs::upload::test
