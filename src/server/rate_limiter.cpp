#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace soma::server {

RateLimiter::RateLimiter(RateLimitOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  if (options_.burst <= 0) options_.burst = std::max(1.0, options_.rate_per_second);
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

void RateLimiter::Refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(options_.burst, b.tokens + elapsed * options_.rate_per_second);
    b.last = now;
  }
}

void RateLimiter::Prune(std::chrono::steady_clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    it = it->second.tokens >= options_.burst ? buckets_.erase(it) : std::next(it);
  }
}

RateLimiter::Decision RateLimiter::Take(const std::string& key) {
  if (!enabled()) return {};
  auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) Prune(now);
    it = buckets_.emplace(key, Bucket{options_.burst, now}).first;
  }
  Bucket& b = it->second;
  Refill(b, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {};
  }
  double wait = (1 - b.tokens) / options_.rate_per_second;
  return {false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

}  // namespace soma::server
