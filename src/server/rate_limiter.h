#pragma once
// Per-client request rate limiting with token buckets.
//
// Each key (a token id for signed-in callers, "ip:ADDR" for anonymous ones)
// owns a bucket of `burst` tokens that refills at `rate_per_second`. A
// request takes one token; with none left it is refused and told how long
// to wait (the HTTP layer answers 429 with Retry-After).
//
// Thread-safe. Memory is bounded: when more than `max_keys` buckets exist,
// the ones that have refilled completely (idle clients) are dropped.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace soma::server {

struct RateLimitOptions {
  double rate_per_second = 0;  // 0 disables limiting
  double burst = 0;            // bucket size; <= 0 means max(1, rate_per_second)
  std::size_t max_keys = 100000;
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `clock` is injectable so tests control time; default: steady_clock::now.
  explicit RateLimiter(RateLimitOptions options, Clock clock = nullptr);

  struct Decision {
    bool allowed = true;
    int retry_after_seconds = 0;  // >= 1 when refused
  };
  Decision Take(const std::string& key);

  bool enabled() const { return options_.rate_per_second > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  void Refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void Prune(std::chrono::steady_clock::time_point now);

  RateLimitOptions options_;
  Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace soma::server
