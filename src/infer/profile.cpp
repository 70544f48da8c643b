#include "infer/profile.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>

#include "infer/minimise.h"
#include "infer/objective.h"
#include "uq/distributions.h"

namespace soma::infer {
namespace {

using internal::Counters;
using internal::Objective;

// Objective minimised over the other parameters with theta_j held.
struct Point {
  bool ok = false;
  double objective = 0.0;
  std::vector<double> theta;  // estimation scale
  bool converged = false;
  std::string why;            // when !ok
};

class Profiler {
 public:
  Profiler(const Objective& objective, const EstimationOptions& options, int threads, Counters& counters)
      : objective_(objective), options_(options), threads_(threads), counters_(counters) {}

  Point At(std::vector<double> theta, int j, double value) {
    theta[j] = value;
    internal::Minimum m = internal::Minimise(objective_, options_, threads_, std::move(theta), j, counters_);
    Point p;
    if (!m.usable) {
      p.why = "re-optimisation failed: " + m.termination;
      return p;
    }
    const std::vector<double> x = objective_.FromTheta(m.theta.data());
    ++counters_.simulations;
    auto v = objective_.Compute(x, false, threads_);
    if (!v.ok()) {
      ++counters_.failures;
      p.why = v.status().ToString();
      return p;
    }
    p.objective = objective_.Nllh(*v) + objective_.NegLogPrior(x);
    if (!std::isfinite(p.objective)) {
      p.why = "objective not finite";
      return p;
    }
    p.ok = true;
    p.theta = std::move(m.theta);
    p.converged = m.converged;
    return p;
  }

 private:
  const Objective& objective_;
  const EstimationOptions& options_;
  const int threads_;
  Counters& counters_;
};

// The start of the next point's re-optimisation: the other parameters
// moved on along the line through the last two points (the valley the
// profile follows), within their bounds; the last point when there is only
// one.
std::vector<double> Extrapolate(const std::vector<double>& before, const std::vector<double>& last, int j, double t,
                                const std::vector<double>& lo, const std::vector<double>& hi) {
  std::vector<double> x = last;
  if (before.empty() || before[j] == last[j]) return x;
  const double f = (t - last[j]) / (last[j] - before[j]);
  for (size_t k = 0; k < x.size(); ++k)
    if (static_cast<int>(k) != j) x[k] = std::clamp(last[k] + f * (last[k] - before[k]), lo[k], hi[k]);
  return x;
}

// Where the profile crosses `threshold` between theta_a[j] (objective fa,
// below) and tb (fb, above): regula falsi (Illinois) on f - threshold, each
// point warm-started from the side below, until |f - threshold| <= tol or
// the bracket is narrower than h_min; the secant of the bracket when a
// point fails. Every point computed goes to `record`.
double RefineCrossing(Profiler& profiler, int j, std::vector<double> theta_a, double fa, double tb, double fb,
                      double threshold, double tol, double h_min, const std::function<void(const Point&)>& record) {
  double ta = theta_a[j], ga = fa - threshold, gb = fb - threshold;
  int last = 0;  // which side moved last: -1 below, +1 above
  double crossing = ta - ga * (tb - ta) / (gb - ga);
  for (int it = 0; it < 20 && std::abs(tb - ta) > h_min; ++it) {
    const double tc = crossing;
    Point c = profiler.At(theta_a, j, tc);
    if (!c.ok) break;
    record(c);
    const double gc = c.objective - threshold;
    if (std::abs(gc) <= tol) break;
    if (gc > 0) {
      tb = tc, gb = gc;
      if (last == +1) ga /= 2;
      last = +1;
    } else {
      ta = tc, ga = gc, theta_a = std::move(c.theta);
      if (last == -1) gb /= 2;
      last = -1;
    }
    crossing = ta - ga * (tb - ta) / (gb - ga);
  }
  return crossing;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

ParameterProfile Profile(const Objective& objective, const EstimationSummary& fit, const EstimationOptions& options,
                         const ProfileOptions& popt, size_t j, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  const EstimationProblem& problem = objective.problem();
  const EstimatedParameter& par = problem.parameters[j];
  const std::vector<double>& x_hat = fit.starts[fit.best_start].estimate;
  const std::vector<double> theta_hat = objective.ToTheta(x_hat);
  const int jj = static_cast<int>(j);
  const double z = uq::NormalQuantile(0.5 + popt.confidence / 2);
  const double delta = z * z / 2;  // chi2_1(confidence) / 2

  ParameterProfile prof;
  prof.id = par.id;
  prof.index = j;
  prof.scale = par.scale;
  prof.estimate = x_hat[j];
  prof.optimum = fit.objective;
  prof.threshold = fit.objective + delta;
  prof.points.push_back({x_hat[j], fit.objective, x_hat, true});

  Counters counters;
  Profiler profiler(objective, options, threads, counters);
  const double lo = ToScale(par.scale, par.lower), hi = ToScale(par.scale, par.upper);
  std::vector<double> lo_all, hi_all;  // every parameter's bounds, estimation scale
  for (const EstimatedParameter& q : problem.parameters) {
    lo_all.push_back(ToScale(q.scale, q.lower));
    hi_all.push_back(ToScale(q.scale, q.upper));
  }
  const double range = hi - lo;
  double sd = std::numeric_limits<double>::quiet_NaN();
  if (j < fit.estimates.size() && fit.estimates[j].identifiable && static_cast<Eigen::Index>(j) < fit.covariance.rows())
    sd = std::sqrt(fit.covariance(jj, jj));
  const double h0 = std::isfinite(sd) && sd > 0 ? std::clamp(0.3 * sd, 1e-6 * range, 0.1 * range) : 0.02 * range;
  const double h_min = 1e-9 * std::max(range, 1.0);
  const double better_below = fit.objective - 1e-6 * std::max(1.0, std::abs(fit.objective));

  auto record = [&](const Point& p) {
    const std::vector<double> x = objective.FromTheta(p.theta.data());
    prof.points.push_back({x[j], p.objective, x, p.converged});
    if (p.objective < better_below &&
        (!prof.better_optimum_found || p.objective < prof.better_objective)) {
      prof.better_optimum_found = true;
      prof.better_objective = p.objective;
      prof.better_parameters = x;
    }
  };

  for (const int dir : {-1, +1}) {
    std::vector<double> prev_theta = theta_hat, before_theta;  // the last two points
    double prev_f = fit.objective;
    double h = h0;
    int points = 0, failures = 0;
    ProfileEnd end = ProfileEnd::kMaxPoints;
    std::string note;
    double edge = prev_theta[j];  // estimation scale
    const double bound = dir < 0 ? lo : hi;
    while (true) {
      if (points >= popt.max_points) {
        end = ProfileEnd::kMaxPoints;
        note = "below the threshold after " + std::to_string(points) + " points";
        break;
      }
      if (prev_theta[j] == bound) {
        end = ProfileEnd::kBound;
        note = "below the threshold up to the bound " + Number(FromScale(par.scale, bound));
        break;
      }
      double t = prev_theta[j] + dir * h;
      if ((dir < 0 && t <= lo) || (dir > 0 && t >= hi)) t = bound;
      Point p = profiler.At(Extrapolate(before_theta, prev_theta, jj, t, lo_all, hi_all), jj, t);
      if (!p.ok) {
        if (++failures <= 3 && h / 4 >= h_min) {
          h /= 4;
          continue;
        }
        end = ProfileEnd::kFailed;
        note = "at " + Number(FromScale(par.scale, t)) + ": " + p.why;
        break;
      }
      ++points;
      record(p);
      if (p.objective > prof.threshold) {
        const double crossing = RefineCrossing(profiler, jj, prev_theta, prev_f, t, p.objective, prof.threshold,
                                  1e-4 * delta, h_min, record);
        end = ProfileEnd::kThreshold;
        edge = crossing;
        break;
      }
      edge = t;
      // Aim for a rise of a quarter of the threshold per step.
      const double rise = p.objective - prev_f;
      const double factor = rise > 0 ? std::sqrt(delta / 4 / rise) : 2.0;
      h = std::clamp(h * std::clamp(factor, 0.5, 2.0), h_min, 0.2 * range);
      before_theta = std::move(prev_theta);
      prev_theta = std::move(p.theta);
      prev_f = p.objective;
      failures = 0;
    }
    const double value = FromScale(par.scale, edge);
    if (dir < 0) {
      prof.lower = value, prof.lower_end = end, prof.lower_note = end == ProfileEnd::kThreshold ? "" : note;
    } else {
      prof.upper = value, prof.upper_end = end, prof.upper_note = end == ProfileEnd::kThreshold ? "" : note;
    }
  }
  std::stable_sort(prof.points.begin(), prof.points.end(),
                   [](const ProfilePoint& a, const ProfilePoint& b) { return a.value < b.value; });
  prof.simulations = counters.simulations;
  prof.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return prof;
}

}  // namespace

std::string_view ToString(ProfileEnd e) {
  switch (e) {
    case ProfileEnd::kThreshold: return "threshold";
    case ProfileEnd::kBound: return "bound";
    case ProfileEnd::kMaxPoints: return "max-points";
    case ProfileEnd::kFailed: return "failed";
  }
  return "?";
}

Status ProfileOptions::Validate() const {
  if (!(confidence > 0 && confidence < 1))
    return InvalidArgument("ProfileOptions::confidence = " + std::to_string(confidence) + "; must be in (0, 1)");
  if (max_points < 1)
    return InvalidArgument("ProfileOptions::max_points = " + std::to_string(max_points) + "; must be >= 1");
  if (threads < 0) return InvalidArgument("ProfileOptions::threads = " + std::to_string(threads) + "; must be >= 0");
  return Status::Ok();
}

Result<std::vector<ParameterProfile>> ProfileLikelihood(const EstimationProblem& problem,
                                                        const EstimationSummary& fit,
                                                        const EstimationOptions& options,
                                                        const ProfileOptions& profile_options) {
  SOMA_RETURN_IF_ERROR(profile_options.Validate());
  if (fit.best_start < 0 || static_cast<size_t>(fit.best_start) >= fit.starts.size() ||
      fit.starts[fit.best_start].estimate.size() != problem.parameters.size())
    return FailedPrecondition("profile likelihood: the fit has no usable estimate for this problem");
  std::vector<size_t> which;
  if (profile_options.parameters.empty()) {
    for (size_t k = 0; k < problem.parameters.size(); ++k) which.push_back(k);
  } else {
    std::set<std::string> seen;
    for (const std::string& id : profile_options.parameters) {
      if (!seen.insert(id).second) return InvalidArgument("profile likelihood: parameter '" + id + "' listed twice");
      size_t k = 0;
      while (k < problem.parameters.size() && problem.parameters[k].id != id) ++k;
      if (k == problem.parameters.size())
        return NotFound("profile likelihood: '" + id + "' is not an estimated parameter");
      which.push_back(k);
    }
  }
  SOMA_ASSIGN_OR_RETURN(auto objective,
                        internal::Objective::Prepare(problem, options, internal::Derivatives::kSensitivities));
  std::vector<ParameterProfile> out(which.size());
  const int all_threads = internal::ResolveThreads(profile_options.threads);
  const int threads = std::max(1, std::min<int>(all_threads, static_cast<int>(which.size())));
  const int experiment_threads = std::max(1, all_threads / threads);
  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  auto worker = [&] {
    for (size_t i = next++; i < which.size(); i = next++) {
      out[i] = Profile(*objective, fit, options, profile_options, which[i], experiment_threads);
      if (profile_options.progress) {
        std::lock_guard lock(progress_mutex);
        profile_options.progress(out[i]);
      }
    }
  };
  internal::RunWorkers(threads, worker);
  return out;
}

std::string ProfileReport(const EstimationSummary& fit, const std::vector<ParameterProfile>& profiles) {
  std::string out;
  if (profiles.empty()) return "Profile likelihood: no parameters\n";
  char line[512];
  std::snprintf(line, sizeof line, "Profile likelihood (pointwise; threshold: objective %.10g + %.4g)\n",
                profiles[0].optimum, profiles[0].threshold - profiles[0].optimum);
  out += line;
  std::snprintf(line, sizeof line, "%-28s %14s %14s %14s %14s %14s  %s\n", "parameter", "estimate", "Laplace lower",
                "Laplace upper", "profile lower", "profile upper", "notes");
  out += line;
  for (const ParameterProfile& p : profiles) {
    double wl = NAN, wu = NAN;
    if (p.index < fit.estimates.size()) wl = fit.estimates[p.index].lower_ci, wu = fit.estimates[p.index].upper_ci;
    std::string notes;
    if (p.lower_end != ProfileEnd::kThreshold) notes += "lower open (" + p.lower_note + "); ";
    if (p.upper_end != ProfileEnd::kThreshold) notes += "upper open (" + p.upper_note + "); ";
    if (p.better_optimum_found) notes += "a better optimum: objective " + Number(p.better_objective) + "; ";
    notes += std::to_string(p.points.size()) + " points, " + std::to_string(p.simulations) + " simulations";
    std::snprintf(line, sizeof line, "%-28s %14.6g %14.6g %14.6g %14s %14s  %s\n", p.id.c_str(), p.estimate, wl, wu,
                  ((p.lower_end == ProfileEnd::kThreshold ? "" : "open ") + Number(p.lower)).c_str(),
                  ((p.upper_end == ProfileEnd::kThreshold ? "" : "open ") + Number(p.upper)).c_str(), notes.c_str());
    out += line;
  }
  return out;
}

}  // namespace soma::infer
