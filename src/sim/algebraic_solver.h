#pragma once
// Keeps the variables determined by algebraic rules and fast reactions
// consistent.
//
// AlgebraicSolver: given the workspace (time, states, discrete values),
// solves residual(z) = 0 for the algebraic variables z by Newton's method
// with the compiled analytic Jacobian, starting from the values in the
// workspace (the last solution). Where the Jacobian is singular (a fast
// kinetic law that vanishes identically, e.g. with a rate constant of 0),
// the step is the minimum-norm least-squares one, so the directions the
// equations do not determine keep their values.
//
// FastEquilibrium: moves the species of fast reactions to the equilibrium
// that the fast reactions themselves reach from the current amounts, i.e.
// the limit of infinitely fast kinetics, by integrating
// dS/dtau = N v(S) in a pseudo-time tau (other values held) with
// pseudo-transient continuation (linearly implicit Euler steps growing as
// |N v| falls). Where an equilibrium condition has several roots (v = k S1 S2
// is 0 at S1 = 0 and at S2 = 0), this picks the stable one, the one the
// reaction runs into; Newton from the initial amounts may land on the other.
// Used at the start and after events, before AlgebraicSolver polishes.
//
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
  // Inline for the usual model without algebraic rules: every right-hand
  // side and root function evaluation asks (about 2 % of a T1D trial
  // member's instructions went to the out-of-line call's prologue).
  bool Solve(double* in) { return slots_.empty() || Newton(in); }

 private:
  bool Newton(double* in);

  static constexpr int kMaxIterations = 50;
  const CompiledModel& cm_;
  const std::vector<uint32_t>& slots_;
  std::vector<double> residual_, jacobian_, residual_scratch_, jacobian_scratch_;
  Eigen::MatrixXd matrix_;
  Eigen::VectorXd rhs_, step_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod_;
};

class FastEquilibrium {
 public:
  explicit FastEquilibrium(const CompiledModel& cm);

  bool empty() const { return fast_.species_slots.empty(); }
  // Sets each moiety state to its combination of the fast species' current
  // amounts (after an event changed some of them, the totals change),
  // switches off the fast reactions whose laws now vanish whatever the
  // amounts and on those whose laws do not (CompiledModel::FastReactions::
  // Switch; each extent is set from the amounts), then runs the fast
  // reactions to their equilibrium. Errors (kSolverFailure):
  // the pseudo-time integration failed (non-finite rates, no convergence),
  // or stoichiometries set by events changed the number of moieties.
  Status Equilibrate(double* in);

  // At a solved equilibrium: where the fast reactions hold their species in
  // place only partly (d law / d extent singular: a kinetic law that
  // vanishes whatever the amounts, e.g. with a rate constant of 0) while
  // slow reactions move species along the free direction, the conserved-
  // moiety formulation cannot follow them. That is reported as unsupported,
  // naming the reactions, rather than simulated wrongly. Checked at the
  // start, after events and at output times. A reaction switched off must
  // still have a vanishing law (it switches only at events): if its law no
  // longer vanishes, that is reported as unsupported too.
  Status CheckDetermined(const double* in);

 private:
  static constexpr int kMaxSteps = 5000;
  // rates_ = v(in), f_ = N v. Returns false on non-finite values.
  bool Evaluate(const double* in);
  // Where events set stoichiometries: N from the current values, and the
  // moieties' coefficients recomputed into their slots. False when N's rank
  // changed (the number of moieties would change).
  bool UpdateStoichiometry(double* in);
  // Switches (see Equilibrate).
  void SetSwitches(double* in);
  // Whether the law of fast reaction k is exactly 0, with all its
  // derivatives by the amounts, in rates_ and rate_jacobian_.
  bool Vanishes(size_t k) const;
  const CompiledModel::FastReactions& fast_;
  std::vector<double> probe_;  // a workspace with the amounts moved
  std::vector<char> vanishes_;
  long ns_ = 0, nf_ = 0;
  Eigen::MatrixXd n_;  // ns x nf
  std::vector<double> rates_, rate_jacobian_, rates_scratch_, jacobian_scratch_;
  std::vector<double> slow_, slow_scratch_;
  Eigen::VectorXd f_, f_new_, d_, saved_;
  Eigen::MatrixXd jv_, m_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
};

// The workspace at t0 (with `overrides`, see CompiledModel::InitialWorkspace)
// made consistent: fast reactions equilibrated and algebraic variables
// solved. Initial values may depend on what those determine, so this is
// done twice, the second time with the initial values recomputed from the
// first solution. Errors (kSolverFailure) name which part has no solution.
Result<std::vector<double>> ConsistentInitialWorkspace(const CompiledModel& cm, double t0,
                                                       std::vector<std::pair<uint32_t, double>> overrides);

}  // namespace soma::sim
