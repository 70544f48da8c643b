#include "scenario/trial.h"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <exception>
#include <mutex>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/files.h"
#include "ensemble/parallel.h"
#include "sim/lane_batch.h"
#include "expr/parse.h"

namespace soma::scenario {
using nlohmann::json;
namespace fs = std::filesystem;
namespace {


Result<double> Num(const json& j, const char* k, const std::string& where) {
  auto it = j.find(k);
  if (it == j.end()) return InvalidArgument(where + "." + k + ": required");
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return InvalidArgument(where + "." + k + ": must be a finite number");
  }
  return it->get<double>();
}

Result<uq::Distribution> ParseDistribution(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("distribution") || !j["distribution"].is_string()) {
    return InvalidArgument(where + ".distribution: required (normal, lognormal, uniform)");
  }
  std::string kind = j["distribution"];
  uq::Distribution d;
  if (kind == "normal") {
    SOMA_ASSIGN_OR_RETURN(double mean, Num(j, "mean", where));
    SOMA_ASSIGN_OR_RETURN(double sd, Num(j, "sd", where));
    if (!(sd > 0)) return InvalidArgument(where + ".sd: must be > 0");
    if (j.contains("lower") || j.contains("upper")) {
      double lo = -1e300, hi = 1e300;
      if (j.contains("lower")) {
        SOMA_ASSIGN_OR_RETURN(lo, Num(j, "lower", where));
      }
      if (j.contains("upper")) {
        SOMA_ASSIGN_OR_RETURN(hi, Num(j, "upper", where));
      }
      d = uq::Distribution::TruncatedNormal(mean, sd, lo, hi);
    } else {
      d = uq::Distribution::Normal(mean, sd);
    }
  } else if (kind == "lognormal") {
    // Given by its median and the sd of log(x) ("sigma"), or by median and
    // coefficient of variation ("cv": sigma = sqrt(log(1 + cv^2))).
    SOMA_ASSIGN_OR_RETURN(double median, Num(j, "median", where));
    if (!(median > 0)) return InvalidArgument(where + ".median: must be > 0");
    double sigma;
    if (j.contains("cv")) {
      SOMA_ASSIGN_OR_RETURN(double cv, Num(j, "cv", where));
      if (!(cv > 0)) return InvalidArgument(where + ".cv: must be > 0");
      sigma = std::sqrt(std::log1p(cv * cv));
    } else {
      SOMA_ASSIGN_OR_RETURN(sigma, Num(j, "sigma", where));
      if (!(sigma > 0)) return InvalidArgument(where + ".sigma: must be > 0");
    }
    d = uq::Distribution::LogNormal(std::log(median), sigma);
  } else if (kind == "uniform") {
    SOMA_ASSIGN_OR_RETURN(double lo, Num(j, "lower", where));
    SOMA_ASSIGN_OR_RETURN(double hi, Num(j, "upper", where));
    d = uq::Distribution::Uniform(lo, hi);
  } else {
    return InvalidArgument(where + ".distribution = '" + kind + "': must be normal, lognormal or uniform");
  }
  SOMA_RETURN_IF_ERROR(d.Validate(where));
  return d;
}

// A normal distribution (truncated or not) around a positive mean that
// reaches below zero: the share of members drawn <= 0, when at least 0.1 %.
std::optional<std::string> NonPositiveDraws(const uq::Distribution& d, const std::string& where) {
  using Kind = uq::Distribution::Kind;
  if ((d.kind != Kind::kNormal && d.kind != Kind::kTruncatedNormal) || !(d.a > 0)) return std::nullopt;
  double share = uq::NormalCdf(-d.a / d.b);
  if (d.kind == Kind::kTruncatedNormal) {
    if (d.lower > 0) return std::nullopt;
    const double lo = uq::NormalCdf((d.lower - d.a) / d.b), hi = uq::NormalCdf((d.upper - d.a) / d.b);
    share = (uq::NormalCdf((std::min(0.0, d.upper) - d.a) / d.b) - lo) / (hi - lo);
  }
  if (!(share >= 1e-3)) return std::nullopt;
  std::ostringstream m;
  m << where << ": about " << std::setprecision(2) << 100 * share
    << " % of members draw a value <= 0 (a normal around a positive mean); a lognormal, or \"lower\": 0, "
       "keeps it positive";
  return m.str();
}

// A small CSV reader for population tables: a header row, numeric cells
// (the first column may hold names). `source` names the table in messages
// (the file, or the inline table).
Status ParseTable(const std::string& text, const std::string& source, const json& columns, const json& covariates,
                  PopulationSpec& pop, const std::string& where) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  if (rows.size() < 2) return InvalidArgument(where + ": " + source + " has no data rows");
  const auto& header = rows[0];
  if (!columns.is_object() || columns.empty()) {
    return InvalidArgument(where + ".columns: an object mapping table columns to model symbols is required");
  }
  std::vector<size_t> idx;
  for (auto it = columns.begin(); it != columns.end(); ++it) {
    auto pos = std::find(header.begin(), header.end(), it.key());
    if (pos == header.end()) return NotFound(where + ".columns." + it.key() + ": no such column in " + source);
    if (!it->is_string()) return InvalidArgument(where + ".columns." + it.key() + ": must name a model symbol");
    idx.push_back(static_cast<size_t>(pos - header.begin()));
    pop.table_symbols.push_back(it->get<std::string>());
  }
  // Covariate columns: {"covariate name": "column"}.
  std::vector<size_t> cov_idx;
  if (covariates.is_object()) {
    for (auto it = covariates.begin(); it != covariates.end(); ++it) {
      if (!it->is_string()) {
        return InvalidArgument(where + ".covariates." + it.key() + ": must name a table column");
      }
      auto pos = std::find(header.begin(), header.end(), it->get<std::string>());
      if (pos == header.end()) {
        return NotFound(where + ".covariates." + it.key() + ": no column '" + it->get<std::string>() + "' in " +
                        source);
      }
      cov_idx.push_back(static_cast<size_t>(pos - header.begin()));
      pop.covariates.push_back(it.key());
    }
  } else if (!covariates.is_null()) {
    return InvalidArgument(where + ".covariates: must be an object of name: column");
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    std::vector<double> cov;
    for (size_t k = 0; k < cov_idx.size(); ++k) {
      const std::string cell = cov_idx[k] < rows[r].size() ? rows[r][cov_idx[k]] : "";
      char* end = nullptr;
      double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end == cell.c_str() || !std::isfinite(v)) {
        return InvalidArgument(source + " line " + std::to_string(r + 1) + ", column " + header[cov_idx[k]] +
                               ": '" + cell + "' is not a number");
      }
      cov.push_back(v);
    }
    pop.covariate_rows.push_back(std::move(cov));
    std::vector<double> values;
    for (size_t k = 0; k < idx.size(); ++k) {
      if (idx[k] >= rows[r].size()) {
        return InvalidArgument(source + " line " + std::to_string(r + 1) + ": missing column " + header[idx[k]]);
      }
      char* end = nullptr;
      double v = std::strtod(rows[r][idx[k]].c_str(), &end);
      if (end == rows[r][idx[k]].c_str() || !std::isfinite(v)) {
        return InvalidArgument(source + " line " + std::to_string(r + 1) + ", column " + header[idx[k]] +
                               ": '" + rows[r][idx[k]] + "' is not a number");
      }
      values.push_back(v);
    }
    pop.table_rows.push_back(std::move(values));
    pop.member_names.push_back(rows[r].empty() ? "" : rows[r][0]);
  }
  pop.size = static_cast<int>(pop.table_rows.size());
  return Status::Ok();
}


// The q-th percentile of `v`, which must be sorted (linear interpolation
// between the closest ranks). Callers sort once for all percentiles: the
// bands of a 512-member T1D trial sorted every time point's values five
// times, a fifth of the trial's serial time.
double SortedPercentile(const std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  double pos = q / 100.0 * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

// The members' values of one output at one time point, sorted, for the
// percentile bands. Consecutive time points order the members nearly alike,
// so each row starts from the previous row's order of members and is
// finished by insertion sort: O(members + inversions) instead of a full sort
// per row (on a 512-member T1D day the full sorts were about half of the
// serial tail after the members ran). A row far from that order, or with
// NaN, is sorted from scratch. Either way the same values come out in the
// same order as std::sort gives, so the percentiles do not change.
class RowSorter {
 public:
  const std::vector<double>& Sort(const std::vector<MemberResult>& results, size_t sc, size_t out, size_t row) {
    if (sc != sc_ || out != out_ || columns_.size() != results.size()) {  // a new output: start over
      sc_ = sc;
      out_ = out;
      columns_.clear();
      for (const MemberResult& r : results) {
        columns_.push_back(r.ok ? std::span<const double>(r.series[sc][out]) : std::span<const double>());
      }
      members_.clear();
      order_.clear();
    }
    eligible_.clear();
    for (size_t m = 0; m < columns_.size(); ++m) {
      if (row < columns_[m].size()) eligible_.push_back(m);
    }
    auto value = [&](size_t m) { return columns_[m][row]; };
    if (eligible_ != members_) {  // another set of members: start from member order
      members_ = eligible_;
      order_ = eligible_;
    }
    const size_t n = order_.size();
    values_.resize(n);
    bool has_nan = false;
    for (size_t k = 0; k < n; ++k) {
      values_[k] = value(order_[k]);
      has_nan = has_nan || std::isnan(values_[k]);
    }
    if (has_nan) {
      // As the bands were always computed: the row in member order, sorted.
      values_.clear();
      for (size_t m : members_) values_.push_back(value(m));
      std::sort(values_.begin(), values_.end());
      order_ = members_;
      return values_;
    }
    size_t shifts = 0;
    const size_t max_shifts = 16 * n + 64;
    bool gave_up = false;
    for (size_t k = 1; k < n && !gave_up; ++k) {
      const double x = values_[k];
      const size_t m = order_[k];
      size_t j = k;
      for (; j > 0 && x < values_[j - 1]; --j) {
        values_[j] = values_[j - 1];
        order_[j] = order_[j - 1];
      }
      values_[j] = x;
      order_[j] = m;
      shifts += k - j;
      gave_up = shifts > max_shifts;
    }
    if (gave_up) {  // far from the last order: sort (value, member) pairs, which also gives the new order
      pairs_.resize(n);
      for (size_t k = 0; k < n; ++k) pairs_[k] = {values_[k], order_[k]};
      std::sort(pairs_.begin(), pairs_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t k = 0; k < n; ++k) std::tie(values_[k], order_[k]) = pairs_[k];
    }
    return values_;
  }

 private:
  std::vector<size_t> eligible_, members_, order_;
  std::vector<double> values_;
  std::vector<std::pair<double, size_t>> pairs_;
  std::vector<std::span<const double>> columns_;  // each member's series of the output (empty if failed)
  size_t sc_ = ~size_t{0}, out_ = ~size_t{0};
};

OutcomeSummary Summarise(std::string scenario, std::string outcome, std::vector<double> values,
                         const std::vector<double>& percentiles) {
  OutcomeSummary s{std::move(scenario), std::move(outcome)};
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / values.size();
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.sd = values.size() > 1 ? std::sqrt(ss / (values.size() - 1)) : 0.0;
  std::sort(values.begin(), values.end());
  for (double q : percentiles) s.percentiles.push_back(SortedPercentile(values, q));
  return s;
}


// population.scaling: {"symbol": "formula"} over covariates and parameters.
Status ParseFormulas(const json& p, PopulationSpec& pop) {
  if (!p.contains("scaling")) return Status::Ok();
  const json& f = p["scaling"];
  if (!f.is_object()) return InvalidArgument("population.scaling: an object of symbol: formula");
  auto graph = std::make_shared<expr::Graph>();
  const uint32_t nc = static_cast<uint32_t>(pop.covariates.size());
  for (auto it = f.begin(); it != f.end(); ++it) {
    const std::string where = "population.scaling." + it.key();
    if (!it->is_string()) return InvalidArgument(where + ": must be a formula (text)");
    auto e = expr::ParseExpression(it->get<std::string>());
    if (!e.ok()) return e.status().WithContext(where);
    auto node = graph->FromTree(*e, [&](const expr::Expr& leaf) -> Result<expr::NodeId> {
      if (leaf.op != expr::Op::kSymbol) {
        return Unsupported(where + ": " + std::string(expr::OpName(leaf.op)) + " has no meaning in a formula");
      }
      for (uint32_t k = 0; k < nc; ++k) {
        if (pop.covariates[k] == leaf.name) return graph->Variable(k);
      }
      for (size_t k = 0; k < pop.table_symbols.size(); ++k) {
        if (pop.table_symbols[k] == leaf.name) return graph->Variable(nc + static_cast<uint32_t>(k));
      }
      return NotFound(where + ": '" + leaf.name + "' is neither a covariate nor a population parameter");
    });
    if (!node.ok()) return node.status().WithContext(where);
    pop.formulas.push_back({it.key(), it->get<std::string>(), *node});
  }
  pop.formula_graph = std::move(graph);
  return Status::Ok();
}

Result<Trial> ParseTrialChecked(const json& j, const std::string& base_dir);

}  // namespace

// The parser checks the types it reads; a value of the wrong JSON type that
// a check misses must still be an error, not an exception that ends the
// process (nlohmann::json's get<> and value() throw type_error).
Result<Trial> ParseTrial(const json& j, const std::string& base_dir) {
  try {
    return ParseTrialChecked(j, base_dir);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("trial: a value of the wrong type: ") + e.what());
  }
}

namespace {

Result<Trial> ParseTrialChecked(const json& j, const std::string& base_dir) {
  if (!j.is_object()) return InvalidArgument("trial: must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const std::vector<std::string> kKeys = {"schema", "name", "description", "scenarios", "population", "percentiles",
                                                   "sensitivity"};
    if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end()) return InvalidArgument(it.key() + ": unknown field");
  }
  if (j.contains("schema") && j["schema"] != "soma.trial/1") return Unsupported("schema: this Soma reads soma.trial/1");
  Trial t;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
    return InvalidArgument("name: required");
  }
  t.name = j["name"];
  if (j.contains("description") && j["description"].is_string()) t.description = j["description"];
  if (!j.contains("scenarios") || !j["scenarios"].is_array() || j["scenarios"].empty()) {
    return InvalidArgument("scenarios: a non-empty array of scenario files or objects is required");
  }
  for (size_t i = 0; i < j["scenarios"].size(); ++i) {
    const json& s = j["scenarios"][i];
    std::string where = "scenarios[" + std::to_string(i) + "]";
    Result<Scenario> parsed = InvalidArgument(where + ": must be a file name or a scenario object");
    if (s.is_string()) {
      SOMA_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(fs::path(base_dir) / s.get<std::string>()));
      parsed = ParseScenarioText(text);
      t.named_files.push_back(std::move(text));
    } else if (s.is_object()) {
      parsed = ParseScenario(s);
    }
    if (!parsed.ok()) return parsed.status().WithContext(where);
    t.scenarios.push_back(std::move(*parsed));
  }
  for (size_t i = 1; i < t.scenarios.size(); ++i) {
    if (t.scenarios[i].steps != t.scenarios[0].steps || t.scenarios[i].end != t.scenarios[0].end ||
        t.scenarios[i].start != t.scenarios[0].start) {
      return InvalidArgument("scenarios[" + std::to_string(i) + "]: must share the first scenario's start, end and steps");
    }
  }
  if (j.contains("percentiles")) {
    t.percentiles.clear();
    for (const json& q : j["percentiles"]) {
      if (!q.is_number() || q.get<double>() < 0 || q.get<double>() > 100) {
        return InvalidArgument("percentiles: numbers from 0 to 100");
      }
      t.percentiles.push_back(q.get<double>());
    }
  }
  if (j.contains("sensitivity")) {
    SOMA_ASSIGN_OR_RETURN(SensitivitySpec spec, ParseSensitivitySpec(j["sensitivity"]));
    t.sensitivity = spec;
  }
  if (!j.contains("population") || !j["population"].is_object()) return InvalidArgument("population: required");
  const json& p = j["population"];
  PopulationSpec& pop = t.population;
  if (p.contains("twin") && !p.contains("csv")) {
    return InvalidArgument(
        "population.twin: a twin's posterior is read by the server (a trial job, POST /v1/jobs); here write it "
        "with `soma twin posterior TWIN -o post.csv` and give population.table");
  }
  if (p.contains("table") && p.contains("csv")) {
    return InvalidArgument("population: give either table (a file) or csv (the table inline), not both");
  }
  if (p.contains("table") || p.contains("csv")) {
    // A table file, or the same table inline ("csv", e.g. a twin's
    // posterior, GET /v1/twins/{id}/posterior).
    std::string text, source;
    if (p.contains("table")) {
      if (!p["table"].is_string()) return InvalidArgument("population.table: must be a file name");
      const fs::path path = fs::path(base_dir) / p["table"].get<std::string>();
      SOMA_ASSIGN_OR_RETURN(text, ReadWholeFile(path));
      source = "'" + path.string() + "'";
      t.named_files.push_back(text);
    } else {
      if (!p["csv"].is_string()) return InvalidArgument("population.csv: must be the table's CSV text");
      text = p["csv"].get<std::string>();
      source = "the inline table (population.csv)";
    }
    SOMA_RETURN_IF_ERROR(ParseTable(text, source, p.value("columns", json::object()), p.value("covariates", json()),
                                    pop, "population"));
    SOMA_RETURN_IF_ERROR(ParseFormulas(p, pop));
    return t;
  }
  SOMA_ASSIGN_OR_RETURN(double size, Num(p, "size", "population"));
  if (size < 1 || size > 1e7 || size != std::floor(size)) return InvalidArgument("population.size: 1 to 10000000");
  pop.size = static_cast<int>(size);
  if (p.contains("seed") && !(p["seed"].is_number_unsigned() ||
                              (p["seed"].is_number_integer() && p["seed"].get<std::int64_t>() >= 0))) {
    return InvalidArgument("population.seed: must be a whole number >= 0");
  }
  pop.seed = p.contains("seed") ? p["seed"].get<std::uint64_t>() : 1;
  std::string sampling = p.value("sampling", "latin_hypercube");
  if (sampling == "monte_carlo") {
    pop.sampling = uq::SamplingMethod::kMonteCarlo;
  } else if (sampling != "latin_hypercube") {
    return InvalidArgument("population.sampling: latin_hypercube or monte_carlo");
  }
  if (!p.contains("parameters") || !p["parameters"].is_object() || p["parameters"].empty()) {
    return InvalidArgument("population.parameters: an object of symbol: distribution is required");
  }
  std::vector<uq::Distribution> marginals;
  for (auto it = p["parameters"].begin(); it != p["parameters"].end(); ++it) {
    SOMA_ASSIGN_OR_RETURN(uq::Distribution d, ParseDistribution(*it, "population.parameters." + it.key()));
    if (auto w = NonPositiveDraws(d, "population.parameters." + it.key())) t.warnings.push_back(*w);
    pop.parameters.push_back(it.key());
    marginals.push_back(d);
  }
  if (p.contains("covariates")) {
    if (!p["covariates"].is_object()) return InvalidArgument("population.covariates: an object of name: distribution");
    for (auto it = p["covariates"].begin(); it != p["covariates"].end(); ++it) {
      if (std::find(pop.parameters.begin(), pop.parameters.end(), it.key()) != pop.parameters.end()) {
        return InvalidArgument("population.covariates." + it.key() + ": also a population parameter");
      }
      SOMA_ASSIGN_OR_RETURN(uq::Distribution d, ParseDistribution(*it, "population.covariates." + it.key()));
      pop.covariates.push_back(it.key());
      marginals.push_back(d);
    }
  }
  // Joint dimensions: parameters, then covariates.
  std::vector<std::string> dims = pop.parameters;
  dims.insert(dims.end(), pop.covariates.begin(), pop.covariates.end());
  const int d = static_cast<int>(marginals.size());
  if (p.contains("correlation")) {
    // {"parameters": [a, b], "matrix": [[1, r], [r, 1]]} between the named
    // parameters' underlying normals; others independent.
    const json& c = p["correlation"];
    Eigen::MatrixXd corr = Eigen::MatrixXd::Identity(d, d);
    if (!c.contains("parameters") || !c.contains("matrix")) {
      return InvalidArgument("population.correlation: needs parameters and matrix");
    }
    std::vector<int> at;
    if (!c["parameters"].is_array()) return InvalidArgument("population.correlation.parameters: must be an array of names");
    for (const json& name : c["parameters"]) {
      if (!name.is_string()) return InvalidArgument("population.correlation.parameters: must be an array of names");
      auto pos = std::find(dims.begin(), dims.end(), name.get<std::string>());
      if (pos == dims.end()) {
        return NotFound("population.correlation.parameters: '" + name.get<std::string>() +
                        "' is not a population parameter or covariate");
      }
      at.push_back(static_cast<int>(pos - dims.begin()));
    }
    const json& m = c["matrix"];
    if (!m.is_array() || m.size() != at.size()) return InvalidArgument("population.correlation.matrix: must be square, one row per parameter");
    for (size_t r = 0; r < at.size(); ++r) {
      if (!m[r].is_array() || m[r].size() != at.size()) return InvalidArgument("population.correlation.matrix: must be square");
      for (size_t k = 0; k < at.size(); ++k) {
        if (!m[r][k].is_number()) return InvalidArgument("population.correlation.matrix: entries must be numbers");
        corr(at[r], at[k]) = m[r][k].get<double>();
      }
    }
    auto joint = uq::JointDistribution::Create(marginals, corr);
    if (!joint.ok()) return joint.status().WithContext("population.correlation");
    pop.joint = std::move(*joint);
  } else {
    auto joint = uq::JointDistribution::Create(marginals);
    if (!joint.ok()) return joint.status();
    pop.joint = std::move(*joint);
  }
  pop.table_symbols = pop.parameters;
  pop.table_rows = uq::SampleJoint(*pop.joint, pop.size, pop.sampling, pop.seed);
  if (!pop.covariates.empty()) {
    // Split each sampled row: parameters first, covariates after.
    const size_t np = pop.parameters.size();
    for (auto& row : pop.table_rows) {
      pop.covariate_rows.emplace_back(row.begin() + static_cast<std::ptrdiff_t>(np), row.end());
      row.resize(np);
    }
  }
  SOMA_RETURN_IF_ERROR(ParseFormulas(p, pop));
  return t;
}

}  // namespace

int PopulationSize(const Trial& trial) { return trial.population.size; }

std::vector<double> MemberCovariates(const Trial& trial, int member) {
  const PopulationSpec& p = trial.population;
  return p.covariates.empty() ? std::vector<double>() : p.covariate_rows[member];
}

std::vector<std::pair<std::string, double>> MemberParameters(const Trial& trial, int member) {
  std::vector<std::pair<std::string, double>> out;
  const PopulationSpec& p = trial.population;
  for (size_t k = 0; k < p.table_symbols.size(); ++k) out.emplace_back(p.table_symbols[k], p.table_rows[member][k]);
  if (!p.formulas.empty()) {
    std::vector<double> slots = MemberCovariates(trial, member);
    slots.insert(slots.end(), p.table_rows[member].begin(), p.table_rows[member].end());
    for (const auto& f : p.formulas) {
      const double v = p.formula_graph->Evaluate(f.node, slots.data());
      auto pos = std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.first == f.target; });
      if (pos != out.end()) {
        pos->second = v;
      } else {
        out.emplace_back(f.target, v);
      }
    }
  }
  return out;
}

namespace {

void PutU64(uint64_t v, std::string* out) { out->append(reinterpret_cast<const char*>(&v), sizeof v); }

void Put(const std::string& s, std::string* out) {
  PutU64(s.size(), out);
  out->append(s);
}

void Put(const std::vector<double>& v, std::string* out) {
  PutU64(v.size(), out);
  if (!v.empty()) out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}

// A list of strings or of lists: its count, then each item.
template <typename T>
void Put(const std::vector<T>& v, std::string* out) {
  PutU64(v.size(), out);
  for (const auto& item : v) Put(item, out);
}

// Reads from the front of a byte string; every read checks what is left.
class ByteReader {
 public:
  explicit ByteReader(std::string_view* bytes) : bytes_(bytes) {}

  bool U64(uint64_t* v) { return Take(sizeof *v, v); }

  bool Get(std::string* s) {
    uint64_t n = 0;
    if (!Count(1, &n)) return false;
    s->assign(bytes_->data(), n);
    bytes_->remove_prefix(n);
    return true;
  }

  bool Get(std::vector<double>* v) {
    uint64_t n = 0;
    if (!Count(sizeof(double), &n)) return false;
    v->resize(n);
    return Take(n * sizeof(double), v->data());
  }

  template <typename T>
  bool Get(std::vector<T>* v) {
    uint64_t n = 0;
    if (!Count(sizeof(uint64_t), &n)) return false;  // each item has at least its count
    v->resize(n);
    for (auto& item : *v) {
      if (!Get(&item)) return false;
    }
    return true;
  }

 private:
  // A count of items of `item_size` bytes each that must still fit, so that
  // a corrupt count allocates nothing.
  bool Count(size_t item_size, uint64_t* n) { return U64(n) && *n <= bytes_->size() / item_size; }

  bool Take(size_t n, void* to) {
    if (bytes_->size() < n) return false;
    if (n == 0) return true;  // `to` may be an empty vector's null data()
    std::memcpy(to, bytes_->data(), n);
    bytes_->remove_prefix(n);
    return true;
  }

  std::string_view* bytes_;
};

}  // namespace

void EncodeMemberResult(const MemberResult& r, std::string* out) {
  PutU64(static_cast<uint64_t>(static_cast<int64_t>(r.member)), out);
  PutU64(r.ok ? 1 : 0, out);
  Put(r.error, out);
  Put(r.outcomes, out);
  Put(r.series, out);
  Put(r.columns, out);
}

Result<MemberResult> DecodeMemberResult(std::string_view* bytes) {
  MemberResult r;
  ByteReader in(bytes);
  uint64_t member = 0, ok = 0;
  const bool good = in.U64(&member) && static_cast<int64_t>(member) >= 0 &&
                    member <= static_cast<uint64_t>(std::numeric_limits<int>::max()) && in.U64(&ok) && ok <= 1 &&
                    in.Get(&r.error) && in.Get(&r.outcomes) && in.Get(&r.series) && in.Get(&r.columns);
  if (!good) return DataLoss("a member result's bytes are truncated or inconsistent");
  r.member = static_cast<int>(member);
  r.ok = ok == 1;
  return r;
}

Result<PreparedTrial> PreparedTrial::Prepare(const Trial& trial, const model::Model& model,
                                             const sim::CompileOptions& compile) {
  PreparedTrial t;
  const auto varied = MemberParameters(trial, 0);
  for (const Scenario& s : trial.scenarios) {
    auto p = PreparedScenario::Prepare(s, model, varied, compile);
    if (!p.ok()) return p.status().WithContext("population");
    t.scenarios_.push_back(std::move(*p));
  }
  return t;
}

namespace {

// TrialOptions::lanes: each worker thread runs up to `lanes` (as compiled)
// members at once, each in its own fiber; a member's explicit step
// attempts go to the thread's LaneBatch, and the thread runs the batch whenever every member it
// holds has posted one (members between steps, at events or outputs, run on
// until they post or finish). Members are taken in order from a shared
// counter, as ParallelFor does; results, progress and `finished` as there.
template <class RunMember>
Status RunMembersInLanes(const PreparedScenario& prepared, const std::vector<int>& members,
                         const TrialOptions& options, const ensemble::ParallelOptions& po, RunMember& run_member,
                         std::vector<MemberResult>& results) {
  namespace ctx = boost::context;
  const int threads = static_cast<int>(std::min<long>(ensemble::ThreadCount(po), static_cast<long>(members.size())));
  // One member per lane (LaneBatch): two sets of lanes per thread was no
  // faster on one thread and left a longer tail of members in flight when
  // the queue ran dry (2 threads: 0.185 s against 0.178 s, best of 12).
  const int slots = prepared.compiled().rhs().lanes();
  std::atomic<long> next{0}, done{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  const long total = static_cast<long>(members.size());
  auto worker = [&]() {
    std::vector<ctx::fiber> fibers(static_cast<size_t>(slots)), schedulers(static_cast<size_t>(slots));
    std::vector<char> finished(static_cast<size_t>(slots), 0);
    sim::LaneBatch batch(prepared.compiled(), [&](int slot) {
      auto& back = schedulers[static_cast<size_t>(slot)];
      back = std::move(back).resume();
    });
    for (int slot = 0; slot < slots; ++slot) {
      fibers[static_cast<size_t>(slot)] = ctx::fiber(
          std::allocator_arg, ctx::protected_fixedsize_stack(1 << 20), [&, slot](ctx::fiber&& scheduler) {
            schedulers[static_cast<size_t>(slot)] = std::move(scheduler);
            try {
              sim::SimulationOptions simulation = options.simulation;
              simulation.integrator.attempt_hook = batch.hook(slot);
              while (options.cancel == nullptr || !options.cancel->load()) {
                const long k = next.fetch_add(1);
                if (k >= total) break;
                MemberResult& r = results[static_cast<size_t>(k)];
                r.member = members[static_cast<size_t>(k)];
                run_member(r, simulation);
                if (options.finished) options.finished(r);
                done.fetch_add(1);
              }
            } catch (...) {
              std::lock_guard<std::mutex> lock(failure_mutex);
              if (!failure) failure = std::current_exception();
            }
            finished[static_cast<size_t>(slot)] = 1;
            return std::move(schedulers[static_cast<size_t>(slot)]);
          });
    }
    while (true) {
      bool running = false;
      for (int slot = 0; slot < slots; ++slot) {
        const size_t k = static_cast<size_t>(slot);
        if (finished[k]) continue;
        if (!batch.posted(slot)) fibers[k] = std::move(fibers[k]).resume();
        running = running || !finished[k];
      }
      if (!running) break;
      batch.Run();
    }
    if (options.lane_batches != nullptr) options.lane_batches->fetch_add(batch.batches());
  };
  ensemble::RunWorkers(threads, worker, done, total, po);
  if (failure) std::rethrow_exception(failure);
  return Status::Ok();
}

}  // namespace

int AutoLanes() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f")) return 8;
  if (__builtin_cpu_supports("avx2")) return 4;
#endif
  return 0;
}

sim::CompileOptions TrialCompileOptions(const Trial& trial, bool native_code, int lanes, bool exact_lanes) {
  if (lanes < 0) lanes = AutoLanes();
  return {.native_code = native_code,
          .native_lanes = native_code && trial.scenarios.size() == 1 ? lanes : 0,
          .lane_math = exact_lanes ? expr::LaneMath::kExact : expr::LaneMath::kVector};
}

Result<std::vector<MemberResult>> RunTrialMembers(const Trial& trial, const model::Model& model,
                                                  const TrialOptions& options) {
  std::vector<int> members = options.members;
  if (members.empty()) {
    for (int i = 0; i < PopulationSize(trial); ++i) members.push_back(i);
  }
  // One compilation per scenario shared by all members. The mapping is
  // checked here, so a typo fails the trial at once.
  std::optional<PreparedTrial> own;
  if (options.prepared == nullptr) {
    const bool native = options.native_code_simulations >= 0 &&
                        members.size() * trial.scenarios.size() >= static_cast<size_t>(options.native_code_simulations);
    const sim::CompileOptions compile = TrialCompileOptions(trial, native, options.lanes, options.exact_lanes);
    SOMA_ASSIGN_OR_RETURN(own, PreparedTrial::Prepare(trial, model, compile));
  }
  const std::vector<PreparedScenario>& prepared = (own ? *own : *options.prepared).scenarios();
  std::vector<MemberResult> results(members.size());
  ensemble::ParallelOptions po;
  po.threads = options.threads;
  po.progress = options.progress;
  po.cancel = options.cancel;
  auto run_member = [&](MemberResult& r, const sim::SimulationOptions& simulation) {
    const auto values = MemberParameters(trial, r.member);
    for (const PreparedScenario& p : prepared) {
      const Scenario& s = p.scenario();
      auto run = p.Run(values, simulation);
      if (!run.ok()) {
        r.error = s.name + ": " + run.status().ToString();
        r.outcomes.clear();
        r.series.clear();
        r.columns.clear();
        return;
      }
      std::vector<double> o;
      for (const auto& [n, v] : run->outcomes) o.push_back(v);
      r.outcomes.push_back(std::move(o));
      const auto& tr = run->trajectory;
      std::vector<std::vector<double>> series(tr.columns.size() - 1, std::vector<double>(tr.rows));
      for (size_t c = 1; c < tr.columns.size(); ++c)
        for (size_t row = 0; row < tr.rows; ++row) series[c - 1][row] = tr.at(row, c);
      r.series.push_back(std::move(series));
      r.columns.emplace_back(tr.columns.begin() + 1, tr.columns.end());
    }
    r.ok = true;
  };
  if (options.lanes != 0 && prepared.size() == 1 && prepared[0].compiled().rhs().lanes() > 0) {
    SOMA_RETURN_IF_ERROR(RunMembersInLanes(prepared[0], members, options, po, run_member, results));
  } else {
    ensemble::ParallelFor(0, static_cast<long>(members.size()), [&](long k) {
      MemberResult& r = results[k];
      r.member = members[k];
      run_member(r, options.simulation);
      if (options.finished) options.finished(r);
    }, po);
  }
  if (options.cancel != nullptr && options.cancel->load()) return FailedPrecondition("trial cancelled");
  return results;
}

TrialSummary SummariseTrial(const Trial& trial, const std::vector<MemberResult>& results, int threads) {
  TrialSummary s;
  s.members = static_cast<int>(results.size());
  for (const auto& r : results) s.failed += r.ok ? 0 : 1;
  const Scenario& base = trial.scenarios[0];
  for (int row = 0; row <= base.steps; ++row) s.times.push_back(base.start + (base.end - base.start) * row / base.steps);
  for (size_t sc = 0; sc < trial.scenarios.size(); ++sc) {
    const Scenario& scen = trial.scenarios[sc];
    for (size_t o = 0; o < scen.outcomes.size(); ++o) {
      std::vector<double> v, diff;
      for (const auto& r : results) {
        if (!r.ok) continue;
        v.push_back(r.outcomes[sc][o]);
        if (sc > 0) {
          // Paired difference: the same member under this scenario and the baseline.
          auto& b = trial.scenarios[0].outcomes;
          auto pos = std::find_if(b.begin(), b.end(), [&](const OutcomeSpec& x) { return x.name == scen.outcomes[o].name; });
          if (pos != b.end()) diff.push_back(r.outcomes[sc][o] - r.outcomes[0][pos - b.begin()]);
        }
      }
      s.outcomes.push_back(Summarise(scen.name, scen.outcomes[o].name, v, trial.percentiles));
      if (sc > 0 && !diff.empty()) {
        s.differences.push_back(Summarise(scen.name + " - " + trial.scenarios[0].name, scen.outcomes[o].name, diff,
                                          trial.percentiles));
      }
    }
    std::vector<std::vector<std::vector<double>>> bands;
    size_t outputs = 0;
    std::vector<std::string> names;
    for (const auto& r : results) {
      if (r.ok) {
        outputs = r.series[sc].size();
        names = r.columns[sc];
      }
    }
    s.band_variables.push_back(names);
    // Each output's rows in blocks of kBandRows, on `threads` threads: a
    // block's first row is sorted from member order, the others from the
    // row before (RowSorter), so the blocks, not the threads, decide the
    // order values come out in and the bands do not depend on `threads`.
    constexpr size_t kBandRows = 64;
    const size_t rows = s.times.size(), blocks = (rows + kBandRows - 1) / kBandRows;
    bands.assign(outputs, std::vector<std::vector<double>>(rows));
    ensemble::ParallelOptions po;
    po.threads = threads;
    ensemble::ParallelFor(0, static_cast<long>(outputs * blocks), [&](long task) {
      const size_t out = static_cast<size_t>(task) / blocks, block = static_cast<size_t>(task) % blocks;
      RowSorter sorter;
      for (size_t row = block * kBandRows; row < std::min(rows, (block + 1) * kBandRows); ++row) {
        const std::vector<double>& v = sorter.Sort(results, sc, out, row);
        std::vector<double>& q = bands[out][row];
        for (double p : trial.percentiles) q.push_back(SortedPercentile(v, p));
      }
    }, po);
    s.bands.push_back(std::move(bands));
  }
  return s;
}

json ToJson(const Trial& trial, const TrialSummary& s) {
  auto summary_json = [&](const OutcomeSummary& o) {
    json p = json::object();
    for (size_t k = 0; k < trial.percentiles.size() && k < o.percentiles.size(); ++k) {
      char name[16];
      std::snprintf(name, sizeof name, "p%g", trial.percentiles[k]);
      p[name] = std::isfinite(o.percentiles[k]) ? json(o.percentiles[k]) : json(nullptr);
    }
    return json{{"scenario", o.scenario}, {"outcome", o.outcome}, {"n", o.n}, {"mean", o.mean}, {"sd", o.sd},
                {"percentiles", p}};
  };
  json outcomes = json::array(), diffs = json::array();
  for (const auto& o : s.outcomes) outcomes.push_back(summary_json(o));
  for (const auto& o : s.differences) diffs.push_back(summary_json(o));
  json scen = json::array();
  for (const auto& sc : trial.scenarios) scen.push_back(sc.name);
  return {{"trial", trial.name}, {"members", s.members}, {"failed", s.failed}, {"scenarios", scen},
          {"outcomes", outcomes}, {"differences_from_baseline", diffs}};
}

namespace {

// `v` as printf's %.<precision>g writes it (and a stream with that
// precision), several times faster than a stream.
void AppendNumber(std::string& out, double v, int precision) {
  char buf[64];
  const auto written = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision);
  out.append(buf, written.ptr);
}

}  // namespace

std::string MembersCsv(const Trial& trial, const std::vector<MemberResult>& results) {
  std::string out = "member,name";
  for (const auto& c : trial.population.covariates) out += "," + c;
  if (trial.population.size > 0) {
    for (const auto& [sym, v] : MemberParameters(trial, 0)) out += "," + sym;
  }
  for (const auto& sc : trial.scenarios)
    for (const auto& o : sc.outcomes) out += "," + sc.name + "." + o.name;
  out += ",error\n";
  for (const auto& r : results) {
    out += std::to_string(r.member);
    out += ',';
    if (r.member < static_cast<int>(trial.population.member_names.size())) out += trial.population.member_names[r.member];
    for (double c : MemberCovariates(trial, r.member)) {
      out += ',';
      AppendNumber(out, c, 10);
    }
    for (const auto& [id, v] : MemberParameters(trial, r.member)) {
      out += ',';
      AppendNumber(out, v, 10);
    }
    for (size_t sc = 0; sc < trial.scenarios.size(); ++sc)
      for (size_t o = 0; o < trial.scenarios[sc].outcomes.size(); ++o) {
        out += ',';
        if (r.ok && std::isfinite(r.outcomes[sc][o])) AppendNumber(out, r.outcomes[sc][o], 10);
      }
    std::string err = r.error;
    std::replace(err.begin(), err.end(), ',', ';');
    std::replace(err.begin(), err.end(), '\n', ' ');
    out += "," + err + "\n";
  }
  return out;
}

std::string BandsCsv(const Trial& trial, const TrialSummary& s) {
  std::string out = "scenario,variable,time";
  for (double q : trial.percentiles) {
    out += ",p";
    AppendNumber(out, q, 8);
  }
  out += "\n";
  for (size_t sc = 0; sc < s.bands.size(); ++sc) {
    const Scenario& scen = trial.scenarios[sc];
    for (size_t output = 0; output < s.bands[sc].size(); ++output) {
      const std::string prefix = scen.name + "," + s.band_variables[sc][output] + ",";
      for (size_t row = 0; row < s.bands[sc][output].size(); ++row) {
        out += prefix;
        AppendNumber(out, s.times[row], 8);
        for (double v : s.bands[sc][output][row]) {
          out += ',';
          AppendNumber(out, v, 8);
        }
        out += '\n';
      }
    }
  }
  return out;
}

}  // namespace soma::scenario
