#include "sim/lane_batch.h"

#include <algorithm>

namespace soma::sim {

LaneBatch::LaneBatch(const CompiledModel& cm, std::function<void(int slot)> wait)
    : system_(cm), stepper_(&system_), slots_(static_cast<size_t>(system_.lanes())), wait_(std::move(wait)) {
  for (size_t k = 0; k < slots_.size(); ++k) {
    slots_[k].batch = this;
    slots_[k].index = static_cast<int>(k);
  }
  batch_.assign(slots_.size(), nullptr);
  stage_.assign(std::max<size_t>(cm.num_states(), 1), 0.0);
}

int LaneBatch::Slot::Attempt(solvers::OdeSystem* system, solvers::LaneAttempt& a) {
  if (system != seen) {
    seen = system;
    model = dynamic_cast<const ModelSystem*>(system);
    if (model != nullptr && model->num_states() != batch->system_.num_states()) model = nullptr;
  }
  if (model == nullptr) return solvers::internal::DormandPrinceAttempt(system, batch->stage_.data(), a);
  workspace = model->workspace();
  attempt = &a;
  batch->wait_(index);
  return a.result;
}

void LaneBatch::Slot::Stages(double* k3, double* k4, double* k5, double* k6) {
  batch->stepper_.Stages(index, k3, k4, k5, k6);
}

void LaneBatch::Run() {
  bool any = false;
  for (size_t l = 0; l < slots_.size(); ++l) {
    Slot& s = slots_[l];
    batch_[l] = s.attempt;
    if (s.attempt == nullptr) continue;
    any = true;
    // A member's inputs change only where its integration restarts
    // (events, input changes): its first attempt after that is fresh.
    if (s.attempt->fresh) system_.SetLane(static_cast<int>(l), s.workspace);
    s.attempt = nullptr;
  }
  if (!any) return;
  stepper_.Attempt(batch_);
  ++batches_;
}

}  // namespace soma::sim
