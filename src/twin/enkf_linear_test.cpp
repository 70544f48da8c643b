// The EnKF against the exact Kalman filter on a linear-Gaussian model:
// dx/dt = -k x (a rate rule), process noise of sd q per sqrt(time) added at
// the start of each window, x observed every dt with additive noise sd s.
// Discretised: x_{j+1} = F (x_j + w_j), F = exp(-k dt), w_j ~ N(0, q^2 dt);
// the Kalman filter then is P- = F^2 (P + q^2 dt), m- = F m, and the usual
// scalar update. The stochastic EnKF's mean and variance approach these as
// the ensemble grows; tolerances are from the sampling error of an N-member
// ensemble (sd of the mean ~ sqrt(P/N), relative sd of the variance
// ~ sqrt(2/N)), with a factor 5 for the error the perturbed observations and
// the sampled gain add and carry over from step to step.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "twin/engine.h"
#include "twin/fit.h"

namespace soma::twin {
namespace {

model::Model LinearModel(double k) {
  using expr::Expr;
  model::Model m;
  m.id = "linear";
  m.parameters.push_back({.id = "x", .value = 0.0, .constant = false});
  m.parameters.push_back({.id = "k", .value = k});
  model::Rule r;
  r.kind = model::RuleKind::kRate;
  r.variable = "x";
  r.math = Expr::Apply(expr::Op::kMinus, {Expr::Apply(expr::Op::kTimes, {Expr::Symbol("k"), Expr::Symbol("x")})});
  m.rules.push_back(r);
  return m;
}

TwinDefinition LinearDefinition(int n, double sd, double q) {
  TwinDefinition d;
  d.title = "linear";
  d.observations.push_back({"X-1", "x", "1", {NoiseModel::Kind::kAdditive, sd, 0}});
  d.assimilation.ensemble_size = n;
  d.assimilation.seed = 7;
  d.assimilation.process_noise["x"] = q;
  return d;
}

struct Kf {
  double m, p;
};

void RunComparison(int n, double mean_factor, double var_factor) {
  const double k = 0.1, sd = 0.5, q = 0.3, dt = 1.0, m0 = 5.0, p0 = 1.0;
  auto engine = TwinEngine::Create(LinearDefinition(n, sd, q), LinearModel(k));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto state = (*engine)->Initialise("", 0);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_EQ(state->state_ids, std::vector<std::string>{"x"});
  // Initial ensemble N(m0, p0), drawn here (the model's initial value is fixed).
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0, 1);
  for (auto& mem : state->members) mem.y = {m0 + std::sqrt(p0) * z(rng)};
  // The truth and its observations.
  double truth = m0;
  Kf kf{m0, p0};
  const double F = std::exp(-k * dt);
  double worst_mean = 0, worst_var = 0;
  for (int j = 1; j <= 10; ++j) {
    truth = F * (truth + q * std::sqrt(dt) * z(rng));
    double obs = truth + sd * z(rng);
    kf.p = F * F * (kf.p + q * q * dt);
    kf.m = F * kf.m;
    double gain = kf.p / (kf.p + sd * sd);
    kf.m += gain * (obs - kf.m);
    kf.p *= (1 - gain);
    TwinObservation o{j * dt, 0, "X-1", "x", obs, "1"};
    auto sum = (*engine)->Assimilate(*state, {o});
    ASSERT_TRUE(sum.ok()) << sum.status().ToString();
    double mean = 0, var = 0;
    for (const auto& mem : state->members) mean += mem.y[0];
    mean /= n;
    for (const auto& mem : state->members) var += (mem.y[0] - mean) * (mem.y[0] - mean);
    var /= (n - 1);
    worst_mean = std::max(worst_mean, std::abs(mean - kf.m) / std::sqrt(kf.p / n));
    worst_var = std::max(worst_var, std::abs(var / kf.p - 1) / std::sqrt(2.0 / n));
    EXPECT_LE(std::abs(mean - kf.m), mean_factor * std::sqrt(kf.p / n))
        << "step " << j << ": EnKF mean " << mean << ", KF mean " << kf.m;
    EXPECT_LE(std::abs(var / kf.p - 1), var_factor * std::sqrt(2.0 / n))
        << "step " << j << ": EnKF variance " << var << ", KF variance " << kf.p;
  }
  std::printf("N = %d: worst |mean - KF| = %.2f sqrt(P/N), worst |var/P - 1| = %.2f sqrt(2/N)\n", n, worst_mean,
              worst_var);
}

TEST(EnkfLinear, MatchesKalmanFilterWith2000Members) { RunComparison(2000, 5.0, 5.0); }

TEST(EnkfLinear, MatchesKalmanFilterWith200Members) { RunComparison(200, 5.0, 5.0); }

TEST(EnkfLinear, RefusesObservationsBeforeTheTwinsTime) {
  auto engine = TwinEngine::Create(LinearDefinition(10, 0.5, 0.0), LinearModel(0.1));
  ASSERT_TRUE(engine.ok());
  auto state = (*engine)->Initialise("", 0);
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE((*engine)->Assimilate(*state, {{2.0, 0, "X-1", "x", 1.0, "1"}}).ok());
  auto late = (*engine)->Assimilate(*state, {{1.0, 0, "X-1", "x", 1.0, "1"}});
  EXPECT_EQ(late.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(state->time, 2.0);
}

TEST(EnkfLinear, InitialStateIsTheModelsInitialValue) {
  // Initialise runs no integration: every member starts at x(0) = 0 here,
  // and a run over [0, 5] of dx/dt = -k x from x = 3 ends at 3 exp(-0.5).
  auto engine = TwinEngine::Create(LinearDefinition(10, 0.5, 0.0), LinearModel(0.1));
  ASSERT_TRUE(engine.ok());
  auto state = (*engine)->Initialise("", 0);
  ASSERT_TRUE(state.ok());
  for (auto& m : state->members) {
    ASSERT_EQ(m.y.size(), 1u);
    EXPECT_EQ(m.y[0], 0.0);
    m.y[0] = 3.0;
  }
  ASSERT_TRUE((*engine)->Advance(*state, 5.0).ok());
  for (const auto& m : state->members) EXPECT_NEAR(m.y[0], 3.0 * std::exp(-0.5), 1e-5);
}

TEST(EnkfLinear, AnInterventionAtAnObservationTimeIsAppliedOnce) {
  // A bolus of +1 on x at t = 2 and an observation at t = 2: the window
  // [0, 2) ends before the bolus, the zero-length prediction at t = 2 does
  // not apply it, and the window [2, 3) applies it once. With every member
  // equal the ensemble has no spread, so the gain is 0 and the update leaves
  // x alone: x(3) = (3 exp(-0.2) + 1) exp(-0.1). Tolerance 1e-4: the
  // integrator's default accuracy (~1e-5 relative here); a bolus applied
  // twice or not at all would be off by ~0.9.
  auto engine = TwinEngine::Create(LinearDefinition(10, 0.5, 0.0), LinearModel(0.1));
  ASSERT_TRUE(engine.ok());
  auto state = (*engine)->Initialise("", 0);
  ASSERT_TRUE(state.ok());
  for (auto& m : state->members) m.y = {3.0};
  state->interventions = Json::array({{{"type", "bolus"}, {"time", 2.0}, {"target", "x"}, {"amount", 1.0}}});
  ASSERT_TRUE((*engine)->Advance(*state, 2.0).ok());
  for (const auto& m : state->members) EXPECT_NEAR(m.y[0], 3 * std::exp(-0.2), 1e-4);
  auto sum = (*engine)->Assimilate(*state, {{2.0, 0, "X-1", "x", 5.0, "1"}});
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_NEAR(sum->predicted_mean[0], 3 * std::exp(-0.2), 1e-4);
  ASSERT_TRUE((*engine)->Advance(*state, 3.0).ok());
  for (const auto& m : state->members) EXPECT_NEAR(m.y[0], (3 * std::exp(-0.2) + 1) * std::exp(-0.1), 1e-4);
}

TEST(TwinFit, MapOfADecayRateMatchesAGridSearch) {
  // dx/dt = -k x, x(0) = 5, observed at t = 1..10 with sd 0.05; k has a
  // log-normal prior (median 0.1, sigma 1) and data from k = 0.2. The MAP
  // estimate must match the minimum of the same objective found by a fine
  // grid search here, sum (y - 5 exp(-k t))^2 / (2 s^2) + ln k +
  // (ln k - ln 0.1)^2 / 2 (the log-normal density of k carries 1/k), to
  // 1e-4 relative; the 95 % interval must hold the truth.
  if (!FitAvailable()) GTEST_SKIP() << "built without soma::infer";
  model::Model m = LinearModel(0.1);
  m.parameters[0].value = 5.0;
  TwinDefinition d = LinearDefinition(10, 0.05, 0.0);
  d.parameters.push_back({"k", ParameterPrior::Kind::kLogNormal, 0.1, 1.0, 1e-3, 10.0, true});
  auto engine = TwinEngine::Create(d, m);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto state = (*engine)->Initialise("", 0);
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE((*engine)->Advance(*state, 10.0).ok());
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> ys;
  for (int j = 1; j <= 10; ++j) {
    double y = 5 * std::exp(-0.2 * j) + 0.05 * z(rng);
    ys.push_back(y);
    state->observations.push_back({static_cast<double>(j), 0, "X-1", "x", y, "1"});
  }
  auto objective = [&](double k) {
    double f = std::log(k) + 0.5 * std::pow(std::log(k) - std::log(0.1), 2);
    for (int j = 1; j <= 10; ++j) f += std::pow(ys[j - 1] - 5 * std::exp(-k * j), 2) / (2 * 0.05 * 0.05);
    return f;
  };
  double best = 0.1, best_f = objective(0.1);
  for (double k = 0.1; k <= 0.3; k += 1e-6) {
    if (double f = objective(k); f < best_f) {
      best_f = f;
      best = k;
    }
  }
  FitOptions o;
  o.starts = 2;
  std::vector<std::pair<double, std::string>> progress;
  o.progress = [&](double f, const std::string& m) { progress.emplace_back(f, m); };
  auto fit = FitTwin(**engine, *state, o);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  // Progress within each start (iterations) and after it, never going back.
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().second.rfind("start 1 of 2: iteration 0, objective ", 0), 0u) << progress.front().second;
  bool start_done = false;
  for (size_t i = 0; i < progress.size(); ++i) {
    const std::string& m = progress[i].second;
    if (i > 0) {
      EXPECT_GE(progress[i].first, progress[i - 1].first) << m;
    }
    start_done = start_done || (m.find("objective") != std::string::npos && m.find("iteration") == std::string::npos);
  }
  EXPECT_TRUE(start_done);
  o.progress = nullptr;
  const Json& p = (*fit)["parameters"][0];
  double k = p["value"];
  std::printf("MAP k = %.7f, grid %.7f, 95%% [%.5f, %.5f]\n", k, best, p["lower95"].get<double>(),
              p["upper95"].get<double>());
  EXPECT_NEAR(k, best, 1e-4 * best);
  EXPECT_LE(p["lower95"].get<double>(), 0.2);
  EXPECT_GE(p["upper95"].get<double>(), 0.2);
  // The ensemble was redrawn around the estimate and re-run to t = 10.
  EXPECT_EQ(state->time, 10.0);
  EXPECT_NEAR(state->estimate["parameters"][0]["median"].get<double>(), k, 0.05 * k);
  for (const auto& mem : state->members) EXPECT_NEAR(mem.y[0], 5 * std::exp(-std::exp(mem.theta[0]) * 10), 1e-4);
  EXPECT_FALSE(p.contains("profile"));

  // With the profile likelihood: one parameter, so the profile is the
  // objective itself and its 95 % interval is where objective(k) - min <=
  // chi2_1(0.95) / 2 = 1.92073 on the same grid (to 1e-4 relative: the
  // fit's integrator runs at rtol 1e-6).
  o.profile = true;
  auto profiled = FitTwin(**engine, *state, o);
  ASSERT_TRUE(profiled.ok()) << profiled.status().ToString();
  const Json& pp = (*profiled)["parameters"][0];
  ASSERT_TRUE(pp.contains("profile")) << pp.dump();
  double lo = NAN, hi = NAN;
  for (double kk = 0.1; kk <= 0.3; kk += 1e-6) {
    if (objective(kk) - best_f <= 1.9207294103) {
      if (std::isnan(lo)) lo = kk;
      hi = kk;
    }
  }
  EXPECT_NEAR(pp["profile"]["lower95"].get<double>(), lo, 1e-4 * lo);
  EXPECT_NEAR(pp["profile"]["upper95"].get<double>(), hi, 1e-4 * hi);
  EXPECT_FALSE(pp["profile"]["lower_open"].get<bool>());
  EXPECT_FALSE(pp["profile"]["upper_open"].get<bool>());
  EXPECT_GE(pp["profile"]["points"].size(), 5u);
}

TEST(TwinHindcast, ReplaysTheHistoryWithEachMembersParameters) {
  // dx/dt = -k x, x(0) = 5, k personalised (log-normal prior), a bolus of 3
  // into x at t = 4 recorded as an intervention. Member i's hindcast is
  // x_i(t) = 5 exp(-k_i t) + [t > 4] 3 exp(-k_i (t - 4)); the mean and the
  // quantiles over members must be those of these analytic curves to 1e-5
  // relative (the simulator's default CVODES rtol is 1e-6; the global error
  // at t = 10 is a few times that).
  model::Model m = LinearModel(0.1);
  m.parameters[0].value = 5.0;
  TwinDefinition d = LinearDefinition(12, 0.05, 0.0);
  d.parameters.push_back({"k", ParameterPrior::Kind::kLogNormal, 0.1, 0.5, 1e-3, 10.0, true});
  auto engine = TwinEngine::Create(d, m);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto state = (*engine)->Initialise("", 0);
  ASSERT_TRUE(state.ok());
  auto none = (*engine)->Hindcast(*state, 1.0);
  EXPECT_EQ(none.status().code(), ErrorCode::kFailedPrecondition) << none.status().ToString();
  state->interventions = Json::parse(R"([{"type": "bolus", "time": 4, "target": "x", "amount": 3}])");
  ASSERT_TRUE((*engine)->Advance(*state, 10.0).ok());
  EXPECT_EQ((*engine)->Hindcast(*state, 0.0).status().code(), ErrorCode::kInvalidArgument);
  auto h = (*engine)->Hindcast(*state, 0.75);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->series.size(), 1u);
  EXPECT_EQ(h->series[0].symbol, "x");
  EXPECT_EQ(h->times.front(), 0.0);
  EXPECT_EQ(h->times.back(), 10.0);
  EXPECT_EQ(h->times.size(), 15u);  // 0, 0.75, ..., 9.75, 10
  ASSERT_EQ(h->levels, d.forecast.quantiles);
  for (size_t ti = 0; ti < h->times.size(); ++ti) {
    const double t = h->times[ti];
    std::vector<double> xs;
    double mean = 0;
    for (const auto& mem : state->members) {
      const double k = std::exp(mem.theta[0]);
      const double x = 5 * std::exp(-k * t) + (t > 4 ? 3 * std::exp(-k * (t - 4)) : 0.0);
      xs.push_back(x);
      mean += x / static_cast<double>(state->members.size());
    }
    std::sort(xs.begin(), xs.end());
    EXPECT_NEAR(h->series[0].mean[ti], mean, 1e-5 * mean) << "t = " << t;
    for (size_t q = 0; q < h->levels.size(); ++q) {
      const double want = SortedQuantile(xs, h->levels[q]);
      EXPECT_NEAR(h->series[0].quantiles[q][ti], want, 1e-5 * want) << "t = " << t << ", level " << h->levels[q];
    }
  }
  // The members' spread in k shows as a band that widens with time.
  const auto& qs = h->series[0].quantiles;
  EXPECT_GT(qs.back().back() - qs.front().back(), qs.back()[1] - qs.front()[1]);
  // The state is not touched.
  EXPECT_EQ(state->time, 10.0);
}

}  // namespace
}  // namespace soma::twin
