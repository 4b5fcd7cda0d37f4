// CachingCredentialsProvider: caching, refresh before expiry, failure
// handling and one refresh at a time, with a FakeClock.
#include "auth/caching_provider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "fake_clock.h"

namespace repofs::auth {
namespace {

using namespace std::chrono_literals;
using repofs::test::FakeClock;

// A source answering from a script; the last answer repeats. Can be made to
// block until Release().
class ScriptedSource final : public CredentialsSource {
 public:
  void Push(Result<Credentials> r) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(r));
  }
  Result<Credentials> Fetch() override {
    std::unique_lock<std::mutex> lock(mu_);
    ++fetches_;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    entered_.notify_all();
    released_cv_.wait(lock, [&] { return !blocking_; });
    --in_flight_;
    Result<Credentials> r = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return r;
  }
  std::string Describe() const override { return "scripted"; }

  int fetches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fetches_;
  }
  int max_in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }
  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    blocking_ = true;
  }
  void WaitForFetches(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    entered_.wait_for(lock, 10s, [&] { return fetches_ >= n; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    blocking_ = false;
    released_cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable entered_, released_cv_;
  std::deque<Result<Credentials>> script_;
  int fetches_ = 0, in_flight_ = 0, max_in_flight_ = 0;
  bool blocking_ = false;
};

Credentials Temp(const std::string& id, FakeClock& clock,
                 std::chrono::seconds lifetime) {
  Credentials c;
  c.access_key_id = id;
  c.secret_access_key = "secret-" + id;
  c.session_token = "token-" + id;
  c.expiration = clock.Now() + lifetime;
  return c;
}

struct Fixture {
  FakeClock clock;
  ScriptedSource* source = nullptr;
  std::unique_ptr<CachingCredentialsProvider> provider;
  Fixture() {
    auto s = std::make_unique<ScriptedSource>();
    source = s.get();
    provider =
        std::make_unique<CachingCredentialsProvider>(std::move(s), clock);
  }
};

TEST(CachingProvider, LongTermCredentialsAreFetchedOnce) {
  Fixture f;
  f.source->Push(Credentials{"AK", "SK", "", std::nullopt});
  for (int i = 0; i < 3; ++i) {
    auto r = f.provider->GetCredentials();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->access_key_id, "AK");
    f.clock.Advance(24h * 365);
  }
  EXPECT_EQ(f.source->fetches(), 1);
  EXPECT_EQ(f.provider->Describe(), "scripted");
}

TEST(CachingProvider, RefreshesWhenLessThanFiveMinutesRemain) {
  Fixture f;
  f.source->Push(Temp("first", f.clock, 10min));
  f.source->Push(Temp("second", f.clock, 60min));
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "first");
  f.clock.Advance(4min);  // 6 min left: still fresh
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "first");
  EXPECT_EQ(f.source->fetches(), 1);
  f.clock.Advance(90s);  // 4.5 min left: refresh, before expiry
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "second");
  EXPECT_EQ(f.source->fetches(), 2);
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "second");
  EXPECT_EQ(f.source->fetches(), 2);
}

TEST(CachingProvider, FailedRefreshKeepsValidOldCredentialsAndLogsOnce) {
  Fixture f;
  f.source->Push(Temp("old", f.clock, 10min));
  f.source->Push(Error{EIO, "endpoint down"});
  ASSERT_TRUE(f.provider->GetCredentials().has_value());
  f.clock.Advance(6min);  // 4 min left

  ::testing::internal::CaptureStderr();
  auto r1 = f.provider->GetCredentials();
  f.clock.Advance(11s);  // past the retry interval: tries again, fails again
  auto r2 = f.provider->GetCredentials();
  std::string log = ::testing::internal::GetCapturedStderr();

  ASSERT_TRUE(r1.has_value());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r1->access_key_id, "old");
  EXPECT_EQ(r2->access_key_id, "old");
  EXPECT_EQ(f.source->fetches(), 3);
  size_t first = log.find("endpoint down");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("endpoint down", first + 1), std::string::npos) << log;
  EXPECT_EQ(log.find("secret-old"), std::string::npos);
  EXPECT_EQ(log.find("token-old"), std::string::npos);

  // Within the retry interval: no new attempt.
  (void)f.provider->GetCredentials();
  EXPECT_EQ(f.source->fetches(), 3);

  // Once the old ones expire, the failure reaches the caller.
  f.clock.Advance(5min);
  auto r3 = f.provider->GetCredentials();
  ASSERT_FALSE(r3.has_value());
  EXPECT_EQ(r3.error().errno_value, EACCES);
  EXPECT_NE(r3.error().message.find("endpoint down"), std::string::npos);
}

TEST(CachingProvider, SuccessEndsTheFailureStreakSoTheNextFailureLogsAgain) {
  Fixture f;
  f.source->Push(Temp("a", f.clock, 6min));
  f.source->Push(Error{EIO, "first-failure"});
  f.source->Push(Temp("b", f.clock, 20min));
  f.source->Push(Error{EIO, "second-failure"});
  ASSERT_EQ(f.provider->GetCredentials()->access_key_id, "a");
  f.clock.Advance(2min);  // a: 4 min left
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "a");  // 1st failure
  f.clock.Advance(11s);
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "b");
  f.clock.Advance(14min);  // b: < 4 min left
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "b");  // 2nd failure
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(f.source->fetches(), 4);
  EXPECT_NE(log.find("first-failure"), std::string::npos) << log;
  EXPECT_NE(log.find("second-failure"), std::string::npos) << log;
}

TEST(CachingProvider, FailureWithoutCredentialsIsCachedForRetryInterval) {
  Fixture f;
  f.source->Push(Error{ENOENT, "scripted (nothing here)"});
  f.source->Push(Credentials{"AK", "SK", "", std::nullopt});
  auto r1 = f.provider->GetCredentials();
  ASSERT_FALSE(r1.has_value());
  EXPECT_EQ(r1.error().errno_value, EACCES);  // ENOENT is internal to sources
  EXPECT_EQ(r1.error().message, "scripted (nothing here)");
  auto r2 = f.provider->GetCredentials();
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(f.source->fetches(), 1);
  f.clock.Advance(10s);
  auto r3 = f.provider->GetCredentials();
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(f.source->fetches(), 2);
}

TEST(CachingProvider, ConcurrentCallersWithoutCredentialsShareOneFetch) {
  Fixture f;
  f.source->Push(Credentials{"AK", "SK", "", std::nullopt});
  f.source->Block();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = f.provider->GetCredentials();
      if (r.has_value() && r->access_key_id == "AK") ++ok;
    });
  }
  f.source->WaitForFetches(1);
  std::this_thread::sleep_for(50ms);  // let the others queue up
  f.source->Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(f.source->fetches(), 1);
  EXPECT_EQ(f.source->max_in_flight(), 1);
}

TEST(CachingProvider, DuringRefreshOthersGetStillValidCredentialsAtOnce) {
  Fixture f;
  f.source->Push(Temp("old", f.clock, 10min));
  f.source->Push(Temp("new", f.clock, 60min));
  ASSERT_EQ(f.provider->GetCredentials()->access_key_id, "old");
  f.clock.Advance(6min);
  f.source->Block();
  std::thread refresher(
      [&] { EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "new"); });
  f.source->WaitForFetches(2);
  // The refresh is blocked inside the source; this returns immediately.
  auto r = f.provider->GetCredentials();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->access_key_id, "old");
  f.source->Release();
  refresher.join();
  EXPECT_EQ(f.provider->GetCredentials()->access_key_id, "new");
  EXPECT_EQ(f.source->fetches(), 2);
  EXPECT_EQ(f.source->max_in_flight(), 1);
}

}  // namespace
}  // namespace repofs::auth
