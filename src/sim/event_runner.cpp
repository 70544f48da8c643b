#include "sim/event_runner.h"

#include <algorithm>
#include <limits>
#include <sstream>

namespace soma::sim {

namespace {

bool Truth(expr::GOp op, double g) {
  switch (op) {
    case expr::GOp::kGt: return g > 0;
    case expr::GOp::kGe: return g >= 0;
    case expr::GOp::kLt: return g < 0;
    case expr::GOp::kLe: return g <= 0;
    case expr::GOp::kEq: return g == 0;
    case expr::GOp::kNeq: return g != 0;
    default: return false;
  }
}

// The value a relation takes just after its root function crossed zero in
// `direction` (+1 rising, -1 falling).
bool TruthAfterCrossing(expr::GOp op, int direction) {
  switch (op) {
    case expr::GOp::kGt: case expr::GOp::kGe: return direction > 0;
    case expr::GOp::kLt: case expr::GOp::kLe: return direction < 0;
    case expr::GOp::kEq: return true;
    case expr::GOp::kNeq: return false;
    default: return false;
  }
}

}  // namespace

EventRunner::EventRunner(const CompiledModel& cm, std::vector<double>& in, const SimulationOptions& options,
                         SimulationSummary& summary, EventExtension* extension)
    : cm_(cm), in_(in), opt_(options), summary_(summary), extension_(extension), algebraic_(cm), fast_(cm),
      rng_(options.seed) {
  const size_t ne = cm.events().size();
  previous_.resize(ne);
  for (size_t e = 0; e < ne; ++e) previous_[e] = cm.events()[e].initial_value;
  trigger_values_.resize(ne);
  timing_.resize(2 * ne);
  roots_.resize(cm.relations().size());
  roots_before_.resize(cm.relations().size());
  roots_scratch_ = cm.roots().NewScratch();
  trigger_scratch_ = cm.triggers().NewScratch();
  timing_scratch_ = cm.event_timing().NewScratch();
  for (const CompiledEvent& ev : cm.events()) assignment_scratch_.push_back(ev.assignments.NewScratch());
}

double EventRunner::NextPendingTime() const {
  double t = std::numeric_limits<double>::infinity();
  for (const Pending& p : pending_) t = std::min(t, p.time);
  return t;
}

void EventRunner::RefreshRelations(const std::vector<double>* before) {
  cm_.roots().Run(in_.data(), roots_.data(), roots_scratch_.data());
  const auto& rels = cm_.relations();
  for (size_t k = 0; k < rels.size(); ++k) {
    if (!rels[k].for_event) continue;
    if (before != nullptr && (*before)[k] == roots_[k]) continue;
    in_[rels[k].slot] = Truth(rels[k].op, roots_[k]) ? 1.0 : 0.0;
  }
}

void EventRunner::ApplyRoots(std::span<const int> found) {
  const auto& rels = cm_.relations();
  for (size_t k = 0; k < rels.size(); ++k) {
    if (rels[k].for_event && found[k] != 0) {
      in_[rels[k].slot] = TruthAfterCrossing(rels[k].op, found[k]) ? 1.0 : 0.0;
    }
  }
}

Result<bool> EventRunner::Process(double t) {
  bool changed = false;
  for (long iteration = 0;; ++iteration) {
    if (iteration >= opt_.max_event_iterations) {
      return SolverFailure("more than " + std::to_string(opt_.max_event_iterations) +
                           " event executions at t = " + std::to_string(t) +
                           " (events that keep re-triggering each other?)");
    }
    EvaluateTriggers();
    for (size_t e = 0; e < previous_.size(); ++e) {
      bool now = trigger_values_[e] != 0.0;
      if (now && !previous_[e]) {
        const CompiledEvent& ev = cm_.events()[e];
        if (ev.has_delay && !(timing_[2 * e] >= 0)) {
          std::ostringstream m;
          m << "event '" << ev.id << "': its delay is " << timing_[2 * e] << " at t = " << t
            << "; SBML requires a delay >= 0";
          return InvalidModel(m.str());
        }
        Fire(e, t);
      }
      previous_[e] = now;
    }
    // Non-persistent events are cancelled when their trigger turns false.
    std::erase_if(pending_, [&](const Pending& p) {
      return !cm_.events()[p.event].persistent && trigger_values_[p.event] == 0.0;
    });
    // The due event with the highest priority executes next.
    int best = -1;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].time > t) continue;
      if (best < 0 || Before(pending_[i], pending_[best])) best = static_cast<int>(i);
    }
    if (best < 0) return changed;
    best = BreakTie(best, t);
    Pending p = std::move(pending_[best]);
    pending_.erase(pending_.begin() + best);
    Execute(p);
    changed = true;
    ++summary_.events_fired;
  }
}

void EventRunner::EvaluateTriggers() {
  cm_.triggers().Run(in_.data(), trigger_values_.data(), trigger_scratch_.data());
  cm_.event_timing().Run(in_.data(), timing_.data(), timing_scratch_.data());
}

void EventRunner::Compute(Pending& p) {
  const CompiledEvent& ev = cm_.events()[p.event];
  p.values.resize(ev.targets.size());
  ev.assignments.Run(in_.data(), p.values.data(), assignment_scratch_[p.event].data());
  if (extension_ != nullptr) extension_->Compute(p.event, p.extra);
  p.has_values = true;
}

void EventRunner::Fire(size_t e, double t) {
  const CompiledEvent& ev = cm_.events()[e];
  Pending p;
  p.event = e;
  p.sequence = next_sequence_++;
  p.time = ev.has_delay ? t + timing_[2 * e] : t;
  // Values from the trigger time are computed now, before any event executes.
  if (ev.use_values_from_trigger_time) Compute(p);
  if (ev.has_delay && extension_ != nullptr) extension_->Scheduled(e, p.time);
  pending_.push_back(std::move(p));
}

bool EventRunner::Before(const Pending& a, const Pending& b) const {
  const CompiledEvent& ea = cm_.events()[a.event];
  const CompiledEvent& eb = cm_.events()[b.event];
  if (ea.has_priority != eb.has_priority) return ea.has_priority;
  if (ea.has_priority) {
    double pa = timing_[2 * a.event + 1], pb = timing_[2 * b.event + 1];
    if (pa != pb) return pa > pb;
  }
  if (a.time != b.time) return a.time < b.time;
  if (a.event != b.event) return a.event < b.event;
  return a.sequence < b.sequence;
}

// SBML: among due events of equal priority the order is random.
int EventRunner::BreakTie(int best, double t) {
  const Pending& b = pending_[best];
  if (!cm_.events()[b.event].has_priority) return best;
  std::vector<int> tied;
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Pending& p = pending_[i];
    if (p.time <= t && cm_.events()[p.event].has_priority &&
        timing_[2 * p.event + 1] == timing_[2 * b.event + 1]) {
      tied.push_back(static_cast<int>(i));
    }
  }
  if (tied.size() < 2) return best;
  std::uniform_int_distribution<size_t> pick(0, tied.size() - 1);
  return tied[pick(rng_)];
}

void EventRunner::Execute(Pending& p) {
  const CompiledEvent& ev = cm_.events()[p.event];
  if (!p.has_values) Compute(p);
  cm_.roots().Run(in_.data(), roots_before_.data(), roots_scratch_.data());
  for (size_t i = 0; i < ev.targets.size(); ++i) in_[ev.targets[i]] = p.values[i];
  if (extension_ != nullptr) extension_->Apply(p.event, p.extra);
  // Fast reactions run to their new equilibrium from the assigned amounts.
  if (Status eq = fast_.Equilibrate(in_.data()); !eq.ok()) {
    if (fast_status_.ok()) fast_status_ = eq;
    return;
  }
  algebraic_ok_ = algebraic_.Solve(in_.data()) && algebraic_ok_;
  if (algebraic_ok_ && fast_status_.ok()) fast_status_ = fast_.CheckDetermined(in_.data());
  RefreshRelations(&roots_before_);
}

}  // namespace soma::sim
