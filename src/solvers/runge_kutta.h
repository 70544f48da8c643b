#pragma once
// The Dormand-Prince 5(4) explicit Runge-Kutta pair (Dormand & Prince 1980;
// Hairer, Norsett & Wanner, "Solving Ordinary Differential Equations I",
// section II.5) with first-same-as-last stages, a PI step-size controller,
// output between steps from the pair's own continuous extension of order 4
// (no further right-hand side), a stop time it lands on exactly, and
// root finding for events with the semantics of CVODES and ARKODE (sign
// changes of g located by the Illinois method on the interpolant; a
// function that is zero at the start is inactive until it moves away).
//
// Written for small systems run many times (trial members, twin
// forecasts): everything is in flat arrays allocated once, every stage is
// one fused loop over the states, and nothing is allocated per step. (ARKODE's
// ERKStep, used before, spent about as long on its vector operations,
// controller and root checks as on the model's right-hand side for the
// 13-state T1D model.)
//
// A recoverable failure of the right-hand side (> 0, e.g. a non-finite
// value) in any stage rejects the step and retries it with a quarter of
// the step, like CVODES does; ten failures in a row end the run.
//
// Integrates forward in time only. Thread safety: one stepper per thread.

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace soma::solvers {

class OdeSystem;

// One step attempt of the pair from (t, y) with step h to t_new (t + h, or
// the stop time it lands on): the stages k2 ... k7 (k7 = f(t_new, yn), the
// next step's k1), the candidate solution yn and the error estimate's
// weighted RMS norm (error_norm: the step is accepted when <= 1).
// result: 0, or what the failing right-hand side returned (> 0
// recoverable: the step is retried smaller; < 0 not), after
// rhs_evaluations evaluations (6 without a failure).
struct LaneAttempt {
  double t = 0, h = 0, t_new = 0;
  double rel_tol = 0, abs_tol = 0;
  const double* y = nullptr;
  const double* k1 = nullptr;
  double *k2 = nullptr, *k3 = nullptr, *k4 = nullptr, *k5 = nullptr, *k6 = nullptr, *k7 = nullptr;
  double* yn = nullptr;
  // For DormandPrinceLanes, where a member keeps its lane between
  // attempts: true when (y, k1) are new to the lane (the first attempt
  // after a restart, or one whose y and k1 the lanes did not make).
  bool fresh = true;
  int result = 0;
  int rhs_evaluations = 0;
  double error_norm = 0;  // when result == 0
  // Set by DormandPrinceLanes: the attempt was made in a lane, and when it
  // was accepted only yn and k7 were written; k3 ... k6 stay in the lane
  // (AttemptHook::Stages).
  bool stages_in_lane = false;
};

// Where DormandPrince::SetAttemptHook sends its step attempts: Attempt
// must fill `a` as internal::DormandPrinceAttempt would for `system` (and
// return a.result), e.g. by waiting for a batch (DormandPrinceLanes) that
// runs several members' attempts at once. When it sets
// a.stages_in_lane, Stages must give the accepted attempt's k3 ... k6
// until the member's next attempt.
class AttemptHook {
 public:
  virtual ~AttemptHook() = default;
  virtual int Attempt(OdeSystem* system, LaneAttempt& a) = 0;
  virtual void Stages(double* k3, double* k4, double* k5, double* k6) = 0;
};

// A right-hand side for several members at once, one per SIMD lane (the
// model's native code over lanes, expr::Program::RunLanes).
class LanesSystem {
 public:
  virtual ~LanesSystem() = default;
  virtual int num_states() const = 0;
  virtual int lanes() const = 0;  // 2, 4 or 8 for DormandPrinceLanes
  // f at time t[l] and state y for every lane l: element i of lane l at
  // i * lanes() + l, in y and f. Returns a mask with bit l set when lane l's
  // evaluation failed recoverably (a value not finite).
  virtual uint64_t RhsLanes(const double* t, const double* y, double* f) = 0;
  // Where RhsLanes would copy y (num_states() x lanes()), for the caller
  // to write the state there instead; null: none.
  virtual double* state_buffer() { return nullptr; }
};

// Step attempts of up to lanes() members at once (bench/PROFILE.md, "Trial
// members in SIMD lanes"): the stages and error norms of all lanes in one
// pass each, every lane with its own t and h, and each member's attempt
// with the bits of the scalar attempt DormandPrince::Step makes (the same
// stage sums; its right-hand side evaluations stop at the first failure,
// the lanes' evaluate on and the result says where the scalar one stopped).
// Acceptance (error_norm <= 1), the controller, roots and outputs stay with
// each member's DormandPrince.
//
// A member keeps its lane from attempt to attempt: the lanes keep its y and
// k1 (after an accepted attempt its yn and k7), so an attempt that is not
// `fresh` reads neither, and an accepted one writes only yn and k7 back;
// k3 ... k6 stay in the lane for Stages. Lanes without an attempt in a run
// keep their y and k1 but lose their stages: a member must take them
// (Stages) before the lanes run without it. Runs trial members with
// TrialOptions::lanes (sim::LaneBatch).
class DormandPrinceLanes {
 public:
  // `system` must outlive this and have 2, 4 or 8 lanes (else
  // std::invalid_argument).
  explicit DormandPrinceLanes(LanesSystem* system);
  DormandPrinceLanes(const DormandPrinceLanes&) = delete;
  DormandPrinceLanes& operator=(const DormandPrinceLanes&) = delete;
  // attempts[l]: lane l's attempt, or null (more than lanes() are
  // ignored). Sets each one's result, rhs_evaluations, error_norm and
  // stages_in_lane, and when it was accepted yn and k7.
  void Attempt(std::span<LaneAttempt* const> attempts);
  // The stages k3 ... k6 of lane `lane`'s last attempt; throws
  // std::logic_error if the lanes ran without it since.
  void Stages(int lane, double* k3, double* k4, double* k5, double* k6) const;

 private:
  template <size_t w>
  void AttemptW(std::span<LaneAttempt* const> attempts);
  // AttemptW<2, 4, 8>, each compiled for AVX-512, AVX2 and the baseline
  // (chosen at load time for the CPU).
  static void Attempt2(DormandPrinceLanes* self, std::span<LaneAttempt* const> attempts);
  static void Attempt4(DormandPrinceLanes* self, std::span<LaneAttempt* const> attempts);
  static void Attempt8(DormandPrinceLanes* self, std::span<LaneAttempt* const> attempts);

  LanesSystem* system_;
  size_t n_, w_;
  // n_ x w_ each, struct of arrays (element i of lane l at i * w_ + l):
  // y, k1, k2 ... k7, yn, and the stage states where the system has no
  // buffer for them. y_/yn_ and k1_/k7_ point into `arrays_` and swap
  // when every lane's attempt was accepted.
  std::vector<double> arrays_;
  double *y_, *k1_, *k2_, *k3_, *k4_, *k5_, *k6_, *k7_, *yn_, *s_;
  std::vector<double> t_, h_, t_new_, times_, rel_tol_, abs_tol_;
  std::vector<int> first_failure_;  // per lane: the evaluation (1 to 6) that failed first, 0: none
  std::vector<long> last_run_;      // per lane: the run of its last attempt
  long runs_ = 0;
};

namespace internal {
// The scalar attempt of DormandPrince::Step (stages 2-6 computed in `s`,
// num_states long; yn in a.yn; the error norm), returning a.result.
int DormandPrinceAttempt(OdeSystem* system, double* s, LaneAttempt& a);
}  // namespace internal

class DormandPrince {
 public:
  struct Options {
    double rel_tol = 1e-6;   // > 0
    double abs_tol = 1e-12;  // > 0, every state
    double max_step = 0;     // 0: unlimited
    long max_steps = 500000;  // steps per Evolve call
  };
  // Evolve's result. The non-negative values and kTooMuchWork equal
  // CVODES' CV_SUCCESS, CV_TSTOP_RETURN, CV_ROOT_RETURN and CV_TOO_MUCH_WORK.
  enum Flag : int {
    kSuccess = 0,      // reached tout (one-step mode: took a step)
    kStopReturn = 1,   // reached the stop time
    kRootReturn = 2,   // a root function changed sign: roots_found()
    kTooMuchWork = -1,
    kStepTooSmall = -3,   // error test failures shrank the step to rounding level of t
    kRhsFailed = -8,      // the right-hand side returned < 0
    kFirstRhsFailed = -9,  // the right-hand side failed at the start point
    kRhsRepeatedlyFailed = -10,  // > 0 (recoverable) ten times in a row
    kRootFunctionFailed = -12,
    kRootsTooClose = -13,  // a root function stayed zero just after its root
  };

  // `system` must outlive the stepper.
  DormandPrince(OdeSystem* system, const Options& options);
  // Not copyable: the state pointers point into the object's own buffer.
  DormandPrince(const DormandPrince&) = delete;
  DormandPrince& operator=(const DormandPrince&) = delete;

  // (Re)starts at (t, y): the last step, the root state and the counters
  // are dropped. `first_step` > 0 is the first step tried; 0 estimates it
  // from the start point (one more right-hand side).
  void Reset(double t, const double* y, double first_step);
  // The integrator never steps past `t` (+infinity: no stop); kept until changed.
  void SetStopTime(double t) { t_stop_ = t; }
  void SetMaxSteps(long n) { options_.max_steps = n; }
  // Step attempts go to `hook` (not owned; null: made here).
  void SetAttemptHook(AttemptHook* hook) {
    hook_ = hook;
    lane_fresh_ = true;
  }

  // Integrates towards tout (> the current time): in normal mode until
  // tout (y there interpolated when a step passed it), in one-step mode
  // for one step; either stops earlier at a root or at the stop time.
  // `*tret` and `yout` (num_states values) get the time and solution
  // returned.
  Flag Evolve(double tout, bool one_step, double* tret, double* yout);

  // The solution (k = 0) or its derivative (k = 1) at t within the last
  // step, from the pair's continuous extension. False outside it (with
  // a rounding-level margin) or for another k.
  bool Interpolate(double t, int k, double* out) const;

  const std::vector<int>& roots_found() const { return roots_found_; }
  double t() const { return t_; }               // the last step's end
  const double* y() const { return y_; }        // the solution there
  double next_step() const { return h_; }       // the step the controller chose next
  // What a failed Evolve ran into, for the caller's message.
  std::string FailureMessage(Flag flag) const;

  long steps() const { return steps_; }
  long rhs_evaluations() const { return rhs_evaluations_; }
  long root_evaluations() const { return root_evaluations_; }
  long error_test_failures() const { return error_test_failures_; }

 private:
  // Computes the first step's size (Hairer's estimate) and the slope at
  // the start; on failure returns the flag.
  Flag Start(double tout);
  // One accepted step from (t_, y_) with retries inside; kSuccess or a failure.
  Flag Step();
  int Rhs(double t, const double* y, double* f);
  // The last step's k3 ... k6 from the hook where they stayed in its lane.
  void TakeStages() const;
  // Root finding. CheckStart: at the start point (functions exactly zero
  // there become inactive); CheckAfterRoot: at the start of the call after
  // a root was returned; CheckUpTo: sign changes in (tlo_, thi]. Each
  // returns kSuccess (none), kRootReturn (then t_root_, y_root_ hold the
  // root and roots_found_ the functions) or a failure.
  Flag CheckStart();
  Flag CheckAfterRoot();
  Flag CheckUpTo(double thi);
  // Illinois iteration on (tlo_, thi] with g_lo_ / g_hi_; sets t_root_ and
  // g_root_, and roots_found_ when a root is there. True: a root.
  bool Locate(double thi, bool* failed);
  double RootTolerance() const;

  OdeSystem* system_;
  AttemptHook* hook_ = nullptr;
  Options options_;
  int n_;
  int num_roots_;
  double t_stop_ = std::numeric_limits<double>::infinity();

  // The solution: (t_, y_) and f_ = f(t_, y_) at the end of the last step,
  // (t_prev_, y_prev_, f_prev_) at its start.
  // y_new_ and k7_ are the step's candidates; the six point into rotating_
  // and swap roles when a step is accepted.
  double t_ = 0, t_prev_ = 0;
  std::vector<double> rotating_;
  double *y_ = nullptr, *f_ = nullptr, *y_prev_ = nullptr, *f_prev_ = nullptr, *y_new_ = nullptr, *k7_ = nullptr;
  bool started_ = false;     // f_ and the first step are known
  bool stepped_ = false;     // a step since Reset: the interpolant exists
  double h_ = 0;             // next step to try
  double h_first_ = 0;       // Reset's first_step
  double log_err_old_ = 0;   // log of the last accepted step's error (PI controller), at least log(1e-4)
  bool rejected_last_ = false;
  // k3_ ... k6_ are filled late (TakeStages) where the step was made in a
  // lane: stages_pending_.
  mutable std::vector<double> k3_, k4_, k5_, k6_;
  std::vector<double> k2_, stage_;
  bool lane_fresh_ = true;  // the hook's lane does not hold y_ and f_
  mutable bool stages_pending_ = false;

  // Roots.
  std::vector<double> g_lo_, g_hi_, g_mid_;
  std::vector<char> active_;
  std::vector<int> roots_found_;
  std::vector<double> y_root_;
  double y_root_t_ = std::numeric_limits<double>::quiet_NaN();  // y_root_ is the last step's interpolant there (NaN: nowhere)
  double t_lo_ = 0;          // roots are located beyond it
  double t_root_ = 0;
  double t_returned_ = 0;    // the time of the last return
  bool root_returned_ = false;

  long steps_ = 0, rhs_evaluations_ = 0, root_evaluations_ = 0, error_test_failures_ = 0;
  long steps_this_call_ = 0;
  double failure_t_ = 0, failure_h_ = 0;
};

}  // namespace soma::solvers
