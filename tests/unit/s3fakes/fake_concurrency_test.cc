// FakeObjectClient under concurrent use: 8 threads, bounded operation
// counts, invariants checked on every read.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "s3/fake_object_client.h"
#include "test_support.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace repofs {
namespace {

TEST(FakeConcurrencyTest, EightThreadsNeverSeeMixedVersions) {
  FakeObjectClient fake;
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 400;
  constexpr int kKeys = 16;
  std::atomic<int> bad_reads{0};
  std::atomic<int> gets{0}, puts{0}, lists{0}, deletes{0}, copies{0}, heads{0};

  auto worker = [&](int id) {
    std::mt19937 rng(id);
    for (int i = 0; i < kOpsPerThread; ++i) {
      const std::string key = "c/" + std::to_string(rng() % kKeys);
      switch (rng() % 6) {
        case 0: {
          // Bodies of varying size so a mixed read would show.
          std::string body = testing::RandomBytes(1000 + rng() % 150000, rng());
          ++puts;
          ASSERT_TRUE(
              fake.PutObject(key, Payload::FromBuffer(body), {}).has_value());
          break;
        }
        case 1: {
          std::string bytes;
          GetRequest request;
          request.key = key;
          ++gets;
          auto info = fake.GetObject(request, [&](std::string_view chunk) {
            bytes.append(chunk);
            return true;
          });
          if (info.has_value()) {
            // The bytes must be exactly the version the info describes.
            if (bytes.size() != info->size ||
                HexEncode(Md5(bytes)) != info->etag) {
              ++bad_reads;
            }
          } else if (info.error().code != S3ErrorCode::kNoSuchKey) {
            ++bad_reads;
          }
          break;
        }
        case 2: {
          ListRequest request;
          request.prefix = "c/";
          ++lists;
          ASSERT_TRUE(ListAll(fake, request, [](const ListPage& page) {
                        return page.objects.size() <= 1000;
                      }).ok());
          break;
        }
        case 3:
          ++deletes;
          ASSERT_TRUE(fake.DeleteObject(key).ok());
          break;
        case 4: {
          ++copies;
          auto copy = fake.CopyObject(key, key + "-copy", {});
          if (!copy.has_value()) {
            ASSERT_EQ(copy.error().code, S3ErrorCode::kNoSuchKey);
          }
          break;
        }
        default:
          ++heads;
          ASSERT_TRUE(fake.HeadObject(key).has_value());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();

  EXPECT_EQ(bad_reads.load(), 0);
  auto counts = fake.RequestCounts();
  EXPECT_EQ(counts["PutObject"], static_cast<uint64_t>(puts.load()));
  EXPECT_EQ(counts["GetObject"], static_cast<uint64_t>(gets.load()));
  EXPECT_EQ(counts["DeleteObject"], static_cast<uint64_t>(deletes.load()));
  EXPECT_EQ(counts["CopyObject"], static_cast<uint64_t>(copies.load()));
  EXPECT_EQ(counts["HeadObject"], static_cast<uint64_t>(heads.load()));
  EXPECT_GE(counts["ListObjects"], static_cast<uint64_t>(lists.load()));
  uint64_t total = 0;
  for (const auto& [op, n] : counts) total += op == "ListObjects" ? 0 : n;
  EXPECT_EQ(total + lists.load(),
            static_cast<uint64_t>(kThreads * kOpsPerThread));
  EXPECT_LE(fake.ObjectCount(), 2u * kKeys);
}

}  // namespace
}  // namespace repofs
