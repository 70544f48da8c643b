#pragma once
// Members' Dormand-Prince step attempts in SIMD lanes (bench/PROFILE.md,
// "Trial members in SIMD lanes"). Each member's simulation runs with
// hook(slot) as its IntegratorOptions::attempt_hook (and so with the
// explicit stepper's attempts routed here); the hook posts the attempt and
// calls `wait(slot)`, which must return once Run() has made it: a scheduler
// that switches between the members (fibers, scenario/trial.cpp) and calls
// Run() when every member still running has posted. Each lane computes only
// from its own member's values (solvers::DormandPrinceLanes over
// ModelLanesSystem), so results do not depend on which members share a
// batch; with CompileOptions::lane_math kExact every attempt has the scalar
// attempt's bits, with kVector (libmvec) its last bits may differ.

#include <functional>
#include <vector>

#include "sim/compiled_model.h"
#include "sim/model_system.h"
#include "solvers/runge_kutta.h"

namespace soma::sim {

class LaneBatch {
 public:
  // Requires cm.rhs().lanes() > 0 (CompileOptions::native_lanes); `cm`
  // must outlive this. One slot per lane: slot k's member has lane k for
  // good (the lane keeps its state and inputs between its attempts).
  LaneBatch(const CompiledModel& cm, std::function<void(int slot)> wait);
  LaneBatch(const LaneBatch&) = delete;
  LaneBatch& operator=(const LaneBatch&) = delete;

  solvers::AttemptHook* hook(int slot) { return &slots_[static_cast<size_t>(slot)]; }
  bool posted(int slot) const { return slots_[static_cast<size_t>(slot)].attempt != nullptr; }
  // Makes every posted attempt at once and clears the posts. Call it only
  // when every slot whose member is still running has posted: a member's
  // stages stay in its lane until its next attempt.
  void Run();
  long batches() const { return batches_; }

 private:
  struct Slot final : solvers::AttemptHook {
    LaneBatch* batch = nullptr;
    int index = 0;  // the slot's lane
    solvers::LaneAttempt* attempt = nullptr;
    const double* workspace = nullptr;
    // The system of the last attempt and whether it is a model the lanes
    // run (checked once per simulation, not per step).
    solvers::OdeSystem* seen = nullptr;
    const ModelSystem* model = nullptr;
    int Attempt(solvers::OdeSystem* system, solvers::LaneAttempt& a) override;
    void Stages(double* k3, double* k4, double* k5, double* k6) override;
  };

  ModelLanesSystem system_;
  solvers::DormandPrinceLanes stepper_;
  std::vector<Slot> slots_;
  std::function<void(int)> wait_;
  std::vector<solvers::LaneAttempt*> batch_;
  std::vector<double> stage_;  // a system that is not a model's: its attempt made here
  long batches_ = 0;
};

}  // namespace soma::sim
