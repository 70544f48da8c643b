// Builds an infer::EstimationProblem from the tables of a PEtab v1 problem.

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "expr/parse.h"
#include "formats/petab/petab.h"
#include "formats/sbml/sbml_import.h"
#include "sim/compiled_model.h"

namespace soma::formats::petab {
namespace {

using expr::Expr;
using expr::Op;

std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (s == "inf" || s == "Inf" || s == "+inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf" || s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan" || s == "NaN" || s == "NAN") return std::numeric_limits<double>::quiet_NaN();
  const char* b = s.data();
  if (*b == '+') ++b;
  double v = 0;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> SplitSemicolons(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t e = s.find(';', start);
    std::string part = s.substr(start, e == std::string::npos ? std::string::npos : e - start);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    out.push_back(part);
    if (e == std::string::npos) break;
    start = e + 1;
  }
  return out;
}

// PEtab formulas are SymPy expressions: '**' is a power and log(x) the
// natural logarithm (the infix parser reads one-argument log as log10).
Expr NaturalLogs(Expr e) {
  for (Expr& a : e.args) a = NaturalLogs(std::move(a));
  if (e.op == Op::kLog && e.args.size() == 1) e.op = Op::kLn;
  return e;
}

Result<Expr> ParseFormula(std::string text, const std::string& where) {
  for (size_t p = text.find("**"); p != std::string::npos; p = text.find("**", p)) text.replace(p, 2, "^");
  auto e = expr::ParseExpression(text);
  if (!e.ok()) return ParseError(where + ": " + e.status().message());
  return NaturalLogs(std::move(*e));
}

struct ParameterRow {
  infer::Scale scale = infer::Scale::kLin;
  double lower = 0, upper = 0, nominal = 0;
  bool estimate = false;
  infer::Prior prior;
  std::string prior_error;
};

Result<infer::Scale> ParseScale(const std::string& s, const std::string& where) {
  if (s.empty() || s == "lin") return infer::Scale::kLin;
  if (s == "log") return infer::Scale::kLog;
  if (s == "log10") return infer::Scale::kLog10;
  return Unsupported(where + ": scale '" + s + "' (lin, log, log10 are supported)");
}

struct Observed {
  Expr formula;
  Expr noise;
  infer::Scale scale = infer::Scale::kLin;
  infer::NoiseDistribution distribution = infer::NoiseDistribution::kNormal;
};

// Replaces <prefix><n>_<observable> placeholders by the given values.
Result<Expr> Fill(Expr e, const std::string& prefix, const std::string& observable,
                  const std::vector<std::string>& values, const std::map<std::string, ParameterRow>& params,
                  const std::string& where) {
  std::set<std::string> symbols;
  expr::ForEachSymbol(e, [&](const std::string& s) { symbols.insert(s); });
  for (const std::string& s : symbols) {
    if (s.rfind(prefix, 0) != 0) continue;
    const std::string suffix = "_" + observable;
    if (s.size() <= prefix.size() + suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string digits = s.substr(prefix.size(), s.size() - prefix.size() - suffix.size());
    int n = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || p != digits.data() + digits.size() || n < 1) continue;
    if (static_cast<size_t>(n) > values.size())
      return InvalidArgument(where + ": placeholder " + s + " has no value (" + std::to_string(values.size()) +
                             " given)");
    const std::string& v = values[n - 1];
    Expr replacement;
    if (auto num = ParseNumber(v)) {
      replacement = Expr::Number(*num);
    } else if (params.count(v)) {
      replacement = Expr::Symbol(v);
    } else {
      return NotFound(where + ": placeholder " + s + " = '" + v + "' is neither a number nor a parameter");
    }
    e = expr::Substitute(e, s, replacement);
  }
  return e;
}

}  // namespace

Result<PetabImport> LoadPetab(const std::filesystem::path& yaml) {
  SOMA_ASSIGN_OR_RETURN(PetabFiles files, ReadPetabYaml(yaml));
  SOMA_ASSIGN_OR_RETURN(SbmlImport sbml, LoadSbmlFile(files.sbml));
  model::Model& m = sbml.model;
  SOMA_ASSIGN_OR_RETURN(Table ptable, ReadTsv(files.parameters));
  auto concat = [](const std::vector<std::filesystem::path>& paths) -> Result<Table> {
    Table all;
    for (const auto& p : paths) {
      SOMA_ASSIGN_OR_RETURN(Table t, ReadTsv(p));
      for (const std::string& c : t.columns)
        if (all.Column(c) < 0) all.columns.push_back(c);
      for (size_t r = 0; r < t.rows.size(); ++r) {
        std::vector<std::string> row(all.columns.size());
        for (size_t c = 0; c < t.columns.size(); ++c) row[all.Column(t.columns[c])] = t.rows[r][c];
        all.rows.push_back(std::move(row));
      }
    }
    for (auto& r : all.rows) r.resize(all.columns.size());
    return all;
  };
  SOMA_ASSIGN_OR_RETURN(Table ctable, concat(files.conditions));
  SOMA_ASSIGN_OR_RETURN(Table otable, concat(files.observables));
  SOMA_ASSIGN_OR_RETURN(Table mtable, concat(files.measurements));

  PetabImport out;
  // Parameters.
  std::map<std::string, ParameterRow> params;
  std::vector<std::string> param_order;
  for (const char* col : {"parameterId", "nominalValue"})
    if (ptable.Column(col) < 0) return ParseError(files.parameters.string() + ": no column " + col);
  for (size_t r = 0; r < ptable.rows.size(); ++r) {
    const std::string id = ptable.Cell(r, "parameterId");
    const std::string where = files.parameters.filename().string() + " row " + std::to_string(r + 2) + " ('" + id + "')";
    ParameterRow p;
    SOMA_ASSIGN_OR_RETURN(p.scale, ParseScale(ptable.Cell(r, "parameterScale"), where));
    auto nominal = ParseNumber(ptable.Cell(r, "nominalValue"));
    if (!nominal) return ParseError(where + ": nominalValue '" + ptable.Cell(r, "nominalValue") + "' is not a number");
    p.nominal = *nominal;
    p.estimate = ptable.Cell(r, "estimate") == "1";
    auto lo = ParseNumber(ptable.Cell(r, "lowerBound")), hi = ParseNumber(ptable.Cell(r, "upperBound"));
    p.lower = lo.value_or(-std::numeric_limits<double>::infinity());
    p.upper = hi.value_or(std::numeric_limits<double>::infinity());
    if (p.estimate && (!lo || !hi)) return ParseError(where + ": an estimated parameter needs lowerBound and upperBound");
    const std::string prior = ptable.Cell(r, "objectivePriorType");
    if (!prior.empty() && p.estimate) {
      std::vector<std::string> args = SplitSemicolons(ptable.Cell(r, "objectivePriorParameters"));
      std::vector<double> a;
      for (const auto& s : args) a.push_back(ParseNumber(s).value_or(std::nan("")));
      if (a.size() != 2 || !std::isfinite(a[0]) || !std::isfinite(a[1])) {
        p.prior_error = where + ": objectivePriorParameters '" + ptable.Cell(r, "objectivePriorParameters") +
                        "' must be two numbers";
      } else if (prior == "normal") {
        p.prior = infer::Prior::Normal(a[0], a[1]);
      } else if (prior == "logNormal") {
        p.prior = infer::Prior::LogNormal(a[0], a[1]);
      } else if (prior == "uniform") {
        p.prior = infer::Prior::Uniform(a[0], a[1]);
      } else if (prior == "parameterScaleNormal") {
        p.prior = {infer::Prior::Kind::kParameterScaleNormal, a[0], a[1]};
      } else if (prior == "parameterScaleUniform") {
        p.prior = {infer::Prior::Kind::kParameterScaleUniform, a[0], a[1]};
      } else if (prior == "laplace") {
        p.prior = infer::Prior::Laplace(a[0], a[1]);
      } else if (prior == "logLaplace") {
        p.prior = infer::Prior::LogLaplace(a[0], a[1]);
      } else if (prior == "parameterScaleLaplace") {
        p.prior = {infer::Prior::Kind::kParameterScaleLaplace, a[0], a[1]};
      } else {
        p.prior_error = where + ": objectivePriorType '" + prior + "' is not supported";
      }
    }
    if (!params.emplace(id, p).second) return InvalidArgument(where + ": parameterId listed twice");
    param_order.push_back(id);
    if (!p.prior_error.empty() && out.prior_status.ok()) out.prior_status = Unsupported(p.prior_error);
  }
  // Nominal values into the model; new parameters for ids it lacks.
  for (const std::string& id : param_order) {
    const ParameterRow& p = params[id];
    bool found = false;
    for (model::Parameter& mp : m.parameters)
      if (mp.id == id) {
        if (m.FindRuleFor(id) == nullptr && m.FindInitialAssignment(id) == nullptr) mp.value = p.nominal;
        found = true;
      }
    if (found) continue;
    if (model::KindOf(m, id) != model::SymbolKind::kNone) {
      if (p.estimate) continue;  // compartments / species: set through the default mapping
      return Unsupported("parameter table: '" + id + "' is a model " +
                         "compartment or species with estimate = 0; set it in the conditions table instead");
    }
    m.parameters.push_back({.id = id, .value = p.nominal});
  }
  auto ref_of = [&](const std::string& token, const std::string& where) -> Result<infer::ValueRef> {
    if (auto num = ParseNumber(token)) return infer::ValueRef::Constant(*num);
    auto it = params.find(token);
    if (it == params.end())
      return NotFound(where + ": '" + token + "' is neither a number nor an id of the parameters table");
    if (it->second.estimate) return infer::ValueRef::Parameter(token);
    return infer::ValueRef::Constant(it->second.nominal);
  };

  // Observables.
  std::map<std::string, Observed> observed;
  for (size_t r = 0; r < otable.rows.size(); ++r) {
    const std::string id = otable.Cell(r, "observableId");
    const std::string where = "observables table, observable '" + id + "'";
    Observed o;
    SOMA_ASSIGN_OR_RETURN(o.formula, ParseFormula(otable.Cell(r, "observableFormula"), where + ": observableFormula"));
    std::string noise = otable.Cell(r, "noiseFormula");
    if (noise.empty()) return ParseError(where + ": noiseFormula is empty");
    SOMA_ASSIGN_OR_RETURN(o.noise, ParseFormula(noise, where + ": noiseFormula"));
    SOMA_ASSIGN_OR_RETURN(o.scale, ParseScale(otable.Cell(r, "observableTransformation"), where));
    const std::string dist = otable.Cell(r, "noiseDistribution");
    if (dist.empty() || dist == "normal") o.distribution = infer::NoiseDistribution::kNormal;
    else if (dist == "laplace") o.distribution = infer::NoiseDistribution::kLaplace;
    else return Unsupported(where + ": noiseDistribution '" + dist + "'");
    observed.emplace(id, std::move(o));
  }

  // Conditions.
  std::map<std::string, std::vector<std::pair<std::string, infer::ValueRef>>> conditions;
  std::map<std::string, std::vector<std::string>> reset_species;  // set through initial-assignment switches
  for (size_t r = 0; r < ctable.rows.size(); ++r) {
    const std::string id = ctable.Cell(r, "conditionId");
    std::vector<std::pair<std::string, infer::ValueRef>> sets;
    for (size_t c = 0; c < ctable.columns.size(); ++c) {
      const std::string& col = ctable.columns[c];
      if (col == "conditionId" || col == "conditionName") continue;
      const std::string& cell = ctable.rows[r][c];
      const std::string where = "condition '" + id + "', column '" + col + "'";
      if (cell.empty()) continue;
      if (auto num = ParseNumber(cell); num && std::isnan(*num)) continue;
      if (model::KindOf(m, col) == model::SymbolKind::kNone)
        return NotFound(where + ": the model has no symbol '" + col + "'");
      SOMA_ASSIGN_OR_RETURN(infer::ValueRef v, ref_of(cell, where));
      if (m.FindRuleFor(col) != nullptr)
        return Unsupported(where + ": '" + col + "' is defined by a rule and cannot be set by a condition");
      if (m.FindInitialAssignment(col) != nullptr) {
        // A condition overrides an initial assignment (PEtab): the
        // assignment becomes piecewise(value, flag > 0.5, original) and the
        // condition sets flag = 1 and value.
        const std::string flag = "_petab_set_" + col, value = "_petab_value_" + col;
        if (model::KindOf(m, flag) == model::SymbolKind::kNone) {
          m.parameters.push_back({.id = flag, .value = 0.0});
          m.parameters.push_back({.id = value, .value = 0.0});
          for (model::InitialAssignment& ia : m.initial_assignments)
            if (ia.symbol == col)
              ia.math = Expr::Apply(Op::kPiecewise,
                                    {Expr::Symbol(value),
                                     Expr::Apply(Op::kGt, {Expr::Symbol(flag), Expr::Number(0.5)}), ia.math});
        }
        sets.emplace_back(flag, infer::ValueRef::Constant(1.0));
        sets.emplace_back(value, v);
        if (model::KindOf(m, col) == model::SymbolKind::kSpecies) reset_species[id].push_back(col);
        continue;
      }
      sets.emplace_back(col, v);
    }
    conditions[id] = std::move(sets);
  }

  // Measurements.
  for (const char* col : {"observableId", "simulationConditionId", "measurement", "time"})
    if (mtable.Column(col) < 0) return ParseError("measurement table: no column " + std::string(col));
  infer::EstimationProblem& problem = out.problem;
  std::map<std::string, size_t> experiment_index;
  std::map<std::string, std::string> obs_rule, sigma_rule;  // key -> model symbol
  std::vector<std::map<std::string, size_t>> observable_index;
  for (size_t r = 0; r < mtable.rows.size(); ++r) {
    const std::string where = "measurement table row " + std::to_string(r + 2);
    const std::string obs_id = mtable.Cell(r, "observableId");
    const std::string cond = mtable.Cell(r, "simulationConditionId");
    const std::string preeq = mtable.Cell(r, "preequilibrationConditionId");
    auto time = ParseNumber(mtable.Cell(r, "time"));
    if (!time) return ParseError(where + ": time '" + mtable.Cell(r, "time") + "' is not a number");
    if (*time == -std::numeric_limits<double>::infinity()) return ParseError(where + ": time -inf");
    auto value = ParseNumber(mtable.Cell(r, "measurement"));
    if (!value) return ParseError(where + ": measurement '" + mtable.Cell(r, "measurement") + "' is not a number");
    auto oit = observed.find(obs_id);
    if (oit == observed.end()) return NotFound(where + ": observableId '" + obs_id + "' is not in the observables table");
    auto cit = conditions.find(cond);
    if (cit == conditions.end()) return NotFound(where + ": simulationConditionId '" + cond + "' is not in the conditions table");

    auto [eit, new_experiment] = experiment_index.emplace(preeq + "\x1f" + cond, problem.experiments.size());
    if (new_experiment) {
      infer::Experiment e;
      e.id = preeq.empty() ? cond : preeq + "->" + cond;
      e.conditions = cit->second;
      if (auto rit = reset_species.find(cond); rit != reset_species.end()) e.reset_species = rit->second;
      if (!preeq.empty()) {
        auto pit = conditions.find(preeq);
        if (pit == conditions.end())
          return NotFound(where + ": preequilibrationConditionId '" + preeq + "' is not in the conditions table");
        e.preequilibration = pit->second;
      }
      problem.experiments.push_back(std::move(e));
      observable_index.emplace_back();
    }
    infer::Experiment& ex = problem.experiments[eit->second];
    const std::string obs_pars = mtable.Cell(r, "observableParameters");
    const std::string noise_pars = mtable.Cell(r, "noiseParameters");
    const std::string key = obs_id + "\x1f" + obs_pars + "\x1f" + noise_pars;
    auto [xit, new_observable] = observable_index[eit->second].emplace(key, ex.observables.size());
    if (new_observable) {
      const Observed& o = oit->second;
      infer::Observable ob;
      ob.id = obs_id;
      const std::string okey = obs_id + "\x1f" + obs_pars;
      auto [rit, new_rule] = obs_rule.emplace(okey, "");
      if (new_rule) {
        rit->second = "_petab_obs_" + obs_id + "_" + std::to_string(obs_rule.size());
        SOMA_ASSIGN_OR_RETURN(Expr f, Fill(o.formula, "observableParameter", obs_id, SplitSemicolons(obs_pars), params,
                                           where + ", observable '" + obs_id + "'"));
        m.parameters.push_back({.id = rit->second, .constant = false});
        m.rules.push_back({model::RuleKind::kAssignment, rit->second, f});
      }
      ob.symbol = rit->second;
      ob.noise.scale = o.scale;
      ob.noise.distribution = o.distribution;
      SOMA_ASSIGN_OR_RETURN(Expr noise, Fill(o.noise, "noiseParameter", obs_id, SplitSemicolons(noise_pars), params,
                                             where + ", noise of '" + obs_id + "'"));
      SOMA_ASSIGN_OR_RETURN(noise, Fill(noise, "observableParameter", obs_id, SplitSemicolons(obs_pars), params,
                                        where + ", noise of '" + obs_id + "'"));
      noise = expr::Substitute(noise, obs_id, Expr::Symbol(ob.symbol));
      if (noise.op == Op::kNumber) {
        ob.noise = infer::NoiseModel::Additive(infer::ValueRef::Constant(noise.value));
      } else if (noise.op == Op::kSymbol && params.count(noise.name)) {
        SOMA_ASSIGN_OR_RETURN(infer::ValueRef v, ref_of(noise.name, where));
        ob.noise = infer::NoiseModel::Additive(v);
      } else {
        auto [sit, new_sigma] = sigma_rule.emplace(key, "");
        if (new_sigma) {
          sit->second = "_petab_sigma_" + obs_id + "_" + std::to_string(sigma_rule.size());
          m.parameters.push_back({.id = sit->second, .constant = false});
          m.rules.push_back({model::RuleKind::kAssignment, sit->second, noise});
        }
        ob.noise.form = infer::NoiseForm::kModelSymbol;
        ob.noise.sigma_symbol = sit->second;
      }
      ob.noise.scale = o.scale;
      ob.noise.distribution = o.distribution;
      ex.observables.push_back(std::move(ob));
    }
    ex.measurements.push_back({xit->second, *time, *value});
    out.rows.emplace_back(eit->second, ex.measurements.size() - 1);
  }
  if (problem.experiments.empty()) return InvalidArgument("the measurement table has no rows");

  for (const std::string& id : param_order) {
    const ParameterRow& p = params[id];
    if (!p.estimate) continue;
    infer::EstimatedParameter ep;
    ep.id = id;
    ep.scale = p.scale;
    ep.lower = p.lower;
    ep.upper = p.upper;
    ep.nominal = p.nominal;
    ep.prior = p.prior;
    problem.parameters.push_back(ep);
  }
  // An estimated parameter that acts in a pre-equilibration but not in its
  // simulation (a model parameter the simulation condition overwrites, or a
  // parameter only the pre-equilibration condition names) still moves the
  // pre-equilibrated states. Its sensitivities need a symbol of the
  // simulation to travel by (infer::Objective carries the pre-equilibration's
  // into the symbol mapped to the same parameter): a carrier parameter that
  // nothing in the model reads, set to the parameter's value, so its
  // sensitivity direction has no right-hand-side term of its own.
  for (infer::Experiment& e : problem.experiments) {
    if (!e.preequilibration) continue;
    // Mirrors Objective::Prepare: a model parameter acts unless its
    // condition sets it; a condition value names the parameter it takes.
    auto acting = [&](const std::vector<std::pair<std::string, infer::ValueRef>>& sets) {
      std::set<std::string> set_symbols, out;
      for (const auto& [sym, v] : sets) {
        set_symbols.insert(sym);
        if (v.is_parameter()) out.insert(v.parameter);
      }
      for (const infer::EstimatedParameter& ep : problem.parameters) {
        if (!set_symbols.count(ep.id) && model::KindOf(m, ep.id) != model::SymbolKind::kNone) out.insert(ep.id);
      }
      return out;
    };
    const std::set<std::string> in_simulation = acting(e.conditions);
    for (const std::string& id : acting(*e.preequilibration)) {
      if (in_simulation.count(id)) continue;
      const std::string carrier = "_petab_carry_" + id;
      if (model::KindOf(m, carrier) == model::SymbolKind::kNone) m.parameters.push_back({.id = carrier, .value = 0.0});
      e.conditions.emplace_back(carrier, infer::ValueRef::Parameter(id));
    }
  }
  auto compiled = sim::CompiledModel::Compile(m);
  if (!compiled.ok()) return compiled.status().WithContext("model with PEtab observables");
  problem.model = *compiled;
  out.measurements = std::move(mtable);
  return out;
}

Table SimulationTable(const PetabImport& import, const infer::Evaluation& evaluation) {
  Table t;
  t.columns = import.measurements.columns;
  t.columns.push_back("simulation");
  for (size_t r = 0; r < import.measurements.rows.size(); ++r) {
    std::vector<std::string> row = import.measurements.rows[r];
    const auto [e, i] = import.rows[r];
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", evaluation.predictions[e][i]);
    row.push_back(buf);
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace soma::formats::petab
