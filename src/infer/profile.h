#pragma once
// Profile likelihood (Raue et al., Bioinformatics 2009): for a parameter
// theta_j, the objective minimised over all other parameters with theta_j
// held at each value, PL(theta_j) = min over theta_-j of f(theta). Its
// pointwise confidence interval at level q is the set where
// PL(theta_j) - f(theta_hat) <= chi2_1(q) / 2 (1.92 for 95 %); unlike the
// Laplace (Wald) interval of Estimate it follows the model's nonlinearity,
// and a profile that stays below the threshold up to a bound shows that the
// data do not bound the parameter there (practical non-identifiability).
//
// Method. From the fit's best estimate, each profile steps theta_j on its
// estimation scale in both directions. Every point re-optimises the other
// parameters (Levenberg-Marquardt, as Estimate; warm-started from the
// previous point) with theta_j fixed. The step starts at 0.3 standard
// deviations of the fit's covariance (or 2 % of the bounds' range when
// theta_j is not identifiable) and adapts so that the objective rises by
// about a quarter of the threshold per step. Once a step crosses the
// threshold, the crossing is refined by regula falsi (Illinois) until it is
// within 1e-3 of the threshold's height. A direction ends at the crossing,
// at the parameter's bound, after `max_points` points, or when the
// re-optimisation fails (then the interval is open on that side and says
// why). A point with a lower objective than the fit (by more than 1e-6
// relative) means the fit missed the optimum; it is reported.
//
// Profiles of different parameters are independent and run in parallel on
// `threads`; results do not depend on the thread count.

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "infer/estimate.h"
#include "infer/problem.h"

namespace soma::infer {

struct ProfileOptions {
  std::vector<std::string> parameters;  // ids of estimated parameters; empty: all
  double confidence = 0.95;             // in (0, 1)
  int max_points = 30;                  // per direction, >= 1 (refinement points not counted)
  int threads = 1;                      // >= 0; 0 = all cores; profiles in parallel
  // Called after each profile finishes (from the thread that ran it, one
  // call at a time). May be empty.
  std::function<void(const struct ParameterProfile&)> progress;

  Status Validate() const;
};

struct ProfilePoint {
  double value = 0.0;              // the profiled parameter, linear scale
  double objective = 0.0;          // nllh + negative log prior, minimised over the others
  std::vector<double> parameters;  // all parameters at the point, linear scale
  bool converged = false;          // the re-optimisation converged
};

// How one side of a profile ended.
enum class ProfileEnd {
  kThreshold,  // crossed: the interval ends there
  kBound,      // reached the parameter's bound below the threshold: open
  kMaxPoints,  // ran out of points below the threshold: open
  kFailed,     // re-optimisation or simulation failed: open
};
std::string_view ToString(ProfileEnd e);

struct ParameterProfile {
  std::string id;
  size_t index = 0;                 // in problem.parameters
  Scale scale = Scale::kLin;
  double estimate = 0.0;            // linear scale
  double optimum = 0.0;             // objective at the estimate
  double threshold = 0.0;           // optimum + chi2_1(confidence) / 2
  std::vector<ProfilePoint> points; // ascending in value, the estimate included
  // The interval (linear scale): the crossings; on an open side, the last
  // value reached (the bound, or where the profile stopped).
  double lower = 0.0, upper = 0.0;
  ProfileEnd lower_end = ProfileEnd::kThreshold, upper_end = ProfileEnd::kThreshold;
  std::string lower_note, upper_note;  // why an open side stopped
  // A point below the fit's optimum (the fit missed the optimum).
  bool better_optimum_found = false;
  double better_objective = 0.0;
  std::vector<double> better_parameters;  // linear scale
  long simulations = 0;
  double seconds = 0.0;
};

// Profiles at `fit`'s best estimate (Estimate on the same problem and
// options). Errors: options that fail Validate, unknown or duplicated
// parameter ids (named), a fit without a usable estimate, and what
// Estimate reports for the problem.
Result<std::vector<ParameterProfile>> ProfileLikelihood(const EstimationProblem& problem,
                                                        const EstimationSummary& fit,
                                                        const EstimationOptions& options,
                                                        const ProfileOptions& profile_options);

// A table: parameter, estimate, Laplace (Wald) interval from the fit,
// profile interval, and how each side ended.
std::string ProfileReport(const EstimationSummary& fit, const std::vector<ParameterProfile>& profiles);

}  // namespace soma::infer
