#include "sim/algebraic_solver.h"

#include <cmath>

namespace soma::sim {

AlgebraicSolver::AlgebraicSolver(const CompiledModel& cm) : cm_(cm), slots_(cm.algebraic_slots()) {
  const size_t m = slots_.size();
  residual_.resize(m);
  jacobian_.resize(m * m);
  residual_scratch_ = cm.algebraic_residuals().NewScratch();
  jacobian_scratch_ = cm.algebraic_jacobian().NewScratch();
  matrix_.resize(static_cast<long>(m), static_cast<long>(m));
  rhs_.resize(static_cast<long>(m));
  lu_ = Eigen::PartialPivLU<Eigen::MatrixXd>(static_cast<long>(m));
}

bool AlgebraicSolver::Solve(double* in) {
  const long m = static_cast<long>(slots_.size());
  if (m == 0) return true;
  for (long i = 0; i < m; ++i) {
    if (!std::isfinite(in[slots_[i]])) in[slots_[i]] = 0.0;  // no usable start value
  }
  for (int iter = 0; iter < kMaxIterations; ++iter) {
    cm_.algebraic_residuals().Run(in, residual_.data(), residual_scratch_.data());
    cm_.algebraic_jacobian().Run(in, jacobian_.data(), jacobian_scratch_.data());
    for (long j = 0; j < m; ++j) {
      for (long i = 0; i < m; ++i) matrix_(i, j) = jacobian_[static_cast<size_t>(i + j * m)];
      rhs_(j) = -residual_[static_cast<size_t>(j)];
    }
    lu_.compute(matrix_);
    Eigen::VectorXd step = lu_.solve(rhs_);
    bool small = true;
    for (long i = 0; i < m; ++i) {
      double& z = in[slots_[i]];
      if (!std::isfinite(step(i))) return false;
      z += step(i);
      if (std::abs(step(i)) > 1e-13 * (1.0 + std::abs(z))) small = false;
    }
    if (small) return true;
  }
  return false;
}

}  // namespace soma::sim
