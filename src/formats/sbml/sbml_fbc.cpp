#include "formats/sbml/sbml_fbc.h"

#include <algorithm>
#include <string>

#include <sbml/packages/fbc/common/FbcExtensionTypes.h>

#include "formats/sbml/sbml_diagnostics.h"

namespace soma::formats::internal {
namespace {

std::string AtLine(const ::SBase& e) {
  return e.getLine() > 0 ? " (line " + std::to_string(e.getLine()) + ")" : "";
}

model::FluxBounds* BoundsFor(model::FluxBalance& fb, const std::string& reaction) {
  for (model::FluxBounds& b : fb.bounds) {
    if (b.reaction == reaction) return &b;
  }
  fb.bounds.push_back({reaction, {}, {}});
  return &fb.bounds.back();
}

// fbc v1: several <fluxBound>s may constrain one reaction; the tightest wins.
void Tighten(model::FluxLimit& limit, double value, bool upper) {
  if (!limit.value) {
    limit.value = value;
  } else {
    limit.value = upper ? std::min(*limit.value, value) : std::max(*limit.value, value);
  }
}

Status ReadV1Bounds(const ::Model& m, const ::FbcModelPlugin& plugin, model::FluxBalance& out) {
  for (unsigned int i = 0; i < plugin.getNumFluxBounds(); ++i) {
    const ::FluxBound& b = *plugin.getFluxBound(i);
    const std::string what = "fbc:fluxBound" + (b.isSetId() ? " '" + b.getId() + "'" : "") + AtLine(b);
    if (m.getReaction(b.getReaction()) == nullptr) {
      return InvalidModel(what + ": reaction '" + b.getReaction() + "' does not exist");
    }
    if (!b.isSetValue()) return InvalidModel(what + ": no value");
    model::FluxBounds& bounds = *BoundsFor(out, b.getReaction());
    switch (b.getFluxBoundOperation()) {
      case ::FLUXBOUND_OPERATION_LESS_EQUAL:
        Tighten(bounds.upper, b.getValue(), /*upper=*/true);
        break;
      case ::FLUXBOUND_OPERATION_GREATER_EQUAL:
        Tighten(bounds.lower, b.getValue(), /*upper=*/false);
        break;
      case ::FLUXBOUND_OPERATION_EQUAL:
        Tighten(bounds.upper, b.getValue(), /*upper=*/true);
        Tighten(bounds.lower, b.getValue(), /*upper=*/false);
        break;
      default: {
        const char* op = ::FluxBoundOperation_toString(b.getFluxBoundOperation());
        return InvalidModel(what + ": operation '" + std::string(op != nullptr ? op : "unknown") +
                            "' is not lessEqual, greaterEqual or equal");
      }
    }
  }
  return Status::Ok();
}

Status ReadV2Bounds(const ::Model& m, model::FluxBalance& out) {
  for (unsigned int i = 0; i < m.getNumReactions(); ++i) {
    const ::Reaction& r = *m.getReaction(i);
    const auto* plugin = dynamic_cast<const ::FbcReactionPlugin*>(r.getPlugin("fbc"));
    if (plugin == nullptr) continue;
    model::FluxBounds bounds{r.getId(), {}, {}};
    for (bool upper : {false, true}) {
      bool set = upper ? plugin->isSetUpperFluxBound() : plugin->isSetLowerFluxBound();
      if (!set) continue;
      const std::string& id = upper ? plugin->getUpperFluxBound() : plugin->getLowerFluxBound();
      if (m.getParameter(id) == nullptr) {
        return InvalidModel("reaction '" + r.getId() + "'" + AtLine(r) + ": fbc:" +
                            (upper ? "upperFluxBound" : "lowerFluxBound") + " '" + id +
                            "' is not a parameter");
      }
      (upper ? bounds.upper : bounds.lower).parameter = id;
    }
    if (bounds.lower.IsSet() || bounds.upper.IsSet()) out.bounds.push_back(std::move(bounds));
  }
  return Status::Ok();
}

Result<model::Objective> ReadObjective(const ::Model& m, const ::Objective& o) {
  model::Objective out;
  out.id = o.getId();
  out.name = o.getName();
  const std::string what = "fbc:objective '" + o.getId() + "'" + AtLine(o);
  switch (o.getObjectiveType()) {
    case ::OBJECTIVE_TYPE_MAXIMIZE: out.sense = model::ObjectiveSense::kMaximize; break;
    case ::OBJECTIVE_TYPE_MINIMIZE: out.sense = model::ObjectiveSense::kMinimize; break;
    default: return InvalidModel(what + ": type is not maximize or minimize");
  }
  for (unsigned int i = 0; i < o.getNumFluxObjectives(); ++i) {
    const ::FluxObjective& fo = *o.getFluxObjective(i);
    if (m.getReaction(fo.getReaction()) == nullptr) {
      return InvalidModel(what + ": flux objective on reaction '" + fo.getReaction() + "', which does not exist");
    }
    if (!fo.isSetCoefficient()) {
      return InvalidModel(what + ": flux objective on reaction '" + fo.getReaction() + "' has no coefficient");
    }
    out.terms.push_back({fo.getReaction(), fo.getCoefficient()});
  }
  return out;
}

}  // namespace

Result<model::FluxBalance> ReadFluxBalance(const ::Model& m, std::vector<Diagnostic>* diagnostics) {
  model::FluxBalance out;
  const auto* plugin = dynamic_cast<const ::FbcModelPlugin*>(m.getPlugin("fbc"));
  if (plugin == nullptr) return out;  // declared but unused
  out.fbc_version = static_cast<int>(plugin->getPackageVersion());
  out.strict = plugin->isSetStrict() && plugin->getStrict();
  if (out.fbc_version >= 3 && plugin->getNumUserDefinedConstraints() > 0) {
    const ::UserDefinedConstraint& c = *plugin->getUserDefinedConstraint(0u);
    return Unsupported("SBML package 'fbc' version 3: user-defined constraints are not supported (first: '" +
                       c.getId() + "'" + AtLine(c) + ")");
  }
  SOMA_RETURN_IF_ERROR(out.fbc_version == 1 ? ReadV1Bounds(m, *plugin, out) : ReadV2Bounds(m, out));
  for (unsigned int i = 0; i < plugin->getNumObjectives(); ++i) {
    SOMA_ASSIGN_OR_RETURN(model::Objective o, ReadObjective(m, *plugin->getObjective(i)));
    out.objectives.push_back(std::move(o));
  }
  out.active_objective = plugin->getActiveObjectiveId();
  if (!out.active_objective.empty() && out.FindObjective(out.active_objective) == nullptr) {
    return InvalidModel("fbc:activeObjective '" + out.active_objective + "' is not an objective");
  }
  if (out.active_objective.empty() && !out.objectives.empty()) {
    diagnostics->push_back({Severity::kWarning, 0, 0, "fbc",
                            "fbc: no activeObjective; flux balance analysis has no objective to optimise"});
  }
  return out;
}

}  // namespace soma::formats::internal
