#pragma once
// Keeps the variables determined by algebraic rules consistent: given the
// workspace (time, states, discrete values), solves residual(z) = 0 for the
// algebraic variables z by Newton's method with the compiled analytic
// Jacobian, starting from the values in the workspace (the last solution).
// Internal to soma::sim; no allocation per solve.

#include <vector>

#include <Eigen/Dense>

#include "sim/compiled_model.h"

namespace soma::sim {

class AlgebraicSolver {
 public:
  explicit AlgebraicSolver(const CompiledModel& cm);

  bool empty() const { return slots_.empty(); }
  // Updates the algebraic slots of `in`. Returns false if Newton did not
  // converge (the residual stays above tolerance after max_iterations).
  bool Solve(double* in);

 private:
  static constexpr int kMaxIterations = 50;
  const CompiledModel& cm_;
  const std::vector<uint32_t>& slots_;
  std::vector<double> residual_, jacobian_, residual_scratch_, jacobian_scratch_;
  Eigen::MatrixXd matrix_;
  Eigen::VectorXd rhs_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
};

}  // namespace soma::sim
