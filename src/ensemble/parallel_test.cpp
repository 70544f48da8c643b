#include "ensemble/mpi_world.h"
#include "ensemble/parallel.h"

#include <gtest/gtest.h>

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

// Every member on exactly one rank, in index order per rank.
TEST(MpiWorld, MembersSplitByIndexModuloRanks) {
  for (int size : {1, 2, 3, 7}) {
    std::vector<int> seen(20, 0);
    for (int rank = 0; rank < size; ++rank) {
      auto m = MembersOfRank(20, rank, size);
      for (size_t k = 0; k < m.size(); ++k) {
        EXPECT_EQ(m[k] % size, rank);
        if (k > 0) EXPECT_GT(m[k], m[k - 1]);
        ++seen[m[k]];
      }
    }
    for (int s : seen) EXPECT_EQ(s, 1) << "size " << size;
  }
  // Outside mpirun the world is one process.
  auto world = MpiWorld::Join();
  ASSERT_TRUE(world.ok());
  EXPECT_EQ((*world)->size(), 1);
  EXPECT_EQ((*world)->rank(), 0);
}

}  // namespace
}  // namespace soma::ensemble
