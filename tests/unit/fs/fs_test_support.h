// Shared fixtures for the fs unit tests: a fake clock, a Filesystem over a
// FakeObjectClient, and helpers that walk paths and read whole directories
// and files the way the kernel would.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fs/filesystem.h"
#include "repofs/clock.h"
#include "s3/fake_object_client.h"
#include "util/string_util.h"

namespace repofs::fs::test {

// Time moves only when the test says so; SleepFor advances it.
class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  void SleepFor(std::chrono::nanoseconds d) const override { Advance(d); }
  void Advance(std::chrono::nanoseconds d) const {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    steady_ +=
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  mutable std::chrono::system_clock::time_point wall_ =
      std::chrono::system_clock::from_time_t(1'700'000'000);
  mutable std::chrono::steady_clock::time_point steady_ =
      std::chrono::steady_clock::time_point(std::chrono::hours(1000));
};

// Polls `done` (real time: background pools run on real threads) for up
// to 10 s.
template <typename Pred>
bool WaitUntil(Pred done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class FsTest : public ::testing::Test {
 protected:
  FsTest() : fake_(std::make_shared<FakeObjectClient>(clock_)) {
    options_.uid = 1000;
    options_.gid = 1000;
  }

  // (Re)creates the filesystem with the current options_.
  Filesystem& Mount(std::shared_ptr<ObjectClient> client = nullptr) {
    fs_.reset();
    fs_ =
        std::make_unique<Filesystem>(client ? client : fake_, options_, clock_);
    return *fs_;
  }

  void Put(const std::string& key, const std::string& body = "",
           const Metadata& metadata = {}) {
    fake_->PutForTest(options_.prefix + key, body, metadata);
  }

  uint64_t Count(const std::string& operation) const {
    auto counts = fake_->RequestCounts();
    auto it = counts.find(operation);
    return it == counts.end() ? 0 : it->second;
  }
  uint64_t TotalRequests() const {
    uint64_t total = 0;
    for (const auto& [op, n] : fake_->RequestCounts()) total += n;
    return total;
  }

  // Looks up every component of "a/b/c" from the root.
  Result<Entry> LookupPath(const std::string& path) {
    Ino ino = kRootIno;
    Result<Entry> entry = Error{ENOENT, "empty path"};
    for (const std::string& part : Split(path, '/')) {
      entry = fs_->Lookup(ino, part);
      if (!entry.has_value()) return entry;
      ino = entry->attr.ino;
    }
    return entry;
  }
  Ino InoOf(const std::string& path) {
    Result<Entry> e = LookupPath(path);
    EXPECT_TRUE(e.has_value())
        << path << ": " << (e.has_value() ? "" : e.error().message);
    return e.has_value() ? e->attr.ino : 0;
  }

  // All entries of directory `ino`, in batches of at most `batch` entries.
  std::vector<DirEntry> ReadAll(Ino ino, bool plus, size_t batch = 1000) {
    Result<uint64_t> fh = fs_->OpenDir(ino);
    EXPECT_TRUE(fh.has_value());
    if (!fh.has_value()) return {};
    std::vector<DirEntry> all;
    uint64_t offset = 0;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      size_t taken = 0;
      auto got = fs_->ReadDir(
          *fh, offset, plus, [&](std::string_view) { return taken++ < batch; });
      EXPECT_TRUE(got.has_value());
      if (!got.has_value() || got->empty()) break;
      offset = got->back().next_offset;
      for (auto& e : *got) all.push_back(std::move(e));
    }
    fs_->ReleaseDir(*fh);
    return all;
  }
  static std::vector<std::string> Names(const std::vector<DirEntry>& entries) {
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.name);
    return names;
  }

  Result<std::string> ReadFile(Ino ino, size_t chunk = 128 * 1024) {
    Result<OpenReply> open = fs_->Open(ino, O_RDONLY);
    if (!open.has_value()) return open.error();
    std::string out;
    std::vector<char> buf(chunk);
    for (int guard = 0; guard < 1'000'000; ++guard) {
      Result<size_t> n = fs_->Read(open->fh, out.size(), chunk, buf.data());
      if (!n.has_value()) {
        fs_->Release(open->fh);
        return n.error();
      }
      if (*n == 0) break;
      out.append(buf.data(), *n);
    }
    fs_->Release(open->fh);
    return out;
  }

  FakeClock clock_;
  std::shared_ptr<FakeObjectClient> fake_;
  FsOptions options_;
  std::unique_ptr<Filesystem> fs_;
};

}  // namespace repofs::fs::test
