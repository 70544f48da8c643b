#include "infer/objective.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <numbers>
#include <thread>

#include "sim/simulator.h"

namespace soma::infer::internal {
namespace {

// See Objective::SigmaOffsets.
constexpr double kSigmaOffset = 60.0;

// Steady-state measurements (Measurement::time): outputs at start + 2^k up
// to k = 27 (about 1.3e8 time units, as for pre-equilibration).
constexpr int kSteadyStateDoublings = 27;

bool Settled(double a, double b) { return std::abs(a - b) <= 1e-8 * std::abs(b) + 1e-12; }

double TransformDerivative(Scale s, double m) {
  switch (s) {
    case Scale::kLin: return 1.0;
    case Scale::kLog: return 1.0 / m;
    case Scale::kLog10: return 1.0 / (m * std::numbers::ln10);
  }
  return 1.0;
}

Result<RefIndex> Resolve(const EstimationProblem& p, const ValueRef& r) {
  if (!r.is_parameter()) return RefIndex{r.constant, -1};
  const int k = p.FindParameter(r.parameter);
  if (k < 0) return NotFound("'" + r.parameter + "' is not an estimated parameter");
  return RefIndex{0.0, k};
}

}  // namespace

double Objective::DxDTheta(size_t k, double x) const {
  switch (problem_.parameters[k].scale) {
    case Scale::kLin: return 1.0;
    case Scale::kLog: return x;
    case Scale::kLog10: return x * std::numbers::ln10;
  }
  return 1.0;
}

std::vector<double> Objective::ToTheta(const std::vector<double>& x) const {
  std::vector<double> t(x.size());
  for (size_t k = 0; k < x.size(); ++k) t[k] = ToScale(problem_.parameters[k].scale, x[k]);
  return t;
}

std::vector<double> Objective::FromTheta(const double* theta) const {
  std::vector<double> x(num_parameters());
  for (size_t k = 0; k < x.size(); ++k) x[k] = FromScale(problem_.parameters[k].scale, theta[k]);
  return x;
}

Result<std::shared_ptr<const Objective>> Objective::Prepare(const EstimationProblem& problem,
                                                            const EstimationOptions& options,
                                                            Derivatives derivatives) {
  SOMA_RETURN_IF_ERROR(problem.Validate());
  SOMA_RETURN_IF_ERROR(options.Validate());
  auto obj = std::shared_ptr<Objective>(new Objective());
  obj->problem_ = problem;
  obj->options_ = options;
  const sim::CompiledModel& model = *problem.model;

  std::map<std::string, int> output_index;
  auto output_of = [&](const std::string& symbol) {
    auto [it, inserted] = output_index.emplace(symbol, static_cast<int>(obj->outputs_.size()));
    if (inserted) obj->outputs_.push_back({symbol});
    return it->second;
  };
  std::vector<std::string> plan_parameters;
  std::map<std::string, int> plan_index;

  for (size_t e = 0; e < problem.experiments.size(); ++e) {
    const Experiment& ex = problem.experiments[e];
    const std::string where = "experiment '" + ex.id + "'";
    PreparedExperiment pe;
    std::map<std::string, bool> set_by_condition;
    for (const auto& [sym, ref] : ex.conditions) {
      SOMA_ASSIGN_OR_RETURN(RefIndex r, Resolve(problem, ref));
      set_by_condition[sym] = true;
      if (r.parameter < 0) pe.constants.emplace_back(sym, r.constant);
      else pe.mapped.emplace_back(sym, r.parameter);
    }
    for (size_t k = 0; k < problem.parameters.size(); ++k) {
      const std::string& id = problem.parameters[k].id;
      if (set_by_condition.count(id) || model.FindSymbol(id) == nullptr) continue;
      pe.mapped.emplace_back(id, static_cast<int>(k));
    }
    if (ex.preequilibration) {
      pe.preequilibrate = true;
      std::map<std::string, bool> set_pre;
      for (const auto& [sym, ref] : *ex.preequilibration) {
        SOMA_ASSIGN_OR_RETURN(RefIndex r, Resolve(problem, ref));
        set_pre[sym] = true;
        if (r.parameter < 0) pe.pre_constants.emplace_back(sym, r.constant);
        else pe.pre_mapped.emplace_back(sym, r.parameter);
      }
      for (size_t k = 0; k < problem.parameters.size(); ++k) {
        const std::string& id = problem.parameters[k].id;
        if (set_pre.count(id) || model.FindSymbol(id) == nullptr) continue;
        pe.pre_mapped.emplace_back(id, static_cast<int>(k));
      }
    }
    // Check the symbols once, with the nominal (or midpoint) values.
    std::vector<std::pair<std::string, double>> trial = pe.constants;
    for (const auto& [sym, k] : pe.mapped) trial.emplace_back(sym, problem.parameters[k].lower);
    auto resolved = model.ResolveOverrides(trial);
    if (!resolved.ok()) return resolved.status().WithContext(where);
    for (const auto& [sym, k] : pe.mapped) {
      auto [it, inserted] = plan_index.emplace(sym, static_cast<int>(plan_parameters.size()));
      if (inserted) plan_parameters.push_back(sym);
      pe.mapped_plan_index.push_back(it->second);
    }
    if (pe.preequilibrate) {
      for (const auto& [sym, k] : pe.pre_mapped) {
        auto [it, inserted] = plan_index.emplace(sym, static_cast<int>(plan_parameters.size()));
        if (inserted) plan_parameters.push_back(sym);
        pe.pre_mapped_plan_index.push_back(it->second);
      }
      pe.carrier.assign(problem.parameters.size(), -1);
      for (size_t a = pe.mapped.size(); a-- > 0;) pe.carrier[pe.mapped[a].second] = pe.mapped_plan_index[a];
      // Species the simulation condition sets restart from their start values.
      std::vector<std::string> resets = ex.reset_species;
      for (const auto& [sym, value] : pe.constants) resets.push_back(sym);
      for (const auto& [sym, k] : pe.mapped) resets.push_back(sym);
      for (const std::string& sym : resets) {
        const sim::SymbolInfo* info = model.FindSymbol(sym);
        if (info == nullptr) return NotFound(where + ": no species '" + sym + "' to reset after pre-equilibration");
        if (info->role == sim::SymbolRole::kState && info->kind == model::SymbolKind::kSpecies)
          pe.reset_states.push_back(info->slot - 1);
      }
      std::sort(pe.reset_states.begin(), pe.reset_states.end());
      pe.reset_states.erase(std::unique(pe.reset_states.begin(), pe.reset_states.end()), pe.reset_states.end());
      if (derivatives == Derivatives::kSensitivities) {
        // The estimated parameters' effect on the pre-equilibrated states
        // enters the main simulation's sensitivities through a symbol mapped
        // to the same parameter there.
        for (const auto& [sym, k] : pe.pre_mapped) {
          if (pe.carrier[k] < 0)
            return Unsupported(where + ": estimated parameter '" + problem.parameters[k].id +
                               "' acts in the pre-equilibration (through '" + sym +
                               "') but not in the simulation condition; its sensitivities are not implemented");
        }
      }
    }
    for (const Observable& o : ex.observables) {
      if (model.FindSymbol(o.symbol) == nullptr)
        return NotFound(where + ", observable '" + o.id + "': model has no symbol '" + o.symbol + "'");
      PreparedObservable po;
      po.noise = o.noise;
      po.output = output_of(o.symbol);
      if (o.noise.form == NoiseForm::kModelSymbol) {
        if (model.FindSymbol(o.noise.sigma_symbol) == nullptr)
          return NotFound(where + ", observable '" + o.id + "': model has no symbol '" + o.noise.sigma_symbol +
                          "' for sigma");
        po.sigma_output = output_of(o.noise.sigma_symbol);
      }
      SOMA_ASSIGN_OR_RETURN(po.sigma_abs, Resolve(problem, o.noise.sigma_abs));
      SOMA_ASSIGN_OR_RETURN(po.sigma_rel, Resolve(problem, o.noise.sigma_rel));
      pe.observables.push_back(po);
    }
    std::vector<double> times;
    bool steady_state = false;
    for (const Measurement& m : ex.measurements) {
      if (std::isfinite(m.time)) times.push_back(m.time);
      else steady_state = true;
    }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    if (steady_state) {
      // The run goes on to start + 2^k, k = 0..kSteadyStateDoublings: the
      // steady state is where the predictions stop changing (Measurement::time).
      pe.steady_first_row = times.size();
      for (int k = 0; k <= kSteadyStateDoublings; ++k) {
        const double t = ex.start + std::ldexp(1.0, k);
        if (!times.empty() && t <= times.back()) continue;
        times.push_back(t);
      }
      pe.steady_rows = times.size() - pe.steady_first_row;
      for (const PreparedObservable& po : pe.observables) {
        pe.steady_outputs.push_back(po.output);
        if (po.noise.form == NoiseForm::kModelSymbol) pe.steady_outputs.push_back(po.sigma_output);
      }
    }
    for (const Measurement& m : ex.measurements) {
      if (!std::isfinite(m.time)) {
        pe.row.push_back(PreparedExperiment::kSteadyState);
      } else {
        pe.row.push_back(static_cast<size_t>(std::lower_bound(times.begin(), times.end(), m.time) - times.begin()));
      }
      const PreparedObservable& po = pe.observables[m.observable];
      const bool varies = po.noise.form == NoiseForm::kModelSymbol || po.noise.form != NoiseForm::kAdditive ||
                          po.sigma_abs.parameter >= 0;
      obj->measured_.push_back({e, m.observable, m.value, varies});
    }
    sim::SimulationOptions& so = pe.options;
    so.start = ex.start;
    so.output_times = times;
    so.end = times.back() > ex.start ? times.back() : ex.start + 1.0;
    so.integrator.rel_tol = options.rel_tol;
    so.integrator.abs_tol = options.abs_tol;
    so.integrator.max_steps = options.max_steps;
    // One method for values with and without gradients: sensitivities run
    // BDF, so the value-only evaluations (line searches) do too, and the
    // optimiser sees one smooth objective.
    so.integrator.method = solvers::OdeMethod::kBdf;
    obj->experiments_.push_back(std::move(pe));
  }
  if (!plan_parameters.empty() && derivatives == Derivatives::kSensitivities) {
    sim::SensitivityCompileOptions compile;
    compile.assume_continuous_switches = options.assume_continuous_switches;
    auto plan = sim::PlanSensitivities(problem.model, obj->outputs_, plan_parameters, compile);
    if (!plan.ok()) return plan.status().WithContext("sensitivities of the estimated parameters");
    obj->plan_ = *plan;
  }
  return std::shared_ptr<const Objective>(obj);
}

Result<std::vector<double>> Objective::Preequilibrate(const PreparedExperiment& pe, const std::vector<double>& x,
                                                     std::vector<double>* sensitivities,
                                                     std::chrono::steady_clock::time_point deadline) const {
  sim::SimulationOptions so;
  so.deadline = deadline;
  so.start = pe.options.start;
  so.integrator = pe.options.integrator;
  so.steps = 1;
  so.overrides = pe.pre_constants;
  for (const auto& [sym, k] : pe.pre_mapped) so.overrides.emplace_back(sym, x[k]);
  const sim::Simulator simulator(problem_.model);
  const std::vector<sim::OutputVariable> no_outputs = {{problem_.model->symbols().front().id}};
  std::vector<double> y, s;
  bool first = true;
  double elapsed = 0.0, interval = 1.0;
  while (elapsed < 1e8) {
    so.end = so.start + interval;
    std::vector<double> next, next_s;
    if (sensitivities != nullptr) {
      // States and their sensitivities run on together; both must settle.
      auto r = sim::SimulateWithSensitivities(*plan_, so, {}, first ? nullptr : &s);
      if (!r.ok()) return r.status().WithContext("pre-equilibration");
      next = std::move(r->trajectory.final_state);
      next_s = std::move(r->final_sensitivities);
    } else {
      auto r = simulator.Simulate(so, no_outputs);
      if (!r.ok()) return r.status().WithContext("pre-equilibration");
      next = std::move(r->final_state);
    }
    bool steady = !first;
    for (size_t i = 0; steady && i < next.size(); ++i) steady = Settled(y[i], next[i]);
    // Sensitivities are integrated to the relative tolerance only.
    for (size_t i = 0; steady && i < next_s.size(); ++i)
      steady = std::abs(next_s[i] - s[i]) <= 1e-6 * std::abs(next_s[i]) + 1e-10;
    y = std::move(next);
    s = std::move(next_s);
    first = false;
    if (steady) {
      if (sensitivities != nullptr) *sensitivities = std::move(s);
      return y;
    }
    elapsed += interval;
    so.start = so.end;
    so.initial_state = y;
    interval = elapsed;  // as long again as already run
  }
  return SolverFailure("pre-equilibration did not reach a steady state within 1e8 time units");
}

Result<PointValues> Objective::Compute(const std::vector<double>& x, bool sensitivities, int threads,
                                       std::chrono::steady_clock::time_point deadline) const {
  const size_t n = num_parameters();
  PointValues v;
  v.m.resize(num_measurements());
  v.sigma.resize(num_measurements());
  if (sensitivities) {
    v.dm = Eigen::MatrixXd::Zero(num_measurements(), n);
    v.dsigma = Eigen::MatrixXd::Zero(num_measurements(), n);
  }
  std::vector<double> dxdt(n);
  for (size_t k = 0; k < n; ++k) dxdt[k] = DxDTheta(k, x[k]);
  const bool with_sens = sensitivities && plan_ != nullptr;
  // Pre-equilibrations first: experiments often share one (the same
  // condition values), which then runs once per evaluation.
  std::map<std::vector<std::pair<std::string, double>>, size_t> pre_index;
  std::vector<Preequilibrated> pre;
  std::vector<size_t> pre_slot(experiments_.size(), 0);  // experiment -> its entry of `pre`
  std::vector<size_t> row_base(experiments_.size(), 0);
  for (size_t e = 0, rows = 0; e < experiments_.size(); ++e) {
    row_base[e] = rows;
    rows += problem_.experiments[e].measurements.size();
    const PreparedExperiment& pe = experiments_[e];
    if (!pe.preequilibrate) continue;
    std::vector<std::pair<std::string, double>> key = pe.pre_constants;
    for (const auto& [sym, k] : pe.pre_mapped) key.emplace_back(sym, x[k]);
    std::sort(key.begin(), key.end());
    auto [it, inserted] = pre_index.emplace(std::move(key), pre.size());
    if (inserted) {
      Preequilibrated p;
      auto y = Preequilibrate(pe, x, with_sens ? &p.s : nullptr, deadline);
      if (y.ok()) p.y = std::move(*y);
      else p.status = y.status();  // reported with the experiments that use it
      pre.push_back(std::move(p));
    }
    pre_slot[e] = it->second;
  }
  // Then the experiments, each writing its own rows of v; the first error in
  // experiment order is reported, so results do not depend on `threads`.
  std::vector<Status> status(experiments_.size());
  auto run = [&](size_t e) {
    const Preequilibrated* p = experiments_[e].preequilibrate ? &pre[pre_slot[e]] : nullptr;
    status[e] = ComputeExperiment(e, x, dxdt, sensitivities, p, row_base[e], v, deadline);
  };
  threads = std::min<int>(threads, static_cast<int>(experiments_.size()));
  if (threads <= 1) {
    for (size_t e = 0; e < experiments_.size(); ++e) {
      run(e);
      if (!status[e].ok()) return status[e];
    }
    return v;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t e = next++; e < experiments_.size(); e = next++) run(e);
    });
  }
  for (auto& t : pool) t.join();
  for (const Status& st : status)
    if (!st.ok()) return st;
  return v;
}

Status Objective::ComputeExperiment(size_t e, const std::vector<double>& x, const std::vector<double>& dxdt,
                                    bool sensitivities, const Preequilibrated* pre, size_t row_base,
                                    PointValues& v,
                                    std::chrono::steady_clock::time_point deadline) const {
  const size_t n = num_parameters();
  const PreparedExperiment& pe = experiments_[e];
  const Experiment& ex = problem_.experiments[e];
  sim::SimulationOptions so = pe.options;
  so.deadline = deadline;
  so.overrides = pe.constants;
  for (const auto& [sym, k] : pe.mapped) so.overrides.emplace_back(sym, x[k]);

  const bool with_sens = sensitivities && plan_ != nullptr;
  std::vector<double> initial_sens;  // main simulation, when pre-equilibrated
  if (pe.preequilibrate) {
    if (!pre->status.ok()) return pre->status.WithContext("experiment '" + ex.id + "'");
    const std::vector<double>& y = pre->y;
    const std::vector<double>& pre_sens = pre->s;
    // Species the experiment's conditions set take their condition values
    // (the start workspace before initial_state replaces the states).
    std::vector<double> start;
    if (!pe.reset_states.empty()) {
      auto ws = problem_.model->StartWorkspace(so);
      if (!ws.ok()) return ws.status().WithContext("experiment '" + ex.id + "'");
      start = std::move(*ws);
    }
    so.initial_state = y;
    for (uint32_t i : pe.reset_states) so.initial_state[i] = start[i + 1];
    if (with_sens) {
      // d y0 / d theta_k = sum over the symbols mapped to k in the
      // pre-equilibration, carried by k's symbol in this simulation
      // (Prepare checked there is one); reset species start at constants.
      const size_t ns = y.size();
      initial_sens.assign(pre_sens.size(), 0.0);
      for (size_t a = 0; a < pe.pre_mapped.size(); ++a) {
        const size_t from = static_cast<size_t>(pe.pre_mapped_plan_index[a]) * ns;
        const size_t to = static_cast<size_t>(pe.carrier[pe.pre_mapped[a].second]) * ns;
        for (size_t i = 0; i < ns; ++i) initial_sens[to + i] += pre_sens[from + i];
      }
      // Reset species: the sensitivities of their start values.
      if (!pe.reset_states.empty()) {
        sim::SimulationOptions at_start = so;
        at_start.initial_state.clear();
        auto start_sens = sim::InitialSensitivities(*plan_, at_start);
        if (!start_sens.ok()) return start_sens.status().WithContext("experiment '" + ex.id + "'");
        const size_t np = plan_->parameters.size();
        for (uint32_t i : pe.reset_states)
          for (size_t k = 0; k < np; ++k) initial_sens[k * ns + i] = (*start_sens)[k * ns + i];
      }
    }
  }
  sim::SensitivityResult sens;
  if (with_sens) {
    auto r = sim::SimulateWithSensitivities(*plan_, so, {}, pe.preequilibrate ? &initial_sens : nullptr);
    if (!r.ok()) return r.status().WithContext("experiment '" + ex.id + "'");
    sens = std::move(*r);
  } else {
    auto r = sim::Simulator(problem_.model).Simulate(so, outputs_);
    if (!r.ok()) return r.status().WithContext("experiment '" + ex.id + "'");
    sens.trajectory = std::move(*r);
  }
  const sim::SimulationResult& traj = sens.trajectory;
  size_t steady_row = PreparedExperiment::kSteadyState;
  if (pe.steady_rows > 0) {
    // The first grid row from which the predictions this experiment uses
    // (and their sensitivities) no longer change over two doublings.
    auto settled = [&](size_t a, size_t b) {
      for (size_t o : pe.steady_outputs) {
        if (!Settled(traj.at(a, 1 + o), traj.at(b, 1 + o))) return false;
        if (!with_sens) continue;
        for (int k : pe.mapped_plan_index)
          if (!Settled(sens.at(a, o, k), sens.at(b, o, k))) return false;
      }
      return true;
    };
    for (size_t k = 2; k < pe.steady_rows; ++k) {
      const size_t r = pe.steady_first_row + k;
      if (settled(r - 2, r - 1) && settled(r - 1, r)) {
        steady_row = r;
        break;
      }
    }
    if (steady_row == PreparedExperiment::kSteadyState) {
      return SolverFailure("experiment '" + ex.id + "': no steady state for the measurements at time inf: the "
                           "predictions still change after " + std::to_string(std::ldexp(1.0, kSteadyStateDoublings)) +
                           " time units");
    }
  }
  auto value_of = [&](const RefIndex& r) { return r.parameter < 0 ? r.constant : x[r.parameter]; };
  for (size_t i = 0; i < ex.measurements.size(); ++i) {
    const size_t gi = row_base + i;
    const Measurement& meas = ex.measurements[i];
    const PreparedObservable& po = pe.observables[meas.observable];
    const size_t row = pe.row[i] == PreparedExperiment::kSteadyState ? steady_row : pe.row[i];
    const double m = traj.at(row, 1 + po.output);
    v.m[gi] = m;
    Eigen::VectorXd dm = Eigen::VectorXd::Zero(n);
    if (with_sens) {
      for (size_t a = 0; a < pe.mapped.size(); ++a) {
        const int k = pe.mapped[a].second;
        dm[k] += sens.at(row, po.output, pe.mapped_plan_index[a]) * dxdt[k];
      }
    }
    const double sa = value_of(po.sigma_abs), sr = value_of(po.sigma_rel);
    Eigen::VectorXd dsa = Eigen::VectorXd::Zero(n), dsr = Eigen::VectorXd::Zero(n);
    if (po.sigma_abs.parameter >= 0) dsa[po.sigma_abs.parameter] = dxdt[po.sigma_abs.parameter];
    if (po.sigma_rel.parameter >= 0) dsr[po.sigma_rel.parameter] = dxdt[po.sigma_rel.parameter];
    double sigma = 0.0;
    Eigen::VectorXd ds = Eigen::VectorXd::Zero(n);
    switch (po.noise.form) {
      case NoiseForm::kAdditive:
        sigma = sa;
        ds = dsa;
        break;
      case NoiseForm::kProportional:
        sigma = sr * std::abs(m);
        ds = dsr * std::abs(m) + sr * (m >= 0 ? 1.0 : -1.0) * dm;
        break;
      case NoiseForm::kCombined:
        sigma = std::sqrt(sa * sa + sr * sr * m * m);
        if (sigma > 0) ds = (sa * dsa + sr * m * (dsr * m + sr * dm)) / sigma;
        break;
      case NoiseForm::kModelSymbol:
        sigma = traj.at(row, 1 + po.sigma_output);
        if (with_sens) {
          for (size_t a = 0; a < pe.mapped.size(); ++a) {
            const int k = pe.mapped[a].second;
            ds[k] += sens.at(row, po.sigma_output, pe.mapped_plan_index[a]) * dxdt[k];
          }
        }
        break;
    }
    v.sigma[gi] = sigma;
    if (sensitivities) {
      v.dm.row(gi) = dm.transpose();
      v.dsigma.row(gi) = ds.transpose();
    }
  }
  return Status::Ok();
}

double Objective::Nllh(const PointValues& v) const {
  double total = 0.0;
  for (size_t i = 0; i < measured_.size(); ++i) {
    const NoiseModel& n = experiments_[measured_[i].experiment].observables[measured_[i].observable].noise;
    total += MeasurementNllh(n.distribution, n.scale, measured_[i].value, v.m[i], v.sigma[i]);
  }
  return total;
}

double Objective::NegLogPrior(const std::vector<double>& x) const {
  double total = 0.0;
  for (size_t k = 0; k < num_parameters(); ++k)
    total += problem_.parameters[k].prior.NegLogDensity(x[k], problem_.parameters[k].scale);
  return total;
}

std::vector<double> Objective::SigmaOffsets(const PointValues& v) const {
  std::vector<double> c(measured_.size(), 0.0);
  for (size_t i = 0; i < measured_.size(); ++i)
    if (measured_[i].sigma_varies && v.sigma[i] > 0) c[i] = kSigmaOffset - 2 * std::log(v.sigma[i]);
  return c;
}

Status Objective::Residuals(const PointValues& v, const std::vector<double>& x, const std::vector<double>& offsets,
                            double* res, double* jac) const {
  const size_t n = num_parameters();
  const size_t nr = num_residuals();
  if (jac) std::fill(jac, jac + nr * n, 0.0);
  for (size_t i = 0; i < measured_.size(); ++i) {
    const NoiseModel& noise = experiments_[measured_[i].experiment].observables[measured_[i].observable].noise;
    const double m = v.m[i], sigma = v.sigma[i], y = measured_[i].value;
    if (!std::isfinite(m)) return SolverFailure("prediction of measurement " + std::to_string(i) + " is not finite");
    if (!(sigma > 0) || !std::isfinite(sigma))
      return InvalidArgument("sigma of measurement " + std::to_string(i) + " = " + std::to_string(sigma) +
                             "; must be > 0");
    if (noise.scale != Scale::kLin && !(m > 0))
      return InvalidArgument("prediction of measurement " + std::to_string(i) + " = " + std::to_string(m) +
                             " is not positive on scale " + std::string(ScaleName(noise.scale)));
    const double d = ToScale(noise.scale, y) - ToScale(noise.scale, m);
    const bool varies = measured_[i].sigma_varies;
    const double log_term = varies ? 2 * std::log(sigma) + offsets[i] : 0.0;
    if (varies && !(log_term > 0))
      return InvalidArgument("sigma of measurement " + std::to_string(i) + " fell below exp(-30) times its start value");
    double& r1 = res[2 * i];
    double& r2 = res[2 * i + 1];
    r2 = std::sqrt(log_term);
    const double tp = TransformDerivative(noise.scale, m);
    if (noise.distribution == NoiseDistribution::kNormal) {
      r1 = d / sigma;
    } else {
      r1 = std::sqrt(2 * std::abs(d) / sigma);
    }
    if (!jac) continue;
    double* j1 = jac + (2 * i) * n;
    double* j2 = jac + (2 * i + 1) * n;
    for (size_t k = 0; k < n; ++k) {
      const double dd = -tp * v.dm(i, k);
      const double ds = v.dsigma(i, k);
      if (noise.distribution == NoiseDistribution::kNormal) {
        j1[k] = dd / sigma - d / (sigma * sigma) * ds;
      } else if (r1 > 1e-8) {
        const double sgn = d >= 0 ? 1.0 : -1.0;
        j1[k] = (sgn * dd / sigma - std::abs(d) / (sigma * sigma) * ds) / r1;
      }
      j2[k] = varies ? ds / sigma / r2 : 0.0;
    }
  }
  const size_t base = 2 * measured_.size();
  for (size_t k = 0; k < n; ++k) {
    const EstimatedParameter& p = problem_.parameters[k];
    double& r1 = res[base + 2 * k];
    double& r2 = res[base + 2 * k + 1];
    r1 = 0.0;
    r2 = 0.0;
    double d1 = 0.0, d2 = 0.0;
    const double dxdt = DxDTheta(k, x[k]);
    switch (p.prior.kind) {
      case Prior::Kind::kNone:
      case Prior::Kind::kUniform:
      case Prior::Kind::kParameterScaleUniform:
        break;
      case Prior::Kind::kNormal:
        r1 = (x[k] - p.prior.a) / p.prior.b;
        d1 = dxdt / p.prior.b;
        break;
      case Prior::Kind::kParameterScaleNormal:
        r1 = (ToScale(p.scale, x[k]) - p.prior.a) / p.prior.b;
        d1 = 1.0 / p.prior.b;
        break;
      case Prior::Kind::kLogNormal: {
        if (!(x[k] > 0)) return InvalidArgument("parameter '" + p.id + "' must be > 0 under its log-normal prior");
        const double dlog = dxdt / x[k];
        r1 = (std::log(x[k]) - p.prior.a) / p.prior.b;
        d1 = dlog / p.prior.b;
        const double offset = 2.0 * std::max(0.0, -std::log(p.lower)) + 2.0;
        r2 = std::sqrt(2 * std::log(x[k]) + offset);
        d2 = dlog / r2;
        break;
      }
      // Laplace family: |u - a| / b as r1^2 / 2 with r1 = sqrt(2 |u - a| / b),
      // as for Laplace noise (no derivative at u = a, where r1 = 0).
      case Prior::Kind::kLaplace:
      case Prior::Kind::kParameterScaleLaplace:
      case Prior::Kind::kLogLaplace: {
        double u = x[k], du = dxdt;
        if (p.prior.kind == Prior::Kind::kParameterScaleLaplace) {
          u = ToScale(p.scale, x[k]);
          du = 1.0;
        } else if (p.prior.kind == Prior::Kind::kLogLaplace) {
          if (!(x[k] > 0)) return InvalidArgument("parameter '" + p.id + "' must be > 0 under its log-Laplace prior");
          u = std::log(x[k]);
          du = dxdt / x[k];
          // The density's 1/x: ln x as for the log-normal prior.
          const double offset = 2.0 * std::max(0.0, -std::log(p.lower)) + 2.0;
          r2 = std::sqrt(2 * std::log(x[k]) + offset);
          d2 = du / r2;
        }
        const double dev = u - p.prior.a;
        r1 = std::sqrt(2 * std::abs(dev) / p.prior.b);
        if (r1 > 1e-8) d1 = (dev >= 0 ? 1.0 : -1.0) * du / (p.prior.b * r1);
        break;
      }
    }
    if (jac) {
      jac[(base + 2 * k) * n + k] = d1;
      jac[(base + 2 * k + 1) * n + k] = d2;
    }
  }
  for (size_t i = 0; i < nr; ++i)
    if (!std::isfinite(res[i])) return InvalidArgument("residual " + std::to_string(i) + " is not finite");
  if (jac)
    for (size_t i = 0; i < nr * n; ++i)
      if (!std::isfinite(jac[i])) return InvalidArgument("a sensitivity is not finite");
  return Status::Ok();
}

Eigen::MatrixXd Objective::Fisher(const PointValues& v, const std::vector<double>& x) const {
  const size_t n = num_parameters();
  Eigen::MatrixXd f = Eigen::MatrixXd::Zero(n, n);
  for (size_t i = 0; i < measured_.size(); ++i) {
    const NoiseModel& noise = experiments_[measured_[i].experiment].observables[measured_[i].observable].noise;
    const double sigma = v.sigma[i];
    const Eigen::VectorXd g = TransformDerivative(noise.scale, v.m[i]) * v.dm.row(i).transpose();
    const Eigen::VectorXd h = v.dsigma.row(i).transpose() / sigma;
    const double d_fac = noise.distribution == NoiseDistribution::kNormal ? 2.0 : 1.0;
    f += g * g.transpose() / (sigma * sigma) + d_fac * h * h.transpose();
  }
  for (size_t k = 0; k < n; ++k) {
    const Prior& pr = problem_.parameters[k].prior;
    const double dxdt = DxDTheta(k, x[k]);
    switch (pr.kind) {
      case Prior::Kind::kNormal: f(k, k) += dxdt * dxdt / (pr.b * pr.b); break;
      case Prior::Kind::kLogNormal: f(k, k) += std::pow(dxdt / x[k], 2) / (pr.b * pr.b); break;
      case Prior::Kind::kParameterScaleNormal: f(k, k) += 1.0 / (pr.b * pr.b); break;
      // The Fisher information of a Laplace location, 1 / b^2 (as for Laplace noise).
      case Prior::Kind::kLaplace: f(k, k) += dxdt * dxdt / (pr.b * pr.b); break;
      case Prior::Kind::kLogLaplace: f(k, k) += std::pow(dxdt / x[k], 2) / (pr.b * pr.b); break;
      case Prior::Kind::kParameterScaleLaplace: f(k, k) += 1.0 / (pr.b * pr.b); break;
      default: break;
    }
  }
  return f;
}

}  // namespace soma::infer::internal
