#include "uq/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace soma::uq {
namespace {

Status CheckOutputs(const std::vector<double>& y, size_t expected) {
  if (y.size() != expected) {
    return InvalidArgument("got " + std::to_string(y.size()) + " outputs for a design of " +
                           std::to_string(expected) + " points");
  }
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) {
      return InvalidArgument("output " + std::to_string(i) + " is not finite (" +
                             std::to_string(y[i]) + ")");
    }
  }
  return Status::Ok();
}

struct Point {
  std::vector<double> first, total;
  double mean = 0, variance = 0;
};

// The estimators over the rows `rows` (indices into 0..n-1, repeats allowed).
Point Estimate(int n, int d, const std::vector<double>& y, const std::vector<int>& rows) {
  const double* fa = y.data();
  const double* fb = y.data() + n;
  double sum = 0, sum2 = 0;
  for (int j : rows) {
    sum += fa[j] + fb[j];
    sum2 += fa[j] * fa[j] + fb[j] * fb[j];
  }
  double m = static_cast<double>(rows.size());
  Point p;
  p.mean = sum / (2 * m);
  p.variance = sum2 / (2 * m) - p.mean * p.mean;
  p.first.assign(d, 0);
  p.total.assign(d, 0);
  for (int i = 0; i < d; ++i) {
    const double* fab = y.data() + static_cast<size_t>(2 + i) * n;
    double s = 0, t = 0;
    for (int j : rows) {
      s += fb[j] * (fab[j] - fa[j]);          // Saltelli 2010, eq. (b) of Table 2
      t += (fa[j] - fab[j]) * (fa[j] - fab[j]);  // Jansen 1999
    }
    p.first[i] = s / m / p.variance;
    p.total[i] = t / (2 * m) / p.variance;
  }
  return p;
}

double Percentile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

}  // namespace

Result<SobolDesign> MakeSobolDesign(const JointDistribution& dist, int n, SamplingMethod method,
                                    std::uint64_t seed) {
  if (n < 2) return InvalidArgument("Sobol design: n = " + std::to_string(n) + "; needs n >= 2");
  const int d = dist.dimension();
  if (d < 1) return InvalidArgument("Sobol design: no parameters");
  // Correlated inputs have no unique variance decomposition.
  if (!dist.independent()) {
    return InvalidArgument("Sobol indices need independent parameters; this distribution has correlations");
  }
  auto u = UnitCubeSample(n, 2 * d, method, seed);
  SobolDesign design;
  design.n = n;
  design.d = d;
  design.points.reserve(static_cast<size_t>(n) * (d + 2));
  std::vector<double> row(d);
  for (int half_index = 0; half_index < 2; ++half_index) {
    for (int j = 0; j < n; ++j) {
      std::copy(u[j].begin() + half_index * d, u[j].begin() + (half_index + 1) * d, row.begin());
      design.points.push_back(dist.FromUnitCube(row));
    }
  }
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < n; ++j) {
      std::copy(u[j].begin(), u[j].begin() + d, row.begin());
      row[i] = u[j][d + i];
      design.points.push_back(dist.FromUnitCube(row));
    }
  }
  return design;
}

Result<SobolIndices> EstimateSobol(const SobolDesign& design, const std::vector<double>& y,
                                   const SobolOptions& options) {
  const int n = design.n, d = design.d;
  SOMA_RETURN_IF_ERROR(CheckOutputs(y, static_cast<size_t>(n) * (d + 2)));
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return InvalidArgument("SobolOptions::confidence must be in (0, 1)");
  }
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  Point p = Estimate(n, d, y, all);
  if (!(p.variance > 0)) return InvalidArgument("the outcome does not vary over the design (variance 0)");
  SobolIndices out;
  out.mean = p.mean;
  out.variance = p.variance;
  out.first = p.first;
  out.total = p.total;
  out.first_low = out.first_high = p.first;
  out.total_low = out.total_high = p.total;
  if (options.bootstrap <= 0) return out;
  Rng rng(SplitMix64(options.seed));
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::vector<std::vector<double>> s(d), t(d);
  std::vector<int> rows(n);
  for (int b = 0; b < options.bootstrap; ++b) {
    for (int& r : rows) r = pick(rng);
    Point q = Estimate(n, d, y, rows);
    if (!(q.variance > 0)) continue;
    for (int i = 0; i < d; ++i) {
      s[i].push_back(q.first[i]);
      t[i].push_back(q.total[i]);
    }
  }
  double alpha = (1 - options.confidence) / 2;
  for (int i = 0; i < d; ++i) {
    if (s[i].empty()) continue;
    out.first_low[i] = Percentile(s[i], alpha);
    out.first_high[i] = Percentile(s[i], 1 - alpha);
    out.total_low[i] = Percentile(t[i], alpha);
    out.total_high[i] = Percentile(t[i], 1 - alpha);
  }
  return out;
}

Result<MorrisDesign> MakeMorrisDesign(const JointDistribution& dist, int trajectories, int levels,
                                      std::uint64_t seed) {
  if (trajectories < 2) return InvalidArgument("Morris design: needs at least 2 trajectories");
  if (levels < 2 || levels % 2 != 0) return InvalidArgument("Morris design: levels must be even and >= 2");
  const int d = dist.dimension();
  if (d < 1) return InvalidArgument("Morris design: no parameters");
  MorrisDesign m;
  m.trajectories = trajectories;
  m.d = d;
  m.levels = levels;
  const double delta = levels / (2.0 * (levels - 1));
  const double shrink = 1.0 / (2 * levels);
  Rng rng(SplitMix64(seed));
  std::uniform_int_distribution<int> base_level(0, levels - 1);
  std::vector<int> order(d);
  auto map = [&](const std::vector<double>& u) {
    std::vector<double> s(d);
    for (int i = 0; i < d; ++i) s[i] = shrink + (1 - 2 * shrink) * u[i];
    return dist.FromUnitCube(s);
  };
  for (int r = 0; r < trajectories; ++r) {
    std::vector<double> x(d);
    for (double& v : x) v = base_level(rng) / static_cast<double>(levels - 1);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    m.points.push_back(map(x));
    for (int i : order) {
      // Move up when there is room, else down: every move stays on the grid.
      double step = x[i] + delta <= 1 + 1e-12 ? delta : -delta;
      x[i] += step;
      m.moved.push_back(i);
      m.step.push_back(step);
      m.points.push_back(map(x));
    }
  }
  return m;
}

Result<MorrisResult> EstimateMorris(const MorrisDesign& m, const std::vector<double>& y) {
  SOMA_RETURN_IF_ERROR(CheckOutputs(y, static_cast<size_t>(m.trajectories) * (m.d + 1)));
  std::vector<std::vector<double>> ee(m.d);
  for (int r = 0; r < m.trajectories; ++r) {
    for (int k = 1; k <= m.d; ++k) {
      size_t at = static_cast<size_t>(r) * (m.d + 1) + k;
      size_t move = static_cast<size_t>(r) * m.d + (k - 1);
      ee[m.moved[move]].push_back((y[at] - y[at - 1]) / m.step[move]);
    }
  }
  MorrisResult out;
  for (int i = 0; i < m.d; ++i) {
    const auto& e = ee[i];
    double mu = 0, mu_star = 0;
    for (double v : e) {
      mu += v;
      mu_star += std::abs(v);
    }
    mu /= e.size();
    mu_star /= e.size();
    double var = 0;
    for (double v : e) var += (v - mu) * (v - mu);
    out.mu.push_back(mu);
    out.mu_star.push_back(mu_star);
    out.sigma.push_back(e.size() > 1 ? std::sqrt(var / (e.size() - 1)) : 0.0);
  }
  return out;
}

}  // namespace soma::uq
