#include "sim/model_system.h"

#include <algorithm>
#include <cmath>

namespace soma::sim {

ModelSystem::ModelSystem(const CompiledModel& cm, std::vector<double>& in)
    : cm_(cm), in_(in), n_(cm.num_states()), algebraic_(cm) {
  rhs_scratch_ = cm.rhs().NewScratch();
  jac_scratch_ = cm.jacobian().NewScratch();
  root_scratch_ = cm.roots().NewScratch();
  jac_values_.resize(cm.jacobian_entries().size());
}

bool ModelSystem::Load(double t, const double* y) {
  in_[0] = t;
  if (n_ > 0) std::copy(y, y + n_, in_.begin() + 1);
  return algebraic_.Solve(in_.data());
}

void ModelSystem::Gather(double* y) const {
  if (n_ == 0) {
    y[0] = 0.0;
    return;
  }
  std::copy(in_.begin() + 1, in_.begin() + 1 + static_cast<long>(n_), y);
}

bool ModelSystem::Scatter(const double* y) {
  if (n_ > 0) std::copy(y, y + n_, in_.begin() + 1);
  return algebraic_.Solve(in_.data());
}

int ModelSystem::Rhs(double t, const double* y, double* ydot) {
  if (n_ == 0) {
    ydot[0] = 0.0;
    return 0;
  }
  if (!Load(t, y)) return 1;  // recoverable: CVODES retries with a smaller step
  cm_.rhs().Run(in_.data(), ydot, rhs_scratch_.data());
  for (size_t i = 0; i < n_; ++i) {
    if (!std::isfinite(ydot[i])) return 1;  // recoverable: CVODES retries with a smaller step
  }
  return 0;
}

int ModelSystem::DenseJacobian(double t, const double* y, double* jac) {
  const size_t n = static_cast<size_t>(num_states());
  std::fill(jac, jac + n * n, 0.0);
  if (n_ == 0) return 0;
  if (!Load(t, y)) return 1;
  cm_.jacobian().Run(in_.data(), jac_values_.data(), jac_scratch_.data());
  const auto& entries = cm_.jacobian_entries();
  for (size_t k = 0; k < entries.size(); ++k) {
    jac[entries[k].first + entries[k].second * n] = jac_values_[k];
  }
  return 0;
}

const solvers::SparsePattern* ModelSystem::sparse_pattern() const {
  return n_ >= kSparseThreshold && algebraic_.empty() ? &cm_.jacobian_pattern() : nullptr;
}

int ModelSystem::SparseJacobian(double t, const double* y, double* values) {
  if (!Load(t, y)) return 1;
  cm_.jacobian().Run(in_.data(), values, jac_scratch_.data());
  return 0;
}

int ModelSystem::Roots(double t, const double* y, double* g) {
  if (!Load(t, y)) return -1;
  cm_.roots().Run(in_.data(), g, root_scratch_.data());
  return 0;
}

}  // namespace soma::sim
