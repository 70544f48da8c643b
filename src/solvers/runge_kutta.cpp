#include "solvers/runge_kutta.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "solvers/ode_integrator.h"

namespace soma::solvers {

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kNoTime = std::numeric_limits<double>::quiet_NaN();  // equal to no time

// Dormand & Prince (1980), "A family of embedded Runge-Kutta formulae",
// J. Comput. Appl. Math. 6: nodes c, coefficients a, the fifth-order
// weights b (the last stage's row, so the last stage is the next step's
// first) and e = b - b^ against the embedded fourth-order solution.
constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
constexpr double a21 = 1.0 / 5;
constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176,
                 a65 = -5103.0 / 18656;
constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84;
constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200,
                 e6 = 22.0 / 525, e7 = -1.0 / 40;
// The pair's continuous extension of order 4 (Shampine 1986, as in Hairer
// & Wanner's DOPRI5): y(t_prev + theta h) from the step's stages, no
// further right-hand side.
constexpr double d1 = -12715105075.0 / 11282082432, d3 = 87487479700.0 / 32700410799,
                 d4 = -10690763975.0 / 1880347072, d5 = 701980252875.0 / 199316789632,
                 d6 = -1453857185.0 / 822651844, d7 = 69997945.0 / 29380423;

// The stage sums, one element each: the scalar step and the lanes' step
// (DormandPrinceLanes) both evaluate these, so a lane gets the scalar bits.
// T is double, or Lanes<w> for DormandPrinceLanes (the same operations in
// the same order on each lane).
template <class T>
inline T Stage2(T y, T h, T k1) { return y + h * (a21 * k1); }
template <class T>
inline T Stage3(T y, T h, T k1, T k2) { return y + h * (a31 * k1 + a32 * k2); }
template <class T>
inline T Stage4(T y, T h, T k1, T k2, T k3) {
  return y + h * (a41 * k1 + a42 * k2 + a43 * k3);
}
template <class T>
inline T Stage5(T y, T h, T k1, T k2, T k3, T k4) {
  return y + h * (a51 * k1 + a52 * k2 + a53 * k3 + a54 * k4);
}
template <class T>
inline T Stage6(T y, T h, T k1, T k2, T k3, T k4, T k5) {
  return y + h * (a61 * k1 + a62 * k2 + a63 * k3 + a64 * k4 + a65 * k5);
}
template <class T>
inline T Solution(T y, T h, T k1, T k3, T k4, T k5, T k6) {
  return y + h * (b1 * k1 + b3 * k3 + b4 * k4 + b5 * k5 + b6 * k6);
}
// The error estimate of one element; the norm is sqrt(sum / n) of its
// ScaledSquare (a weighted RMS norm).
template <class T>
inline T ErrorEstimate(T h, T k1, T k3, T k4, T k5, T k6, T k7) {
  return h * (e1 * k1 + e3 * k3 + e4 * k4 + e5 * k5 + e6 * k6 + e7 * k7);
}

// w doubles as one value (GCC's vector extension), loaded from and stored
// to memory aligned for a double only.
// (A typedef in a class: GCC drops the attribute from an alias template.)
template <size_t w>
struct LaneTypes {
  typedef double Value __attribute__((vector_size(8 * w)));
  typedef int64_t Bits __attribute__((vector_size(8 * w)));
};
template <size_t w>
using Lanes = typename LaneTypes<w>::Value;
template <size_t w>
using LaneBits = typename LaneTypes<w>::Bits;
template <size_t w>
inline Lanes<w> Load(const double* p) {
  Lanes<w> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <size_t w>
inline void Store(double* p, Lanes<w> v) {
  std::memcpy(p, &v, sizeof v);
}
// |x| (the sign bit cleared, as std::abs does) of a double or of each lane.
template <class T>
inline T Magnitude(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::abs(x);
  } else {
    using Bits = typename LaneTypes<sizeof(T) / sizeof(double)>::Bits;
    constexpr int64_t kNoSign = std::numeric_limits<int64_t>::max();
    return reinterpret_cast<T>(reinterpret_cast<Bits>(x) & kNoSign);
  }
}
// An element's error estimate squared in units of its tolerance, for a
// double or each lane: the larger magnitude as std::max gives it
// ((a < b) ? b : a).
template <class T>
inline T ScaledSquare(T err, T y0, T y1, T abs_tol, T rel_tol) {
  const T a0 = Magnitude(y0), a1 = Magnitude(y1);
  const T scale = abs_tol + rel_tol * (a0 < a1 ? a1 : a0);
  const T r = err / scale;
  return r * r;
}
// The error test a step passes (DormandPrince::Step, and the lanes, which
// hand an accepted step's solution back and keep it as the next start).
inline bool ErrorTestPassed(double error_norm) { return error_norm <= 1; }

// The step-size controller of Hairer & Wanner's DOPRI5 (Solving ODEs I,
// section II.4 and IV.2): h_new = h / fac with fac = err^(1/5 - 0.75
// beta) / err_old^beta / safety, beta = 0.04 (a PI controller), kept
// within [1/10, 5]: at most ten times larger or five times smaller. Safety
// 0.95 rather than DOPRI5's 0.9 (ARKODE's is 0.96): right-hand sides with
// 0.9 / 0.95 / 0.8 on the T1D day 7,494 / 7,164 / 8,598, bench mass-30
// 986 / 920, mass-100 1,460 / 1,364, events-100 2,409 / 2,337 (beta 0.08
// or 0 was worse on the T1D day: 8,952 and 7,254 at 0.9).
constexpr double kBeta = 0.04;
constexpr double kExpo = 0.2 - kBeta * 0.75;
constexpr double kSafety = 0.95;
// The error the controller remembers is at least 1e-4 (DOPRI5's facold).
constexpr double kErrFloor = 1e-4;
const double kLogErrFloor = std::log(kErrFloor);
constexpr double kMaxShrink = 5.0;   // fac <= 5
constexpr double kMaxGrowth = 10.0;  // fac >= 1/10
// Recoverable right-hand-side failures in a row before giving up (CVODES'
// default for its convergence failures).
constexpr int kMaxRhsFailures = 10;

}  // namespace

DormandPrince::DormandPrince(OdeSystem* system, const Options& options)
    : system_(system), options_(options), n_(system->num_states()), num_roots_(system->num_roots()) {
  const size_t n = static_cast<size_t>(n_);
  for (auto* v : {&k2_, &k3_, &k4_, &k5_, &k6_, &stage_}) v->assign(n, 0.0);
  rotating_.assign(6 * n, 0.0);
  double* const base = rotating_.data();
  y_ = base;
  y_prev_ = base + n;
  y_new_ = base + 2 * n;
  f_ = base + 3 * n;
  f_prev_ = base + 4 * n;
  k7_ = base + 5 * n;
  y_root_.assign(n, 0.0);
  const size_t nr = static_cast<size_t>(num_roots_);
  g_lo_.assign(nr, 0.0);
  g_hi_.assign(nr, 0.0);
  g_mid_.assign(nr, 0.0);
  active_.assign(nr, 1);
  roots_found_.assign(nr, 0);
}

void DormandPrince::Reset(double t, const double* y, double first_step) {
  t_ = t_prev_ = t;
  std::copy(y, y + n_, y_);
  started_ = stepped_ = false;
  h_first_ = first_step;
  h_ = 0;
  log_err_old_ = kLogErrFloor;
  rejected_last_ = false;
  root_returned_ = false;
  t_returned_ = t;
  y_root_t_ = kNoTime;
  std::fill(roots_found_.begin(), roots_found_.end(), 0);
  lane_fresh_ = true;
  stages_pending_ = false;
  steps_ = rhs_evaluations_ = root_evaluations_ = error_test_failures_ = 0;
}

int DormandPrince::Rhs(double t, const double* y, double* f) {
  ++rhs_evaluations_;
  return system_->Rhs(t, y, f);
}

void DormandPrince::TakeStages() const {
  hook_->Stages(k3_.data(), k4_.data(), k5_.data(), k6_.data());
  stages_pending_ = false;
}

double DormandPrince::RootTolerance() const {
  const double h = stepped_ ? t_ - t_prev_ : h_;
  return 100 * kEps * (std::abs(t_) + std::abs(h));
}

DormandPrince::Flag DormandPrince::Start(double tout) {
  failure_t_ = t_;
  const int r = Rhs(t_, y_, f_);
  if (r != 0) return kFirstRhsFailed;
  double h_max = t_stop_ - t_;
  if (options_.max_step > 0) h_max = std::min(h_max, options_.max_step);
  double h = h_first_;
  if (!(h > 0)) {
    // The estimate stays within the first output interval too (a step
    // given by the caller need not: outputs are interpolated).
    const double h_bound = std::min(h_max, tout - t_);
    // Hairer, Norsett & Wanner, Solving ODEs I, II.4: a step for which an
    // explicit Euler step changes y by 1% of its scale, refined by a
    // second derivative estimated from one Euler step.
    double d0 = 0, d1 = 0;
    for (int i = 0; i < n_; ++i) {
      const double scale = options_.abs_tol + options_.rel_tol * std::abs(y_[i]);
      d0 += (y_[i] / scale) * (y_[i] / scale);
      d1 += (f_[i] / scale) * (f_[i] / scale);
    }
    d0 = std::sqrt(d0 / n_);
    d1 = std::sqrt(d1 / n_);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    h0 = std::min(h0, h_bound);
    double d2 = 0;
    for (int attempt = 0;; ++attempt) {
      for (int i = 0; i < n_; ++i) stage_[i] = y_[i] + h0 * f_[i];
      const int rr = Rhs(t_ + h0, stage_.data(), k2_.data());
      if (rr < 0) return kRhsFailed;
      if (rr == 0) break;
      if (attempt == kMaxRhsFailures) return kRhsRepeatedlyFailed;
      h0 *= 0.25;
    }
    for (int i = 0; i < n_; ++i) {
      const double scale = options_.abs_tol + options_.rel_tol * std::abs(y_[i]);
      const double r2 = (k2_[i] - f_[i]) / scale;
      d2 += r2 * r2;
    }
    d2 = std::sqrt(d2 / n_) / h0;
    const double d = std::max(d1, d2);
    const double h1 = d <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / d, 0.2);
    h = std::min({100 * h0, h1, h_bound});
  }
  h_ = std::min(h, h_max);
  started_ = true;
  if (num_roots_ > 0) return CheckStart();
  return kSuccess;
}

DormandPrince::Flag DormandPrince::Step() {
  int rhs_failures = 0;
  const double* y = y_;
  const double* k1 = f_;
  // Stages 2-6 are only passed to the right-hand side: computed in the
  // system's own copy of the state where it has one, which saves the copy
  // into it (104 bytes for the T1D model's 13 states, but right after the
  // stores that wrote them: about 7 % of a trial member in perf).
  double* const buffer = system_->state_buffer();
  double* s = buffer != nullptr ? buffer : stage_.data();
  double* k2 = k2_.data();
  double* k3 = k3_.data();
  double* k4 = k4_.data();
  double* k5 = k5_.data();
  double* k6 = k6_.data();
  double* k7 = k7_;
  double* yn = y_new_;
  while (true) {
    double h = h_;
    if (options_.max_step > 0) h = std::min(h, options_.max_step);
    const double h_proposed = h;
    bool landing = false;
    if (t_ + h >= t_stop_) {
      h = t_stop_ - t_;
      landing = true;
    }
    failure_t_ = t_;
    failure_h_ = h;
    if (!(h > 0) || (!landing && h <= 16 * kEps * std::abs(t_))) return kStepTooSmall;
    const double t = t_;
    const double t_new = landing ? t_stop_ : t + h;
    // The stages; a recoverable failure in any of them rejects the step.
    LaneAttempt attempt{.t = t, .h = h, .t_new = t_new, .rel_tol = options_.rel_tol, .abs_tol = options_.abs_tol,
                        .y = y, .k1 = k1, .k2 = k2, .k3 = k3, .k4 = k4, .k5 = k5, .k6 = k6, .k7 = k7, .yn = yn,
                        .fresh = lane_fresh_};
    int r;
    if (hook_ != nullptr) {
      r = hook_->Attempt(system_, attempt);
      // The lane goes on from this attempt's y and k1, or from its yn and
      // k7 once accepted, unless another attempt was made elsewhere.
      lane_fresh_ = !attempt.stages_in_lane;
    } else {
      r = internal::DormandPrinceAttempt(system_, s, attempt);
    }
    rhs_evaluations_ += attempt.rhs_evaluations;
    if (r < 0) return kRhsFailed;
    if (r > 0) {
      if (++rhs_failures >= kMaxRhsFailures) return kRhsRepeatedlyFailed;
      h_ = 0.25 * h;
      rejected_last_ = true;
      continue;
    }
    const double e = attempt.error_norm;
    if (!ErrorTestPassed(e)) {
      ++error_test_failures_;
      h_ = std::isfinite(e) ? h / std::min(kMaxShrink, std::pow(e, kExpo) / kSafety) : 0.25 * h;
      rejected_last_ = true;
      continue;
    }
    // err^kExpo / err_old^kBeta as one exp of logs, the old one's log kept
    // from the step before: a log and an exp per step instead of two pow
    // calls (those were about 5 % of a T1D trial member). e = 0 gives
    // fac = 0, clamped below like pow's 0.
    const double log_e = std::log(e);
    double fac = std::exp(kExpo * log_e - kBeta * log_err_old_) / kSafety;
    fac = std::clamp(fac, 1.0 / kMaxGrowth, kMaxShrink);
    double h_new = h / fac;
    if (rejected_last_) h_new = std::min(h_new, h);
    // A step cut short to land on the stop time says nothing against the
    // step before it: the next segment may start from that one.
    if (landing) h_new = std::max(h_new, std::min(h_proposed, h_));
    log_err_old_ = e > kErrFloor ? log_e : kLogErrFloor;
    rejected_last_ = false;
    t_prev_ = t_;
    // The roles rotate (pointers: swapping std::vectors stored their three
    // pointers each, and reloading them right away stalled, about 1 % of a
    // trial member).
    std::swap(y_prev_, y_);
    std::swap(y_, y_new_);
    std::swap(f_prev_, f_);
    std::swap(f_, k7_);
    t_ = t_new;
    h_ = h_new;
    y_root_t_ = kNoTime;
    stages_pending_ = attempt.stages_in_lane;
    ++steps_;
    stepped_ = true;
    return kSuccess;
  }
}

bool DormandPrince::Interpolate(double t, int k, double* out) const {
  if (k != 0 && k != 1) return false;
  const double fuzz = RootTolerance();
  if (t == t_ || (!stepped_ && std::abs(t - t_) <= fuzz)) {
    if (k == 1 && !started_) return false;
    const double* v = k == 0 ? y_ : f_;
    std::copy(v, v + n_, out);
    return true;
  }
  if (!stepped_ || t < t_prev_ - fuzz || t > t_ + fuzz) return false;
  if (stages_pending_) TakeStages();
  // The continuous extension, written as Hairer & Wanner do:
  // y = r1 + th (r2 + (1 - th) (r3 + th (r4 + (1 - th) r5))) with
  // r1 = y_prev, r2 = y - y_prev, r3 = h k1 - r2, r4 = r2 - h k7 - r3 and
  // r5 = h sum d_i k_i (k1 = f_prev_, k7 = f_, k3..k6 the step's stages).
  const double h = t_ - t_prev_;
  const double th = (t - t_prev_) / h;
  const double th1 = 1 - th;
  for (int i = 0; i < n_; ++i) {
    const double r2 = y_[i] - y_prev_[i];
    const double r3 = h * f_prev_[i] - r2;
    const double r4 = r2 - h * f_[i] - r3;
    const double r5 =
        h * (d1 * f_prev_[i] + d3 * k3_[i] + d4 * k4_[i] + d5 * k5_[i] + d6 * k6_[i] + d7 * f_[i]);
    if (k == 0) {
      out[i] = y_prev_[i] + th * (r2 + th1 * (r3 + th * (r4 + th1 * r5)));
    } else {
      out[i] = (r2 + (1 - 2 * th) * r3 + th * (2 - 3 * th) * r4 + 2 * th * th1 * (1 - 2 * th) * r5) / h;
    }
  }
  return true;
}

// Roots. The functions' values at t_lo_ are in g_lo_; a function exactly
// zero at the start of the integration is inactive until it is non-zero
// (it would otherwise report the start as a root again).
DormandPrince::Flag DormandPrince::CheckStart() {
  y_root_t_ = kNoTime;
  t_lo_ = t_;
  failure_t_ = t_;
  ++root_evaluations_;
  if (system_->Roots(t_, y_, g_lo_.data()) != 0) return kRootFunctionFailed;
  bool any_zero = false;
  for (int i = 0; i < num_roots_; ++i) {
    active_[i] = g_lo_[i] != 0;
    any_zero = any_zero || g_lo_[i] == 0;
  }
  if (!any_zero) return kSuccess;
  // Look a tenth of the first step ahead (along the slope): a function
  // that moves away from zero there is active with that value.
  const double small = std::max(RootTolerance(), 0.1 * h_);
  for (int i = 0; i < n_; ++i) y_root_[i] = y_[i] + small * f_[i];
  ++root_evaluations_;
  if (system_->Roots(t_ + small, y_root_.data(), g_hi_.data()) != 0) return kRootFunctionFailed;
  for (int i = 0; i < num_roots_; ++i) {
    if (!active_[i] && g_hi_[i] != 0) {
      active_[i] = 1;
      g_lo_[i] = g_hi_[i];
    }
  }
  return kSuccess;
}

DormandPrince::Flag DormandPrince::CheckAfterRoot() {
  // The last call returned the root t_lo_. Functions that are zero there
  // (the ones that crossed) take their value just past it as the reference
  // for the next crossing; one that is still zero there is an error, one
  // that has become zero there is a new root.
  failure_t_ = t_lo_;
  y_root_t_ = kNoTime;
  if (!Interpolate(t_lo_, 0, y_root_.data())) return kSuccess;
  ++root_evaluations_;
  if (system_->Roots(t_lo_, y_root_.data(), g_lo_.data()) != 0) return kRootFunctionFailed;
  std::fill(roots_found_.begin(), roots_found_.end(), 0);
  bool any_zero = false;
  for (int i = 0; i < num_roots_; ++i) {
    if (active_[i] && g_lo_[i] == 0) {
      roots_found_[i] = 1;
      any_zero = true;
    }
  }
  if (!any_zero) return kSuccess;
  const double small = RootTolerance();
  const double t_plus = t_lo_ + small;
  if (t_plus >= t_) {
    for (int i = 0; i < n_; ++i) y_root_[i] = y_[i] + (t_plus - t_) * f_[i];
  } else {
    Interpolate(t_plus, 0, y_root_.data());
  }
  ++root_evaluations_;
  if (system_->Roots(t_plus, y_root_.data(), g_hi_.data()) != 0) return kRootFunctionFailed;
  bool new_root = false;
  for (int i = 0; i < num_roots_; ++i) {
    if (!active_[i]) continue;
    if (g_hi_[i] == 0) {
      if (roots_found_[i] != 0) return kRootsTooClose;
      new_root = true;
      roots_found_[i] = g_lo_[i] > 0 ? -1 : 1;
    } else if (roots_found_[i] != 0) {
      g_lo_[i] = g_hi_[i];
      roots_found_[i] = 0;
    }
  }
  if (!new_root) return kSuccess;
  t_root_ = t_plus;
  t_lo_ = t_plus;
  g_lo_ = g_hi_;
  return kRootReturn;
}

DormandPrince::Flag DormandPrince::CheckUpTo(double thi) {
  if (!(thi > t_lo_)) return kSuccess;
  failure_t_ = thi;
  y_root_t_ = kNoTime;
  const double* y_at = y_;  // at the step's end (the usual case): no copy
  if (thi != t_) {
    Interpolate(thi, 0, y_root_.data());
    y_at = y_root_.data();
    y_root_t_ = thi;  // an output at thi (tout) copies it, unless Locate moves on
  }
  ++root_evaluations_;
  if (system_->Roots(thi, y_at, g_hi_.data()) != 0) return kRootFunctionFailed;
  bool failed = false;
  const bool found = Locate(thi, &failed);
  if (failed) return kRootFunctionFailed;
  // g_hi_ holds the values at t_root_ now: the next search starts there,
  // and functions inactive since the start wake up once non-zero.
  for (int i = 0; i < num_roots_; ++i) {
    if (!active_[i] && g_hi_[i] != 0) active_[i] = 1;
  }
  t_lo_ = t_root_;
  g_lo_ = g_hi_;
  if (!found) return kSuccess;
  y_root_t_ = kNoTime;
  if (t_root_ == t_) {
    std::copy(y_, y_ + n_, y_root_.begin());
  } else {
    Interpolate(t_root_, 0, y_root_.data());
  }
  return kRootReturn;
}

bool DormandPrince::Locate(double thi, bool* failed) {
  // Which active function changes sign in (t_lo_, thi], the one that does
  // so farthest from thi (by linear interpolation) first.
  double tlo = t_lo_;
  const double tol = RootTolerance();
  auto pick = [&](const std::vector<double>& lo, const std::vector<double>& hi, int* which, bool* zero) {
    double best = 0;
    *which = -1;
    *zero = false;
    for (int i = 0; i < num_roots_; ++i) {
      if (!active_[i]) continue;
      if (hi[i] == 0) {
        *zero = true;
      } else if (lo[i] * hi[i] < 0) {
        const double frac = std::abs(hi[i] / (hi[i] - lo[i]));
        if (frac > best) {
          best = frac;
          *which = i;
        }
      }
    }
  };
  int imax = -1;
  bool zero = false;
  pick(g_lo_, g_hi_, &imax, &zero);
  if (imax < 0 && !zero) {
    t_root_ = thi;
    return false;
  }
  if (imax >= 0) {
    // The Illinois variant of the secant method (Dowell & Jarratt 1971),
    // as CVODES and ARKODE use it: the secant step, with the weight of
    // the end that stayed put for two iterations halved (or doubled), and
    // kept a fraction of the interval away from either end.
    double alpha = 1;
    int side = 0, side_prev = -1;
    for (int it = 0; it < 200 && std::abs(thi - tlo) > tol; ++it) {
      alpha = side_prev == side ? (side == 2 ? 2 * alpha : 0.5 * alpha) : 1.0;
      double tmid = thi - (thi - tlo) * g_hi_[imax] / (g_hi_[imax] - alpha * g_lo_[imax]);
      const double width = std::abs(thi - tlo);
      const double frac = width / tol > 5 ? 0.1 : 0.5 * tol / width;
      if (std::abs(tmid - tlo) < 0.5 * tol) tmid = tlo + frac * (thi - tlo);
      if (std::abs(thi - tmid) < 0.5 * tol) tmid = thi - frac * (thi - tlo);
      y_root_t_ = kNoTime;
      Interpolate(tmid, 0, y_root_.data());
      ++root_evaluations_;
      if (system_->Roots(tmid, y_root_.data(), g_mid_.data()) != 0) {
        *failed = true;
        return false;
      }
      side_prev = side;
      int imid = -1;
      bool zmid = false;
      pick(g_lo_, g_mid_, &imid, &zmid);
      if (imid >= 0) {  // the sign change is in (tlo, tmid]
        thi = tmid;
        g_hi_.swap(g_mid_);
        imax = imid;
        side = 1;
        continue;
      }
      if (zmid) {  // no sign change before tmid, but a zero at it
        thi = tmid;
        g_hi_.swap(g_mid_);
        break;
      }
      tlo = tmid;  // the sign change is in (tmid, thi]
      g_lo_.swap(g_mid_);
      side = 2;
    }
  }
  t_root_ = thi;
  for (int i = 0; i < num_roots_; ++i) {
    roots_found_[i] = 0;
    if (!active_[i]) continue;
    if (g_hi_[i] == 0 || g_lo_[i] * g_hi_[i] < 0) roots_found_[i] = g_lo_[i] > 0 ? -1 : 1;
  }
  return true;
}

DormandPrince::Flag DormandPrince::Evolve(double tout, bool one_step, double* tret, double* yout) {
  steps_this_call_ = 0;
  auto give = [&](double t, const double* y, Flag flag) {
    *tret = t;
    std::copy(y, y + n_, yout);
    t_returned_ = t;
    root_returned_ = flag == kRootReturn;
    return flag;
  };
  auto give_tout = [&]() {
    // The root check up to tout has interpolated there already (the usual
    // output between two steps): the same values, copied.
    if (y_root_t_ == tout) {
      std::copy(y_root_.begin(), y_root_.end(), yout);
    } else {
      Interpolate(tout, 0, yout);
    }
    *tret = tout;
    t_returned_ = tout;
    root_returned_ = false;
    return kSuccess;
  };
  if (!started_) {
    const Flag f = Start(tout);
    if (f != kSuccess) return f;
  } else {
    // What the last step holds beyond the last return: roots first, then
    // tout, the step's end (one-step mode) or the stop time.
    const double troundoff = RootTolerance();
    if (num_roots_ > 0) {
      const bool after_root = root_returned_;
      if (after_root) {
        const Flag f = CheckAfterRoot();
        if (f == kRootReturn) return give(t_root_, y_root_.data(), kRootReturn);
        if (f != kSuccess) return f;
      }
      if (std::abs(t_ - t_returned_) > troundoff) {
        const Flag f = CheckUpTo(one_step ? t_ : std::min(t_, tout));
        if (f == kRootReturn) return give(t_root_, y_root_.data(), kRootReturn);
        if (f != kSuccess) return f;
        root_returned_ = false;
        if (after_root && one_step) return give(t_, y_, kSuccess);
      }
    }
    if (!one_step && t_ >= tout) return give_tout();
    if (one_step && std::abs(t_ - t_returned_) > troundoff) return give(t_, y_, kSuccess);
    if (t_ >= t_stop_) return give(t_, y_, kStopReturn);
  }
  while (true) {
    if (steps_this_call_ >= options_.max_steps) {
      failure_t_ = t_;
      return kTooMuchWork;
    }
    const Flag f = Step();
    if (f != kSuccess) return f;
    ++steps_this_call_;
    if (num_roots_ > 0) {
      const Flag fr = CheckUpTo(one_step ? t_ : std::min(t_, tout));
      if (fr == kRootReturn) return give(t_root_, y_root_.data(), kRootReturn);
      if (fr != kSuccess) return fr;
    }
    if (!one_step && t_ >= tout) return give_tout();
    if (t_ >= t_stop_) return give(t_, y_, kStopReturn);
    if (one_step) return give(t_, y_, kSuccess);
  }
}

namespace internal {

int DormandPrinceAttempt(OdeSystem* system, double* s, LaneAttempt& a) {
  const int n = system->num_states();
  const double *y = a.y, *k1 = a.k1;
  double *k2 = a.k2, *k3 = a.k3, *k4 = a.k4, *k5 = a.k5, *k6 = a.k6;
  const double t = a.t, h = a.h;
  a.rhs_evaluations = 1;
  for (int i = 0; i < n; ++i) s[i] = Stage2(y[i], h, k1[i]);
  int r = system->Rhs(t + c2 * h, s, k2);
  if (r == 0) {
    ++a.rhs_evaluations;
    for (int i = 0; i < n; ++i) s[i] = Stage3(y[i], h, k1[i], k2[i]);
    r = system->Rhs(t + c3 * h, s, k3);
  }
  if (r == 0) {
    ++a.rhs_evaluations;
    for (int i = 0; i < n; ++i) s[i] = Stage4(y[i], h, k1[i], k2[i], k3[i]);
    r = system->Rhs(t + c4 * h, s, k4);
  }
  if (r == 0) {
    ++a.rhs_evaluations;
    for (int i = 0; i < n; ++i) s[i] = Stage5(y[i], h, k1[i], k2[i], k3[i], k4[i]);
    r = system->Rhs(t + c5 * h, s, k5);
  }
  if (r == 0) {
    ++a.rhs_evaluations;
    for (int i = 0; i < n; ++i) s[i] = Stage6(y[i], h, k1[i], k2[i], k3[i], k4[i], k5[i]);
    r = system->Rhs(a.t_new, s, k6);
  }
  if (r == 0) {
    ++a.rhs_evaluations;
    for (int i = 0; i < n; ++i) a.yn[i] = Solution(y[i], h, k1[i], k3[i], k4[i], k5[i], k6[i]);
    r = system->Rhs(a.t_new, a.yn, a.k7);
  }
  if (r == 0) {
    const double* k7 = a.k7;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const double err = ErrorEstimate(h, k1[i], k3[i], k4[i], k5[i], k6[i], k7[i]);
      sum += ScaledSquare(err, y[i], a.yn[i], a.abs_tol, a.rel_tol);
    }
    a.error_norm = std::sqrt(sum / n);
  }
  a.result = r;
  return r;
}

}  // namespace internal

DormandPrinceLanes::DormandPrinceLanes(LanesSystem* system)
    : system_(system), n_(static_cast<size_t>(system->num_states())), w_(static_cast<size_t>(system->lanes())) {
  if (w_ != 2 && w_ != 4 && w_ != 8) {
    throw std::invalid_argument("DormandPrinceLanes: " + std::to_string(w_) + " lanes (2, 4 or 8 are made)");
  }
  const size_t size = n_ * w_;
  arrays_.assign(10 * size, 0.0);
  double* p = arrays_.data();
  for (double** v : {&y_, &k1_, &k2_, &k3_, &k4_, &k5_, &k6_, &k7_, &yn_, &s_}) {
    *v = p;
    p += size;
  }
  for (auto* v : {&t_, &h_, &t_new_, &times_, &rel_tol_, &abs_tol_}) v->assign(w_, 0.0);
  first_failure_.assign(w_, 0);
  last_run_.assign(w_, -1);
}

void DormandPrinceLanes::Stages(int lane, double* k3, double* k4, double* k5, double* k6) const {
  const size_t l = static_cast<size_t>(lane);
  if (l >= w_ || last_run_[l] != runs_) {
    throw std::logic_error("DormandPrinceLanes: the lanes ran without lane " + std::to_string(lane) +
                           " after its attempt, whose stages are gone");
  }
  for (size_t i = 0; i < n_; ++i) {
    const size_t e = i * w_ + l;
    k3[i] = k3_[e];
    k4[i] = k4_[e];
    k5[i] = k5_[e];
    k6[i] = k6_[e];
  }
}

template <size_t w>
[[gnu::always_inline]] inline void DormandPrinceLanes::AttemptW(std::span<LaneAttempt* const> attempts) {
  const size_t n = n_;
  const size_t m = std::min(attempts.size(), w);
  ++runs_;
  // Struct of arrays: element i of lane l at i * w + l. A lane goes on from
  // the y and k1 it holds unless its attempt is fresh. Lanes without an
  // attempt step again from what they hold; their results are dropped.
  for (size_t l = 0; l < m; ++l) {
    const LaneAttempt* a = attempts[l];
    if (a == nullptr) continue;
    t_[l] = a->t;
    h_[l] = a->h;
    t_new_[l] = a->t_new;
    rel_tol_[l] = a->rel_tol;
    abs_tol_[l] = a->abs_tol;
    last_run_[l] = runs_;
    if (a->fresh) {
      for (size_t i = 0; i < n; ++i) {
        y_[i * w + l] = a->y[i];
        k1_[i * w + l] = a->k1[i];
      }
    }
  }
  std::fill(first_failure_.begin(), first_failure_.end(), 0);
  // The stage states go where the system reads them.
  double* const buffer = system_->state_buffer();
  double* const s = buffer != nullptr ? buffer : s_;
  // Evaluation `stage` (1 to 6) of every lane at times_; a lane's first
  // failure is kept (the scalar attempt stops there).
  auto rhs = [&](int stage, double* f) {
    const uint64_t failed = system_->RhsLanes(times_.data(), s, f);
    if (failed != 0) {
      for (size_t l = 0; l < w; ++l) {
        if (((failed >> l) & 1u) != 0 && first_failure_[l] == 0) first_failure_[l] = stage;
      }
    }
  };
  auto at_times = [&](double c) {
    for (size_t l = 0; l < w; ++l) times_[l] = t_[l] + c * h_[l];
  };
  // One vector of w doubles per element (GCC's vector extension: the lanes
  // in one or more SIMD registers, element-wise IEEE arithmetic, so each
  // lane gets the bits of the scalar sums).
  using V = Lanes<w>;
  const V h = Load<w>(h_.data());
  const double *y = y_, *k1 = k1_;
  double *k2 = k2_, *k3 = k3_, *k4 = k4_, *k5 = k5_, *k6 = k6_, *k7 = k7_, *yn = yn_;
  auto at = [](const double* p, size_t i) { return Load<w>(p + i * w); };
  for (size_t i = 0; i < n; ++i) Store<w>(s + i * w, Stage2(at(y, i), h, at(k1, i)));
  at_times(c2);
  rhs(1, k2);
  for (size_t i = 0; i < n; ++i) Store<w>(s + i * w, Stage3(at(y, i), h, at(k1, i), at(k2, i)));
  at_times(c3);
  rhs(2, k3);
  for (size_t i = 0; i < n; ++i) Store<w>(s + i * w, Stage4(at(y, i), h, at(k1, i), at(k2, i), at(k3, i)));
  at_times(c4);
  rhs(3, k4);
  for (size_t i = 0; i < n; ++i) {
    Store<w>(s + i * w, Stage5(at(y, i), h, at(k1, i), at(k2, i), at(k3, i), at(k4, i)));
  }
  at_times(c5);
  rhs(4, k5);
  for (size_t i = 0; i < n; ++i) {
    Store<w>(s + i * w, Stage6(at(y, i), h, at(k1, i), at(k2, i), at(k3, i), at(k4, i), at(k5, i)));
  }
  for (size_t l = 0; l < w; ++l) times_[l] = t_new_[l];
  rhs(5, k6);
  for (size_t i = 0; i < n; ++i) {
    const V v = Solution(at(y, i), h, at(k1, i), at(k3, i), at(k4, i), at(k5, i), at(k6, i));
    Store<w>(yn + i * w, v);
    Store<w>(s + i * w, v);
  }
  rhs(6, k7);
  // The error norms, each lane's sum in the scalar attempt's order.
  const V atol = Load<w>(abs_tol_.data()), rtol = Load<w>(rel_tol_.data());
  V sum_v = {};
  for (size_t i = 0; i < n; ++i) {
    const V err = ErrorEstimate(h, at(k1, i), at(k3, i), at(k4, i), at(k5, i), at(k6, i), at(k7, i));
    sum_v += ScaledSquare(err, at(y, i), at(yn, i), atol, rtol);
  }
  double sum[w];
  Store<w>(sum, sum_v);
  // Back to each member: its result, and when accepted (ErrorTestPassed,
  // DormandPrince::Step's test) its yn and k7; the lane then holds them as
  // its next y and k1.
  size_t accepted = 0;
  bool accepted_lane[w] = {};
  for (size_t l = 0; l < m; ++l) {
    LaneAttempt* a = attempts[l];
    if (a == nullptr) continue;
    a->stages_in_lane = true;
    a->result = first_failure_[l] == 0 ? 0 : 1;
    a->rhs_evaluations = first_failure_[l] == 0 ? 6 : first_failure_[l];
    if (a->result != 0) continue;
    a->error_norm = std::sqrt(sum[l] / static_cast<int>(n));
    if (!ErrorTestPassed(a->error_norm)) continue;
    accepted_lane[l] = true;
    ++accepted;
    for (size_t i = 0; i < n; ++i) {
      a->yn[i] = yn[i * w + l];
      a->k7[i] = k7[i * w + l];
    }
  }
  if (accepted == w) {
    std::swap(y_, yn_);
    std::swap(k1_, k7_);
  } else {
    for (size_t l = 0; l < w; ++l) {
      if (!accepted_lane[l]) continue;
      for (size_t i = 0; i < n; ++i) {
        y_[i * w + l] = yn[i * w + l];
        k1_[i * w + l] = k7[i * w + l];
      }
    }
  }
}

// One vector of 4 or 8 lanes per register, where the CPU has them: the
// arithmetic is the same element-wise IEEE operations (neither of these
// targets has FMA, and the file is compiled with -ffp-contract=off), so
// every clone gives every lane the scalar bits. (AVX-512 and 8 lanes:
// 66 ns per member-step of a 13-state system against 105 with SSE2, in a
// micro-benchmark with a linear right-hand side.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SOMA_LANE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SOMA_LANE_CLONES
#endif
SOMA_LANE_CLONES void DormandPrinceLanes::Attempt2(DormandPrinceLanes* self, std::span<LaneAttempt* const> attempts) {
  self->AttemptW<2>(attempts);
}
SOMA_LANE_CLONES void DormandPrinceLanes::Attempt4(DormandPrinceLanes* self, std::span<LaneAttempt* const> attempts) {
  self->AttemptW<4>(attempts);
}
SOMA_LANE_CLONES void DormandPrinceLanes::Attempt8(DormandPrinceLanes* self, std::span<LaneAttempt* const> attempts) {
  self->AttemptW<8>(attempts);
}
#undef SOMA_LANE_CLONES

void DormandPrinceLanes::Attempt(std::span<LaneAttempt* const> attempts) {
  // The lane count as a constant: the loops over lanes unroll and vectorise.
  switch (w_) {
    case 2: return Attempt2(this, attempts);
    case 4: return Attempt4(this, attempts);
    case 8: return Attempt8(this, attempts);
    default: return;  // not reached: the constructor accepts 2, 4 or 8 lanes
  }
}

std::string DormandPrince::FailureMessage(Flag flag) const {
  std::ostringstream m;
  switch (flag) {
    case kTooMuchWork:
      m << "more than " << options_.max_steps << " steps (max_steps) in one call, up to t = " << failure_t_;
      break;
    case kStepTooSmall:
      m << "the step size fell to " << failure_h_ << " at t = " << failure_t_
        << " after repeated error test failures";
      break;
    case kRhsFailed:
      m << "the right-hand side failed at t = " << failure_t_;
      break;
    case kFirstRhsFailed:
      m << "the right-hand side failed at the start point t = " << failure_t_;
      break;
    case kRhsRepeatedlyFailed:
      m << "the right-hand side failed (a value not finite) " << kMaxRhsFailures
        << " times in a row from t = " << failure_t_ << ", the last with step size " << failure_h_;
      break;
    case kRootFunctionFailed:
      m << "an event trigger's root function failed at t = " << failure_t_;
      break;
    case kRootsTooClose:
      m << "a root function stayed zero just after its root at t = " << failure_t_;
      break;
    default:
      m << "flag " << static_cast<int>(flag);
  }
  return m.str();
}

}  // namespace soma::solvers
