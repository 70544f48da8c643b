#include "formats/sbml/sbml_model.h"

#include <optional>
#include <string>
#include <utility>

#include "formats/sbml/sbml_diagnostics.h"
#include "formats/sbml/sbml_math.h"

namespace soma::formats::internal {
namespace {

using expr::Expr;

model::SourceLocation Where(const ::SBase& e) {
  return {static_cast<int>(e.getLine()), static_cast<int>(e.getColumn())};
}

// Plain text of an XHTML fragment (constraint messages): the character data
// of every node, whitespace runs collapsed to one space.
void CollectText(const ::XMLNode& node, std::string* out) {
  if (node.isText()) *out += node.getCharacters() + " ";
  for (unsigned int i = 0; i < node.getNumChildren(); ++i) CollectText(node.getChild(i), out);
}

std::string PlainText(const ::XMLNode* node) {
  if (node == nullptr) return "";
  std::string raw;
  CollectText(*node, &raw);
  std::string out;
  bool space = false;
  for (char c : raw) {
    bool is_space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (is_space) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

class Importer {
 public:
  Importer(const ::Model& m, const SourceFacts& facts, std::vector<Diagnostic>* diagnostics)
      : m_(m), facts_(facts), math_(m), diagnostics_(diagnostics) {}

  Result<model::Model> Run() {
    model::Model out;
    out.id = m_.getId();
    out.name = m_.getName();
    out.sbml_level = facts_.level;
    out.sbml_version = facts_.version;
    out.conversion_factor = m_.getConversionFactor();
    out.units = {m_.getTimeUnits(), m_.getSubstanceUnits(), m_.getVolumeUnits(), m_.getExtentUnits()};
    for (unsigned int i = 0; i < m_.getNumCompartments(); ++i) out.compartments.push_back(Compartment(*m_.getCompartment(i)));
    for (unsigned int i = 0; i < m_.getNumSpecies(); ++i) out.species.push_back(Species(*m_.getSpecies(i)));
    for (unsigned int i = 0; i < m_.getNumParameters(); ++i) out.parameters.push_back(Parameter(*m_.getParameter(i)));
    for (unsigned int i = 0; i < m_.getNumReactions(); ++i) {
      SOMA_ASSIGN_OR_RETURN(model::Reaction r, Reaction(*m_.getReaction(i), i));
      out.reactions.push_back(std::move(r));
    }
    for (unsigned int i = 0; i < m_.getNumInitialAssignments(); ++i) {
      const ::InitialAssignment& ia = *m_.getInitialAssignment(i);
      SOMA_ASSIGN_OR_RETURN(std::optional<Expr> math,
                            Math(ia, ia.getMath(), "initial assignment to '" + ia.getSymbol() + "'"));
      if (math) out.initial_assignments.push_back({ia.getSymbol(), std::move(*math), Where(ia)});
    }
    for (unsigned int i = 0; i < m_.getNumRules(); ++i) {
      SOMA_ASSIGN_OR_RETURN(std::optional<model::Rule> rule, Rule(*m_.getRule(i)));
      if (rule) out.rules.push_back(std::move(*rule));
    }
    if (facts_.level == 1) MarkLevel1AlgebraicVariables(out);
    for (unsigned int i = 0; i < m_.getNumEvents(); ++i) {
      SOMA_ASSIGN_OR_RETURN(std::optional<model::Event> event, Event(*m_.getEvent(i)));
      if (event) out.events.push_back(std::move(*event));
    }
    for (unsigned int i = 0; i < m_.getNumConstraints(); ++i) {
      const ::Constraint& c = *m_.getConstraint(i);
      SOMA_ASSIGN_OR_RETURN(std::optional<Expr> math, Math(c, c.getMath(), Describe(c)));
      if (math) out.constraints.push_back({std::move(*math), PlainText(c.getMessage()), Where(c)});
    }
    return out;
  }

 private:
  // SBML L1 has no `constant` attribute: any parameter or compartment may be
  // what a rule determines. libSBML's converter marks those that assignment
  // and rate rules set as variable, but cannot know which one an algebraic
  // rule determines and leaves them constant (so "0 = k2 - 0.2" would find
  // nothing to solve for). Those named in algebraic rules become variable;
  // ModelCompiler's matching picks the one each rule determines (preferring
  // those without a declared value), and the others stay constant in effect.
  static void MarkLevel1AlgebraicVariables(model::Model& out) {
    for (const model::Rule& rule : out.rules) {
      if (rule.kind != model::RuleKind::kAlgebraic) continue;
      expr::ForEachSymbol(rule.math, [&](const std::string& name) {
        for (model::Parameter& p : out.parameters) {
          if (p.id == name) p.constant = false;
        }
        for (model::Compartment& c : out.compartments) {
          if (c.id == name) c.constant = false;
        }
      });
    }
  }

  // Converts `math` of `element`, described as `what` in messages. Returns
  // nullopt when the math is absent and the source level allows that.
  Result<std::optional<Expr>> Math(const ::SBase& element, const ::ASTNode* math,
                                   const std::string& what, const std::string& consequence = "is ignored") {
    if (math == nullptr) {
      if (facts_.level < 3 || (facts_.level == 3 && facts_.version < 2)) {
        return InvalidModel(what + ": no <math>");
      }
      diagnostics_->push_back({Severity::kWarning, static_cast<int>(element.getLine()),
                               static_cast<int>(element.getColumn()), "import",
                               what + " has no <math> and " + consequence});
      return std::optional<Expr>();
    }
    Result<Expr> e = math_.Convert(*math);
    if (!e.ok()) return e.status().WithContext(what);
    return std::optional<Expr>(std::move(e).value());
  }

  model::Compartment Compartment(const ::Compartment& c) {
    model::Compartment out;
    out.id = c.getId();
    out.name = c.getName();
    if (c.isSetSpatialDimensions()) out.spatial_dimensions = c.getSpatialDimensionsAsDouble();
    if (c.isSetSize()) out.size = c.getSize();
    out.constant = c.isSetConstant() ? c.getConstant() : true;
    out.units = c.getUnits();
    out.where = Where(c);
    return out;
  }

  model::Species Species(const ::Species& s) {
    model::Species out;
    out.id = s.getId();
    out.name = s.getName();
    out.compartment = s.getCompartment();
    if (s.isSetInitialAmount()) out.initial_amount = s.getInitialAmount();
    if (s.isSetInitialConcentration()) out.initial_concentration = s.getInitialConcentration();
    out.has_only_substance_units = s.getHasOnlySubstanceUnits();
    out.boundary_condition = s.getBoundaryCondition();
    out.constant = s.getConstant();
    out.conversion_factor = s.getConversionFactor();
    out.substance_units = s.getSubstanceUnits();
    out.where = Where(s);
    return out;
  }

  template <typename P>
  model::Parameter Parameter(const P& p) {
    model::Parameter out;
    out.id = p.getId();
    out.name = p.getName();
    if (p.isSetValue()) out.value = p.getValue();
    out.constant = p.getConstant();
    out.units = p.getUnits();
    out.where = Where(p);
    return out;
  }

  Result<model::SpeciesReference> SpeciesRef(const ::SpeciesReference& sr, const std::string& context) {
    model::SpeciesReference out;
    out.id = sr.getId();
    out.species = sr.getSpecies();
    // Unset in L3 (allowed when an initial assignment or rule sets it): 1 is
    // a placeholder that the assignment overrides.
    if (sr.isSetStoichiometry()) out.stoichiometry = sr.getStoichiometry();
    out.constant = sr.isSetConstant() ? sr.getConstant() : true;
    // L3V2 has no stoichiometryMath (the level converter turns it into an
    // assignment rule); kept for documents it left untouched.
    if (sr.isSetStoichiometryMath() && sr.getStoichiometryMath()->isSetMath()) {
      Result<Expr> e = math_.Convert(*sr.getStoichiometryMath()->getMath());
      if (!e.ok()) return e.status().WithContext(context + ": stoichiometryMath of '" + sr.getSpecies() + "'");
      out.stoichiometry_math = std::move(e).value();
      out.constant = false;
    }
    return out;
  }

  Result<model::Reaction> Reaction(const ::Reaction& r, unsigned int index) {
    model::Reaction out;
    out.id = r.getId();
    out.name = r.getName();
    const std::string context = Describe(r);
    for (unsigned int i = 0; i < r.getNumReactants(); ++i) {
      SOMA_ASSIGN_OR_RETURN(model::SpeciesReference sr, SpeciesRef(*r.getReactant(i), context));
      out.reactants.push_back(std::move(sr));
    }
    for (unsigned int i = 0; i < r.getNumProducts(); ++i) {
      SOMA_ASSIGN_OR_RETURN(model::SpeciesReference sr, SpeciesRef(*r.getProduct(i), context));
      out.products.push_back(std::move(sr));
    }
    for (unsigned int i = 0; i < r.getNumModifiers(); ++i) {
      out.modifiers.push_back({r.getModifier(i)->getSpecies()});
    }
    if (const ::KineticLaw* law = r.getKineticLaw(); law != nullptr) {
      SOMA_ASSIGN_OR_RETURN(out.kinetic_law, Math(*law, law->getMath(), context + ": kinetic law"));
      for (unsigned int i = 0; i < law->getNumLocalParameters(); ++i) {
        out.local_parameters.push_back(Parameter(*law->getLocalParameter(i)));
      }
    }
    out.reversible = r.getReversible();
    out.fast = index < facts_.fast.size() && facts_.fast[index];
    out.compartment = r.getCompartment();
    out.where = Where(r);
    return out;
  }

  Result<std::optional<model::Rule>> Rule(const ::Rule& r) {
    model::Rule out;
    std::string what;
    if (r.isAlgebraic()) {
      out.kind = model::RuleKind::kAlgebraic;
      what = "algebraic rule";
    } else {
      out.kind = r.isRate() ? model::RuleKind::kRate : model::RuleKind::kAssignment;
      out.variable = r.getVariable();
      what = (r.isRate() ? "rate rule for '" : "assignment rule for '") + out.variable + "'";
    }
    SOMA_ASSIGN_OR_RETURN(std::optional<Expr> math, Math(r, r.getMath(), what));
    if (!math) return std::optional<model::Rule>();
    out.math = std::move(*math);
    out.where = Where(r);
    return std::optional<model::Rule>(std::move(out));
  }

  Result<std::optional<model::Event>> Event(const ::Event& e) {
    model::Event out;
    out.id = e.getId();
    out.name = e.getName();
    out.where = Where(e);
    const std::string context = Describe(e);
    const ::Trigger* trigger = e.getTrigger();
    SOMA_ASSIGN_OR_RETURN(std::optional<Expr> trigger_math,
                          Math(trigger != nullptr ? static_cast<const ::SBase&>(*trigger) : e,
                               trigger != nullptr ? trigger->getMath() : nullptr, context + ": trigger",
                               "the event, which can never fire, is ignored"));
    // An event whose trigger has no math never fires (L3V2).
    if (!trigger_math) return std::optional<model::Event>();
    out.trigger = std::move(*trigger_math);
    out.trigger_initial_value = trigger->isSetInitialValue() ? trigger->getInitialValue() : true;
    out.persistent = trigger->isSetPersistent() ? trigger->getPersistent() : true;
    if (const ::Delay* delay = e.getDelay(); delay != nullptr) {
      SOMA_ASSIGN_OR_RETURN(out.delay, Math(*delay, delay->getMath(), context + ": delay"));
    }
    if (const ::Priority* priority = e.getPriority(); priority != nullptr) {
      SOMA_ASSIGN_OR_RETURN(out.priority, Math(*priority, priority->getMath(), context + ": priority"));
    }
    out.use_values_from_trigger_time =
        e.isSetUseValuesFromTriggerTime() ? e.getUseValuesFromTriggerTime() : true;
    for (unsigned int i = 0; i < e.getNumEventAssignments(); ++i) {
      const ::EventAssignment& a = *e.getEventAssignment(i);
      SOMA_ASSIGN_OR_RETURN(std::optional<Expr> math,
                            Math(a, a.getMath(), context + ": assignment to '" + a.getVariable() + "'"));
      if (math) out.assignments.push_back({a.getVariable(), std::move(*math)});
    }
    return std::optional<model::Event>(std::move(out));
  }

  const ::Model& m_;
  const SourceFacts& facts_;
  MathConverter math_;
  std::vector<Diagnostic>* diagnostics_;
};

}  // namespace

Result<model::Model> ImportModel(const ::Model& m, const SourceFacts& facts,
                                 std::vector<Diagnostic>* diagnostics) {
  return Importer(m, facts, diagnostics).Run();
}

}  // namespace soma::formats::internal
