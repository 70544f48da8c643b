#include "ensemble/mpi_world.h"
#include "ensemble/parallel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include <random>
#include <set>
#include <thread>

#include "uq/random.h"

namespace soma::ensemble {
namespace {

// A member's result depends only on its index, whatever the thread count.
std::vector<double> RunMembers(int threads, int n) {
  std::vector<double> out(n);
  ParallelOptions o;
  o.threads = threads;
  ParallelFor(0, n, [&](long i) {
    uq::Rng rng = uq::MemberRng(2024, i);
    std::normal_distribution<double> z;
    double s = 0;
    for (int k = 0; k < 1000; ++k) s += z(rng);
    out[i] = s;
  }, o);
  return out;
}

TEST(ParallelFor, ResultsDoNotDependOnTheThreadCount) {
  auto one = RunMembers(1, 200);
  EXPECT_EQ(one, RunMembers(2, 200));
  EXPECT_EQ(one, RunMembers(7, 200));
  EXPECT_EQ(std::set<double>(one.begin(), one.end()).size(), one.size());  // distinct streams
}

TEST(ParallelFor, ReportsProgressAndHonoursCancel) {
  std::vector<std::pair<long, long>> seen;
  ParallelOptions o;
  o.threads = 2;
  o.progress_interval = std::chrono::milliseconds(1);
  o.progress = [&](long done, long total) { seen.emplace_back(done, total); };
  std::atomic<int> calls{0};
  long done = ParallelFor(10, 60, [&](long) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }, o);
  EXPECT_EQ(done, 50);
  EXPECT_EQ(calls.load(), 50);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), std::make_pair(50L, 50L));
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LE(seen[i - 1].first, seen[i].first);

  std::atomic<bool> cancel{false};
  o.cancel = &cancel;
  o.progress = nullptr;
  std::atomic<int> started{0};
  long partial = ParallelFor(0, 100000, [&](long) {
    if (++started == 10) cancel = true;
  }, o);
  EXPECT_LT(partial, 100000);
  EXPECT_GE(partial, 10);
}

}  // namespace
}  // namespace soma::ensemble

namespace soma::ensemble {
namespace {

int Sum(const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); }

// Shares follow the measured rates, add up to the count, and leave no rank
// without a member while there are enough.
TEST(MpiWorld, RoundSharesFollowTheRanksRates) {
  EXPECT_EQ(ShareByRate(128, 2, {}), (std::vector<int>{64, 64}));
  EXPECT_EQ(ShareByRate(7, 3, {}), (std::vector<int>{3, 2, 2}));
  EXPECT_EQ(ShareByRate(128, 2, {300.0, 100.0}), (std::vector<int>{96, 32}));
  EXPECT_EQ(ShareByRate(10, 2, {1.0, 1e9}), (std::vector<int>{1, 9}));  // the floor
  EXPECT_EQ(ShareByRate(2, 4, {1.0, 2.0, 3.0, 4.0}), (std::vector<int>{0, 0, 1, 1}));
  // Unmeasured or broken rates: equal shares.
  EXPECT_EQ(ShareByRate(9, 3, {1.0, 0.0, 2.0}), (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(ShareByRate(9, 3, {1.0, std::nan(""), 2.0}), (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(ShareByRate(9, 3, {1.0, 2.0}), (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(ShareByRate(0, 3, {1.0, 2.0, 3.0}), (std::vector<int>{0, 0, 0}));
  for (int ranks : {1, 2, 3, 7}) {
    for (int count : {0, 1, 5, 64, 1000}) {
      std::vector<double> rates;
      for (int r = 0; r < ranks; ++r) rates.push_back(1.0 + 0.37 * r * r);
      auto share = ShareByRate(count, ranks, rates);
      ASSERT_EQ(static_cast<int>(share.size()), ranks);
      EXPECT_EQ(Sum(share), count) << ranks << " ranks, " << count << " members";
      for (int s : share) EXPECT_GE(s, count >= ranks ? 1 : 0);
      // Within one member of the exact proportional share (after the floor).
      double total_rate = std::accumulate(rates.begin(), rates.end(), 0.0);
      const int floor = count >= ranks ? 1 : 0;
      for (int r = 0; r < ranks; ++r) {
        EXPECT_NEAR(share[r], floor + (count - floor * ranks) * rates[r] / total_rate, 1.0);
      }
    }
  }
  // Outside mpirun the world is one process.
  auto world = MpiWorld::Join();
  ASSERT_TRUE(world.ok());
  EXPECT_EQ((*world)->size(), 1);
  EXPECT_EQ((*world)->rank(), 0);
}

}  // namespace
}  // namespace soma::ensemble
