#pragma once
// The numerical core of a twin: an ensemble of parameter values and model
// states, propagated with sim::Simulator, updated by a stochastic ensemble
// Kalman filter when observations arrive, and run forward for forecasts with
// prediction intervals and alert rules. docs/twins.md describes the method.
//
// Propagation: every member runs from the twin's time to the next
// observation time, continuing from its stored ODE states
// (SimulationOptions::initial_state) with its personalised parameters and the
// carried values of event-driven inputs as overrides; the interventions in the
// window [t0, t1) become exact SBML events (sim/input_schedule.h), compiled
// once per window and shared by all members. A change at exactly t1 belongs
// to the next window.
//
// Update (Evensen 2009, ch. 9; Burgers et al. 1998): with the augmented member
// vectors x_i = (y_i, theta_i), predicted observations h_i and the diagonal
// noise covariance R (at the ensemble-mean prediction),
//   K = C_xh (C_hh + R)^-1,   x_i += K (d + eps_i - h_i),  eps_i ~ N(0, R).
// `inflation` scales anomalies (x - mean and h - mean) before the update.
// Process noise (sd per sqrt(time unit)) and parameter drift are added at
// the start of each propagation window, so the forecast covariance is
// F (P + Q dt) F^T for a linear model. After the update species states are
// clipped at 0 and log-parameters at their bounds.
//
// Members are propagated on all cores (ensemble::ParallelFor) in Advance,
// Assimilate, Forecast and Hindcast; each member's run is independent, so
// results do not depend on the thread count.
//
// Thread safety: a TwinEngine is immutable after Create and may be shared;
// the TwinState passed in is the caller's.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/compiled_model.h"
#include "sim/input_schedule.h"
#include "twin/definition.h"
#include "twin/state.h"

namespace soma::twin {

struct AssimilationSummary {
  int observations = 0;
  double time = 0;
  std::vector<std::string> symbols;
  std::vector<double> observed;
  std::vector<double> predicted_mean;  // before the update
  std::vector<double> predicted_sd;    // ensemble spread, before the update (no noise)
  double propagate_seconds = 0;
  double update_seconds = 0;
  bool window_compiled = false;        // a model with this window's inputs was compiled
};

struct ForecastSeries {
  std::string symbol;
  bool observed = false;              // quantiles include observation noise
  std::vector<double> mean;           // noise-free ensemble mean, per time
  std::vector<std::vector<double>> quantiles;  // [level][time]
};

struct AlertHit {
  std::string name;
  std::string symbol;
  double probability = 0;  // fraction of members crossing within the window
  double first_time = 0;   // median first crossing time (model time)
  std::string message;
};

struct TwinForecast {
  double start = 0;
  double horizon = 0;
  double step = 0;
  std::vector<double> times;
  std::vector<double> levels;
  std::vector<ForecastSeries> series;
  std::vector<AlertHit> alerts;
  double seconds = 0;
};

class TwinEngine {
 public:
  // Checks the definition's symbols against the model and compiles it.
  // Errors: kNotFound (a symbol missing from the model, naming the field),
  // kInvalidArgument (a personalised parameter defined by an initial
  // assignment or rule; process noise on a symbol that is not an ODE state),
  // kUnsupported (a non-constant species changed only by events, which a
  // continued run cannot carry), compile errors.
  static Result<std::unique_ptr<TwinEngine>> Create(const TwinDefinition& def, const model::Model& model);

  const TwinDefinition& definition() const { return def_; }

  // A fresh state at model time 0: members' personalised parameters drawn
  // from the prior (member i from uq::MemberRng(seed, i)), their model
  // states the model's initial values under those parameters.
  Result<TwinState> Initialise(const std::string& subject, std::int64_t origin) const;

  // Assimilates observations taken at one time t >= state.time (all of the
  // batch at the same time). Errors: kInvalidArgument (empty batch, mixed
  // times, t before the twin's time, a symbol not mapped), solver failures.
  // On error the state is unchanged.
  Result<AssimilationSummary> Assimilate(TwinState& state, const std::vector<TwinObservation>& batch) const;

  // Runs every member to t >= state.time without an update.
  Status Advance(TwinState& state, double t) const;

  // Forecast from state.time over `horizon` on a grid of `step` (both > 0).
  // `seed` selects the observation-noise draws.
  Result<TwinForecast> Forecast(const TwinState& state, double horizon, double step, std::uint64_t seed) const;

  // The twin's history replayed with its current personalised parameters:
  // every member runs from model time 0 (the model's initial state under its
  // parameters) to state.time through all recorded interventions, on a grid
  // of `step` (> 0) ending at state.time. Mean and quantiles are over the
  // members, without observation noise or the filter's state updates, so
  // the band is the spread the parameter uncertainty alone gives: the
  // personalised model's fit to the observations, to compare with them.
  // Errors: kFailedPrecondition when the twin has no history (time 0),
  // kInvalidArgument for a bad step or more than 100000 output times.
  Result<TwinForecast> Hindcast(const TwinState& state, double step) const;

  // The personalised parameters' ensemble summary: {"method": "enkf",
  // "parameters": [{"id", "mean", "median", "lower95", "upper95"}],
  // "log_covariance": [[...]]}.
  Json Estimate(const TwinState& state) const;

  // The interventions of `state` as input changes (model time).
  Result<std::vector<sim::InputChange>> Changes(const Json& interventions) const;

  // The model as given, with every intervention in [0, end] as events: one
  // uninterrupted run over a twin's history (for fitting).
  Result<std::shared_ptr<const sim::CompiledModel>> HistoryModel(const Json& interventions, double end) const;

  // Replaces the members' log-parameters by `thetas` (one vector per
  // member, personalised order), restarts them from the model's initial
  // state and runs them to the state's time through its interventions.
  Status Restart(TwinState& state, const std::vector<std::vector<double>>& thetas) const;

  const std::vector<std::string>& personalised() const { return personalised_; }

 private:
  TwinEngine() = default;
  Result<std::shared_ptr<const sim::CompiledModel>> WindowModel(const Json& interventions, double t0,
                                                                double t1, bool* compiled) const;
  Status RunMember(const std::shared_ptr<const sim::CompiledModel>& cm, Member& m, double t0, double t1,
                   const std::vector<double>& times, const std::vector<std::string>& symbols,
                   std::vector<double>* values, bool initial) const;
  void AddProcessNoise(TwinState& state, double dt) const;
  // t0, t0 + step, ... (short of t1 by more than rounding), then t1.
  static std::vector<double> OutputGrid(double t0, double t1, double step);
  // The observed symbols, each once, in definition order.
  std::vector<std::string> ObservedSymbols() const;

  TwinDefinition def_;
  model::Model model_;
  model::Model continuation_model_;
  std::shared_ptr<const sim::CompiledModel> initial_;       // the model as given
  std::shared_ptr<const sim::CompiledModel> continuation_;  // carried symbols settable
  std::vector<std::string> personalised_;
  std::vector<double> log_lower_, log_upper_;
  std::vector<std::string> carried_;
  std::vector<std::string> state_ids_;
  std::vector<bool> state_is_species_;
  std::vector<std::pair<size_t, double>> process_noise_;  // state index, sd
};

// Quantile of sorted values (linear interpolation between order statistics,
// Hyndman & Fan type 7).
double SortedQuantile(const std::vector<double>& sorted, double level);

}  // namespace soma::twin
