#include "fba/flux_problem.h"

#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "fba/start_values.h"

namespace soma::fba::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Ids whose start values the problem needs: bound parameters and the ids of
// species references whose stoichiometry may be set by math.
std::vector<std::string> SymbolsNeeded(const model::Model& m) {
  std::vector<std::string> ids;
  for (const model::FluxBounds& b : m.flux_balance->bounds) {
    for (const model::FluxLimit* limit : {&b.lower, &b.upper}) {
      if (!limit->parameter.empty()) ids.push_back(limit->parameter);
    }
  }
  for (const model::Reaction& r : m.reactions) {
    for (const auto* list : {&r.reactants, &r.products}) {
      for (const model::SpeciesReference& sr : *list) {
        if (!sr.id.empty()) ids.push_back(sr.id);
      }
    }
  }
  return ids;
}

Result<double> LimitValue(const model::FluxLimit& limit, double unbounded,
                          const std::unordered_map<std::string, double>& values) {
  if (limit.value) return *limit.value;
  if (limit.parameter.empty()) return unbounded;
  return values.at(limit.parameter);
}

}  // namespace

Result<FluxProblem> BuildFluxProblem(const model::Model& m, const model::Objective& objective) {
  FluxProblem p;
  p.sense = objective.sense;
  SOMA_ASSIGN_OR_RETURN(auto values, StartValues(m, SymbolsNeeded(m)));

  std::unordered_map<std::string, int> column;
  for (const model::Reaction& r : m.reactions) {
    column[r.id] = static_cast<int>(p.reactions.size());
    p.reactions.push_back(r.id);
  }
  const size_t n = p.reactions.size();
  p.lower.assign(n, -kInf);
  p.upper.assign(n, kInf);
  p.objective.assign(n, 0.0);
  for (const model::FluxBounds& b : m.flux_balance->bounds) {
    auto it = column.find(b.reaction);
    if (it == column.end()) return InvalidModel("flux bounds of '" + b.reaction + "', which is not a reaction");
    SOMA_ASSIGN_OR_RETURN(p.lower[it->second], LimitValue(b.lower, -kInf, values));
    SOMA_ASSIGN_OR_RETURN(p.upper[it->second], LimitValue(b.upper, kInf, values));
    if (std::isnan(p.lower[it->second]) || std::isnan(p.upper[it->second])) {
      return InvalidModel("reaction '" + b.reaction + "': a flux bound is NaN");
    }
  }
  for (const model::FluxObjective& t : objective.terms) {
    auto it = column.find(t.reaction);
    if (it == column.end()) {
      return InvalidModel("objective '" + objective.id + "': '" + t.reaction + "' is not a reaction");
    }
    if (!std::isfinite(t.coefficient)) {
      return InvalidModel("objective '" + objective.id + "': coefficient of '" + t.reaction + "' is not finite");
    }
    p.objective[it->second] += t.coefficient;
  }

  // Net stoichiometry per (species, reaction); a species may appear on both
  // sides or several times.
  std::unordered_map<std::string, int> row;
  for (const model::Species& s : m.species) {
    if (!s.boundary_condition) row[s.id] = -1;  // assigned when first used
  }
  std::map<std::pair<int, int>, double> entries;
  for (size_t j = 0; j < n; ++j) {
    const model::Reaction& r = m.reactions[j];
    for (int side : {-1, 1}) {
      for (const model::SpeciesReference& sr : side < 0 ? r.reactants : r.products) {
        auto it = row.find(sr.species);
        if (it == row.end()) continue;  // boundary species (or unknown: not balanced)
        if (it->second < 0) {
          it->second = static_cast<int>(p.species.size());
          p.species.push_back(sr.species);
        }
        if (sr.id.empty() && sr.stoichiometry_math) {
          return Unsupported("reaction '" + r.id + "': stoichiometryMath of '" + sr.species +
                             "' on a species reference without id");
        }
        double stoichiometry = sr.id.empty() ? sr.stoichiometry : values.at(sr.id);
        if (!std::isfinite(stoichiometry)) {
          return InvalidModel("reaction '" + r.id + "': stoichiometry of '" + sr.species + "' is not finite");
        }
        entries[{it->second, static_cast<int>(j)}] += side * stoichiometry;
      }
    }
  }
  for (const auto& [key, value] : entries) {
    if (value != 0.0) p.stoichiometry.push_back({key.first, key.second, value});
  }
  return p;
}

}  // namespace soma::fba::internal
