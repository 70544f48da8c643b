#include "sim/input_schedule.h"

#include <cmath>
#include <sstream>
#include <unordered_set>

namespace soma::sim {

namespace {

using expr::Expr;
using expr::Op;

std::string Describe(size_t index, const InputChange& c) {
  std::ostringstream s;
  s << "input change " << index << " (t = " << c.time << ", target '" << c.target << "')";
  return s.str();
}

// Whether the target may be changed by an event; the error otherwise.
Status CheckTarget(const model::Model& m, const InputChange& c, const std::string& where) {
  bool constant = false;
  const model::Species* species = nullptr;
  switch (model::KindOf(m, c.target)) {
    case model::SymbolKind::kParameter:
      constant = m.FindParameter(c.target)->constant;
      break;
    case model::SymbolKind::kCompartment:
      constant = m.FindCompartment(c.target)->constant;
      break;
    case model::SymbolKind::kSpeciesReference:
      constant = m.FindSpeciesReference(c.target)->constant;
      break;
    case model::SymbolKind::kSpecies:
      species = m.FindSpecies(c.target);
      constant = species->constant;
      break;
    case model::SymbolKind::kReaction:
      return InvalidArgument(where +
                             ": a reaction's rate cannot be set; expected a parameter, species, "
                             "compartment or species reference");
    case model::SymbolKind::kNone:
      return NotFound(where + ": the model has no parameter, species, compartment or species reference '" +
                      c.target + "'");
  }
  if (constant) {
    return InvalidArgument(where + ": '" + c.target +
                           "' is constant; an input must be declared constant=false");
  }
  const model::Rule* rule = m.FindRuleFor(c.target);
  if (rule != nullptr && rule->kind == model::RuleKind::kAssignment) {
    return InvalidArgument(where + ": '" + c.target + "' is defined by an assignment rule at all times");
  }
  if (c.quantity != SpeciesQuantity::kDefault && species == nullptr) {
    return InvalidArgument(where + ": an amount or concentration applies to species only");
  }
  return Status::Ok();
}

// The change's value as the target symbol's value: amounts of a species whose
// symbol is a concentration are divided by the compartment size, and the
// other way round.
Expr SymbolValue(const model::Model& m, const InputChange& c) {
  Expr v = Expr::Number(c.value);
  const model::Species* sp = m.FindSpecies(c.target);
  if (sp == nullptr || c.quantity == SpeciesQuantity::kDefault) return v;
  const Expr size = Expr::Symbol(sp->compartment);
  if (c.quantity == SpeciesQuantity::kAmount && !sp->has_only_substance_units) {
    return Expr::Apply(Op::kDivide, {v, size});
  }
  if (c.quantity == SpeciesQuantity::kConcentration && sp->has_only_substance_units) {
    return Expr::Apply(Op::kTimes, {v, size});
  }
  return v;
}

}  // namespace

std::unordered_set<std::string> TakenIds(const model::Model& m) {
  std::unordered_set<std::string> ids = {m.id};
  for (const auto& x : m.compartments) ids.insert(x.id);
  for (const auto& x : m.species) ids.insert(x.id);
  for (const auto& x : m.parameters) ids.insert(x.id);
  for (const auto& x : m.events) ids.insert(x.id);
  for (const auto& r : m.reactions) {
    ids.insert(r.id);
    for (const auto* list : {&r.reactants, &r.products}) {
      for (const auto& sr : *list) ids.insert(sr.id);
    }
  }
  return ids;
}


Status ApplyInputSchedule(const std::vector<InputChange>& changes, const InputWindow& window,
                          model::Model& model) {
  if (!std::isfinite(window.start) || !std::isfinite(window.end) || window.end < window.start) {
    return InvalidArgument("InputWindow [" + std::to_string(window.start) + ", " +
                           std::to_string(window.end) + "]: must be finite with start <= end");
  }
  std::unordered_set<std::string> taken = TakenIds(model);
  std::vector<model::Event> events;
  events.reserve(changes.size());
  size_t serial = model.events.size();
  for (size_t i = 0; i < changes.size(); ++i) {
    const InputChange& c = changes[i];
    const std::string where = Describe(i, c);
    if (!std::isfinite(c.time) || c.time < window.start || c.time > window.end) {
      std::ostringstream s;
      s << where << ": time outside the simulated window [" << window.start << ", " << window.end << "]";
      return InvalidArgument(s.str());
    }
    if (!std::isfinite(c.value)) return InvalidArgument(where + ": the value is not finite");
    SOMA_RETURN_IF_ERROR(CheckTarget(model, c, where));

    model::Event ev;
    do {
      ev.id = "input_" + std::to_string(serial++) + "_" + c.target;
    } while (taken.count(ev.id) > 0);
    taken.insert(ev.id);
    ev.name = where;
    ev.trigger = Expr::Apply(Op::kGe, {Expr::Leaf(Op::kTime), Expr::Number(c.time)});
    ev.trigger_initial_value = false;  // true at t0 = time: applied at the start
    ev.persistent = true;
    // Computed when executed, so a change sees the simultaneous ones before it.
    ev.use_values_from_trigger_time = false;
    // Later in the model's event list = lower priority: simultaneous changes
    // apply in the order given, across calls too.
    ev.priority = Expr::Number(-static_cast<double>(model.events.size() + i));
    Expr value = SymbolValue(model, c);
    if (c.mode == InputChange::Mode::kAdd) {
      value = Expr::Apply(Op::kPlus, {Expr::Symbol(c.target), std::move(value)});
    }
    ev.assignments.push_back({c.target, std::move(value)});
    events.push_back(std::move(ev));
  }
  for (model::Event& ev : events) model.events.push_back(std::move(ev));
  return Status::Ok();
}

std::vector<InputChange> PiecewiseConstant(const std::string& target,
                                           const std::vector<std::pair<double, double>>& levels) {
  std::vector<InputChange> changes;
  changes.reserve(levels.size());
  for (const auto& [time, value] : levels) {
    changes.push_back({.time = time, .target = target, .value = value, .mode = InputChange::Mode::kSet});
  }
  return changes;
}

}  // namespace soma::sim
