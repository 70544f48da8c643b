#include "pk_protocol.h"

#include <chrono>
#include <cmath>
#include <utility>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "infer/estimate.h"
#include "model_util.h"
#include "sim/compiled_model.h"

namespace soma::validation {

double OneCompartmentOral(double dose, double t, double lKe, double lKa, double lCl) {
  const double ke = std::exp(lKe), ka = std::exp(lKa);
  return dose * std::exp(lKe + lKa - lCl) * (std::exp(-ke * t) - std::exp(-ka * t)) / (ka - ke);
}

double TwoCompartmentOral(double dose, double t, const TwoCompartmentParameters& p) {
  // Gibaldi and Perrier: with k10 = Cl/V1, k12 = Q/V1, k21 = Q/V2, the
  // disposition rates alpha > beta are the roots of
  // s^2 - (k10 + k12 + k21) s + k10 k21 = 0.
  const double ka = std::exp(p.lKa), cl = std::exp(p.lCl), v1 = std::exp(p.lV1), q = std::exp(p.lQ),
               v2 = std::exp(p.lV2);
  const double k10 = cl / v1, k12 = q / v1, k21 = q / v2;
  const double sum = k10 + k12 + k21;
  const double root = std::sqrt(sum * sum - 4.0 * k10 * k21);
  const double alpha = 0.5 * (sum + root), beta = 0.5 * (sum - root);
  return dose * ka / v1 *
         ((k21 - alpha) / ((ka - alpha) * (beta - alpha)) * std::exp(-alpha * t) +
          (k21 - beta) / ((ka - beta) * (alpha - beta)) * std::exp(-beta * t) +
          (k21 - ka) / ((alpha - ka) * (beta - ka)) * std::exp(-ka * t));
}

namespace {

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

Result<std::vector<TheophSubject>> ReadTheophylline(const std::filesystem::path& csv) {
  std::ifstream f(csv);
  if (!f) return IoError("cannot read " + csv.string());
  std::string line;
  std::getline(f, line);  // header
  std::vector<TheophSubject> subjects;
  int line_no = 1;
  while (std::getline(f, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(Unquote(cell));
    if (cells.size() != 5) {
      return ParseError(csv.string() + ":" + std::to_string(line_no) + ": expected 5 columns");
    }
    double v[4];
    for (int k = 0; k < 4; ++k) {
      try {
        size_t used = 0;
        v[k] = std::stod(cells[k + 1], &used);
        if (used != cells[k + 1].size()) throw std::invalid_argument("trailing characters");
      } catch (const std::exception&) {
        return ParseError(csv.string() + ":" + std::to_string(line_no) + ": column " + std::to_string(k + 2) +
                          ": not a number: '" + cells[k + 1] + "'");
      }
    }
    if (subjects.empty() || subjects.back().id != cells[0]) {
      subjects.push_back({.id = cells[0], .weight_kg = v[0], .dose_mg_per_kg = v[1]});
    }
    subjects.back().time_h.push_back(v[2]);
    subjects.back().conc_mg_per_L.push_back(v[3]);
  }
  return subjects;
}

std::vector<sim::InputChange> SubjectDosing(const TheophSubject& subject) {
  return {{.time = 0.0, .target = "A_depot", .value = subject.dose_mg_per_kg, .mode = sim::InputChange::Mode::kAdd}};
}

Result<model::Model> SubjectModel(const model::Model& oral_model, const TheophSubject& subject,
                                  const std::map<std::string, double>& parameters) {
  model::Model m = oral_model;
  Status s = SetParameter(m, "dose", 0.0);
  for (const auto& [id, value] : parameters) {
    if (s.ok()) s = SetParameter(m, id, value);
  }
  const double last = subject.time_h.empty() ? 0.0 : subject.time_h.back();
  if (s.ok()) s = sim::ApplyInputSchedule(SubjectDosing(subject), {0.0, last}, m);
  if (!s.ok()) return s.WithContext("theophylline subject " + subject.id);
  return m;
}

Result<std::vector<double>> SimulateSubject(const model::Model& oral_model, const TheophSubject& subject,
                                            const std::map<std::string, double>& parameters) {
  auto m = SubjectModel(oral_model, subject, parameters);
  if (!m.ok()) return m.status();
  // The observation times are irregular: one simulation per observation
  // interval would be wasteful, so simulate on a fine grid that contains
  // them. Times in the data have 2 decimals: a 0.01 h grid holds them all.
  const double last = subject.time_h.back();
  sim::SimulationOptions o;
  o.start = 0.0;
  o.end = last;
  o.steps = static_cast<int>(std::lround(last * 100.0));
  o.integrator = sim::IntegratorOptionsForAccuracy(1e-10, 1e-9);
  auto r = SimulateWith(*m, {}, o, {{"C"}});
  if (!r.ok()) return r.status().WithContext("theophylline subject " + subject.id);
  std::vector<double> c;
  for (double t : subject.time_h) {
    const size_t row = static_cast<size_t>(std::lround(t * 100.0));
    if (row >= r->rows || std::abs(r->at(row, 0) - t) > 1e-9) {
      return Internal("observation time " + std::to_string(t) + " h not on the 0.01 h grid");
    }
    c.push_back(r->at(row, 1));
  }
  return c;
}

Result<double> PooledResidualSumOfSquares(const model::Model& oral_model, const std::vector<TheophSubject>& subjects,
                                          const std::map<std::string, double>& parameters) {
  double rss = 0.0;
  for (const TheophSubject& s : subjects) {
    auto c = SimulateSubject(oral_model, s, parameters);
    if (!c.ok()) return c.status();
    for (size_t i = 0; i < c->size(); ++i) rss += std::pow((*c)[i] - s.conc_mg_per_L[i], 2);
  }
  return rss;
}

Result<PooledFits> ReadPooledFits(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f) return IoError("cannot read " + path.string());
  try {
    const nlohmann::json j = nlohmann::json::parse(f);
    PooledFits fits;
    fits.observations = j.at("observations").get<int>();
    fits.subjects = j.at("subjects").get<int>();
    fits.method = j.at("method").get<std::string>();
    auto read = [&](const char* key, PooledFit& fit) {
      const auto& o = j.at(key);
      fit.parameters = o.at("parameters").get<std::map<std::string, double>>();
      fit.standard_errors = o.at("standard_errors").get<std::map<std::string, double>>();
      fit.rss = o.at("rss").get<double>();
      fit.residual_sd = o.at("residual_sd").get<double>();
    };
    read("one_compartment", fits.one_compartment);
    read("two_compartment", fits.two_compartment);
    for (const auto& p : j.at("predictions")) {
      fits.predictions.push_back({p.at("dose").get<double>(), p.at("time").get<double>(),
                                  p.at("one_compartment").get<double>(), p.at("two_compartment").get<double>()});
    }
    return fits;
  } catch (const nlohmann::json::exception& e) {
    return ParseError(path.string() + ": " + e.what());
  }
}

Result<TwoStageFit> FitTwoStage(const model::Model& oral_model, const std::vector<TheophSubject>& subjects,
                                int starts) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> ids = {"lKe", "lKa", "lCl"};
  TwoStageFit out;
  for (const TheophSubject& s : subjects) {
    SOMA_ASSIGN_OR_RETURN(model::Model m, SubjectModel(oral_model, s, {}));
    SOMA_ASSIGN_OR_RETURN(auto cm, sim::CompiledModel::Compile(m));
    infer::EstimationProblem problem;
    problem.model = cm;
    for (const std::string& id : ids) {
      infer::EstimatedParameter p;
      p.id = id;
      p.lower = -6.0;
      p.upper = 3.0;
      problem.parameters.push_back(p);
    }
    infer::EstimatedParameter sigma;
    sigma.id = "sigma";
    sigma.scale = infer::Scale::kLog;
    sigma.lower = 0.01;
    sigma.upper = 10.0;
    problem.parameters.push_back(sigma);
    infer::Experiment e;
    e.id = "subject-" + s.id;
    e.observables.push_back({"C", "C", infer::NoiseModel::Additive(infer::ValueRef::Parameter("sigma"))});
    for (size_t k = 0; k < s.time_h.size(); ++k) e.measurements.push_back({0, s.time_h[k], s.conc_mg_per_L[k]});
    problem.experiments.push_back(e);
    infer::EstimationOptions options;
    options.starts = starts;
    options.seed = 7;
    options.max_iterations = 1000;
    auto fit = infer::Estimate(problem, options);
    if (!fit.ok()) return fit.status().WithContext("theophylline subject " + s.id);
    SubjectFit f;
    f.id = s.id;
    f.nllh = fit->nllh;
    f.converged = fit->converged;
    f.termination = fit->termination;
    for (const infer::ParameterEstimate& pe : fit->estimates) {
      f.estimates[pe.id] = pe.value;
      if (pe.id != "sigma") f.at_bound = f.at_bound || pe.at_bound;
    }
    if (f.estimates["lKe"] > f.estimates["lKa"]) std::swap(f.estimates["lKe"], f.estimates["lKa"]);
    if (f.converged) ++out.converged;
    out.subjects.push_back(f);
  }
  const double n = static_cast<double>(out.subjects.size());
  for (const std::string& id : ids) {
    double sum = 0.0, sum2 = 0.0;
    for (const SubjectFit& f : out.subjects) sum += f.estimates.at(id);
    const double mean = sum / n;
    for (const SubjectFit& f : out.subjects) sum2 += (f.estimates.at(id) - mean) * (f.estimates.at(id) - mean);
    out.mean[id] = mean;
    out.sd[id] = n > 1 ? std::sqrt(sum2 / (n - 1)) : 0.0;
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Result<NlmeReference> ReadNlmeReference(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return IoError(path.string() + ": cannot open");
  try {
    nlohmann::json j;
    in >> j;
    NlmeReference r;
    r.tool = j.at("tool").get<std::string>();
    r.fixed = j.at("fixed").get<std::map<std::string, double>>();
    r.fixed_se = j.at("fixed_se").get<std::map<std::string, double>>();
    r.random_sd = j.at("random_sd").get<std::map<std::string, double>>();
    r.residual_sd = j.at("residual_sd").get<double>();
    return r;
  } catch (const std::exception& e) {
    return ParseError(path.string() + ": " + e.what());
  }
}

}  // namespace soma::validation
