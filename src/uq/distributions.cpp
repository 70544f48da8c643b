#include "uq/distributions.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace soma::uq {
namespace {
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2Pi = 2.5066282746310002;
}  // namespace

double NormalCdf(double z) { return 0.5 * std::erfc(-z / kSqrt2); }

double NormalQuantile(double p) {
  // P. J. Acklam's rational approximation (relative error < 1.15e-9),
  // followed by one Halley step on erfc for full double precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  if (!(p > 0)) return -HUGE_VAL;
  if (!(p < 1)) return HUGE_VAL;
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow) {
    double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - kLow) {
    double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  double e = NormalCdf(x) - p;
  double u = e * kSqrt2Pi * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

Status Distribution::Validate(const std::string& name) const {
  auto finite = [](double v) { return std::isfinite(v); };
  switch (kind) {
    case Kind::kConstant:
      if (!finite(a)) return InvalidArgument(name + ": value must be finite");
      return Status::Ok();
    case Kind::kNormal:
    case Kind::kLogNormal:
      if (!finite(a)) return InvalidArgument(name + ": location must be finite");
      if (!(b > 0) || !finite(b)) return InvalidArgument(name + ": scale must be > 0");
      return Status::Ok();
    case Kind::kUniform:
      if (!finite(a) || !finite(b) || !(a < b)) {
        return InvalidArgument(name + ": uniform bounds must be finite with lower < upper");
      }
      return Status::Ok();
    case Kind::kTruncatedNormal:
      if (!finite(a) || !(b > 0)) return InvalidArgument(name + ": needs a finite mean and sd > 0");
      if (!(lower < upper)) return InvalidArgument(name + ": truncation needs lower < upper");
      if (!(NormalCdf((upper - a) / b) - NormalCdf((lower - a) / b) > 1e-12)) {
        return InvalidArgument(name + ": the truncation interval has no probability mass");
      }
      return Status::Ok();
  }
  return Internal(name + ": unknown distribution kind");
}

double Distribution::Quantile(double u) const {
  switch (kind) {
    case Kind::kConstant: return a;
    case Kind::kNormal: return a + b * NormalQuantile(u);
    case Kind::kLogNormal: return std::exp(a + b * NormalQuantile(u));
    case Kind::kUniform: return a + (b - a) * u;
    case Kind::kTruncatedNormal: {
      double lo = NormalCdf((lower - a) / b), hi = NormalCdf((upper - a) / b);
      double x = a + b * NormalQuantile(lo + u * (hi - lo));
      return std::clamp(x, lower, upper);
    }
  }
  return a;
}

double Distribution::Mean() const {
  switch (kind) {
    case Kind::kConstant:
    case Kind::kNormal: return a;
    case Kind::kLogNormal: return std::exp(a + b * b / 2);
    case Kind::kUniform: return (a + b) / 2;
    case Kind::kTruncatedNormal: {
      double al = (lower - a) / b, be = (upper - a) / b;
      auto phi = [](double z) { return std::exp(-z * z / 2) / kSqrt2Pi; };
      double z = NormalCdf(be) - NormalCdf(al);
      double pa = std::isfinite(al) ? phi(al) : 0.0, pb = std::isfinite(be) ? phi(be) : 0.0;
      return a + b * (pa - pb) / z;
    }
  }
  return a;
}

Result<JointDistribution> JointDistribution::Create(std::vector<Distribution> marginals,
                                                    Eigen::MatrixXd correlation) {
  for (size_t i = 0; i < marginals.size(); ++i) {
    SOMA_RETURN_IF_ERROR(marginals[i].Validate("parameter " + std::to_string(i)));
  }
  JointDistribution j;
  const int d = static_cast<int>(marginals.size());
  j.marginals_ = std::move(marginals);
  if (correlation.size() == 0) return j;
  if (correlation.rows() != d || correlation.cols() != d) {
    return InvalidArgument("correlation matrix is " + std::to_string(correlation.rows()) + "x" +
                           std::to_string(correlation.cols()) + "; expected " + std::to_string(d) +
                           "x" + std::to_string(d));
  }
  for (int i = 0; i < d; ++i) {
    if (std::abs(correlation(i, i) - 1) > 1e-9) {
      return InvalidArgument("correlation(" + std::to_string(i) + "," + std::to_string(i) +
                             ") must be 1");
    }
    for (int k = 0; k < i; ++k) {
      if (std::abs(correlation(i, k) - correlation(k, i)) > 1e-9) {
        return InvalidArgument("correlation matrix is not symmetric at (" + std::to_string(i) +
                               "," + std::to_string(k) + ")");
      }
    }
  }
  Eigen::LLT<Eigen::MatrixXd> llt(correlation);
  if (llt.info() != Eigen::Success) {
    return InvalidArgument("correlation matrix is not positive definite");
  }
  j.cholesky_ = llt.matrixL();
  return j;
}

Result<JointDistribution> JointDistribution::FromCovariance(std::vector<Distribution> marginals,
                                                            const Eigen::MatrixXd& cov) {
  const int d = static_cast<int>(marginals.size());
  if (cov.rows() != d || cov.cols() != d) {
    return InvalidArgument("covariance matrix must be " + std::to_string(d) + "x" + std::to_string(d));
  }
  Eigen::MatrixXd corr(d, d);
  for (int i = 0; i < d; ++i) {
    if (!(cov(i, i) > 0)) {
      return InvalidArgument("covariance(" + std::to_string(i) + "," + std::to_string(i) + ") must be > 0");
    }
    Distribution::Kind k = marginals[i].kind;
    if (k != Distribution::Kind::kNormal && k != Distribution::Kind::kLogNormal &&
        k != Distribution::Kind::kTruncatedNormal) {
      return InvalidArgument("parameter " + std::to_string(i) +
                             ": a covariance needs normal, log-normal or truncated-normal marginals");
    }
    marginals[i].b = std::sqrt(cov(i, i));
  }
  for (int i = 0; i < d; ++i) {
    for (int k = 0; k < d; ++k) corr(i, k) = cov(i, k) / std::sqrt(cov(i, i) * cov(k, k));
  }
  return Create(std::move(marginals), corr);
}

std::vector<double> JointDistribution::FromUnitCube(const std::vector<double>& u) const {
  const int d = dimension();
  std::vector<double> x(d);
  if (cholesky_.size() == 0) {
    for (int i = 0; i < d; ++i) x[i] = marginals_[i].Quantile(u[i]);
    return x;
  }
  Eigen::VectorXd z(d);
  for (int i = 0; i < d; ++i) z[i] = NormalQuantile(u[i]);
  Eigen::VectorXd c = cholesky_ * z;
  for (int i = 0; i < d; ++i) x[i] = marginals_[i].Quantile(NormalCdf(c[i]));
  return x;
}

std::vector<double> JointDistribution::Sample(Rng& rng) const {
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::vector<double> u(dimension());
  for (double& v : u) {
    do v = uni(rng);
    while (v <= 0.0);
  }
  return FromUnitCube(u);
}

std::vector<std::vector<double>> UnitCubeSample(int n, int d, SamplingMethod method,
                                                std::uint64_t seed) {
  Rng rng(SplitMix64(seed));
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  auto draw = [&] {
    double v;
    do v = uni(rng);
    while (v <= 0.0);
    return v;
  };
  std::vector<std::vector<double>> u(n, std::vector<double>(d));
  if (method == SamplingMethod::kMonteCarlo) {
    for (auto& row : u)
      for (double& v : row) v = draw();
    return u;
  }
  std::vector<int> perm(n);
  for (int j = 0; j < d; ++j) {
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int i = 0; i < n; ++i) u[i][j] = (perm[i] + draw()) / n;
  }
  return u;
}

std::vector<std::vector<double>> SampleJoint(const JointDistribution& dist, int n,
                                             SamplingMethod method, std::uint64_t seed) {
  auto u = UnitCubeSample(n, dist.dimension(), method, seed);
  std::vector<std::vector<double>> x;
  x.reserve(n);
  for (const auto& row : u) x.push_back(dist.FromUnitCube(row));
  return x;
}

}  // namespace soma::uq
