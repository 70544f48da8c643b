#include "sim/model_system.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "solvers/fast_nvector.h"

namespace soma::sim {

ModelSystem::ModelSystem(const CompiledModel& cm, std::vector<double>& in, bool scheduled_time_roots)
    : cm_(cm), in_(in), n_(cm.num_states()), roots_(scheduled_time_roots ? cm.searched_roots() : cm.roots()),
      algebraic_(cm) {
  rhs_scratch_ = cm.rhs().NewScratch();
  jac_scratch_ = cm.jacobian().NewScratch();
  root_scratch_ = roots_.NewScratch();
  jac_values_.resize(cm.jacobian_entries().size());
  past_.resize(in.size());
  ydot_now_.resize(std::max<size_t>(n_, 1));
  delay_out_.resize(1);
  for (const DelayInfo& d : cm.delays()) {
    delay_scratch_.push_back(d.value.NewScratch());
    delay_scratch_.push_back(d.delay.NewScratch());
    delay_scratch_.push_back(d.value_before_start.NewScratch());
  }
}

ModelLanesSystem::ModelLanesSystem(const CompiledModel& cm)
    : cm_(cm), n_(cm.num_states()), w_(static_cast<size_t>(cm.rhs().lanes())), slots_(cm.num_slots()) {
  in_.assign(std::max(slots_, cm.rhs().num_inputs()) * w_, 0.0);
}

void ModelLanesSystem::SetLane(int lane, const double* workspace) {
  const size_t l = static_cast<size_t>(lane);
  for (size_t slot = 0; slot < slots_; ++slot) in_[slot * w_ + l] = workspace[slot];
}

uint64_t ModelLanesSystem::RhsLanes(const double* t, const double* y, double* f) {
  // Time in slot 0, the states in slots 1..n (ModelSystem::Load).
  for (size_t l = 0; l < w_; ++l) in_[l] = t[l];
  if (y != in_.data() + w_) std::copy(y, y + n_ * w_, in_.begin() + static_cast<std::ptrdiff_t>(w_));
  return cm_.rhs().RunLanes(in_.data(), f);
}

void ModelSystem::Record(const double* ydot) {
  history_t_.push_back(in_[0]);
  history_in_.insert(history_in_.end(), in_.begin(), in_.end());
  history_ydot_.insert(history_ydot_.end(), ydot, ydot + n_);
}

void ModelSystem::RecordHistory() {
  if (cm_.delays().empty()) return;
  if (history_t_.empty()) {
    // Before the start, the past is the initial state.
    Record(ydot_now_.data());
    UpdateDelays();
  }
  if (n_ > 0) cm_.rhs().Run(in_.data(), ydot_now_.data(), rhs_scratch_.data());
  if (history_t_.size() == 1 && history_t_[0] == in_[0]) {
    // Replace the provisional first record, now with its derivative.
    history_t_.clear();
    history_in_.clear();
    history_ydot_.clear();
  }
  Record(ydot_now_.data());
}

void ModelSystem::SetBeforeStart(std::vector<std::pair<uint32_t, double>> overrides,
                                 std::vector<double> initial_state) {
  before_start_overrides_ = std::move(overrides);
  before_start_states_ = std::move(initial_state);
}

void ModelSystem::OnStep(double t, const double* y, const double* ydot) {
  Load(t, y);
  Record(ydot);
}

void ModelSystem::PastWorkspace(double t, double* out) const {
  const size_t slots = in_.size();
  const size_t count = history_t_.size();
  // Before the start the states keep their initial values, but time itself
  // runs on: delay(sin(time), tau) at t0 is sin(t0 - tau).
  if (count == 0) {
    std::copy(in_.begin(), in_.end(), out);
    out[0] = t;
    return;
  }
  // Last record at or before t (the later one of equal times: after events).
  auto it = std::upper_bound(history_t_.begin(), history_t_.end(), t);
  if (it == history_t_.begin()) {
    std::copy(history_in_.begin(), history_in_.begin() + static_cast<long>(slots), out);
    out[0] = t;
    return;
  }
  const size_t i = static_cast<size_t>(it - history_t_.begin()) - 1;
  const double* a = &history_in_[i * slots];
  std::copy(a, a + slots, out);
  const double* fa = history_ydot_.data() + i * n_;  // n_ may be 0
  const double ta = history_t_[i];
  if (i + 1 == count || history_t_[i + 1] == ta) {
    for (size_t k = 0; k < n_; ++k) out[1 + k] = a[1 + k] + fa[k] * (t - ta);
  } else {
    const double* b = &history_in_[(i + 1) * slots];
    const double* fb = history_ydot_.data() + (i + 1) * n_;
    const double h = history_t_[i + 1] - ta;
    const double s = (t - ta) / h;
    const double h00 = (1 + 2 * s) * (1 - s) * (1 - s), h10 = s * (1 - s) * (1 - s);
    const double h01 = s * s * (3 - 2 * s), h11 = s * s * (s - 1);
    for (size_t k = 0; k < n_; ++k) {
      out[1 + k] = h00 * a[1 + k] + h10 * h * fa[k] + h01 * b[1 + k] + h11 * h * fb[k];
    }
  }
  out[0] = t;
}

bool ModelSystem::Tau(size_t k, double* tau) {
  const DelayInfo& d = cm_.delays()[k];
  d.delay.Run(in_.data(), tau, delay_scratch_[3 * k + 1].data());
  if (*tau >= 0) return true;
  if (delay_error_.empty()) {
    std::ostringstream m;
    m << d.text << ": the delay is " << *tau << " at t = " << in_[0] << "; SBML requires a delay >= 0";
    delay_error_ = m.str();
  }
  in_[d.slot] = std::numeric_limits<double>::quiet_NaN();
  return false;
}

bool ModelSystem::UpdateDelays() {
  const auto& delays = cm_.delays();
  bool ok = true;
  // The error describes this evaluation: a state that a solver only tried
  // (a Newton iterate, a rejected stage) must not fail later evaluations.
  delay_error_.clear();
  // At equilibrium nested delays settle in as many passes as there are delays.
  const size_t passes = delays_at_equilibrium_ ? delays.size() : 1;
  for (size_t pass = 0; pass < passes; ++pass) {
    for (size_t k = 0; k < delays.size(); ++k) {
      const DelayInfo& d = delays[k];
      double tau = 0;
      if (!Tau(k, &tau)) {
        ok = false;
        continue;
      }
      const double t_past = in_[0] - tau;
      if (tau == 0) {
        // delay(x, 0) is x now (the history ends at the last step; reading it
        // at t would extrapolate from there).
        d.value.Run(in_.data(), delay_out_.data(), delay_scratch_[3 * k].data());
      } else if (delays_at_equilibrium_) {
        // The current state, with time t - tau.
        std::copy(in_.begin(), in_.end(), past_.begin());
        past_[0] = t_past;
        d.value.Run(past_.data(), delay_out_.data(), delay_scratch_[3 * k].data());
      } else if (!history_t_.empty() && t_past < history_t_.front()) {
        cm_.InitialWorkspaceInto(t_past, before_start_overrides_, before_start_, before_start_values_,
                                 before_start_scratch_);
        std::copy(before_start_states_.begin(), before_start_states_.end(), before_start_.begin() + 1);
        d.value_before_start.Run(before_start_.data(), delay_out_.data(), delay_scratch_[3 * k + 2].data());
      } else {
        PastWorkspace(t_past, past_.data());
        d.value.Run(past_.data(), delay_out_.data(), delay_scratch_[3 * k].data());
      }
      in_[d.slot] = delay_out_[0];
    }
  }
  return ok;
}

double ModelSystem::MinimumDelay() {
  double best = std::numeric_limits<double>::infinity();
  const auto& delays = cm_.delays();
  for (size_t k = 0; k < delays.size(); ++k) {
    double tau = 0;
    delays[k].delay.Run(in_.data(), &tau, delay_scratch_[3 * k + 1].data());
    if (tau > 0 && tau < best) best = tau;
  }
  return best;
}

bool ModelSystem::Load(double t, const double* y) {
  in_[0] = t;
  if (n_ > 0 && y != in_.data() + 1) std::copy(y, y + n_, in_.begin() + 1);
  bool ok = algebraic_.Solve(in_.data());
  if (!cm_.delays().empty() && !UpdateDelays()) ok = false;
  return ok;
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
  bool ok = algebraic_.Solve(in_.data());
  if (!cm_.delays().empty() && !UpdateDelays()) ok = false;
  return ok;
}

int ModelSystem::Rhs(double t, const double* y, double* ydot) {
  if (n_ == 0) {
    ydot[0] = 0.0;
    return 0;
  }
  // Recoverable (CVODES retries with a smaller step), except a bad delay:
  // smaller steps would only crawl towards the point where it turns bad.
  if (!Load(t, y)) return delay_error_.empty() ? 1 : -1;
  // Not finite: recoverable, CVODES retries with a smaller step.
  return cm_.rhs().RunFinite(in_.data(), ydot, rhs_scratch_.data()) ? 0 : 1;
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
  return n_ > 0 && algebraic_.empty() ? &cm_.jacobian_pattern() : nullptr;
}

int ModelSystem::SparseJacobian(double t, const double* y, double* values) {
  if (!Load(t, y)) return 1;
  cm_.jacobian().Run(in_.data(), values, jac_scratch_.data());
  return 0;
}

int ModelSystem::Roots(double t, const double* y, double* g) {
  if (!Load(t, y)) return -1;
  roots_.Run(in_.data(), g, root_scratch_.data());
  return 0;
}

}  // namespace soma::sim
