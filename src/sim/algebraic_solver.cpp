#include "sim/algebraic_solver.h"

#include <algorithm>
#include <cmath>

namespace soma::sim {

AlgebraicSolver::AlgebraicSolver(const CompiledModel& cm)
    : cm_(cm), slots_(cm.algebraic_slots()),
      cod_(static_cast<long>(cm.algebraic_slots().size()), static_cast<long>(cm.algebraic_slots().size())) {
  const size_t m = slots_.size();
  residual_.resize(m);
  jacobian_.resize(m * m);
  residual_scratch_ = cm.algebraic_residuals().NewScratch();
  jacobian_scratch_ = cm.algebraic_jacobian().NewScratch();
  matrix_.resize(static_cast<long>(m), static_cast<long>(m));
  rhs_.resize(static_cast<long>(m));
  step_.resize(static_cast<long>(m));
  lu_ = Eigen::PartialPivLU<Eigen::MatrixXd>(static_cast<long>(m));
}

bool AlgebraicSolver::Newton(double* in) {
  const long m = static_cast<long>(slots_.size());
  for (long i = 0; i < m; ++i) {
    if (!std::isfinite(in[slots_[i]])) in[slots_[i]] = 0.0;  // no usable start value
  }
  bool least_squares = false;  // a singular Jacobian was met
  for (int iter = 0; iter < kMaxIterations; ++iter) {
    cm_.algebraic_residuals().Run(in, residual_.data(), residual_scratch_.data());
    cm_.algebraic_jacobian().Run(in, jacobian_.data(), jacobian_scratch_.data());
    for (long j = 0; j < m; ++j) {
      for (long i = 0; i < m; ++i) matrix_(i, j) = jacobian_[static_cast<size_t>(i + j * m)];
      rhs_(j) = -residual_[static_cast<size_t>(j)];
    }
    lu_.compute(matrix_);
    step_ = lu_.solve(rhs_);
    if (!step_.allFinite() || lu_.rcond() < 1e-13) {
      // Singular: the minimum-norm least-squares step leaves the directions
      // no equation determines where they are.
      cod_.compute(matrix_);
      step_ = cod_.solve(rhs_);
      least_squares = true;
    }
    bool small = true;
    double zmax = 0.0;
    for (long i = 0; i < m; ++i) {
      double& z = in[slots_[i]];
      if (!std::isfinite(step_(i))) return false;
      z += step_(i);
      zmax = std::max(zmax, std::abs(z));
      if (std::abs(step_(i)) > 1e-13 * (1.0 + std::abs(z))) small = false;
    }
    if (small) {
      if (!least_squares) return true;
      // Least-squares steps also stop at a minimum of an inconsistent
      // system: only a vanishing residual is a solution.
      cm_.algebraic_residuals().Run(in, residual_.data(), residual_scratch_.data());
      for (double r : residual_) {
        if (!(std::abs(r) <= 1e-9 * (1.0 + zmax))) return false;
      }
      return true;
    }
  }
  return false;
}

FastEquilibrium::FastEquilibrium(const CompiledModel& cm) : fast_(cm.fast_reactions()) {
  ns_ = static_cast<long>(fast_.species_slots.size());
  if (ns_ == 0) return;
  if (!fast_.switches.empty()) probe_.resize(cm.num_slots());
  nf_ = static_cast<long>(fast_.stoichiometry.size()) / ns_;
  n_ = Eigen::Map<const Eigen::MatrixXd>(fast_.stoichiometry.data(), ns_, nf_);
  rates_.resize(static_cast<size_t>(nf_));
  vanishes_.resize(static_cast<size_t>(nf_));
  rate_jacobian_.resize(static_cast<size_t>(nf_ * ns_));
  rates_scratch_ = fast_.rates.NewScratch();
  jacobian_scratch_ = fast_.rate_jacobian.NewScratch();
  slow_.resize(static_cast<size_t>(ns_));
  slow_scratch_ = fast_.slow_rates.NewScratch();
  f_.resize(ns_);
  f_new_.resize(ns_);
  d_.resize(ns_);
  saved_.resize(ns_);
  jv_.resize(nf_, ns_);
  m_.resize(ns_, ns_);
  lu_ = Eigen::PartialPivLU<Eigen::MatrixXd>(ns_);
}

bool FastEquilibrium::Evaluate(const double* in) {
  fast_.rates.Run(in, rates_.data(), rates_scratch_.data());
  f_new_ = n_ * Eigen::Map<const Eigen::VectorXd>(rates_.data(), nf_);
  return f_new_.allFinite();
}

bool FastEquilibrium::UpdateStoichiometry(double* in) {
  n_ = Eigen::Map<const Eigen::MatrixXd>(fast_.stoichiometry.data(), ns_, nf_);
  for (const auto& e : fast_.variable_stoichiometry) n_.data()[e.index] += e.scale * in[e.slot];
  // The moieties' coefficients: a basis of the kernel of N^T, each column
  // scaled to a largest magnitude of 1, as the compiler computed them.
  Eigen::FullPivLU<Eigen::MatrixXd> lu(n_.transpose());
  if (!n_.allFinite() || static_cast<size_t>(ns_ - lu.rank()) != fast_.moieties.size()) return false;
  if (fast_.moieties.empty()) return true;
  const Eigen::MatrixXd kernel = lu.kernel();
  for (size_t i = 0; i < fast_.moieties.size(); ++i) {
    const auto& moiety = fast_.moieties[i];
    const long col = static_cast<long>(i);
    const double scale = kernel.col(col).cwiseAbs().maxCoeff();
    for (long j = 0; j < ns_; ++j) {
      const double v = kernel(j, col) / scale;
      in[moiety.coefficient_slots[static_cast<size_t>(j)]] = std::abs(v) < 1e-14 ? 0.0 : v;
    }
  }
  return true;
}

bool FastEquilibrium::Vanishes(size_t k) const {
  if (rates_[k] != 0.0) return false;
  for (long j = 0; j < ns_; ++j) {
    if (rate_jacobian_[k + static_cast<size_t>(j * nf_)] != 0.0) return false;
  }
  return true;
}

// A law vanishes "whatever the amounts" when it and its derivatives are
// exactly 0 at the current amounts and at amounts moved well away from them
// (k * A with k = 0 does; k * A * B at A = B = 0 does only at that point).
void FastEquilibrium::SetSwitches(double* in) {
  if (fast_.switches.empty()) return;
  const auto& slots = fast_.species_slots;
  fast_.rates.Run(in, rates_.data(), rates_scratch_.data());
  fast_.rate_jacobian.Run(in, rate_jacobian_.data(), jacobian_scratch_.data());
  for (const auto& sw : fast_.switches) vanishes_[sw.reaction] = Vanishes(sw.reaction) ? 1 : 0;
  std::copy(in, in + probe_.size(), probe_.begin());
  for (long j = 0; j < ns_; ++j) {
    const double a = in[slots[j]];
    probe_[slots[j]] = a + (0.5 + 0.01 * static_cast<double>(j)) * (1.0 + std::abs(a));
  }
  fast_.rates.Run(probe_.data(), rates_.data(), rates_scratch_.data());
  fast_.rate_jacobian.Run(probe_.data(), rate_jacobian_.data(), jacobian_scratch_.data());
  for (const auto& sw : fast_.switches) {
    const bool off = vanishes_[sw.reaction] != 0 && Vanishes(sw.reaction);
    in[sw.off_slot] = off ? 1.0 : 0.0;
    double extent = 0.0;
    for (long j = 0; j < ns_; ++j) extent += sw.coefficients[static_cast<size_t>(j)] * in[slots[j]];
    in[sw.extent_slot] = extent;
  }
}

Status FastEquilibrium::Equilibrate(double* in) {
  if (ns_ == 0) return Status::Ok();
  const Status no_equilibrium = SolverFailure("the fast reactions reach no equilibrium from the current amounts");
  const auto& slots = fast_.species_slots;
  double scale = 0.0;  // the amounts' magnitude
  for (long j = 0; j < ns_; ++j) {
    double& s = in[slots[j]];
    if (!std::isfinite(s)) s = 0.0;
    scale = std::max(scale, std::abs(s));
  }
  if (!fast_.variable_stoichiometry.empty() && !UpdateStoichiometry(in)) {
    return SolverFailure("the stoichiometries of the fast reactions now have another rank: the number of "
                         "conserved moieties would change");
  }
  for (const auto& moiety : fast_.moieties) {
    double w = 0.0;
    for (long j = 0; j < ns_; ++j) {
      const double c = moiety.coefficient_slots.empty() ? moiety.coefficients[j] : in[moiety.coefficient_slots[j]];
      w += c * in[slots[j]];
    }
    in[moiety.slot] = w;
  }
  SetSwitches(in);
  if (scale == 0.0) scale = 1.0;
  if (!Evaluate(in)) return no_equilibrium;
  f_ = f_new_;
  double fnorm = f_.lpNorm<Eigen::Infinity>();
  if (fnorm == 0.0) return Status::Ok();
  // First pseudo-time step: a change of about 1e-3 of the amounts.
  double h = 1e-3 * scale / fnorm;
  for (int step = 0; step < kMaxSteps; ++step) {
    fast_.rate_jacobian.Run(in, rate_jacobian_.data(), jacobian_scratch_.data());
    jv_ = Eigen::Map<const Eigen::MatrixXd>(rate_jacobian_.data(), nf_, ns_);
    if (!jv_.allFinite()) return no_equilibrium;
    // Linearly implicit Euler: (I - h N Jv) d = h N v.
    m_.noalias() = -h * (n_ * jv_);
    m_.diagonal().array() += 1.0;
    lu_.compute(m_);
    d_ = lu_.solve(h * f_);
    for (long j = 0; j < ns_; ++j) saved_(j) = in[slots[j]];
    bool ok = d_.allFinite();
    if (ok) {
      for (long j = 0; j < ns_; ++j) in[slots[j]] += d_(j);
      ok = Evaluate(in);
    }
    if (!ok) {
      for (long j = 0; j < ns_; ++j) in[slots[j]] = saved_(j);
      h *= 0.1;
      if (h < 1e-300) return no_equilibrium;
      continue;
    }
    // The step's size against the amounts: converged when it is at rounding
    // level; safe to lengthen while it is small.
    double change = 0.0, relative = 0.0;
    for (long j = 0; j < ns_; ++j) {
      change = std::max(change, std::abs(d_(j)) / (std::abs(in[slots[j]]) + 1e-12 * scale));
      relative = std::max(relative, std::abs(d_(j)) / (std::abs(saved_(j)) + 1e-6 * scale));
    }
    const double fnew = f_new_.lpNorm<Eigen::Infinity>();
    f_ = f_new_;
    if (fnew == 0.0 || (change < 1e-12 && fnew <= fnorm)) return Status::Ok();
    // Switched evolution relaxation (the step grows as the rates fall), and
    // at least doubling while steps change the amounts by under 10 %.
    double grow = std::clamp(fnorm / fnew, 0.5, 10.0);
    if (relative < 0.1) grow = std::max(grow, 2.0);
    h *= grow;
    h = std::min(h, 1e200);
    fnorm = fnew;
  }
  return no_equilibrium;
}

Status FastEquilibrium::CheckDetermined(const double* in) {
  if (ns_ == 0) return Status::Ok();
  fast_.rate_jacobian.Run(in, rate_jacobian_.data(), jacobian_scratch_.data());
  jv_ = Eigen::Map<const Eigen::MatrixXd>(rate_jacobian_.data(), nf_, ns_);
  // Reactions switched off hold nothing and must keep a vanishing law; the
  // others must determine their extents.
  std::vector<char> off(static_cast<size_t>(nf_), 0);
  if (!fast_.switches.empty()) fast_.rates.Run(in, rates_.data(), rates_scratch_.data());
  for (const auto& sw : fast_.switches) {
    if (in[sw.off_slot] == 0.0) continue;
    if (!Vanishes(sw.reaction)) {
      return Unsupported("fast reaction '" + fast_.reaction_ids[sw.reaction] +
                         "' was switched off (its kinetic law vanished whatever the amounts) and its law no "
                         "longer vanishes without an event: rapid equilibrium that resumes between events is "
                         "not supported");
    }
    off[sw.reaction] = 1;
  }
  std::vector<long> on;
  for (long k = 0; k < nf_; ++k) {
    if (off[static_cast<size_t>(k)] == 0) on.push_back(k);
  }
  if (on.empty()) return Status::Ok();
  const Eigen::MatrixXd n_on = n_(Eigen::all, on);
  const Eigen::MatrixXd g = jv_(on, Eigen::all) * n_on;  // d law_k / d extent_l, reactions on
  // Usually regular: an LU's condition estimate says so cheaply (this runs
  // at every output time); the SVD finds the free directions otherwise.
  if (g.allFinite() && Eigen::PartialPivLU<Eigen::MatrixXd>(g).rcond() > 1e-10) return Status::Ok();
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(g, Eigen::ComputeFullV);
  const Eigen::VectorXd& sigma = svd.singularValues();
  const double largest = sigma.size() > 0 ? sigma(0) : 0.0;
  fast_.slow_rates.Run(in, slow_.data(), slow_scratch_.data());
  const Eigen::Map<const Eigen::VectorXd> flow(slow_.data(), ns_);  // from slow reactions
  std::string names;
  for (long i = 0; i < sigma.size(); ++i) {
    if (largest > 0.0 && sigma(i) > 1e-12 * largest) continue;
    // A free combination z of the fast reactions: does it move a species
    // that slow reactions also change?
    const Eigen::VectorXd z = svd.matrixV().col(i);
    // The slow flow's component along the free direction N z.
    const Eigen::VectorXd moved = n_on * z;
    const double along = std::abs(moved.dot(flow)) / moved.norm();
    if (!(along > 1e-12 * (1.0 + flow.norm()))) continue;
    for (long k = 0; k < z.size(); ++k) {
      const std::string& id = fast_.reaction_ids[static_cast<size_t>(on[static_cast<size_t>(k)])];
      if (std::abs(z(k)) > 1e-12 && names.find("'" + id + "'") == std::string::npos) {
        names += (names.empty() ? "'" : ", '") + id + "'";
      }
    }
  }
  if (names.empty()) return Status::Ok();
  return Unsupported("fast reaction " + names +
                     " does not determine its equilibrium here (its kinetic law vanishes whatever the amounts, "
                     "e.g. with a rate constant of 0) while slow reactions change its species: rapid "
                     "equilibrium cannot follow them");
}

Result<std::vector<double>> ConsistentInitialWorkspace(const CompiledModel& cm, double t0,
                                                       std::vector<std::pair<uint32_t, double>> overrides) {
  std::vector<double> in = cm.InitialWorkspace(t0, overrides);
  if (cm.algebraic_slots().empty()) return in;
  AlgebraicSolver algebraic(cm);
  FastEquilibrium fast(cm);
  auto solve = [&]() -> Status {
    SOMA_RETURN_IF_ERROR(fast.Equilibrate(in.data()).WithContext("at the start"));
    if (!algebraic.Solve(in.data())) {
      return SolverFailure("the algebraic rules and fast-reaction equilibria have no solution near the initial values");
    }
    return Status::Ok();
  };
  SOMA_RETURN_IF_ERROR(solve());
  // The solution becomes the declared values of the second pass. A slot
  // holds the stored quantity (a fast species' amount, ...), an override
  // the quantity the species declares: with a concentration declared and an
  // amount stored, the override is the amount over the compartment's size
  // (passing the amount itself multiplied it by the size once more, which
  // only a compartment of size 1 hid).
  for (uint32_t slot : cm.algebraic_slots()) {
    double value = in[slot];
    const SymbolInfo* s = cm.SymbolAtSlot(slot);
    const model::Species* sp = s != nullptr && s->kind == model::SymbolKind::kSpecies ? cm.model().FindSpecies(s->id)
                                                                                      : nullptr;
    const SymbolInfo* c = sp != nullptr ? cm.FindSymbol(sp->compartment) : nullptr;
    if (c != nullptr && c->slot != 0) {
      const double size = in[c->slot];
      const bool declares_amount = sp->initial_amount.has_value();
      const bool declares_concentration = !declares_amount && sp->initial_concentration.has_value();
      if (s->stores_amount && declares_concentration) value /= size;
      if (!s->stores_amount && declares_amount) value *= size;
    }
    overrides.push_back({slot, value});
  }
  in = cm.InitialWorkspace(t0, overrides);
  SOMA_RETURN_IF_ERROR(solve());
  SOMA_RETURN_IF_ERROR(fast.CheckDetermined(in.data()).WithContext("at the start"));
  return in;
}

}  // namespace soma::sim
