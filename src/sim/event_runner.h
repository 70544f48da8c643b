#pragma once
// SBML event semantics over a simulation's workspace, shared by every driver
// (time courses, sensitivities): trigger transitions, delays, priorities with
// seeded random tie-breaking, persistence, values from trigger time,
// cascades. See simulator.h for the rules. Internal to soma::sim.

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/status.h"
#include "sim/algebraic_solver.h"
#include "sim/compiled_model.h"
#include "sim/options.h"

namespace soma::sim {

// What travels with an event's assigned values besides the values themselves
// (e.g. their sensitivities). Compute runs when the values are computed
// (trigger or execution time), Apply right after they are written.
class EventExtension {
 public:
  virtual ~EventExtension() = default;
  virtual void Compute(size_t event, std::vector<double>& extra) = 0;
  virtual void Apply(size_t event, const std::vector<double>& extra) = 0;
  // An event with a delay fired: its execution is scheduled at
  // `execution_time`.
  virtual void Scheduled(size_t /*event*/, double /*execution_time*/) {}
};

class EventRunner {
 public:
  // `in` is the simulation's workspace; all references must outlive the runner.
  EventRunner(const CompiledModel& cm, std::vector<double>& in, const SimulationOptions& options,
              SimulationSummary& summary, EventExtension* extension = nullptr);

  // Earliest scheduled execution time (infinity if none).
  double NextPendingTime() const;

  // Sets each event relation's truth value from its root function; with
  // `before` (root values before a jump), only relations whose root changed.
  void RefreshRelations(const std::vector<double>* before = nullptr);
  // At a root: relations whose root function crossed take the value they
  // have just after the crossing.
  void ApplyRoots(std::span<const int> found);

  // Fires, schedules and executes events at time t until nothing more is due.
  // Returns whether any stored value changed.
  Result<bool> Process(double t);

  // False once the algebraic rules could not be solved after an event.
  bool algebraic_ok() const { return algebraic_ok_; }
  // Not ok once fast reactions found no equilibrium after an event, or an
  // event left them unable to determine their species
  // (FastEquilibrium::Equilibrate, CheckDetermined).
  const Status& fast_status() const { return fast_status_; }

 private:
  struct Pending {
    double time = 0.0;
    size_t event = 0;
    uint64_t sequence = 0;
    bool has_values = false;
    std::vector<double> values, extra;
  };

  void EvaluateTriggers();
  void Compute(Pending& p);
  void Fire(size_t e, double t);
  bool Before(const Pending& a, const Pending& b) const;
  int BreakTie(int best, double t);
  void Execute(Pending& p);

  const CompiledModel& cm_;
  std::vector<double>& in_;
  const SimulationOptions& opt_;
  SimulationSummary& summary_;
  EventExtension* extension_;
  std::vector<bool> previous_;
  std::vector<double> trigger_values_, timing_, roots_, roots_before_;
  std::vector<double> roots_scratch_, trigger_scratch_, timing_scratch_;
  std::vector<std::vector<double>> assignment_scratch_;
  std::vector<Pending> pending_;
  uint64_t next_sequence_ = 0;
  AlgebraicSolver algebraic_;
  FastEquilibrium fast_;
  bool algebraic_ok_ = true;
  Status fast_status_;
  std::mt19937_64 rng_;
};

}  // namespace soma::sim
