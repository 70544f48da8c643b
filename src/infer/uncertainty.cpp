#include "infer/uncertainty.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "uq/distributions.h"

namespace soma::infer::internal {

void FillUncertainty(const EstimationProblem& problem, const std::vector<double>& x,
                     const EstimationOptions& options, EstimationSummary& summary) {
  const size_t n = problem.parameters.size();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double z = uq::NormalQuantile(0.5 + options.confidence / 2);
  summary.estimates.clear();
  for (size_t k = 0; k < n; ++k) {
    const EstimatedParameter& p = problem.parameters[k];
    ParameterEstimate e;
    e.id = p.id;
    e.scale = p.scale;
    e.value = x[k];
    const double lo = ToScale(p.scale, p.lower), hi = ToScale(p.scale, p.upper), t = ToScale(p.scale, x[k]);
    e.at_bound = std::min(t - lo, hi - t) <= 1e-6 * (hi - lo);
    summary.estimates.push_back(e);
  }
  if (n == 0) return;
  if (summary.fisher.rows() != static_cast<Eigen::Index>(n)) {
    // No curvature (a time-limited fit whose sensitivities did not finish):
    // estimates without intervals.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (ParameterEstimate& e : summary.estimates) e.std_error = e.lower_ci = e.upper_ci = nan;
    return;
  }
  const Eigen::MatrixXd& f = summary.fisher;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(f);
  const Eigen::VectorXd lambda = eig.eigenvalues();  // ascending
  const Eigen::MatrixXd vectors = eig.eigenvectors();
  summary.fisher_eigenvalues = lambda;
  const double largest = std::max(lambda.maxCoeff(), 0.0);
  const double threshold = options.identifiability_tolerance * largest;
  std::vector<bool> weak(n, false);
  summary.weak_directions.clear();
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(n, n);
  for (size_t i = 0; i < n; ++i) {
    if (largest > 0 && lambda[i] > threshold) {
      cov += vectors.col(i) * vectors.col(i).transpose() / lambda[i];
      continue;
    }
    WeakDirection w;
    w.eigenvalue = lambda[i];
    w.relative = largest > 0 ? lambda[i] / largest : 0.0;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return std::abs(vectors(a, i)) > std::abs(vectors(b, i)); });
    for (size_t k : order) {
      if (std::abs(vectors(k, i)) < 0.2) break;
      w.parameters.push_back(problem.parameters[k].id);
      w.components.push_back(vectors(k, i));
      weak[k] = true;
    }
    summary.weak_directions.push_back(w);
  }
  // The covariance from the observed Hessian on the identifiable directions
  // V (those kept above), when it is positive definite there.
  if (summary.hessian.rows() == static_cast<Eigen::Index>(n)) {
    std::vector<Eigen::Index> kept;
    for (size_t i = 0; i < n; ++i)
      if (largest > 0 && lambda[i] > threshold) kept.push_back(static_cast<Eigen::Index>(i));
    Eigen::MatrixXd v(n, kept.size());
    for (size_t c = 0; c < kept.size(); ++c) v.col(static_cast<Eigen::Index>(c)) = vectors.col(kept[c]);
    const Eigen::MatrixXd reduced = v.transpose() * summary.hessian * v;
    Eigen::LLT<Eigen::MatrixXd> llt(reduced);
    if (!kept.empty() && llt.info() == Eigen::Success) {
      cov = v * llt.solve(Eigen::MatrixXd::Identity(reduced.rows(), reduced.cols())) * v.transpose();
      summary.curvature = "observed Hessian";
    } else {
      summary.curvature = "expected Fisher information (the observed Hessian is not positive definite)";
    }
  } else if (summary.curvature.empty()) {
    summary.curvature = "expected Fisher information";
  }
  summary.covariance = cov;
  summary.correlation = Eigen::MatrixXd::Zero(n, n);
  for (size_t a = 0; a < n; ++a)
    for (size_t b = 0; b < n; ++b) {
      const double d = std::sqrt(cov(a, a) * cov(b, b));
      summary.correlation(a, b) = d > 0 ? cov(a, b) / d : (a == b ? 1.0 : 0.0);
    }
  for (size_t k = 0; k < n; ++k) {
    ParameterEstimate& e = summary.estimates[k];
    const double t = ToScale(e.scale, e.value);
    if (weak[k]) {
      e.identifiable = false;
      e.std_error = kInf;
      e.lower_ci = FromScale(e.scale, -kInf);
      e.upper_ci = FromScale(e.scale, kInf);
      continue;
    }
    e.std_error = std::sqrt(std::max(cov(k, k), 0.0));
    e.lower_ci = FromScale(e.scale, t - z * e.std_error);
    e.upper_ci = FromScale(e.scale, t + z * e.std_error);
  }
}

}  // namespace soma::infer::internal
