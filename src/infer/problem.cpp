#include "infer/problem.h"

#include "infer/estimate.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <set>

namespace soma::infer {

std::string_view ScaleName(Scale s) {
  switch (s) {
    case Scale::kLin: return "lin";
    case Scale::kLog: return "log";
    case Scale::kLog10: return "log10";
  }
  return "?";
}

std::string_view NoiseDistributionName(NoiseDistribution d) {
  return d == NoiseDistribution::kNormal ? "normal" : "laplace";
}

double ToScale(Scale s, double x) {
  switch (s) {
    case Scale::kLin: return x;
    case Scale::kLog: return x > 0 ? std::log(x) : std::nan("");
    case Scale::kLog10: return x > 0 ? std::log10(x) : std::nan("");
  }
  return x;
}

double FromScale(Scale s, double theta) {
  switch (s) {
    case Scale::kLin: return theta;
    case Scale::kLog: return std::exp(theta);
    case Scale::kLog10: return std::pow(10.0, theta);
  }
  return theta;
}

double Prior::NegLogDensity(double x, Scale scale) const {
  constexpr double kHalfLog2Pi = 0.91893853320467274178;
  switch (kind) {
    case Kind::kNone: return 0.0;
    case Kind::kNormal: {
      const double z = (x - a) / b;
      return 0.5 * z * z + std::log(b) + kHalfLog2Pi;
    }
    case Kind::kLogNormal: {
      if (!(x > 0)) return std::numeric_limits<double>::infinity();
      const double z = (std::log(x) - a) / b;
      return 0.5 * z * z + std::log(b * x) + kHalfLog2Pi;
    }
    case Kind::kUniform:
      return (x >= a && x <= b) ? std::log(b - a) : std::numeric_limits<double>::infinity();
    case Kind::kParameterScaleNormal: {
      const double z = (ToScale(scale, x) - a) / b;
      return 0.5 * z * z + std::log(b) + kHalfLog2Pi;
    }
    case Kind::kParameterScaleUniform: {
      const double t = ToScale(scale, x);
      return (t >= a && t <= b) ? std::log(b - a) : std::numeric_limits<double>::infinity();
    }
    case Kind::kLaplace: return std::abs(x - a) / b + std::log(2 * b);
    case Kind::kLogLaplace:
      if (!(x > 0)) return std::numeric_limits<double>::infinity();
      return std::abs(std::log(x) - a) / b + std::log(2 * b * x);
    case Kind::kParameterScaleLaplace: return std::abs(ToScale(scale, x) - a) / b + std::log(2 * b);
  }
  return 0.0;
}

double MeasurementNllh(NoiseDistribution d, Scale scale, double y, double m, double sigma) {
  const double ty = ToScale(scale, y), tm = ToScale(scale, m);
  double jac = 0.0;
  if (scale == Scale::kLog) jac = std::log(y);
  if (scale == Scale::kLog10) jac = std::log(y * std::numbers::ln10);
  const double r = (ty - tm) / sigma;
  if (d == NoiseDistribution::kNormal) return 0.5 * std::log(2 * std::numbers::pi * sigma * sigma) + jac + 0.5 * r * r;
  return std::log(2 * sigma) + jac + std::abs(r);
}

int EstimationProblem::FindParameter(std::string_view id) const {
  for (size_t i = 0; i < parameters.size(); ++i)
    if (parameters[i].id == id) return static_cast<int>(i);
  return -1;
}

std::vector<double> EstimationProblem::NominalValues() const {
  std::vector<double> v;
  for (const auto& p : parameters) v.push_back(p.nominal);
  return v;
}

size_t EstimationProblem::num_measurements() const {
  size_t n = 0;
  for (const auto& e : experiments) n += e.measurements.size();
  return n;
}

namespace {

Status CheckRef(const EstimationProblem& p, const ValueRef& r, const std::string& where) {
  if (r.is_parameter()) {
    if (p.FindParameter(r.parameter) < 0)
      return NotFound(where + " refers to '" + r.parameter + "', which is not an estimated parameter");
  } else if (!std::isfinite(r.constant)) {
    return InvalidArgument(where + " = " + std::to_string(r.constant) + "; must be finite");
  }
  return Status::Ok();
}

}  // namespace

Status EstimationProblem::Validate() const {
  if (!model) return InvalidArgument("EstimationProblem::model is null");
  if (experiments.empty()) return InvalidArgument("EstimationProblem::experiments is empty");
  std::set<std::string> ids;
  for (const auto& p : parameters) {
    const std::string w = "parameter '" + p.id + "'";
    if (p.id.empty()) return InvalidArgument("EstimationProblem::parameters: an id is empty");
    if (!ids.insert(p.id).second) return InvalidArgument(w + " is listed twice");
    if (!std::isfinite(p.lower) || !std::isfinite(p.upper) || !(p.lower < p.upper))
      return InvalidArgument(w + ": bounds [" + std::to_string(p.lower) + ", " + std::to_string(p.upper) +
                             "] must be finite with lower < upper");
    if (p.scale != Scale::kLin && !(p.lower > 0))
      return InvalidArgument(w + ": lower bound " + std::to_string(p.lower) + " must be > 0 on scale " +
                             std::string(ScaleName(p.scale)));
    const Prior& pr = p.prior;
    switch (pr.kind) {
      case Prior::Kind::kNone: break;
      case Prior::Kind::kNormal:
      case Prior::Kind::kLogNormal:
      case Prior::Kind::kParameterScaleNormal:
      case Prior::Kind::kLaplace:
      case Prior::Kind::kLogLaplace:
      case Prior::Kind::kParameterScaleLaplace:
        if (!std::isfinite(pr.a) || !(pr.b > 0) || !std::isfinite(pr.b))
          return InvalidArgument(w + ": prior needs a finite location and a scale > 0");
        if ((pr.kind == Prior::Kind::kLogNormal || pr.kind == Prior::Kind::kLogLaplace) && !(p.lower > 0))
          return InvalidArgument(w + ": a log-normal or log-Laplace prior needs a lower bound > 0");
        break;
      case Prior::Kind::kUniform:
      case Prior::Kind::kParameterScaleUniform:
        if (!std::isfinite(pr.a) || !std::isfinite(pr.b) || !(pr.a < pr.b))
          return InvalidArgument(w + ": uniform prior needs finite a < b");
        break;
    }
  }
  std::set<std::string> exp_ids;
  for (const auto& e : experiments) {
    const std::string w = "experiment '" + e.id + "'";
    if (!exp_ids.insert(e.id).second) return InvalidArgument(w + " is listed twice");
    if (!std::isfinite(e.start)) return InvalidArgument(w + ": start must be finite");
    for (const auto& [sym, ref] : e.conditions) {
      if (sym.empty()) return InvalidArgument(w + ": a condition has an empty symbol");
      SOMA_RETURN_IF_ERROR(CheckRef(*this, ref, w + ": condition " + sym));
    }
    if (e.preequilibration)
      for (const auto& [sym, ref] : *e.preequilibration) {
        if (sym.empty()) return InvalidArgument(w + ": a pre-equilibration condition has an empty symbol");
        SOMA_RETURN_IF_ERROR(CheckRef(*this, ref, w + ": pre-equilibration condition " + sym));
      }
    if (e.measurements.empty()) return InvalidArgument(w + " has no measurements");
    for (const auto& o : e.observables) {
      const std::string ow = w + ", observable '" + o.id + "'";
      if (o.symbol.empty()) return InvalidArgument(ow + ": symbol is empty");
      const NoiseModel& n = o.noise;
      if (n.form == NoiseForm::kModelSymbol) {
        if (n.sigma_symbol.empty()) return InvalidArgument(ow + ": noise form kModelSymbol needs sigma_symbol");
      }
      if (n.form == NoiseForm::kAdditive || n.form == NoiseForm::kCombined)
        SOMA_RETURN_IF_ERROR(CheckRef(*this, n.sigma_abs, ow + ": sigma_abs"));
      if (n.form == NoiseForm::kProportional || n.form == NoiseForm::kCombined)
        SOMA_RETURN_IF_ERROR(CheckRef(*this, n.sigma_rel, ow + ": sigma_rel"));
    }
    for (size_t i = 0; i < e.measurements.size(); ++i) {
      const Measurement& m = e.measurements[i];
      const std::string mw = w + ", measurement " + std::to_string(i);
      if (m.observable >= e.observables.size())
        return InvalidArgument(mw + ": observable index " + std::to_string(m.observable) + " out of range");
      const bool steady_state = m.time == std::numeric_limits<double>::infinity();
      if (!steady_state && (!std::isfinite(m.time) || m.time < e.start))
        return InvalidArgument(mw + ": time " + std::to_string(m.time) + " must be finite and >= start, or +inf");
      if (!std::isfinite(m.value)) return InvalidArgument(mw + ": value must be finite");
      if (e.observables[m.observable].noise.scale != Scale::kLin && !(m.value > 0))
        return InvalidArgument(mw + ": value " + std::to_string(m.value) + " must be > 0 on scale " +
                               std::string(ScaleName(e.observables[m.observable].noise.scale)));
    }
  }
  return Status::Ok();
}

}  // namespace soma::infer
