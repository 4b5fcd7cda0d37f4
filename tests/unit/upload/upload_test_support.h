// Shared fixture of the src/upload unit tests: a temporary staging
// directory, an in-memory bucket (FakeObjectClient) behind a
// FailureObjectClient, a thread pool and a journal.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "s3/failure_object_client.h"
#include "s3/fake_object_client.h"
#include "upload/pending_object.h"
#include "upload/upload_journal.h"
#include "util/thread_pool.h"

namespace repofs::upload::test {

constexpr uint64_t kMiB = 1024 * 1024;

inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Polls `done` every millisecond for up to 10 s.
inline bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 10000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/upload_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directory(dir_ + "/staging");
    auto journal = UploadJournal::Open(dir_ + "/uploads.journal");
    ASSERT_TRUE(journal.has_value()) << journal.error().message;
    journal_ = std::move(*journal);
    options_.staging_dir = dir_ + "/staging";
    options_.part_size = 5 * kMiB;
    options_.multipart_threshold = 5 * kMiB;
    options_.parallelism = 2;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<PendingObject> NewObject(const std::string& key) {
    auto object =
        PendingObject::Create(failing_, pool_, journal_.get(), options_, key);
    EXPECT_TRUE(object.has_value()) << object.error().message;
    return object.has_value() ? std::move(*object) : nullptr;
  }

  // Writes `data` from `offset` in `chunk`-byte writes.
  static void WriteAll(PendingObject& object, const std::string& data,
                       size_t chunk = 1 * kMiB, uint64_t offset = 0) {
    for (size_t pos = 0; pos < data.size(); pos += chunk) {
      Status status =
          object.Write(offset + pos, std::string_view(data).substr(pos, chunk));
      ASSERT_TRUE(status.ok()) << status.error().message;
    }
  }

  uint64_t Count(const std::string& op) const {
    return fake_->RequestCounts()[op];
  }
  size_t LeftoverUploads() const {
    auto uploads = fake_->ListMultipartUploads("");
    EXPECT_TRUE(uploads.has_value());
    return uploads.has_value() ? uploads->size() : 0;
  }

  std::string dir_;
  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>();
  std::shared_ptr<FailureObjectClient> failing_ =
      std::make_shared<FailureObjectClient>(fake_);
  ThreadPool pool_{4};
  std::unique_ptr<UploadJournal> journal_;
  UploadOptions options_;
};

}  // namespace repofs::upload::test
