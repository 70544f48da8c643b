#pragma once
// Parameter distributions for virtual populations and uncertainty analysis,
// and joint sampling with correlations.
//
// Correlation follows the Gaussian copula: a standard-normal vector z is
// drawn with correlation matrix R (given directly, or from a covariance
// matrix), and each component is mapped through its marginal's quantile
// function, x_i = F_i^-1(Phi(z_i)). For normal and log-normal marginals this
// reproduces a multivariate normal (of x, or of log x) with exactly the given
// covariance.

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "core/status.h"
#include "uq/random.h"

namespace soma::uq {

struct Distribution {
  enum class Kind { kNormal, kLogNormal, kUniform, kTruncatedNormal, kConstant };
  Kind kind = Kind::kConstant;
  // kNormal / kTruncatedNormal: mean and sd of the (untruncated) normal.
  // kLogNormal: mu and sigma of log(x) (so the median is exp(mu)).
  // kUniform: [lower, upper). kConstant: `a` always.
  double a = 0;  // mean / mu / lower / value
  double b = 0;  // sd / sigma / upper
  double lower = -1e300, upper = 1e300;  // truncation bounds (kTruncatedNormal)

  static Distribution Normal(double mean, double sd) { return {Kind::kNormal, mean, sd}; }
  static Distribution LogNormal(double mu, double sigma) { return {Kind::kLogNormal, mu, sigma}; }
  static Distribution Uniform(double lo, double hi) { return {Kind::kUniform, lo, hi}; }
  static Distribution TruncatedNormal(double mean, double sd, double lo, double hi) {
    return {Kind::kTruncatedNormal, mean, sd, lo, hi};
  }
  static Distribution Constant(double v) { return {Kind::kConstant, v, 0}; }

  // Checks the parameters (sd > 0, lower < upper, ...); `name` prefixes messages.
  Status Validate(const std::string& name) const;
  // The quantile function F^-1(u) for u in (0, 1).
  double Quantile(double u) const;
  double Mean() const;
};

// Standard normal CDF and its inverse (Acklam's rational approximation refined
// by one Halley step; |error| < 1e-15 on (1e-300, 1 - 1e-16)).
double NormalCdf(double z);
double NormalQuantile(double u);

// A joint distribution: marginals plus an optional correlation matrix.
class JointDistribution {
 public:
  // `correlation` empty (independent) or d x d symmetric positive definite
  // with unit diagonal.
  static Result<JointDistribution> Create(std::vector<Distribution> marginals,
                                          Eigen::MatrixXd correlation = {});
  // From a covariance matrix of the normal variables (of log x for
  // log-normal marginals): the marginals' scale parameters are replaced by
  // the square roots of the diagonal.
  static Result<JointDistribution> FromCovariance(std::vector<Distribution> marginals,
                                                  const Eigen::MatrixXd& covariance);

  int dimension() const { return static_cast<int>(marginals_.size()); }
  bool independent() const { return cholesky_.size() == 0; }
  const std::vector<Distribution>& marginals() const { return marginals_; }

  // Maps a point u of the unit cube (independent uniforms) to a sample.
  std::vector<double> FromUnitCube(const std::vector<double>& u) const;
  // One Monte Carlo draw.
  std::vector<double> Sample(Rng& rng) const;

 private:
  std::vector<Distribution> marginals_;
  Eigen::MatrixXd cholesky_;  // lower factor of the correlation, empty if independent
};

enum class SamplingMethod { kMonteCarlo, kLatinHypercube };

// n points of the d-dimensional unit cube (row i = point i). Latin hypercube:
// each dimension's n strata [k/n, (k+1)/n) hold exactly one point, in
// random order, jittered within the stratum. Deterministic given `seed`.
std::vector<std::vector<double>> UnitCubeSample(int n, int d, SamplingMethod method,
                                                std::uint64_t seed);

// n samples of `dist` (rows), by the given method.
std::vector<std::vector<double>> SampleJoint(const JointDistribution& dist, int n,
                                             SamplingMethod method, std::uint64_t seed);

}  // namespace soma::uq
