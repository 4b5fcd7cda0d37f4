// FailureObjectClient: an ObjectClient decorator that injects faults in
// front of another client (normally a FakeObjectClient), to test retries,
// resumed reads and error paths of the layers above:
// - scheduled faults, per operation name ("GetObject", "PutObject", ...) or
//   for every operation (kAnyOperation), consumed in order, one per call:
//   * an error (e.g. ServerError(), SlowDown(), ConnectionReset()): the call
//     fails with it and the inner client is not called;
//   * a lost response (LoseResponse): the inner call runs and takes effect,
//     then the call fails with the error anyway (a reset after the server
//     acted: what makes retried non-idempotent requests interesting);
//   * a truncated body (GetObject only): the inner GET runs, only its first
//     K bytes reach the sink, then the call fails with kTruncatedBody (also
//     when the body had K bytes or fewer: the connection "died" before the
//     response completed);
// - added latency per operation (or all), slept via the Clock before the
//   call;
// - a probabilistic mode for soak tests: each call fails with probability
//   p, drawing the error (and, for GETs, optionally a truncation point) from
//   a seeded RNG, so a failing run can be replayed.
// Operation-specific faults are consumed before kAnyOperation ones; scheduled
// faults before random ones.
//
// RequestCounts() counts every call that reached this decorator (injected
// failures included: for the layer above they are requests that failed), by
// operation name; inner()->RequestCounts() counts what got through.
//
// Ownership: shares ownership of `inner`; the Clock must outlive this
// object. Thread-safety: all methods may be called concurrently (one mutex
// for the schedule, RNG and counters; never held during an inner call or
// while sleeping).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "repofs/clock.h"
#include "repofs/object_client.h"

namespace repofs {

class FailureObjectClient final : public ObjectClient {
 public:
  // Matches every operation in Schedule/FailNext/SetLatency.
  static constexpr const char* kAnyOperation = "*";

  struct Fault {
    enum class Kind { kError, kLoseResponse, kTruncateBody };
    Kind kind = Kind::kError;
    S3Error error;                // with kError and kLoseResponse
    uint64_t truncate_after = 0;  // with kTruncateBody: bytes delivered

    static Fault Error(S3Error error);
    static Fault LoseResponse(S3Error error);
    static Fault TruncateBody(uint64_t bytes);
  };

  // Injected-fault tallies (see InjectedFaults()).
  struct FaultCounts {
    uint64_t errors = 0;       // calls failed (kError, kLoseResponse)
    uint64_t truncations = 0;  // GETs cut short
    uint64_t delays = 0;       // calls delayed by SetLatency
  };

  explicit FailureObjectClient(std::shared_ptr<ObjectClient> inner,
                               const Clock& clock = RealClock());

  // Typical errors, as the real client reports them.
  static S3Error ServerError();      // 500 InternalError
  static S3Error SlowDown();         // 503 SlowDown
  static S3Error ConnectionReset();  // kNetwork, no HTTP status
  static S3Error Timeout();          // kTimeout, no HTTP status

  // Appends `count` copies of `fault` to the schedule of `operation`.
  // A kTruncateBody fault only applies to GetObject (in the kAnyOperation
  // schedule it waits at the head until a GET takes it).
  void Schedule(const std::string& operation, const Fault& fault,
                int count = 1);
  // Schedule(operation, Fault::Error(error), count).
  void FailNext(const std::string& operation, int count, S3Error error);
  // Schedule("GetObject", Fault::TruncateBody(bytes), count).
  void TruncateNextGets(uint64_t bytes, int count = 1);
  // Sleeps `latency` before every call of `operation` (zero: none).
  void SetLatency(const std::string& operation,
                  std::chrono::nanoseconds latency);
  // Each call of `operation` fails with probability `probability`, with an
  // error drawn uniformly from `errors` (default: ServerError, SlowDown,
  // ConnectionReset). With `truncate_gets`, half the faults drawn for
  // GetObject are truncations after a random count of bytes (< 1 MiB, and
  // less than the requested length when one is given). probability <= 0
  // turns the mode off.
  void SetRandomFailures(double probability, uint64_t seed,
                         std::vector<S3Error> errors = {},
                         bool truncate_gets = false,
                         const std::string& operation = kAnyOperation);
  // Drops every scheduled fault, latency and the random mode.
  void ClearFaults();
  // Scheduled faults not yet consumed (all operations).
  size_t PendingFaults() const;

  FaultCounts InjectedFaults() const;
  // errors + truncations.
  uint64_t InjectedFaultCount() const;
  ObjectClient& inner() const { return *inner_; }

  S3Status HeadBucket() override;
  S3Result<std::optional<ObjectInfo>> HeadObject(
      const std::string& key) override;
  S3Result<ObjectInfo> GetObject(const GetRequest& request,
                                 const DataSink& sink) override;
  S3Result<WriteResult> PutObject(const std::string& key, const Payload& body,
                                  const PutOptions& options) override;
  S3Status DeleteObject(const std::string& key) override;
  S3Result<std::vector<std::string>> DeleteObjects(
      const std::vector<std::string>& keys) override;
  S3Result<WriteResult> CopyObject(const std::string& source_key,
                                   const std::string& dest_key,
                                   const CopyOptions& options) override;
  S3Result<ListPage> ListObjects(const ListRequest& request) override;
  S3Result<std::string> CreateMultipartUpload(
      const std::string& key, const PutOptions& options) override;
  S3Result<std::string> UploadPart(const std::string& key,
                                   const std::string& upload_id,
                                   int part_number,
                                   const Payload& body) override;
  S3Result<std::string> UploadPartCopy(
      const std::string& key, const std::string& upload_id, int part_number,
      const std::string& source_key, uint64_t offset, uint64_t length,
      const std::string& source_if_match) override;
  S3Result<WriteResult> CompleteMultipartUpload(
      const std::string& key, const std::string& upload_id,
      const std::vector<CompletedPart>& parts) override;
  S3Status AbortMultipartUpload(const std::string& key,
                                const std::string& upload_id) override;
  S3Result<std::vector<MultipartUploadInfo>> ListMultipartUploads(
      const std::string& prefix) override;
  std::map<std::string, uint64_t> RequestCounts() const override;

 private:
  struct RandomMode {
    double probability = 0;
    std::vector<S3Error> errors;
    bool truncate_gets = false;
    std::string operation;
  };

  // Counts the call, sleeps any latency and picks the fault for it (nullopt:
  // pass through). `get_length` is the requested GET length, if any.
  std::optional<Fault> Begin(const std::string& operation, bool is_get,
                             std::optional<uint64_t> get_length);
  std::optional<Fault> TakeScheduledLocked(const std::string& operation,
                                           bool is_get);
  std::optional<Fault> DrawRandomLocked(const std::string& operation,
                                        bool is_get,
                                        std::optional<uint64_t> get_length);
  // Runs `call` (an inner call) under the faults picked by Begin() for an
  // operation other than GetObject.
  template <typename Call>
  auto Run(const char* operation, const Call& call) -> decltype(call());
  S3Result<ObjectInfo> TruncatedGet(const GetRequest& request,
                                    const DataSink& sink, uint64_t limit);

  std::shared_ptr<ObjectClient> inner_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Fault>> schedule_;        // GUARDED_BY(mu_)
  std::map<std::string, std::chrono::nanoseconds> latency_;  // GUARDED_BY(mu_)
  std::optional<RandomMode> random_;                         // GUARDED_BY(mu_)
  std::mt19937_64 rng_;                                      // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> calls_;                    // GUARDED_BY(mu_)
  FaultCounts injected_;                                     // GUARDED_BY(mu_)
};

}  // namespace repofs
