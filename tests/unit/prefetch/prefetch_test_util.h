// Helpers shared by the prefetch unit tests: deterministic object bodies,
// a FakeObjectClient-backed fixture, and a ChunkSource decorator that
// observes fetch concurrency (through the ReadaheadContext seam).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "prefetch/chunk_source.h"
#include "prefetch/object_reader.h"
#include "prefetch/readahead_context.h"
#include "repofs/fs_options.h"
#include "s3/fake_object_client.h"

namespace repofs::prefetch::testing {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

// Pseudo-random bytes; different seeds give different bodies.
inline std::string MakeBody(uint64_t size, uint32_t seed) {
  std::string body(size, '\0');
  std::mt19937 rng(seed);
  size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    uint32_t word = rng();
    body[i] = static_cast<char>(word);
    body[i + 1] = static_cast<char>(word >> 8);
    body[i + 2] = static_cast<char>(word >> 16);
    body[i + 3] = static_cast<char>(word >> 24);
  }
  for (; i < size; ++i) body[i] = static_cast<char>(rng());
  return body;
}

inline ObjectVersion PutObject(FakeObjectClient& fake, const std::string& key,
                               const std::string& body) {
  WriteResult written = fake.PutForTest(key, body);
  return ObjectVersion{key, written.etag, body.size()};
}

// Reads [offset, offset + len) and returns the bytes, or "<error>" + message.
inline std::string ReadString(ObjectReader& reader, uint64_t offset,
                              size_t len) {
  std::string buffer(len, '\0');
  Result<size_t> got = reader.Read(offset, len, buffer.data());
  if (!got.has_value()) return "<error>" + got.error().message;
  buffer.resize(got.value());
  return buffer;
}

// What a correct read of `body` returns.
inline std::string Expected(const std::string& body, uint64_t offset,
                            size_t len) {
  if (offset >= body.size()) return "";
  return body.substr(offset, len);
}

// Polls `done` every millisecond for up to `limit`.
template <typename Pred>
bool WaitFor(Pred done, std::chrono::milliseconds limit =
                            std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A ChunkSource decorator that sleeps `delay` per fetch and records the
// highest number of fetches in progress at once.
class ObservingSource final : public ChunkSource {
 public:
  ObservingSource(std::shared_ptr<ChunkSource> inner,
                  std::chrono::microseconds delay)
      : inner_(std::move(inner)), delay_(delay) {}

  Status Fetch(const ObjectVersion& version, uint64_t offset, uint64_t length,
               const ChunkSink& sink) override {
    int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    Status status = inner_->Fetch(version, offset, length, sink);
    --in_flight_;
    ++fetches_;
    return status;
  }

  int max_in_flight() const { return max_in_flight_.load(); }
  int fetches() const { return fetches_.load(); }

 private:
  std::shared_ptr<ChunkSource> inner_;
  std::chrono::microseconds delay_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::atomic<int> fetches_{0};
};

}  // namespace repofs::prefetch::testing
