// Ensemble propagation, the stochastic EnKF update, forecasts and alerts.

#include "twin/engine.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>

#include <Eigen/Dense>

#include "ensemble/parallel.h"
#include "scenario/scenario.h"
#include "sim/simulator.h"
#include "uq/random.h"

namespace soma::twin {

namespace {

// run(i) for every member i, on all cores (members are independent: each
// writes only its own results); the first failure in member order.
Status ForEachMember(size_t n, const std::function<Status(size_t)>& run) {
  std::vector<Status> status(n);
  ensemble::ParallelFor(0, static_cast<long>(n), [&](long i) { status[static_cast<size_t>(i)] = run(static_cast<size_t>(i)); });
  for (const Status& st : status) SOMA_RETURN_IF_ERROR(st);
  return Status::Ok();
}

// The members' values of symbol k (values[i][ti * ns + k]) at nt times as a
// series: the noise-free mean, and quantiles at `levels` of draw(i, value)
// (the value itself, or plus an observation-noise draw), drawn time by time
// and member by member.
ForecastSeries SummariseMembers(const std::vector<std::vector<double>>& values, size_t k, size_t ns, size_t nt,
                                const std::vector<double>& levels,
                                const std::function<double(size_t, double)>& draw) {
  ForecastSeries s;
  s.quantiles.assign(levels.size(), std::vector<double>(nt));
  std::vector<double> col(values.size());
  for (size_t ti = 0; ti < nt; ++ti) {
    double mean = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const double v = values[i][ti * ns + k];
      mean += v;
      col[i] = draw(i, v);
    }
    s.mean.push_back(mean / static_cast<double>(values.size()));
    std::sort(col.begin(), col.end());
    for (size_t q = 0; q < levels.size(); ++q) s.quantiles[q][ti] = SortedQuantile(col, levels[q]);
  }
  return s;
}

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

bool IsConstantSymbol(const model::Model& m, const std::string& id) {
  if (const auto* p = m.FindParameter(id)) return p->constant;
  if (const auto* c = m.FindCompartment(id)) return c->constant;
  if (const auto* s = m.FindSpecies(id)) return s->constant;
  return true;
}

// Random streams: one per (purpose, update, member), independent of order.
uq::Rng StreamRng(std::uint64_t seed, std::uint64_t purpose, std::uint64_t step, std::uint64_t member) {
  return uq::MemberRng(uq::SplitMix64(seed ^ uq::SplitMix64(purpose * 0x9e37ull + step)), member);
}

}  // namespace

double SortedQuantile(const std::vector<double>& v, double level) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  double h = (static_cast<double>(v.size()) - 1) * level;
  size_t lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

Result<std::unique_ptr<TwinEngine>> TwinEngine::Create(const TwinDefinition& def, const model::Model& model) {
  std::unique_ptr<TwinEngine> e(new TwinEngine());
  e->def_ = def;
  e->model_ = model;
  SOMA_ASSIGN_OR_RETURN(e->initial_, sim::CompiledModel::Compile(model));
  const sim::CompiledModel& cm = *e->initial_;
  for (size_t i = 0; i < def.observations.size(); ++i) {
    if (!cm.FindSymbol(def.observations[i].symbol)) {
      return NotFound("observations[" + std::to_string(i) + "].symbol = '" + def.observations[i].symbol +
                      "': not a symbol of the model");
    }
  }
  for (size_t i = 0; i < def.alerts.size(); ++i) {
    if (!cm.FindSymbol(def.alerts[i].symbol)) {
      return NotFound("alerts[" + std::to_string(i) + "].symbol = '" + def.alerts[i].symbol + "': not a symbol of the model");
    }
  }
  for (size_t i = 0; i < def.parameters.size(); ++i) {
    const ParameterPrior& p = def.parameters[i];
    std::string path = "parameters[" + std::to_string(i) + "].id = '" + p.id + "'";
    if (!model.FindParameter(p.id) && !model.FindCompartment(p.id)) {
      return NotFound(path + ": not a parameter or compartment of the model");
    }
    if (!p.personalised) continue;
    if (model.FindInitialAssignment(p.id) || model.FindRuleFor(p.id)) {
      return InvalidArgument(path + ": defined by an initial assignment or rule, so it cannot be personalised");
    }
    e->personalised_.push_back(p.id);
    e->log_lower_.push_back(p.lower > 0 ? std::log(p.lower) : -std::numeric_limits<double>::infinity());
    e->log_upper_.push_back(std::isfinite(p.upper) ? std::log(p.upper) : std::numeric_limits<double>::infinity());
  }
  if (def.meal) {
    if (!model.FindParameter(def.meal->rate)) return NotFound("inputs.meal.rate = '" + def.meal->rate + "': not a parameter of the model");
    if (!def.meal->ingested.empty() && !model.FindParameter(def.meal->ingested)) {
      return NotFound("inputs.meal.ingested = '" + def.meal->ingested + "': not a parameter of the model");
    }
  }
  for (size_t i = 0; i < def.doses.size(); ++i) {
    if (!cm.FindSymbol(def.doses[i].target)) {
      return NotFound("inputs.doses[" + std::to_string(i) + "].target = '" + def.doses[i].target + "': not a symbol of the model");
    }
  }
  // Values that change only through events live outside the ODE state; a
  // continued run must be given them.
  e->continuation_model_ = model;
  for (const sim::SymbolInfo& s : cm.symbols()) {
    if (s.role != sim::SymbolRole::kDiscrete || IsConstantSymbol(model, s.id)) continue;
    if (s.kind == model::SymbolKind::kSpecies) {
      return Unsupported("species '" + s.id + "' changes only through events; twins cannot carry such a species across observations");
    }
    if (s.kind != model::SymbolKind::kParameter && s.kind != model::SymbolKind::kCompartment) continue;
    e->carried_.push_back(s.id);
    SOMA_RETURN_IF_ERROR(scenario::SetInitialValue(e->continuation_model_, s.id, 0.0));
  }
  SOMA_ASSIGN_OR_RETURN(e->continuation_, sim::CompiledModel::Compile(e->continuation_model_));
  for (size_t i = 0; i < cm.num_states(); ++i) {
    const std::string& id = cm.state_name(i);
    e->state_ids_.push_back(id);
    const sim::SymbolInfo* s = cm.FindSymbol(id);
    e->state_is_species_.push_back(s && s->kind == model::SymbolKind::kSpecies);
  }
  for (const auto& [id, sd] : def.assimilation.process_noise) {
    auto it = std::find(e->state_ids_.begin(), e->state_ids_.end(), id);
    if (it == e->state_ids_.end()) {
      return InvalidArgument("assimilation.process_noise." + id + ": not an ODE state of the model");
    }
    e->process_noise_.push_back({static_cast<size_t>(it - e->state_ids_.begin()), sd});
  }
  return e;
}

Result<std::vector<sim::InputChange>> TwinEngine::Changes(const Json& interventions) const {
  if (!interventions.is_array() || interventions.empty()) return std::vector<sim::InputChange>{};
  double lo = 0, hi = 0;
  bool first = true;
  for (const Json& iv : interventions) {
    double t = iv.value("time", iv.value("start", 0.0));
    lo = first ? t : std::min(lo, t);
    hi = first ? t : std::max(hi, t);
    first = false;
  }
  Json sc = {{"schema", "soma.scenario/1"}, {"name", "twin inputs"}, {"start", lo}, {"end", hi + 1e6}, {"steps", 1},
             {"interventions", interventions}};
  if (def_.meal) sc["meal_input"] = MealInputJson(*def_.meal);
  SOMA_ASSIGN_OR_RETURN(scenario::Scenario s, scenario::ParseScenario(sc));
  return s.changes;
}

Result<std::shared_ptr<const sim::CompiledModel>> TwinEngine::WindowModel(const Json& interventions, double t0,
                                                                         double t1, bool* compiled) const {
  *compiled = false;
  SOMA_ASSIGN_OR_RETURN(std::vector<sim::InputChange> all, Changes(interventions));
  std::vector<sim::InputChange> in;
  for (const auto& c : all) {
    if (c.time >= t0 && c.time < t1) in.push_back(c);
  }
  if (in.empty()) return continuation_;
  model::Model m = continuation_model_;
  SOMA_RETURN_IF_ERROR(sim::ApplyInputSchedule(in, {t0, t1}, m));
  *compiled = true;
  return sim::CompiledModel::Compile(m);
}

Status TwinEngine::RunMember(const std::shared_ptr<const sim::CompiledModel>& cm, Member& m, double t0, double t1,
                             const std::vector<double>& times, const std::vector<std::string>& symbols,
                             std::vector<double>* values, bool initial) const {
  sim::SimulationOptions o;
  o.start = t0;
  o.end = t1;
  o.output_times = times;
  for (size_t i = 0; i < personalised_.size(); ++i) o.overrides.push_back({personalised_[i], std::exp(m.theta[i])});
  if (!initial) {
    for (size_t i = 0; i < carried_.size(); ++i) o.overrides.push_back({carried_[i], m.carried[i]});
    o.initial_state = m.y;
  }
  std::vector<sim::OutputVariable> outs;
  for (const auto& s : symbols) outs.push_back({s});
  for (const auto& s : carried_) outs.push_back({s});
  sim::Simulator simulator(cm);
  SOMA_ASSIGN_OR_RETURN(sim::SimulationResult r, simulator.Simulate(o, outs));
  const size_t cols = r.columns.size();  // time + outputs
  if (values) {
    values->clear();
    for (size_t row = 0; row < r.rows; ++row) {
      for (size_t k = 0; k < symbols.size(); ++k) values->push_back(r.at(row, 1 + k));
    }
  }
  m.y = r.final_state;
  m.carried.assign(carried_.size(), 0.0);
  for (size_t k = 0; k < carried_.size(); ++k) m.carried[k] = r.at(r.rows - 1, cols - carried_.size() + k);
  return Status::Ok();
}

Result<std::shared_ptr<const sim::CompiledModel>> TwinEngine::HistoryModel(const Json& interventions,
                                                                          double end) const {
  SOMA_ASSIGN_OR_RETURN(std::vector<sim::InputChange> all, Changes(interventions));
  std::vector<sim::InputChange> in;
  for (const auto& c : all) {
    if (c.time >= 0 && c.time <= end) in.push_back(c);
  }
  if (in.empty()) return initial_;
  model::Model m = model_;
  SOMA_RETURN_IF_ERROR(sim::ApplyInputSchedule(in, {0.0, end}, m));
  return sim::CompiledModel::Compile(m);
}

Status TwinEngine::Restart(TwinState& state, const std::vector<std::vector<double>>& thetas) const {
  if (thetas.size() != state.members.size()) return InvalidArgument("Restart: one parameter vector per member is required");
  TwinState next = state;
  for (size_t i = 0; i < thetas.size(); ++i) {
    if (thetas[i].size() != personalised_.size()) return InvalidArgument("Restart: wrong parameter count");
    Member m;
    m.theta = thetas[i];
    for (size_t k = 0; k < m.theta.size(); ++k) m.theta[k] = std::clamp(m.theta[k], log_lower_[k], log_upper_[k]);
    SOMA_RETURN_IF_ERROR(RunMember(initial_, m, 0.0, 1.0, {0.0}, {}, nullptr, true));
    next.members[i] = std::move(m);
  }
  const double target = state.time;
  next.time = 0;
  SOMA_RETURN_IF_ERROR(Advance(next, target));
  next.estimate = Estimate(next);
  state = std::move(next);
  return Status::Ok();
}

Result<TwinState> TwinEngine::Initialise(const std::string& subject, std::int64_t origin) const {
  TwinState s;
  s.subject = subject;
  s.origin = origin;
  s.time = 0;
  s.parameter_ids = personalised_;
  s.state_ids = state_ids_;
  s.carried_ids = carried_;
  auto priors = def_.Personalised();
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (int i = 0; i < def_.assimilation.ensemble_size; ++i) {
    uq::Rng rng = uq::MemberRng(def_.assimilation.seed, static_cast<std::uint64_t>(i));
    Member m;
    for (size_t k = 0; k < priors.size(); ++k) {
      const ParameterPrior& p = *priors[k];
      double value = 0;
      // Draws outside the bounds are redrawn (a truncated prior); 1000
      // tries cover any prior with >= 1 % mass inside the bounds.
      for (int tries = 0; tries < 1000; ++tries) {
        switch (p.kind) {
          case ParameterPrior::Kind::kNormal: value = p.a + p.b * normal(rng); break;
          case ParameterPrior::Kind::kLogNormal: value = p.a * std::exp(p.b * normal(rng)); break;
          case ParameterPrior::Kind::kUniform: value = p.a + (p.b - p.a) * uniform(rng); break;
        }
        if (value > p.lower && value < p.upper && value > 0) break;
        if (tries == 999) return InvalidArgument("parameters: the prior of '" + p.id + "' has almost no mass inside its bounds");
      }
      m.theta.push_back(std::log(value));
    }
    SOMA_RETURN_IF_ERROR(RunMember(initial_, m, 0.0, 1.0, {0.0}, {}, nullptr, true));
    s.members.push_back(std::move(m));
  }
  s.estimate = Estimate(s);
  return s;
}

void TwinEngine::AddProcessNoise(TwinState& s, double dt) const {
  const auto& a = def_.assimilation;
  if (dt <= 0 || (process_noise_.empty() && a.parameter_drift == 0)) return;
  std::normal_distribution<double> normal(0.0, 1.0);
  for (size_t i = 0; i < s.members.size(); ++i) {
    uq::Rng rng = StreamRng(a.seed, 2, static_cast<std::uint64_t>(s.updates), i);
    Member& m = s.members[i];
    for (const auto& [k, sd] : process_noise_) m.y[k] += sd * std::sqrt(dt) * normal(rng);
    if (a.parameter_drift > 0) {
      for (double& th : m.theta) th += a.parameter_drift * std::sqrt(dt) * normal(rng);
    }
  }
}

Status TwinEngine::Advance(TwinState& s, double t) const {
  if (t < s.time) return InvalidArgument("time " + std::to_string(t) + " is before the twin's time " + std::to_string(s.time));
  if (t == s.time) return Status::Ok();
  bool compiled = false;
  SOMA_ASSIGN_OR_RETURN(auto cm, WindowModel(s.interventions, s.time, t, &compiled));
  TwinState next = s;
  AddProcessNoise(next, t - s.time);
  SOMA_RETURN_IF_ERROR(ForEachMember(next.members.size(), [&](size_t i) {
    return RunMember(cm, next.members[i], s.time, t, {t}, {}, nullptr, false);
  }));
  next.time = t;
  s = std::move(next);
  return Status::Ok();
}

Result<AssimilationSummary> TwinEngine::Assimilate(TwinState& state, const std::vector<TwinObservation>& batch) const {
  if (batch.empty()) return InvalidArgument("no observations to assimilate");
  const double t = batch[0].time;
  for (const auto& o : batch) {
    if (o.time != t) return InvalidArgument("observations of one batch must share their time");
  }
  if (t < state.time) {
    return InvalidArgument("observation at model time " + std::to_string(t) + " is before the twin's time " +
                           std::to_string(state.time));
  }
  std::vector<std::string> symbols;
  std::vector<const NoiseModel*> noise;
  for (const auto& o : batch) {
    const ObservationMapping* map = def_.FindObservation(o.loinc);
    if (!map || map->symbol != o.symbol) return InvalidArgument("observation '" + o.loinc + "' is not mapped by the definition");
    if (std::find(symbols.begin(), symbols.end(), o.symbol) == symbols.end()) symbols.push_back(o.symbol);
    noise.push_back(&map->noise);
  }
  AssimilationSummary sum;
  sum.time = t;
  sum.observations = static_cast<int>(batch.size());
  sum.symbols = symbols;
  TwinState next = state;
  const size_t n_members = next.members.size();
  if (n_members < 2) return InvalidArgument("the ensemble needs at least 2 members");

  auto t_prop = Clock::now();
  std::shared_ptr<const sim::CompiledModel> cm = continuation_;
  double end = t;
  if (t > state.time) {
    SOMA_ASSIGN_OR_RETURN(cm, WindowModel(next.interventions, state.time, t, &sum.window_compiled));
  } else {
    end = t + 1.0;  // predictions at the current time: no inputs are applied
  }
  AddProcessNoise(next, t - state.time);
  std::vector<std::vector<double>> pred(n_members);
  SOMA_RETURN_IF_ERROR(ForEachMember(n_members, [&](size_t i) {
    return RunMember(cm, next.members[i], state.time, end, {t}, symbols, &pred[i], false);
  }));
  sum.propagate_seconds = Seconds(t_prop);

  auto t_upd = Clock::now();
  const size_t ny = state_ids_.size(), np = personalised_.size(), n = ny + np, m = batch.size();
  const double N = static_cast<double>(n_members);
  Eigen::MatrixXd X(n, n_members), H(m, n_members);
  Eigen::VectorXd d(m);
  for (size_t j = 0; j < m; ++j) d(j) = batch[j].value;
  for (size_t i = 0; i < n_members; ++i) {
    for (size_t k = 0; k < ny; ++k) X(k, i) = next.members[i].y[k];
    for (size_t k = 0; k < np; ++k) X(ny + k, i) = next.members[i].theta[k];
    for (size_t j = 0; j < m; ++j) {
      size_t col = std::find(symbols.begin(), symbols.end(), batch[j].symbol) - symbols.begin();
      H(j, i) = pred[i][col];
    }
  }
  if (!X.allFinite() || !H.allFinite()) return SolverFailure("ensemble members produced non-finite values");
  Eigen::VectorXd xm = X.rowwise().mean(), hm = H.rowwise().mean();
  Eigen::MatrixXd A = (X.colwise() - xm) * def_.assimilation.inflation;
  Eigen::MatrixXd HA = (H.colwise() - hm) * def_.assimilation.inflation;
  X = A.colwise() + xm;
  H = HA.colwise() + hm;
  Eigen::VectorXd r(m);
  for (size_t j = 0; j < m; ++j) {
    r(j) = noise[j]->Variance(hm(j));
    sum.observed.push_back(d(j));
    sum.predicted_mean.push_back(hm(j));
    sum.predicted_sd.push_back(std::sqrt(HA.row(j).squaredNorm() / (N - 1)));
  }
  Eigen::MatrixXd Chh = HA * HA.transpose() / (N - 1);
  Chh.diagonal() += r;
  Eigen::MatrixXd Cxh = A * HA.transpose() / (N - 1);
  Eigen::MatrixXd K = Chh.ldlt().solve(Cxh.transpose()).transpose();  // n x m
  std::normal_distribution<double> normal(0.0, 1.0);
  for (size_t i = 0; i < n_members; ++i) {
    uq::Rng rng = StreamRng(def_.assimilation.seed, 1, static_cast<std::uint64_t>(state.updates), i);
    Eigen::VectorXd innov(m);
    for (size_t j = 0; j < m; ++j) innov(j) = d(j) + std::sqrt(r(j)) * normal(rng) - H(j, i);
    Eigen::VectorXd x = X.col(i) + K * innov;
    Member& mem = next.members[i];
    for (size_t k = 0; k < ny; ++k) mem.y[k] = state_is_species_[k] ? std::max(0.0, x(k)) : x(k);
    for (size_t k = 0; k < np; ++k) mem.theta[k] = std::clamp(x(ny + k), log_lower_[k], log_upper_[k]);
  }
  sum.update_seconds = Seconds(t_upd);
  next.time = t;
  next.updates += 1;
  next.estimate = Estimate(next);
  state = std::move(next);
  return sum;
}

Result<TwinForecast> TwinEngine::Hindcast(const TwinState& state, double step) const {
  if (!(state.time > 0)) return FailedPrecondition("hindcast: the twin has no history yet (its time is 0)");
  if (!(step > 0)) return InvalidArgument("hindcast: step must be > 0");
  if (state.time / step > 100000) return InvalidArgument("hindcast: more than 100000 output times");
  auto t_start = Clock::now();
  TwinForecast f;
  f.start = 0;
  f.horizon = state.time;
  f.step = step;
  f.levels = def_.forecast.quantiles;
  f.times = OutputGrid(0.0, state.time, step);
  const std::vector<std::string> symbols = ObservedSymbols();
  SOMA_ASSIGN_OR_RETURN(auto cm, HistoryModel(state.interventions, state.time));
  const size_t n_members = state.members.size(), nt = f.times.size(), ns = symbols.size();
  // Each member replays the whole history: on all cores (a server twin with
  // weeks of data and 40 members), each writing its own values.
  std::vector<std::vector<double>> values(n_members);
  SOMA_RETURN_IF_ERROR(ForEachMember(n_members, [&](size_t i) {
    Member m;
    m.theta = state.members[i].theta;
    return RunMember(cm, m, 0.0, state.time, f.times, symbols, &values[i], true);
  }));
  for (size_t k = 0; k < ns; ++k) {
    f.series.push_back(SummariseMembers(values, k, ns, nt, f.levels, [](size_t, double v) { return v; }));
    f.series.back().symbol = symbols[k];
  }
  f.seconds = Seconds(t_start);
  return f;
}

std::vector<double> TwinEngine::OutputGrid(double t0, double t1, double step) {
  std::vector<double> times;
  for (long k = 0;; ++k) {
    double t = t0 + static_cast<double>(k) * step;
    if (t > t1 - 1e-9 * std::max(1.0, std::abs(t1))) break;
    times.push_back(t);
  }
  times.push_back(t1);
  return times;
}

std::vector<std::string> TwinEngine::ObservedSymbols() const {
  std::vector<std::string> symbols;
  for (const auto& o : def_.observations) {
    if (std::find(symbols.begin(), symbols.end(), o.symbol) == symbols.end()) symbols.push_back(o.symbol);
  }
  return symbols;
}

Result<TwinForecast> TwinEngine::Forecast(const TwinState& state, double horizon, double step, std::uint64_t seed) const {
  if (!(horizon > 0) || !(step > 0) || step > horizon) {
    return InvalidArgument("forecast: horizon and step must be > 0 with step <= horizon");
  }
  if (horizon / step > 100000) return InvalidArgument("forecast: more than 100000 output times");
  auto t_start = Clock::now();
  TwinForecast f;
  f.start = state.time;
  f.horizon = horizon;
  f.step = step;
  f.levels = def_.forecast.quantiles;
  const double t0 = state.time, t1 = state.time + horizon;
  f.times = OutputGrid(t0, t1, step);
  std::vector<std::string> symbols = ObservedSymbols();
  std::vector<const NoiseModel*> noise;
  for (const std::string& sym : symbols) {
    auto o = std::find_if(def_.observations.begin(), def_.observations.end(),
                          [&](const ObservationMapping& m) { return m.symbol == sym; });
    noise.push_back(&o->noise);
  }
  for (const auto& a : def_.alerts) {
    if (std::find(symbols.begin(), symbols.end(), a.symbol) != symbols.end()) continue;
    symbols.push_back(a.symbol);
    noise.push_back(nullptr);
  }
  bool compiled = false;
  SOMA_ASSIGN_OR_RETURN(auto cm, WindowModel(state.interventions, t0, t1, &compiled));
  const size_t n_members = state.members.size(), nt = f.times.size(), ns = symbols.size();
  std::vector<std::vector<double>> values(n_members);
  SOMA_RETURN_IF_ERROR(ForEachMember(n_members, [&](size_t i) {
    Member copy = state.members[i];
    return RunMember(cm, copy, t0, t1, f.times, symbols, &values[i], false);
  }));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<uq::Rng> rngs;
  for (size_t i = 0; i < n_members; ++i) rngs.push_back(StreamRng(seed, 3, static_cast<std::uint64_t>(state.updates), i));
  for (size_t k = 0; k < ns; ++k) {
    const NoiseModel* nm = noise[k];
    f.series.push_back(SummariseMembers(values, k, ns, nt, f.levels, [&](size_t i, double v) {
      return nm ? v + std::sqrt(nm->Variance(v)) * normal(rngs[i]) : v;
    }));
    f.series.back().symbol = symbols[k];
    f.series.back().observed = nm != nullptr;
  }
  for (const AlertRule& rule : def_.alerts) {
    size_t k = std::find(symbols.begin(), symbols.end(), rule.symbol) - symbols.begin();
    std::vector<double> firsts;
    for (size_t i = 0; i < n_members; ++i) {
      for (size_t ti = 0; ti < nt && f.times[ti] - t0 <= rule.within + 1e-9; ++ti) {
        double v = values[i][ti * ns + k];
        if ((rule.below && v < *rule.below) || (rule.above && v > *rule.above)) {
          firsts.push_back(f.times[ti]);
          break;
        }
      }
    }
    double p = static_cast<double>(firsts.size()) / static_cast<double>(n_members);
    if (firsts.empty() || p < rule.probability) continue;
    std::sort(firsts.begin(), firsts.end());
    AlertHit hit;
    hit.name = rule.name;
    hit.symbol = rule.symbol;
    hit.probability = p;
    hit.first_time = SortedQuantile(firsts, 0.5);
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s %s %g within %g with probability %.2f", rule.symbol.c_str(),
                  rule.below ? "below" : "above", rule.below ? *rule.below : *rule.above, rule.within, p);
    hit.message = buf;
    f.alerts.push_back(std::move(hit));
  }
  f.seconds = Seconds(t_start);
  return f;
}

Json TwinEngine::Estimate(const TwinState& s) const {
  Json params = Json::array();
  const size_t np = personalised_.size(), n = s.members.size();
  Eigen::MatrixXd T(np, n);
  for (size_t i = 0; i < n; ++i) for (size_t k = 0; k < np; ++k) T(k, i) = s.members[i].theta[k];
  for (size_t k = 0; k < np; ++k) {
    std::vector<double> v(n);
    double mean = 0;
    for (size_t i = 0; i < n; ++i) {
      v[i] = std::exp(T(k, i));
      mean += v[i];
    }
    std::sort(v.begin(), v.end());
    params.push_back({{"id", personalised_[k]}, {"mean", mean / static_cast<double>(n)},
                      {"median", SortedQuantile(v, 0.5)}, {"lower95", SortedQuantile(v, 0.025)},
                      {"upper95", SortedQuantile(v, 0.975)}});
  }
  Json cov = Json::array();
  if (n > 1 && np > 0) {
    Eigen::MatrixXd A = T.colwise() - T.rowwise().mean();
    Eigen::MatrixXd C = A * A.transpose() / static_cast<double>(n - 1);
    for (size_t a = 0; a < np; ++a) {
      Json row = Json::array();
      for (size_t b = 0; b < np; ++b) row.push_back(C(a, b));
      cov.push_back(row);
    }
  }
  return {{"method", "enkf"}, {"time", s.time}, {"parameters", params}, {"log_covariance", cov}};
}

}  // namespace soma::twin
