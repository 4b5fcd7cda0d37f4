// prefetch_bench: cold reads of a large object through ObjectReader, against
// FakeObjectClient behind FailureObjectClient (per-GET latency) and a paced
// ChunkSource (per-connection bandwidth, like one TCP stream from S3).
// Compares with one plain GET of the whole object (what `curl` would do).
//
// Usage: prefetch_bench [size_mib=256] [latency_ms=5] [conn_mib_per_s=0]
// (0 bandwidth = unlimited: only latency and copying cost).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "prefetch/chunk_source.h"
#include "prefetch/object_reader.h"
#include "prefetch/readahead_context.h"
#include "s3/failure_object_client.h"
#include "s3/fake_object_client.h"

namespace repofs::prefetch {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kMiB = 1024 * 1024;

// Delivers each fetch at most `bytes_per_second` (0: unlimited).
class PacedSource final : public ChunkSource {
 public:
  PacedSource(std::shared_ptr<ChunkSource> inner, double bytes_per_second)
      : inner_(std::move(inner)), rate_(bytes_per_second) {}

  Status Fetch(const ObjectVersion& version, uint64_t offset, uint64_t length,
               const ChunkSink& sink) override {
    if (rate_ <= 0) return inner_->Fetch(version, offset, length, sink);
    // The clock starts at the first byte: latency is the inner client's.
    std::optional<Clock::time_point> first_byte;
    uint64_t sent = 0;
    auto paced = [&](std::string_view bytes) {
      if (!first_byte) first_byte = Clock::now();
      const Clock::time_point start = *first_byte;
      while (!bytes.empty()) {
        std::string_view piece = bytes.substr(0, 256 * 1024);
        bytes.remove_prefix(piece.size());
        sent += piece.size();
        auto due = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(sent / rate_));
        std::this_thread::sleep_until(due);
        if (!sink(piece)) return false;
      }
      return true;
    };
    return inner_->Fetch(version, offset, length, paced);
  }

 private:
  std::shared_ptr<ChunkSource> inner_;
  double rate_;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

struct Setup {
  std::shared_ptr<FakeObjectClient> fake = std::make_shared<FakeObjectClient>();
  std::shared_ptr<FailureObjectClient> failure =
      std::make_shared<FailureObjectClient>(fake);
  ObjectVersion version;
  double rate = 0;

  std::shared_ptr<ChunkSource> Source(
      const std::shared_ptr<ReadaheadCounters>& counters) const {
    return std::make_shared<PacedSource>(
        std::make_shared<S3ChunkSource>(failure, counters), rate);
  }
};

void PlainGet(const Setup& setup) {
  auto source = setup.Source(nullptr);
  std::string sink_buffer;
  sink_buffer.reserve(setup.version.size);
  auto start = Clock::now();
  Status status = source->Fetch(setup.version, 0, setup.version.size,
                                [&](std::string_view bytes) {
                                  sink_buffer.append(bytes);
                                  return true;
                                });
  double seconds = Seconds(start);
  std::printf("plain GET of the whole object: %.3f s (%.0f MiB/s)%s\n", seconds,
              setup.version.size / kMiB / seconds,
              status.ok() ? "" : " FAILED");
}

void Sequential(const Setup& setup, int parallelism, uint64_t request_size) {
  ReadaheadOptions options;
  options.parallelism = parallelism;
  options.request_size = request_size;
  auto counters = std::make_shared<ReadaheadCounters>();
  ReadaheadContext context(setup.Source(counters), counters, options, 32);
  std::vector<char> buffer(128 * 1024);
  auto start = Clock::now();
  {
    ObjectReader reader(context, setup.version);
    for (uint64_t offset = 0; offset < setup.version.size;
         offset += buffer.size()) {
      Result<size_t> got = reader.Read(offset, buffer.size(), buffer.data());
      if (!got.has_value()) {
        std::printf("read failed: %s\n", got.error().message.c_str());
        return;
      }
    }
  }
  double seconds = Seconds(start);
  ReadaheadStats stats = context.Stats();
  std::printf(
      "sequential 128 KiB reads, parallelism %2d, request %2llu MiB: %.3f s "
      "(%.0f MiB/s), %llu GETs, peak buffer %llu MiB, wasted %llu\n",
      parallelism, static_cast<unsigned long long>(request_size / kMiB),
      seconds, setup.version.size / kMiB / seconds,
      static_cast<unsigned long long>(stats.get_requests),
      static_cast<unsigned long long>(stats.peak_buffered_bytes / kMiB),
      static_cast<unsigned long long>(stats.readahead_bytes_wasted));
}

void Random(const Setup& setup, int reads) {
  auto counters = std::make_shared<ReadaheadCounters>();
  ReadaheadContext context(setup.Source(counters), counters, ReadaheadOptions{},
                           32);
  std::vector<char> buffer(16 * 1024);
  std::mt19937_64 rng(1);
  ObjectReader reader(context, setup.version);
  auto start = Clock::now();
  for (int i = 0; i < reads; ++i) {
    uint64_t offset = rng() % setup.version.size;
    (void)reader.Read(offset, buffer.size(), buffer.data());
  }
  double seconds = Seconds(start);
  std::printf("random 16 KiB reads: %d in %.3f s (%.2f ms each), %llu GETs\n",
              reads, seconds, 1000 * seconds / reads,
              static_cast<unsigned long long>(context.Stats().get_requests));
}

}  // namespace
}  // namespace repofs::prefetch

int main(int argc, char** argv) {
  using namespace repofs::prefetch;
  const uint64_t size_mib =
      argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  const long latency_ms = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 5;
  const double rate_mib = argc > 3 ? std::strtod(argv[3], nullptr) : 0;

  Setup setup;
  std::string body(size_mib * kMiB, '\0');
  std::mt19937_64 rng(7);
  for (char& c : body) c = static_cast<char>(rng());
  repofs::WriteResult written = setup.fake->PutForTest("bench", body);
  setup.version = ObjectVersion{"bench", written.etag, body.size()};
  body = std::string();
  setup.failure->SetLatency("GetObject", std::chrono::milliseconds(latency_ms));
  setup.rate = rate_mib * kMiB;
  std::printf("object %llu MiB, %ld ms per GET, %s per connection\n",
              static_cast<unsigned long long>(size_mib), latency_ms,
              rate_mib > 0 ? (std::to_string(rate_mib) + " MiB/s").c_str()
                           : "unlimited");

  PlainGet(setup);
  for (int parallelism : {1, 2, 4, 8, 16})
    Sequential(setup, parallelism, 8 * kMiB);
  Sequential(setup, 8, 1 * kMiB);
  Sequential(setup, 8, 16 * kMiB);
  Random(setup, 200);
  return 0;
}
