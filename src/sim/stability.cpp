#include "sim/stability.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <Eigen/Eigenvalues>

namespace soma::sim {

StabilityInfo ClassifyStability(const Eigen::MatrixXd& jacobian) {
  StabilityInfo info;
  if (jacobian.rows() == 0) {
    info.reason = "no ODE states";
    return info;
  }
  if (!jacobian.allFinite()) {
    info.reason = "the Jacobian is not finite";
    return info;
  }
  // Eigenvalues of a (near-)singular matrix are accurate to about
  // eps * ||J||; 1e-10 * ||J|| leaves room for that and for scaling.
  const double norm = jacobian.cwiseAbs().rowwise().sum().maxCoeff();
  const double zero = 1e-10 * norm;
  Eigen::EigenSolver<Eigen::MatrixXd> solver(jacobian, /*computeEigenvectors=*/false);
  if (solver.info() != Eigen::Success) {
    info.reason = "the eigenvalue iteration did not converge";
    return info;
  }
  double max_real = -std::numeric_limits<double>::infinity();
  for (const std::complex<double>& lambda : solver.eigenvalues()) {
    if (std::abs(lambda) <= zero) {
      ++info.zero_eigenvalues;
      continue;
    }
    max_real = std::max(max_real, lambda.real());
  }
  if (info.zero_eigenvalues == jacobian.rows()) {
    info.verdict = Stability::kMarginal;
    return info;
  }
  info.max_real_part = max_real;
  info.verdict = max_real > zero ? Stability::kUnstable : max_real < -zero ? Stability::kStable : Stability::kMarginal;
  return info;
}

std::string StabilityInfo::Describe() const {
  std::ostringstream s;
  switch (verdict) {
    case Stability::kNotComputed: return "stability not computed (" + reason + ")";
    case Stability::kStable: s << "stable"; break;
    case Stability::kUnstable: s << "unstable"; break;
    case Stability::kMarginal: s << "marginal"; break;
  }
  s << " (";
  if (std::isnan(max_real_part)) {
    s << "all eigenvalues zero";
  } else {
    s << "max real part of eigenvalues " << max_real_part;
  }
  if (zero_eigenvalues > 0 && !std::isnan(max_real_part)) {
    s << "; " << zero_eigenvalues << " zero eigenvalue" << (zero_eigenvalues > 1 ? "s" : "")
      << ", e.g. a conservation law";
  }
  s << ")";
  return s.str();
}

}  // namespace soma::sim
