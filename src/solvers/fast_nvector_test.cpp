#include "solvers/fast_nvector.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace soma::solvers {
namespace {

TEST(AllFiniteTest, FindsNaNAndInfinitiesAtEveryPosition) {
  // Lengths around the vector widths (2 and 4 doubles), each bad value at
  // each position: the vectorised loop and its scalar tail both look.
  const double bad[] = {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (size_t n = 1; n <= 11; ++n) {
    std::vector<double> v(n, 1.0);
    EXPECT_TRUE(AllFinite(v.data(), n)) << n;
    for (size_t at = 0; at < n; ++at) {
      for (double b : bad) {
        v[at] = b;
        EXPECT_FALSE(AllFinite(v.data(), n)) << "n " << n << ", " << b << " at " << at;
        v[at] = 1.0;
      }
    }
  }
  EXPECT_TRUE(AllFinite(nullptr, 0));
}

TEST(AllFiniteTest, AcceptsEveryFiniteValue) {
  const std::vector<double> v = {0.0,
                                 -0.0,
                                 std::numeric_limits<double>::max(),
                                 -std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::min(),
                                 std::numeric_limits<double>::denorm_min(),
                                 -std::numeric_limits<double>::denorm_min(),
                                 1e308,
                                 -1e-300};
  EXPECT_TRUE(AllFinite(v.data(), v.size()));
}

}  // namespace
}  // namespace soma::solvers
