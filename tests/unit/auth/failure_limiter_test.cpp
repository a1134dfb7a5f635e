// FailureLimiter with a pinned clock: the burst, the refill, Retry-After, off, and the bound on
// tracked addresses.
#include "auth/failure_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace jotgate::auth {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

TEST(FailureLimiter, ABurstOfTheLimitThenRetryAfterUntilASlotFrees) {
  FailureLimiter limiter({.failures = 3, .window_seconds = 60});
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow), 0);
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow), 0);
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow), 0);
  // 3 per minute: one slot every 20 s.
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow), 20);
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow + 5), 15);  // refusals are not counted
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow + 19), 1);
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow + 20), 0);
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow + 20), 20);
  // Another address has its own bucket.
  EXPECT_EQ(limiter.count_failure("10.0.0.8", kNow + 20), 0);
  // A quiet window empties the bucket: a full burst again.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow + 200), 0) << i;
  EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow + 200), 20);
}

TEST(FailureLimiter, PerSecondLimitsWaitAtLeastOneSecond) {
  FailureLimiter limiter({.failures = 10, .window_seconds = 1});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.count_failure("::1", kNow), 0) << i;
  EXPECT_EQ(limiter.count_failure("::1", kNow), 1);
  EXPECT_EQ(limiter.count_failure("::1", kNow + 1), 0);
}

TEST(FailureLimiter, PerHourLimit) {
  FailureLimiter limiter({.failures = 2, .window_seconds = 3600});
  EXPECT_EQ(limiter.count_failure("a", kNow), 0);
  EXPECT_EQ(limiter.count_failure("a", kNow), 0);
  EXPECT_EQ(limiter.count_failure("a", kNow), 1800);
}

TEST(FailureLimiter, OffNeverLimitsAndTracksNothing) {
  FailureLimiter limiter({.failures = 0, .window_seconds = 60});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.count_failure("10.0.0.7", kNow), 0);
  EXPECT_EQ(limiter.tracked(), 0U);
}

TEST(FailureLimiter, TheTableIsBoundedByForgettingTheLeastRecentAddress) {
  FailureLimiter limiter({.failures = 1, .window_seconds = 60}, /*max_addresses=*/3);
  EXPECT_EQ(limiter.count_failure("a", kNow), 0);
  EXPECT_EQ(limiter.count_failure("b", kNow), 0);
  EXPECT_EQ(limiter.count_failure("c", kNow), 0);
  EXPECT_EQ(limiter.count_failure("a", kNow + 1), 59);  // a refusal does not make "a" recent
  EXPECT_EQ(limiter.count_failure("d", kNow + 1), 0);   // "a" failed least recently: forgotten
  EXPECT_EQ(limiter.tracked(), 3U);
  EXPECT_EQ(limiter.count_failure("b", kNow + 1), 59);
  EXPECT_EQ(limiter.count_failure("a", kNow + 1), 0);  // forgotten: a fresh bucket; "b" goes
  EXPECT_EQ(limiter.count_failure("c", kNow + 1), 59);
  EXPECT_EQ(limiter.count_failure("b", kNow + 1), 0);
  EXPECT_EQ(limiter.tracked(), 3U);
}

TEST(FailureLimiter, AddressesWhoseBucketEmptiedAreDropped) {
  FailureLimiter limiter({.failures = 5, .window_seconds = 60});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.count_failure(std::to_string(i), kNow), 0);
  EXPECT_EQ(limiter.tracked(), 100U);
  // 12 s later every one-failure bucket is empty again: a new address clears them.
  EXPECT_EQ(limiter.count_failure("new", kNow + 12), 0);
  EXPECT_EQ(limiter.tracked(), 1U);
}

}  // namespace
}  // namespace jotgate::auth
