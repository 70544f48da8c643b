#include "server/rate_limiter.h"

#include <gtest/gtest.h>

namespace soma::server {
namespace {

using std::chrono::milliseconds;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  RateLimiter::Clock fn() {
    return [this] { return now; };
  }
};

TEST(RateLimiter, AllowsABurstThenRefusesWithRetryAfter) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 2, .burst = 3}, clock.fn());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a").allowed) << i;
  auto refused = limiter.Take("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  // Another client has its own bucket.
  EXPECT_TRUE(limiter.Take("b").allowed);
}

TEST(RateLimiter, RefillsAtTheRate) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 2, .burst = 1}, clock.fn());
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_FALSE(limiter.Take("a").allowed);
  clock.now += milliseconds(400);  // 0.8 token
  EXPECT_FALSE(limiter.Take("a").allowed);
  clock.now += milliseconds(100);  // 1.0 token
  EXPECT_TRUE(limiter.Take("a").allowed);
}

TEST(RateLimiter, RetryAfterCoversTheWait) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 0.25, .burst = 1}, clock.fn());
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_EQ(limiter.Take("a").retry_after_seconds, 4);
}

TEST(RateLimiter, DisabledAtRateZero) {
  RateLimiter limiter({.rate_per_second = 0});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Take("a").allowed);
}

TEST(RateLimiter, PrunesIdleClientsBeyondMaxKeys) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 1, .burst = 1, .max_keys = 2}, clock.fn());
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("b").allowed);
  clock.now += milliseconds(2000);  // both buckets full again: prunable
  EXPECT_TRUE(limiter.Take("c").allowed);
  // "a" was pruned and starts with a full bucket, as if new.
  EXPECT_TRUE(limiter.Take("a").allowed);
}

}  // namespace
}  // namespace soma::server
